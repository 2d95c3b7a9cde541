#!/usr/bin/env bash
# Opens FST dumps of every PU and RU width, of every Verilated tier preset's device and of a
# system decode step in GTKWave (headless, under Xvfb) with their views (PU, RU and step: the
# shipped views of waveforms/; a device: the view pam run --waves generates next to its dump),
# and fails unless every trace of each view resolves in its dump.
# Usage: scripts/check-waves.sh [path/to/pam]
set -euo pipefail
cd "$(dirname "$0")/.."
pam=${1:-target/release/pam}
for t in gtkwave xvfb-run; do
  command -v $t >/dev/null || { echo "check-waves: $t missing (bash scripts/setup.sh installs it)"; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/count.tcl" <<'TCL'
puts "TRACES [gtkwave::getTotalNumTraces]"
gtkwave::/File/Quit
TCL
for lanes in 16 4; do
  cat > "$work/w$lanes.yaml" <<YAML
name: waves_$lanes
datapath:
  problems: 1
  pu_lanes: [$lanes]
  ru_lanes: [$lanes]
  head_dim: {min: 40, max: 40}
  tokens: {min: 6, max: 6}
  tiles: {min: 2, max: 2}
  amplitude: {min: 1, max: 1}
  waves: 1
YAML
  "$pam" run "$work/w$lanes.yaml" --out "$work/out$lanes" --waves >/dev/null
done
# One device of every Verilated preset (pam presets --verilated), as presets/tiers.yaml lists them.
presets=$("$pam" presets --verilated)
[ -n "$presets" ] || { echo "check-waves: $pam presets --verilated listed nothing"; exit 1; }
{
  echo "name: waves_tiers"
  echo "tiers:"
  for p in $presets; do
    echo "  - {preset: $p, problems: 1, tokens: {min: 8, max: 8}, head_dim: [64]}"
  done
} > "$work/tiers.yaml"
"$pam" run "$work/tiers.yaml" --out "$work/outtiers" --waves >/dev/null
cat > "$work/system.yaml" <<YAML
name: waves_system
system:
  model: {layers: 1, q_heads: 2, kv_heads: 1, head_dim: 64}
  contexts: [40, 30]
  steps: 2
  fraction: 0.25
  tiers:
$(for p in $presets; do echo "    - {preset: $p, capacity: 20}"; done | sed '$ s/capacity: 20/capacity: 1000/')
  policy: pam
YAML
"$pam" run "$work/system.yaml" --out "$work/outsystem" --waves >/dev/null
fail=0
for dump in "$work"/out*/*.fst "$work"/out*/*.vcd; do
  case "$dump" in
    *_pu16.fst) view=waveforms/pu.gtkw ;;
    *_pu4.fst) view=waveforms/pu4.gtkw ;;
    *_ru16.fst) view=waveforms/ru.gtkw ;;
    *_ru4.fst) view=waveforms/ru4.gtkw ;;
    *_p0000.fst) view=${dump%.fst}.gtkw ;;
    */system_step*.vcd) view=${dump%.vcd}.gtkw ;;
    *) echo "check-waves: $(basename "$dump"): no view for this dump"; fail=1; continue ;;
  esac
  [ -f "$view" ] || { echo "check-waves: $(basename "$dump"): its view $view is missing"; fail=1; continue; }
  # A view lists signals (TOP....) and group delimiters (-...): each is one trace.
  want=$(grep -c -E '^(TOP\.|pam\.|-)' "$view")
  got=$(timeout 120 xvfb-run -a gtkwave -S "$work/count.tcl" "$dump" "$view" 2>/dev/null | sed -n 's/^TRACES //p')
  shown=${view#"$work"/}
  if [ "$got" = "$want" ]; then
    echo "check-waves: $(basename "$dump") with $shown: $got traces"
  else
    echo "check-waves: $(basename "$dump") with $shown: GTKWave shows ${got:-none} of $want traces"; fail=1
  fi
done
exit $fail
