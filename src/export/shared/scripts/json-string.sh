# shellcheck shell=sh
# ctr_json VALUE: the value as a JSON string, in sh with sed (in every image that has sh:
# busybox, Debian's essential set): backslashes, quotes, tabs and carriage returns
# escaped, lines joined with \n. A value's trailing newlines are gone already (it comes
# from $(...)); other control characters are left as they are.
# The sed expressions hold a literal tab and a literal carriage return, which sed matches.
# shellcheck disable=SC1017,SC1007
ctr_json() {
  printf '%s\n' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' -e 's//\\r/g' | {
    ctr_o= ctr_n=
    while IFS= read -r ctr_l; do ctr_o="$ctr_o$ctr_n$ctr_l"; ctr_n='\n'; done
    printf '"%s"' "$ctr_o"
  }
}
