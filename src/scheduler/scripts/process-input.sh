# shellcheck shell=sh
# A `type: process` stage: its input document ($1) on the stdin of the image's process
# command ($2), which prints its answer on stdout.
printf "%s" "$1" | sh -c "$2"
