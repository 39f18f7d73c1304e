#!/bin/sh
# CGI: where a task waits for its batch (see st_batch). It answers once the backend has
# put the batch's file and then its .ok in /data/.batch (BATCH_DIR), or after about 10 s
# with nothing, and hands each batch out once. IDs are random hex: nothing else reaches a
# path.
id=$QUERY_STRING; case $id in "" | *[!0-9a-f]*) exit 1 ;; esac
f=/data/.batch/$id; n=0
while [ ! -f "$f.ok" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
printf "Content-Type: text/plain\r\n\r\n"
[ ! -f "$f.ok" ] || { cat "$f"; rm -f "$f" "$f.ok"; }
