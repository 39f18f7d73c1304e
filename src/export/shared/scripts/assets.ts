// Made by scripts/inline-assets.mjs from the programs in this folder: edit those, then run
// `npm run assets`. `npm run lint` fails when this file and they differ.

/** src/export/shared/scripts/json-string.sh, as it runs. */
export const JSON_STRING_SH =
  "ctr_json() {\n  printf '%s\\n' \"$1\" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/\"/\\\\\"/g' -e 's/\t/\\\\t/g' -e 's/\r/\\\\r/g' | {\n    ctr_o= ctr_n=\n    while IFS= read -r ctr_l; do ctr_o=\"$ctr_o$ctr_n$ctr_l\"; ctr_n='\\n'; done\n    printf '\"%s\"' \"$ctr_o\"\n  }\n}\n"

/** src/export/shared/scripts/read-output.sh, as it runs. */
export const READ_OUTPUT_SH =
  'ctr_read() {\n  [ -f "$1" ] || return 0\n  ctr_v= ctr_k= ctr_d= ctr_first=\n  while IFS= read -r ctr_l || [ -n "$ctr_l" ]; do\n    if [ -n "$ctr_d" ]; then\n      if [ "$ctr_l" = "$ctr_d" ]; then ctr_d=; continue; fi\n      if [ "$ctr_k" = "$2" ]; then\n        if [ -n "$ctr_first" ]; then ctr_v=$ctr_l; ctr_first=; else ctr_v="$ctr_v\n$ctr_l"; fi\n      fi\n      continue\n    fi\n    ctr_h=${ctr_l%%<<*} ctr_e=${ctr_l%%=*}\n    if [ "$ctr_h" != "$ctr_l" ] && [ ${#ctr_h} -lt ${#ctr_e} ]; then\n      ctr_k=$ctr_h ctr_d=${ctr_l#*<<} ctr_first=1\n      if [ "$ctr_k" = "$2" ]; then ctr_v=; fi\n    elif [ "$ctr_e" != "$ctr_l" ] && [ "$ctr_e" = "$2" ]; then\n      ctr_v=${ctr_l#*=}\n    fi\n  done < "$1"\n  printf \'%s\' "$ctr_v"\n}\n'
