#!/usr/bin/env bash
# verilator --lint-only -Wall over every RTL top, in every parameterisation the build uses.
# Prints nothing and exits 0 when clean.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=$(find rtl -name '*_pkg.sv' | sort)
srcs=$(find rtl -name '*.sv' ! -name '*_pkg.sv' | sort)
status=0
lint() {
  local out rc=0
  out=$(scripts/verilator --lint-only -Wall $pkgs $srcs "$@" 2>&1) || rc=$?
  # Newer Verilators print a statistics report even when clean (5.006 has no --quiet).
  out=$(printf '%s\n' "$out" | grep -v -E '^- (V e r i l a t i o n|Verilator:)' || true)
  if [ $rc -ne 0 ] || [ -n "$out" ]; then
    echo "lint: $*"; echo "$out"; status=1
  fi
}
for lanes in 16 4; do
  lint --top-module pam_pu -GLANES=$lanes
  lint --top-module pam_ru -GLANES=$lanes
done
lint --top-module pam_fp_lab
# The migration interface in every width pair the build uses.
lint --top-module pam_mig_if -GDST_W=64
lint --top-module pam_mig_if -GSRC_W=64
# Every module on its own, so that unused ports or parameters of a block are seen too.
for f in $srcs; do
  m=$(basename "$f" .sv)
  lint --top-module "$m"
done
exit $status
