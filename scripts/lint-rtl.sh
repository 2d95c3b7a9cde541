#!/usr/bin/env bash
# verilator --lint-only -Wall over every RTL top, in every parameterisation the build uses.
# Prints nothing and exits 0 when clean.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=$(find rtl -name '*_pkg.sv' | sort)
srcs=$(find rtl -name '*.sv' ! -name '*_pkg.sv' | sort)
status=0
lint() {
  if ! out=$(scripts/verilator --lint-only -Wall --quiet $pkgs $srcs "$@" 2>&1) || [ -n "$out" ]; then
    echo "lint: $*"; echo "$out"; status=1
  fi
}
for lanes in 16 4; do
  lint --top-module pam_pu -GLANES=$lanes
  lint --top-module pam_ru -GLANES=$lanes
done
lint --top-module pam_fp_lab
# Every module on its own, so that unused ports or parameters of a block are seen too.
for f in $srcs; do
  m=$(basename "$f" .sv)
  lint --top-module "$m"
done
exit $status
