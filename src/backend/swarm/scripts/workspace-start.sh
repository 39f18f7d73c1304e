# shellcheck shell=sh
# The workspace container's command: its CGI scripts (PULL, PUSH and BATCH in its
# environment) into place, then BusyBox's httpd on PORT.
mkdir -p /srv/cgi-bin /data/.batch
printf "%s" "$PULL" > /srv/cgi-bin/pull
printf "%s" "$PUSH" > /srv/cgi-bin/push
printf "%s" "$BATCH" > /srv/cgi-bin/batch
chmod 755 /srv/cgi-bin/pull /srv/cgi-bin/push /srv/cgi-bin/batch
exec httpd -f -p "$PORT" -h /srv
