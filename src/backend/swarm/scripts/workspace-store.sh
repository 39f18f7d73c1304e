#!/bin/sh
# The start of the workspace service's pull and push CGI scripts: the store the query
# names. Each store is a folder of the service's volume: w, the run's workspace, and v0,
# v1, … for the file's named volumes; nothing but those names reaches a path.
s=${QUERY_STRING%&b64}
case $s in w) ;; v|v*[!0-9]*) exit 1 ;; v*) ;; *) exit 1 ;; esac
mkdir -p "/data/$s" || exit 1
