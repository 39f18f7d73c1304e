# shellcheck shell=sh
# ctr_read FILE KEY: one key of a $CTR_OUTPUT file (key=value lines and key<<DELIM
# blocks, the last one written winning, a << before any = starting a block), in portable
# sh: images need no awk or python for their outputs to reach the orchestrator.
# shellcheck disable=SC1007 # empty assignments, as exported scripts have always had them
ctr_read() {
  [ -f "$1" ] || return 0
  ctr_v= ctr_k= ctr_d= ctr_first=
  while IFS= read -r ctr_l || [ -n "$ctr_l" ]; do
    if [ -n "$ctr_d" ]; then
      if [ "$ctr_l" = "$ctr_d" ]; then ctr_d=; continue; fi
      if [ "$ctr_k" = "$2" ]; then
        if [ -n "$ctr_first" ]; then ctr_v=$ctr_l; ctr_first=; else ctr_v="$ctr_v
$ctr_l"; fi
      fi
      continue
    fi
    ctr_h=${ctr_l%%<<*} ctr_e=${ctr_l%%=*}
    if [ "$ctr_h" != "$ctr_l" ] && [ ${#ctr_h} -lt ${#ctr_e} ]; then
      ctr_k=$ctr_h ctr_d=${ctr_l#*<<} ctr_first=1
      if [ "$ctr_k" = "$2" ]; then ctr_v=; fi
    elif [ "$ctr_e" != "$ctr_l" ] && [ "$ctr_e" = "$2" ]; then
      ctr_v=${ctr_l#*=}
    fi
  done < "$1"
  printf '%s' "$ctr_v"
}
