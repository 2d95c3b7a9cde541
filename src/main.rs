//! The `pam` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use pam::regress::{self, Suite};
use pam::run::RunOptions;
use pam::scenario::Scenario;

/// Seed used when neither the command line nor the scenario gives one.
const DEFAULT_SEED: u64 = 1;

#[derive(Parser)]
#[command(
    name = "pam",
    version,
    about = "Co-simulation of PAM: attention inside every tier of the memory hierarchy, RTL in the loop, checked against golden models"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// A count that must be at least 1 (tokens, steps, repeats, jobs, head dimension).
fn parse_count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{s}' is not a count (a whole number, at least 1)")),
    }
}

fn parse_seed(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("'{s}' is not a seed (a decimal or 0x-prefixed hexadecimal u64)"))
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario: prints a summary and writes OUT/summary.json (and OUT/*.fst with --waves).
    Run {
        scenario: PathBuf,
        /// Run seed (overrides the scenario's `seed`).
        #[arg(long, value_parser = parse_seed)]
        seed: Option<u64>,
        /// Output directory.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Dump FST waveforms of the first problems (scenario `waves`, default 1).
        #[arg(long)]
        waves: bool,
    },
    /// Serve a scenario's workload on every system of its `serving` section at full size:
    /// prints the systems side by side and writes OUT/<system>/{summary.json, requests.csv,
    /// iterations.csv} and OUT/comparison.{csv,json}.
    Serve {
        scenario: PathBuf,
        /// Only these systems (names as in the scenario; repeatable).
        #[arg(long = "system")]
        systems: Vec<String>,
        /// Run seed (overrides the scenario's `seed`).
        #[arg(long, value_parser = parse_seed)]
        seed: Option<u64>,
        #[arg(long, default_value = "out/serve")]
        out: PathBuf,
        /// Calibration cache (default: $PAM_CACHE, else .cache/pam).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Search each system's peak throughput under the SLO (arrival rate scale online, batch
        /// size offline), printing each probe.
        #[arg(long)]
        peak: bool,
        /// Serve every PIM system twice, on the calibrated model and with every tier's RTL in
        /// the loop (tiers must be Verilated presets), and print the summed attention times,
        /// their ratio and whether the scheduling decisions agree; fails beyond 2%.
        #[arg(long, conflicts_with = "peak")]
        rtl_check: bool,
        /// Replay one sampled attention operation of one system through the Verilated devices
        /// (a sample index of summary.json's numerics, or step:request:layer:head).
        #[arg(long)]
        replay: Option<String>,
        /// With --replay: dump FST waveforms (and GTKWave views) into OUT.
        #[arg(long)]
        waves: bool,
    },
    /// Run a sweep (a base serving scenario over axes; see scenarios/eval/): every point into
    /// OUT/points/<id>/, skipping points already done, JOBS at a time; or one shard of it; or
    /// write (and submit) it as a Slurm job array. `pam sweep collect OUT` merges the points.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Sweep {
        #[command(subcommand)]
        action: Option<SweepCmd>,
        #[arg(required = true)]
        file: Option<PathBuf>,
        /// Output directory (default: out/sweeps/<sweep name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Points run in parallel.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Run shard I of N only (points dealt round-robin); inside a Slurm array task the
        /// default is the task's own shard.
        #[arg(long, value_parser = parse_shard)]
        shard: Option<pam::sweep::runner::Shard>,
        /// Calibration cache (default: $PAM_CACHE, else .cache/pam).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Write OUT/slurm/sweep.sbatch, a job array of the sweep, instead of running it.
        #[arg(long, conflicts_with_all = ["shard", "point"])]
        slurm: bool,
        /// With --slurm: submit the script with sbatch.
        #[arg(long, requires = "slurm")]
        submit: bool,
        /// Run this point only (an id of OUT/sweep.json), even if it is done.
        #[arg(long)]
        point: Option<String>,
    },
    /// Run the hardware regression; ends with `N passed, N failed` and fails on any failure.
    Regress {
        #[arg(long, value_enum, default_value = "datapath")]
        suite: Suite,
        /// Number of random cases.
        #[arg(long, default_value_t = 200)]
        seeds: u64,
        /// Run seed the case seeds derive from.
        #[arg(long, value_parser = parse_seed, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Run only the case with this case seed (as printed next to a failure).
        #[arg(long, value_parser = parse_seed)]
        replay: Option<u64>,
        /// Write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Only cases whose name matches this glob (`*`, `?`).
        #[arg(long)]
        filter: Option<String>,
        /// Worker threads (default: available cores).
        #[arg(long, value_parser = parse_count)]
        jobs: Option<usize>,
        /// Flip one bit of the golden model's result in the first N cases (checks the checker).
        #[arg(long, default_value_t = 0, hide = true)]
        inject_faults: u64,
        /// X-randomised: every case's registers and memories start from values drawn from its
        /// own reset seed (printed with a failure) instead of zeros, which exposes a register
        /// read before it is reset.
        #[arg(long)]
        xrand: bool,
        /// Write the RTL cover point counts of the run here (Verilator's coverage.dat format;
        /// scripts/coverage.sh merges and reports them).
        #[arg(long)]
        coverage: Option<PathBuf>,
        /// Re-run each failing case with the FST waveforms of every model it builds written to
        /// DIR/<case>/ (the path is printed with the failure and kept in the JUnit file).
        #[arg(long, value_name = "DIR")]
        fail_waves: Option<PathBuf>,
    },
    /// The tier presets: geometry, timing, PUs, compute cap and bandwidth bounds.
    Presets {
        /// Only the names of the presets with a Verilated device, one per line (for scripts).
        #[arg(long)]
        verilated: bool,
    },
    /// Every Verilated top in this build, one per line: the module and its parameter overrides
    /// as Verilator flags (what scripts/lint-rtl.sh lints).
    Tops,
    /// Functional coverage report of a coverage database (merged by scripts/coverage.sh): a
    /// line per RTL block against the floors file, the unreached cover points, and a failure
    /// when a block is below its floor.
    Coverage {
        /// Coverage database in Verilator's format (`pam regress --coverage`, verilator_coverage).
        data: PathBuf,
        #[arg(long, default_value = "rtl/coverage-floors.yaml")]
        floors: PathBuf,
        /// Also write the report to OUT/summary.txt.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Rewrite the floors file with today's figures (explanations kept), then report.
        #[arg(long)]
        write_floors: bool,
    },
    /// Derives the target importance split (x : y : 1 for HBM, DDR, SSD) from each tier's
    /// measured attention throughput and prints the derivation.
    Xy {
        /// The tiers, fastest first: Verilated presets (see `pam presets`).
        #[arg(long, value_delimiter = ',', default_value = "hbm-s,ddr-s,ssd-s")]
        tiers: Vec<String>,
        #[arg(long, value_parser = parse_count, default_value_t = 128)]
        dim: usize,
        /// Tokens per tier device in the measurement.
        #[arg(long, value_parser = parse_count, default_value_t = 1024)]
        tokens: usize,
        #[arg(long, value_parser = parse_seed, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// PIM time of each tier at full size, fitted on its Verilated devices and checked against
    /// the RTL at a second geometry (SERVING-SPEC §8); cached on disk.
    Calibrate {
        /// Reference tier presets, fastest first.
        #[arg(long, value_delimiter = ',', default_value = "hbm3-5.2,ddr4-3200,ssd")]
        tiers: Vec<String>,
        #[arg(long, value_parser = parse_count, default_value_t = 128)]
        dim: usize,
        /// Cache directory (default: $PAM_CACHE, else .cache/pam).
        #[arg(long)]
        cache: Option<PathBuf>,
        #[arg(long, value_parser = parse_seed, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// Fuzzing campaign over the scenario parser and every trace reader: prints inputs,
    /// accepted, rejected, crashed and slow per target; fails if any input crashed.
    Fuzz(pam::fuzz::FuzzArgs),
    /// The evaluation report of a collected sweep: reads DIR/results.json and writes
    /// OUT/index.html (one self-contained page), OUT/figures/<figure>.svg and
    /// OUT/tables/<figure>.csv per figure, and OUT/tables/points.csv.
    Report {
        /// The sweep's output directory (after `pam sweep collect DIR`).
        dir: PathBuf,
        /// Where to write the report (default: DIR/report).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Benchmarks that print measured figures.
    Bench {
        #[command(subcommand)]
        what: BenchCmd,
    },
}

#[derive(Subcommand)]
enum SweepCmd {
    /// Merge every finished point of a sweep's output directory into results.{csv,json}; fails
    /// naming the points without a result.
    Collect { dir: PathBuf },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Time to move the same tokens through the RTL migration interface and through the
    /// host-CPU path, and their ratio.
    Migration {
        #[arg(long, value_parser = parse_count, default_value_t = 1024)]
        tokens: usize,
        #[arg(long, value_parser = parse_count, default_value_t = 128)]
        dim: usize,
        #[arg(long, value_parser = parse_seed, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// One decode run under the online scheduler, without scheduling and with L-PIM placement:
    /// attention step time side by side.
    Policies {
        /// Target split x : y : 1 (default: derived from measured tier throughput, as `pam xy`).
        #[arg(long, requires = "y")]
        x: Option<f64>,
        #[arg(long, requires = "x")]
        y: Option<f64>,
        #[arg(long, value_parser = parse_count, default_value_t = 20)]
        steps: usize,
        #[arg(long, value_parser = parse_seed, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// The same decode run with every tier in RTL and on the fast model calibrated from it:
    /// host time, speedup, and simulated attention time per tier side by side.
    Calibrated {
        #[arg(long, value_parser = parse_count, default_value_t = 10)]
        steps: usize,
        #[arg(long, value_parser = parse_seed, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// Bank-group activations under the least-activated rule and under round robin, on a
    /// skewed token-use workload.
    Mapping {
        #[arg(long, value_parser = parse_seed, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// Internal read bandwidth of each DRAM tier's device in RTL, every PU streaming, next to
    /// the column-access peak and the bound with row and refresh overheads.
    Bandwidth {
        #[arg(long, value_parser = parse_count, default_value_t = 128)]
        dim: usize,
        /// Tokens per device (default: whole rows of every bank, up to 4096).
        #[arg(long, value_parser = parse_count)]
        tokens: Option<usize>,
        /// Run the PUs on the tier's PU clock (666 / 500 MHz) behind dual-clock FIFOs instead of
        /// on the memory clock: the figure then includes the PUs' own limit.
        #[arg(long)]
        pu_clock: bool,
        #[arg(long, value_parser = parse_seed, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// GPU-only serving of the measured vLLM run's requests (SERVING-SPEC §12) on the
    /// LLMServingSim GPU profile: simulated mean and p90 TTFT, TPOT and end-to-end latency next
    /// to the measured ones, and their ratio.
    Validate {
        /// The LLMServingSim profile bundle (the folder of its meta.yaml).
        #[arg(long, default_value = "../shared/gpu-profiles/llmservingsim/RTX4090/meta-llama/Llama-3.1-8B/bf16")]
        profile: PathBuf,
        /// The requests (LLMServingSim JSONL, or any trace format `pam` reads).
        #[arg(long, default_value = "../shared/traces/sharegpt-llama-3.1-8b-300-sps10.jsonl")]
        trace: PathBuf,
        /// The measured run: meta.json (engine configuration) and requests.jsonl.
        #[arg(long, default_value = "../shared/validation/vllm-0.19-rtx4090-llama-3.1-8b")]
        measured: PathBuf,
        /// The GPU preset the profile was measured on (its link times collectives).
        #[arg(long, default_value = "rtx4090")]
        gpu: String,
        /// Also write requests.csv, iterations.csv and summary.json here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Simulate without prefix caching even if the measured run had it on.
        #[arg(long)]
        no_prefix_caching: bool,
    },
    /// The serving simulator's own speed and memory at full size: one system of a serving
    /// scenario at its largest load point (host seconds, iterations and simulated tokens per
    /// host second, token positions managed, peak resident memory).
    Serve {
        #[arg(default_value = "scenarios/serve_llama3_70b_arxiv.yaml")]
        scenario: PathBuf,
        #[arg(long, default_value = "pam")]
        system: String,
        #[arg(long, value_parser = parse_seed)]
        seed: Option<u64>,
        /// Calibration cache (default: $PAM_CACHE, else .cache/pam).
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Simulated PU cycles per second: Rust host vs a plain C++ Verilator testbench.
    Pu {
        #[arg(long, default_value_t = 16)]
        lanes: usize,
        #[arg(long, value_parser = parse_count, default_value_t = 128)]
        dim: usize,
        #[arg(long, value_parser = parse_count, default_value_t = 4096)]
        tokens: usize,
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..), default_value_t = 3)]
        repeats: u64,
        #[arg(long, value_parser = parse_seed, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    match real_main() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `pam report DIR [--out OUT]`.
fn report(dir: &std::path::Path, out: Option<PathBuf>) -> anyhow::Result<bool> {
    let path = dir.join("results.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "{}: no such file; merge the sweep's points first with `pam sweep collect {}`",
            path.display(),
            dir.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    let results: pam::sweep::table::Results = serde_json::from_str(&text).with_context(|| {
        format!("{}: not a sweep's merged table (the results.json that `pam sweep collect` writes)", path.display())
    })?;
    let out = out.unwrap_or_else(|| dir.join("report"));
    let summary = pam::sweep::report::write_report(&results, &out)
        .with_context(|| format!("writing the report of {} into {}", path.display(), out.display()))?;
    println!("report: {} ({} rows of sweep {})", summary.index.display(), summary.rows, results.sweep);
    for f in &summary.figures {
        let what = match &f.empty {
            Some(why) => why.clone(),
            None => {
                let s = |n: usize| if n == 1 { "" } else { "s" };
                let (p, m, r) = (f.panels, f.marks, f.rows);
                format!("{p} panel{}, {m} mark{} from {r} row{}; {}", s(p), s(m), s(r), f.provenance)
            }
        };
        println!("  {:<9} {}: {what}", f.figure.name(), f.svg.display());
    }
    println!("  {:<9} {}", "points", summary.points.display());
    Ok(true)
}

fn real_main() -> anyhow::Result<bool> {
    match Cli::parse().cmd {
        Cmd::Report { dir, out } => report(&dir, out),
        Cmd::Run { scenario, seed, out, waves } => {
            let sc = Scenario::load(&scenario)?;
            let seed = seed.or(sc.seed).unwrap_or(DEFAULT_SEED);
            pam::run::run(&sc, &RunOptions { seed, out, waves })
        }
        Cmd::Serve { scenario, systems, seed, out, cache, peak, rtl_check, replay, waves } => {
            let sc = Scenario::load_with_seed(&scenario, seed)?;
            let seed = seed.or(sc.seed).unwrap_or(pam::serve::DEFAULT_SEED);
            let serving = sc.serving.as_ref().with_context(|| {
                format!(
                    "{}: the scenario has no `serving` section (pam serve runs that section; pam run the others)",
                    scenario.display()
                )
            })?;
            let opts =
                pam::serve::command::ServeOptions { systems, seed, out, cache: cache_dir(cache), peak, replay, waves };
            if rtl_check {
                let checks = pam::serve::command::rtl_check(serving, &opts)?;
                let tol = pam::serve::command::RTL_TOLERANCE;
                return Ok(checks.iter().all(|c| c.same_decisions && (c.ratio() - 1.0).abs() <= tol));
            }
            pam::serve::command::serve(serving, &opts)?;
            Ok(true)
        }
        Cmd::Sweep { action: Some(SweepCmd::Collect { dir }), .. } => {
            let c = pam::sweep::collect::collect(&dir)?;
            println!(
                "sweep {}: {} rows from {} of {} points -> {}, {}",
                c.results.sweep,
                c.results.rows.len(),
                c.results.points - c.missing.len(),
                c.results.points,
                dir.join("results.csv").display(),
                dir.join("results.json").display()
            );
            if !c.missing.is_empty() {
                anyhow::bail!(
                    "{}: {} point(s) have no result yet (run the sweep again to finish them): {}",
                    dir.display(),
                    c.missing.len(),
                    c.missing.join(", ")
                );
            }
            Ok(true)
        }
        Cmd::Sweep { action: None, file, out, jobs, shard, cache, slurm, submit, point } => {
            let file = file.context("a sweep file")?;
            let sweep = pam::sweep::spec::Sweep::load(&file)?;
            let out = out.unwrap_or_else(|| PathBuf::from("out/sweeps").join(&sweep.name));
            let cache = cache_dir(cache);
            if slurm {
                let all: Vec<_> = sweep.points.iter().collect();
                pam::sweep::runner::warm_cache(&all, &cache)?;
                pam::sweep::runner::Manifest::of(&sweep, &pam::sweep::commit()).write(&out)?;
                let exe = std::env::current_exe().context("the path of this pam")?;
                let (script, tasks) = pam::sweep::slurm::write_script(&sweep, &out, &cache, &exe)?;
                println!(
                    "sweep {}: {} points as a job array of {tasks} tasks: {}",
                    sweep.name,
                    sweep.points.len(),
                    script.display()
                );
                if submit {
                    let id = pam::sweep::slurm::submit(&script)?;
                    println!("submitted job array {id} ({tasks} tasks); then: pam sweep collect {}", out.display());
                }
                return Ok(true);
            }
            let shard = shard.or_else(pam::sweep::runner::Shard::from_slurm_env);
            let opts = pam::sweep::runner::RunOptions { out: out.clone(), cache, jobs, shard, point };
            let o = pam::sweep::runner::run(&sweep, &opts, &pam::sweep::commit())?;
            println!(
                "sweep {}: {} points done ({} run now, {} skipped as already done{}) in {:.1} s wall; collect with: pam sweep collect {}",
                sweep.name,
                o.ran + o.skipped,
                o.ran,
                o.skipped,
                if o.failed.is_empty() { String::new() } else { format!(", {} FAILED", o.failed.len()) },
                o.wall_s,
                out.display()
            );
            for (id, e) in &o.failed {
                eprintln!("error: point {id}: {e}");
            }
            Ok(o.failed.is_empty() && o.ran + o.skipped == o.selected)
        }
        Cmd::Regress {
            suite,
            seeds,
            seed,
            replay,
            junit,
            filter,
            jobs,
            inject_faults,
            xrand,
            coverage,
            fail_waves,
        } => {
            let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let opts = regress::Options {
                suite,
                seeds,
                run_seed: seed,
                replay,
                filter,
                junit: junit.clone(),
                jobs,
                inject_faults,
                xrand,
                coverage: coverage.clone(),
                fail_waves,
            };
            println!(
                "pam regress --suite {} : {} cases, run seed {seed:#x}, {jobs} jobs, {}, {}",
                suite.name(),
                if replay.is_some() { 1 } else { seeds },
                if xrand { "X-randomised (a reset seed per case)" } else { "zero initial values" },
                pam::rtl::VERILATOR_VERSION
            );
            let report = regress::run(&opts);
            if let Some(path) = &junit {
                regress::junit::write(path, suite.name(), seed, &report.cases)
                    .with_context(|| format!("cannot write JUnit XML to {}", path.display()))?;
                println!("junit: {}", path.display());
            }
            if suite == Suite::Datapath {
                println!(
                    "max normwise relative error vs float64: {:.3e} (each case is held to {:e} relative plus an \
                     allowance for cancellation)",
                    report.max_rel_err_f64,
                    pam::golden::reference::REL_BOUND
                );
            }
            if let (Some(written), Some(path)) = (report.coverage, &coverage) {
                let w =
                    written.with_context(|| format!("cannot write the coverage of the run to {}", path.display()))?;
                println!(
                    "coverage: {} of {} cover points hit, from {} models: {}",
                    w.points_hit,
                    w.points,
                    w.models,
                    path.display()
                );
            }
            println!("time: {:.1} s", report.seconds);
            println!("{} passed, {} failed", report.passed, report.failed);
            Ok(report.failed == 0 && !report.cases.is_empty())
        }
        Cmd::Xy { tiers, dim, tokens, seed } => {
            println!("pam xy: local attention over {tokens} tokens of head dim {dim} in each tier's Verilated device (PUs on their own clock), seed {seed}");
            let presets = verilated_presets(&tiers)?;
            let s = pam::system::xy::derive(&presets, dim, tokens, seed)?;
            for t in &s.tiers {
                println!(
                    "  {:<6} {:>10.0} ns  -> {:>12.3e} tokens/s per simulated device x {:>5.0} (reference device) x {:>2} per node = {:>10.3e} tokens/s",
                    t.preset, t.ns, t.device, t.scale, t.devices_per_node, t.node
                );
            }
            println!("  equal finishing times need importance shares proportional to throughput:");
            let last = s.tiers.last().map_or("", |t| t.preset);
            for (t, w) in s.tiers.iter().zip(&s.weights) {
                println!("  w_{:<6} = T_{} / T_{last} = {w:.3}", t.preset, t.preset);
            }
            let ws: Vec<String> = s.weights.iter().map(|w| format!("{w:.3}")).collect();
            println!("  target split {} (scenario: target: [{}])", ws.join(" : "), ws.join(", "));
            Ok(true)
        }
        Cmd::Calibrate { tiers, dim, cache, seed } => {
            print!("{}", pam::serve::pim::calibrate_command(&tiers, dim, cache.as_deref(), seed)?);
            Ok(true)
        }
        Cmd::Fuzz(args) => Ok(pam::fuzz::cli(&args)?),
        Cmd::Coverage { data, floors, out, write_floors } => {
            use pam::regress::coverage_report as cr;
            let text = std::fs::read_to_string(&data)
                .with_context(|| format!("cannot read coverage data {}", data.display()))?;
            let points = cr::points(&text, &data)?;
            let mut f =
                if write_floors && !floors.exists() { cr::Floors::default() } else { cr::Floors::load(&floors)? };
            if write_floors {
                let yaml = cr::evaluate(&points, &f).floors_yaml(&f);
                std::fs::write(&floors, yaml).with_context(|| format!("cannot write {}", floors.display()))?;
                f = cr::Floors::load(&floors)?;
                println!("floors written: {}", floors.display());
            }
            let report = cr::evaluate(&points, &f);
            let text = report.render();
            print!("{text}");
            if let Some(dir) = out {
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                let path = dir.join("summary.txt");
                std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(report.failures.is_empty())
        }
        Cmd::Tops => {
            for t in pam::rtl::model::Top::all() {
                let params: Vec<String> = t.params.iter().map(|(k, v)| format!("-G{k}={v}")).collect();
                println!("{} {} {}", t.name, t.module, params.join(" "));
            }
            Ok(true)
        }
        Cmd::Presets { verilated } => {
            if verilated {
                for name in pam::device::tier::TierPreset::verilated_names() {
                    println!("{name}");
                }
            } else {
                print!("{}", pam::device::tier::describe_presets());
            }
            Ok(true)
        }
        Cmd::Bench { what: BenchCmd::Migration { tokens, dim, seed } } => {
            let b = pam::migration::bench_migration(tokens, dim, seed)?;
            println!(
                "pam bench migration: {} tokens of head dim {} ({} bytes each), seed {seed}",
                b.tokens, b.dim, b.token_bytes
            );
            for p in &b.phases {
                println!(
                    "  {:<30} {:>5} tokens: interface {:>9.1} us ({} clocks, {} source row switches, {} in arrival order), host path {:>9.1} us",
                    p.name, p.tokens, p.rtl_ns / 1e3, p.cycles, p.row_switches, p.arrival_row_switches, p.host_ns / 1e3
                );
            }
            println!("  RTL migration interface : {:>12.1} us", b.rtl_ns / 1e3);
            println!("  host-CPU path           : {:>12.1} us", b.host_ns / 1e3);
            println!("  ratio host / interface  : {:>12.1}", b.speedup);
            Ok(true)
        }
        Cmd::Bench { what: BenchCmd::Policies { x, y, steps, seed } } => {
            let (x, y) = match (x, y) {
                (Some(x), Some(y)) => (x, y),
                _ => {
                    let s = pam::system::xy::derive(&verilated_presets(&["hbm-s", "ddr-s", "ssd-s"])?, 64, 512, seed)?;
                    (s.weights[0], s.weights[1])
                }
            };
            println!("pam bench policies: {steps} decode steps, target x : y : 1 = {x:.1} : {y:.2} : 1, seed {seed}");
            for r in pam::bench::bench_policies((x, y), steps, seed)? {
                println!(
                    "  {:<5} mean step {:>9.1} us   attention per step HBM {:>7.1} us DDR {:>7.1} us SSD {:>8.1} us   migrated {:>5}   split {:.3} : {:.3} : {:.4}   mismatches {}",
                    r.policy, r.mean_step_ns / 1e3, r.attention_ns[0] / 1e3, r.attention_ns[1] / 1e3, r.attention_ns[2] / 1e3, r.migrated,
                    r.split[0], r.split[1], r.split[2], r.mismatches
                );
            }
            Ok(true)
        }
        Cmd::Bench { what: BenchCmd::Calibrated { steps, seed } } => {
            println!("pam bench calibrated: {steps} decode steps of a 2-layer, 4-head model over HBM, DDR and SSD, seed {seed}");
            let runs = pam::bench::bench_calibrated(steps, seed)?;
            for r in &runs {
                println!(
                    "  {:<10} open {:>6.2} s  run {:>7.2} s   attention HBM {:>9.1} us DDR {:>9.1} us SSD {:>10.1} us   mismatches {}  max rel err {:.3e}",
                    r.models, r.open_s, r.run_s, r.attention_ns[0] / 1e3, r.attention_ns[1] / 1e3, r.attention_ns[2] / 1e3,
                    r.mismatches, r.max_rel_err_f64
                );
            }
            if let [rtl, fast] = &runs[..] {
                let diff: Vec<String> = (0..3)
                    .map(|t| format!("{:+.1}%", 100.0 * (fast.attention_ns[t] / rtl.attention_ns[t].max(1e-9) - 1.0)))
                    .collect();
                println!("  run speedup (RTL / calibrated host time) {:.1}x", rtl.run_s / fast.run_s.max(1e-9));
                println!("  simulated attention, calibrated vs RTL: HBM {} DDR {} SSD {}", diff[0], diff[1], diff[2]);
                println!(
                    "  same decisions and outputs: {}",
                    rtl.splits == fast.splits && rtl.max_rel_err_f64 == fast.max_rel_err_f64
                );
            }
            Ok(true)
        }
        Cmd::Bench { what: BenchCmd::Mapping { seed } } => {
            use pam::kv::placement::GroupPolicy;
            use pam::kv::workload::{imbalance, SkewedWorkload};
            let p = pam::device::dram::preset::DramPreset::named("hbm-s")
                .ok_or_else(|| anyhow::anyhow!("no preset hbm-s"))?;
            let shape = pam::kv::placement::DramShape { bank_groups: 4, rows: 512, ..p.shape(128) };
            let w = SkewedWorkload::default();
            println!(
                "pam bench mapping: {} decode steps, 4 bank groups, structural token every {} positions, seed {seed}",
                w.steps, w.period
            );
            for (name, policy) in
                [("least-activated (spec)", GroupPolicy::LeastActivated), ("round robin", GroupPolicy::RoundRobin)]
            {
                let t = w.run(shape, policy, seed)?;
                println!("  {name:<24}: busiest group / mean = {:.3}   activations per group {t:?}", imbalance(&t));
            }
            Ok(true)
        }
        Cmd::Bench { what: BenchCmd::Bandwidth { dim, tokens, seed, pu_clock } } => {
            println!(
                "pam bench bandwidth: head dim {dim}, seed {seed}; RDs at tCCD_L (compute cap off); PUs on {}",
                if pu_clock { "their own clock" } else { "the memory clock" }
            );
            let dram: Vec<_> = pam::device::tier::TierPreset::verilated()
                .filter_map(|p| Some((p.as_dram()?.clone(), p.reference_preset().as_dram()?.clone())))
                .collect();
            for (scaled, reference) in dram {
                let shape = scaled.shape(dim);
                let per_row = shape.slots_per_row() * shape.pus_per_group() * scaled.bank_groups;
                let n = tokens
                    .unwrap_or_else(|| (4096 / per_row).max(1) * per_row)
                    .min(shape.group_capacity() * scaled.bank_groups);
                let r = pam::bench::bench_bandwidth(&scaled, &reference, dim, n, seed, pu_clock)?;
                let gbs = |x: f64| x / 1e9;
                println!(
                    "  {} ({} banks, {} PUs): {} tokens, {} bytes in {} clocks ({:.2} s of simulation)",
                    r.preset,
                    scaled.banks(),
                    scaled.pus(),
                    r.tokens,
                    r.bytes,
                    r.stream_cycles,
                    r.wall_seconds
                );
                println!("    achieved in RTL        : {:>10.1} GB/s", gbs(r.achieved));
                println!(
                    "    column-access peak     : {:>10.1} GB/s   (achieved / peak  = {:.3})",
                    gbs(r.bounds.column_peak),
                    r.achieved / r.bounds.column_peak
                );
                println!(
                    "    bound with ACT/PRE/REF : {:>10.1} GB/s   (achieved / bound = {:.3}; row period {} clocks, {} refreshes in the run; steady state {:.1} GB/s)",
                    gbs(r.run_bound), r.achieved / r.run_bound, r.bounds.row_period, r.refreshes, gbs(r.bounds.pattern)
                );
                let scale = reference.banks() as f64 / scaled.banks() as f64;
                println!(
                    "    {} reference device ({} banks): column peak {:.2} TB/s, bound {:.2} TB/s, achieved scaled per bank {:.2} TB/s",
                    reference.name, reference.banks(), r.reference.column_peak / 1e12, r.reference.pattern / 1e12, r.achieved * scale / 1e12
                );
            }
            for ssd in pam::device::tier::TierPreset::verilated().filter_map(|p| p.as_flash().cloned()) {
                let r = pam::bench::bench_flash_bandwidth(&ssd, dim, 3, seed)?;
                let gbs = |x: f64| x / 1e9;
                println!(
                "  {} ({} channels x {} dies, {} PUs): {} tokens on {} pages, {} bytes in {} clocks ({:.2} s of simulation)",
                ssd.name, ssd.channels, ssd.dies_per_channel, ssd.pus(), r.tokens, r.pages, r.bytes, r.stream_cycles, r.wall_seconds
            );
                println!(
                    "    achieved in RTL        : {:>10.2} GB/s   (achieved / bound = {:.3})",
                    gbs(r.achieved),
                    r.achieved / r.bound
                );
                println!(
                "    channel rate bound     : {:>10.2} GB/s   ({} channels x {} B per {} clocks at {} MHz; nominal {} MT/s)",
                gbs(r.bus_bound), ssd.channels, ssd.beat_bytes(), ssd.xfer_gap(), ssd.clock_mhz, ssd.channel_mts
            );
                println!(
                "    page read (tR) bound   : {:>10.2} GB/s   ({} dies x {} B per tR + transfer = {} us + {:.2} us: one page register per die)",
                gbs(r.tr_bound), ssd.channels * ssd.dies_per_channel, ssd.page_bytes, ssd.t_r_ns / 1000.0,
                ssd.page_bytes as f64 / (r.bus_bound / ssd.channels as f64) * 1e6
            );
                println!(
                "    bound (min per channel): {:>10.2} GB/s   the first page of each die fills the pipeline; {} pages per die here",
                gbs(r.bound), r.pages / (ssd.channels * ssd.dies_per_channel)
            );
            }
            Ok(true)
        }
        Cmd::Bench { what: BenchCmd::Validate { profile, trace, measured, gpu, out, no_prefix_caching } } => {
            bench_validate(&profile, &trace, &measured, &gpu, out.as_deref(), no_prefix_caching)
        }
        Cmd::Bench { what: BenchCmd::Serve { scenario, system, seed, cache } } => {
            let sc = Scenario::load_with_seed(&scenario, seed)?;
            let seed = seed.or(sc.seed).unwrap_or(pam::serve::DEFAULT_SEED);
            let s = sc.serving.as_ref().with_context(|| format!("{}: no `serving` section", scenario.display()))?;
            let b = pam::serve::command::bench(s, &system, seed, &cache_dir(cache))?;
            println!("pam bench serve {} --system {system}: {}", scenario.display(), b.point);
            println!("  calibration (cached or measured): {:>8.2} s", b.calibration_s);
            println!(
                "  serving loop                   : {:>8.2} s host for {:.1} s simulated ({:.0}x real time)",
                b.host_s,
                b.simulated_s,
                b.simulated_s / b.host_s
            );
            println!(
                "  iterations                     : {:>8} ({:.0} per host second)",
                b.iterations,
                b.iterations as f64 / b.host_s
            );
            println!(
                "  tokens                         : {:>8} output, {} prompt ({:.0} simulated tokens per host second)",
                b.output_tokens,
                b.prompt_tokens,
                (b.output_tokens + b.prompt_tokens) as f64 / b.host_s
            );
            println!("  token positions at the peak    : {:>8} (one KV-manager entry each)", b.peak_positions);
            println!("  peak resident memory           : {:>8.1} MB", b.peak_rss_mb);
            Ok(true)
        }
        Cmd::Bench { what: BenchCmd::Pu { lanes, dim, tokens, repeats, seed } } => {
            println!(
                "pam bench pu: {lanes} lanes, head dim {dim}, {tokens} tokens, {repeats} repeats per round, best of {} \
                 rounds, seed {seed}",
                pam::bench::BENCH_ROUNDS
            );
            let r = pam::bench::bench_pu(lanes, dim, tokens, repeats, seed)?;
            println!(
                "  Rust host (FFI)     : {:>12} cycles in {:.3} s = {:>10.0} cycles/s",
                r.rust_cycles,
                r.rust_seconds,
                r.rust_rate()
            );
            println!(
                "  C++ testbench       : {:>12} cycles in {:.3} s = {:>10.0} cycles/s",
                r.cpp_cycles,
                r.cpp_seconds,
                r.cpp_rate()
            );
            println!("  ratio Rust / C++    : {:.3} (target >= 0.9)", r.rust_rate() / r.cpp_rate());
            Ok(true)
        }
    }
}

fn parse_shard(s: &str) -> Result<pam::sweep::runner::Shard, String> {
    s.parse()
}

/// The calibration cache: the flag, else $PAM_CACHE, else .cache/pam.
fn cache_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(pam::serve::pim::default_cache_dir)
}

/// `pam bench validate`: the measured vLLM run's requests served GPU-only on the profile.
fn bench_validate(
    profile: &std::path::Path,
    trace: &std::path::Path,
    measured: &std::path::Path,
    gpu: &str,
    out: Option<&std::path::Path>,
    no_prefix_caching: bool,
) -> anyhow::Result<bool> {
    use pam::serve::engine::{self, validate};
    use pam::serve::gpu::{GpuPreset, ModelShape, ServingSimBundle};
    use pam::serve::workload::Workload;

    let mut run = validate::MeasuredRun::load(measured)?;
    if no_prefix_caching {
        run.config.prefix_caching = false;
    }
    let model = ModelShape::by_name(&run.model).with_context(|| format!("the model of {}", measured.display()))?;
    let gpu = GpuPreset::by_name(gpu)?;
    let bundle = ServingSimBundle::load(profile, &gpu)?;
    let workload = Workload::read(trace)?;
    run.check_workload(&workload, &trace.display().to_string())?;
    let c = &run.config;
    let result_blocks = c.num_blocks(&model)?;
    println!("pam bench validate: {} requests of {}", workload.len(), trace.display());
    println!("  measured : {} ({})", measured.display(), run.model);
    println!("  GPU time : {} from {}", pam::serve::gpu::GpuTime::name(&bundle), profile.display());
    println!(
        "  engine   : max_num_seqs {}, max_num_batched_tokens {}, {} KV blocks of {} tokens, TP {}, PP {}, prefix caching {}",
        c.max_num_seqs,
        c.max_num_batched_tokens,
        result_blocks,
        c.block_size,
        c.tp,
        c.pp,
        if c.prefix_caching { "on (simulated: a preempted request's own blocks only)" } else { "off" }
    );
    let started = std::time::Instant::now();
    let result = engine::simulate(c, &model, &bundle, &workload)?;
    let host_s = started.elapsed().as_secs_f64();
    let sim = result.summary();
    let rows = validate::compare(&sim, &run.summary());
    println!("  {:<22} {:>12} {:>12} {:>8}", "", "simulated", "measured", "ratio");
    for r in &rows {
        println!("  {:<22} {:>12.3} {:>12.3} {:>8.3}", r.metric, r.simulated, r.measured, r.ratio());
    }
    println!(
        "  simulated: {} iterations, {} preemptions ({} tokens recomputed), GPU busy {:.1}% of the run; {:.2} s of host time",
        sim.iterations,
        sim.preemptions,
        sim.recomputed_tokens,
        100.0 * sim.busy_fraction,
        host_s
    );
    if let Some(dir) = out {
        result.write_dir(dir)?;
        println!("  wrote {}/{{requests.csv,iterations.csv,summary.json}}", dir.display());
    }
    Ok(true)
}

/// The Verilated presets of `names`, in order; an error names the one that is not.
fn verilated_presets(names: &[impl AsRef<str>]) -> anyhow::Result<Vec<pam::device::tier::TierPreset>> {
    use pam::device::tier::TierPreset;
    names.iter().map(|n| TierPreset::verilated_named(n.as_ref()).map_err(anyhow::Error::msg)).collect()
}
