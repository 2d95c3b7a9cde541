#!/usr/bin/env bash
# Functional coverage of the hardware regression (rtl/README.md, Coverage): merges the coverage
# databases the suites wrote (`pam regress --coverage out/coverage/<suite>.dat`, one per suite)
# with Verilator's own tool, verilator_coverage, into out/coverage/merged.dat, writes an lcov
# file (coverage.info) and the RTL sources annotated with their cover point counts
# (annotated/), then prints a line per RTL block against rtl/coverage-floors.yaml and the
# unreached cover points (`pam coverage`, also in out/coverage/summary.txt). Exits non-zero
# when a block is below its floor.
# Usage: scripts/coverage.sh [path/to/pam] [--write-floors]
set -euo pipefail
cd "$(dirname "$0")/.."
pam=${1:-target/release/pam}
shift || true
dir=${COVERAGE_DIR:-out/coverage}
vc=${VERILATOR_COVERAGE:-$(command -v verilator_coverage || true)}
[ -x "$pam" ] || { echo "coverage: $pam not built (make build)"; exit 1; }
[ -n "$vc" ] || { echo "coverage: verilator_coverage not found (bash scripts/setup.sh installs it: Debian package verilator)"; exit 1; }
shopt -s nullglob
dats=()
for f in "$dir"/*.dat; do
  [ "$(basename "$f")" = merged.dat ] || dats+=("$f")
done
[ ${#dats[@]} -gt 0 ] || { echo "coverage: no coverage data in $dir (make regress writes it)"; exit 1; }
"$vc" --write "$dir/merged.dat" "${dats[@]}"
"$vc" --write-info "$dir/coverage.info" "$dir/merged.dat"
rm -rf "$dir/annotated"
"$vc" --annotate "$dir/annotated" --annotate-all "$dir/merged.dat" >/dev/null
echo "coverage: merged ${dats[*]} with $("$vc" --version 2>/dev/null | head -1)"
"$pam" coverage "$dir/merged.dat" --floors rtl/coverage-floors.yaml --out "$dir" "$@"
