# shellcheck shell=sh
# CGI, after workspace-store.sh: a tar stream added to the store. BusyBox's wget posts
# text only (it stops at the first NUL): it sends base64, which the query says (&b64).
# shellcheck disable=SC2154 # s: see workspace-store.sh
if [ "$s" != "$QUERY_STRING" ]; then base64 -d | tar x -C "/data/$s" -f - >&2 || exit 1
else tar x -C "/data/$s" -f - >&2 || exit 1; fi
printf "Content-Type: text/plain\r\n\r\nok\n"
