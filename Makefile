# pam: entry points. `bash scripts/setup.sh` first on a new machine (the README's commands do).
#
#   make run      build, then the flagship comparison: LLaMA3-70B on a DGX-H100-class node serving
#                 the Azure conversation trace, every system side by side (out/serve_llama3_70b_conv)
#   make run-rtl  build, then the default RTL scenario with waveforms into out/pu_smoke
#   make test     everything CI checks: RTL lint, rustfmt, clippy, unit and integration tests,
#                 the hardware regression (fp, datapath, device, system; JUnit in out/), its
#                 functional coverage against rtl/coverage-floors.yaml (out/coverage/), the same
#                 suites X-randomised, the Slurm sweep check (a one-node cluster on this machine),
#                 GTKWave views, the synthesis check
#   make regress  the hardware regression alone (it also writes the coverage data)
#   make coverage the regression, then its coverage per RTL block, failing below a floor
#   make regress-xrand  the same suites X-randomised: every case's registers and memories start
#                 from values drawn from its own reset seed instead of zeros (part of make test)
#   make slurm-check  a sweep run locally and as a Slurm job array on a one-node cluster started
#                 on this machine (scripts/slurm-cluster.sh; root) must give identical tables
#   make eval     the reference evaluation (scenarios/eval/reference.yaml, JOBS=2 points at once),
#                 collected and reported: out/sweeps/eval-reference/report/index.html
#   make bench    the benchmarks (figures printed, nothing asserted)
#   make synth    Yosys synthesis check of every block (no latches, cell counts; ~5 min)
#   make fuzz     fuzzing campaign: 10^6 inputs over the scenario parser and every trace reader,
#                 crash reproducers in out/fuzz/ (a few minutes; not part of make test, whose
#                 tests/fuzz.rs runs 20,000 inputs); FUZZ_SEED=S repeats a campaign
#   make fuzz-checked  the same on a build with integer-overflow checks (release wraps silently),
#                 in target/checked (its first build Verilates again: ~30 min on 2 busy cores)

CARGO    ?= cargo
PAM      := target/release/pam
SCENARIO ?= scenarios/pu_smoke.yaml
SERVE    ?= scenarios/serve_llama3_70b_conv.yaml
OUT      ?= out
# Regression sizes; `make regress DATAPATH_SEEDS=20000` for a long run.
FP_SEEDS       ?= 50
DATAPATH_SEEDS ?= 2000
DEVICE_SEEDS   ?= 500
SYSTEM_SEEDS   ?= 200
FUZZ_INPUTS    ?= 1000000
JOBS           ?= 2

.PHONY: setup build run run-rtl test lint fmt clippy unit regress coverage regress-xrand slurm-check eval waves-check bench synth fuzz fuzz-checked clean

setup:
	bash scripts/setup.sh

build:
	$(CARGO) build --release --locked

run: build
	$(PAM) serve $(SERVE) --out $(OUT)/$(basename $(notdir $(SERVE)))

run-rtl: build
	$(PAM) run $(SCENARIO) --out $(OUT)/$(basename $(notdir $(SCENARIO))) --waves

test: lint fmt clippy unit regress coverage regress-xrand slurm-check waves-check synth

lint: build
	scripts/lint-rtl.sh $(PAM)

fmt:
	$(CARGO) fmt --check

clippy:
	$(CARGO) clippy --release --locked --all-targets -- -D warnings

unit:
	$(CARGO) test --release --locked

regress: build
	rm -f $(OUT)/coverage/*.dat
	$(PAM) regress --suite fp --seeds $(FP_SEEDS) --junit $(OUT)/junit-fp.xml --fail-waves $(OUT)/fail-waves/fp --coverage $(OUT)/coverage/fp.dat
	$(PAM) regress --suite datapath --seeds $(DATAPATH_SEEDS) --junit $(OUT)/junit-datapath.xml --fail-waves $(OUT)/fail-waves/datapath --coverage $(OUT)/coverage/datapath.dat
	$(PAM) regress --suite device --seeds $(DEVICE_SEEDS) --junit $(OUT)/junit-device.xml --fail-waves $(OUT)/fail-waves/device --coverage $(OUT)/coverage/device.dat
	$(PAM) regress --suite system --seeds $(SYSTEM_SEEDS) --junit $(OUT)/junit-system.xml --fail-waves $(OUT)/fail-waves/system --coverage $(OUT)/coverage/system.dat

# The floors hold for the default seed counts: a shorter regression may reach less.
coverage: regress
	COVERAGE_DIR=$(OUT)/coverage scripts/coverage.sh $(PAM)

# Same sizes as `regress`: X-randomisation costs nothing per cycle (only the models' constructors
# differ), so the step takes as long again (about 230 s of CPU for the four suites).
regress-xrand: build
	$(PAM) regress --suite fp --seeds $(FP_SEEDS) --xrand --junit $(OUT)/junit-xrand-fp.xml --fail-waves $(OUT)/fail-waves/xrand-fp
	$(PAM) regress --suite datapath --seeds $(DATAPATH_SEEDS) --xrand --junit $(OUT)/junit-xrand-datapath.xml --fail-waves $(OUT)/fail-waves/xrand-datapath
	$(PAM) regress --suite device --seeds $(DEVICE_SEEDS) --xrand --junit $(OUT)/junit-xrand-device.xml --fail-waves $(OUT)/fail-waves/xrand-device
	$(PAM) regress --suite system --seeds $(SYSTEM_SEEDS) --xrand --junit $(OUT)/junit-xrand-system.xml --fail-waves $(OUT)/fail-waves/xrand-system

slurm-check: build
	SLURM_CHECK_DIR=$(OUT)/slurm-check scripts/slurm-check.sh $(PAM)

eval: build
	$(PAM) sweep scenarios/eval/reference.yaml --jobs $(JOBS) --out $(OUT)/sweeps/eval-reference
	$(PAM) sweep collect $(OUT)/sweeps/eval-reference
	$(PAM) report $(OUT)/sweeps/eval-reference

waves-check: build
	scripts/check-waves.sh $(PAM)

bench: build
	$(PAM) bench pu --lanes 16
	$(PAM) bench pu --lanes 4
	$(PAM) bench bandwidth
	$(PAM) bench mapping
	$(PAM) bench policies
	$(PAM) bench migration
	$(PAM) bench serve

synth: build
	scripts/synth.sh $(PAM)

fuzz: build
	$(PAM) fuzz --inputs $(FUZZ_INPUTS) --out $(OUT)/fuzz $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

fuzz-checked:
	CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true $(CARGO) build --release --locked --target-dir target/checked
	target/checked/release/pam fuzz --inputs $(FUZZ_INPUTS) --out $(OUT)/fuzz $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

clean:
	$(CARGO) clean
	rm -rf $(OUT)
