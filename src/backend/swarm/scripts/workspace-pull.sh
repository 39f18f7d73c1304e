# shellcheck shell=sh
# CGI, after workspace-store.sh: the store as a tar stream.
# shellcheck disable=SC2154 # s: see workspace-store.sh
printf "Content-Type: application/x-tar\r\n\r\n"
exec tar c -C "/data/$s" .
