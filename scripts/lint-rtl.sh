#!/usr/bin/env bash
# verilator --lint-only -Wall over every RTL top, in every parameterisation the build Verilates
# (as `pam tops` lists them: PUs and RUs of each width, one device per Verilated tier preset of
# presets/tiers.yaml, the migration interface per beat-width pair), and every module on its own.
# Usage: scripts/lint-rtl.sh [path/to/pam]. Prints nothing and exits 0 when clean.
set -euo pipefail
cd "$(dirname "$0")/.."
pam=${1:-target/release/pam}
[ -x "$pam" ] || { echo "lint: $pam not built (make build)"; exit 1; }
pkgs=$(find rtl -name '*_pkg.sv' | sort)
srcs=$(find rtl -name '*.sv' ! -name '*_pkg.sv' | sort)
status=0
lint() {
  local out rc=0
  # The FP units' cover points are compiled into the fp lab only (build.rs): lint them everywhere.
  out=$(scripts/verilator --lint-only -Wall +define+PAM_COVER_FP_UNITS $pkgs $srcs "$@" 2>&1) || rc=$?
  # Newer Verilators print a statistics report even when clean (5.006 has no --quiet).
  out=$(printf '%s\n' "$out" | grep -v -E '^- (V e r i l a t i o n|Verilator:)' || true)
  if [ $rc -ne 0 ] || [ -n "$out" ]; then
    echo "lint: $*"; echo "$out"; status=1
  fi
}
tops=$("$pam" tops)
[ -n "$tops" ] || { echo "lint: $pam tops listed nothing"; exit 1; }
while read -r _name module params; do
  # shellcheck disable=SC2086 # params are separate -G flags
  lint --top-module "$module" $params
done <<< "$tops"
# Every module on its own, so that unused ports or parameters of a block are seen too.
for f in $srcs; do
  m=$(basename "$f" .sv)
  lint --top-module "$m"
done
exit $status
