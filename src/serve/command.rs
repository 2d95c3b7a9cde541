//! `pam serve`: what it prints and writes. Each system's files are written as soon as it has
//! run, so an error in a later system never loses an earlier one's results.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::numerics;
use super::peak::{self, Load};
use super::report::Window;
use super::run::{self, ServeError, SystemResult};
use super::scenario::Serving;

pub struct ServeOptions {
    /// Only these systems (labels), all when empty.
    pub systems: Vec<String>,
    pub seed: u64,
    pub out: PathBuf,
    pub cache: PathBuf,
    pub peak: bool,
    /// Replay this sample of the (single) system through the Verilated devices instead of
    /// serving (`crate::serve::numerics::SampleRef`'s forms).
    pub replay: Option<String>,
    /// With `replay`: dump FST waveforms of the devices into `out`.
    pub waves: bool,
}

fn describe(s: &Serving, seed: u64) -> String {
    let m = &s.model;
    let n = &s.node;
    let caps = n.capacities(m).unwrap_or_default();
    let tiers: Vec<String> = n
        .tiers
        .iter()
        .zip(&n.devices)
        .zip(&caps)
        .map(|((t, d), c)| format!("{} x{} ({:.2}M positions)", t.name(), d, *c as f64 / 1e6))
        .collect();
    let w = &s.workload;
    let l = &s.locality;
    format!(
        "pam serve {}: {} ({} layers, {} KV heads, {} KiB KV per token) on {} node(s) of {} x {} (TP {} x PP {}), tiers {}\n  \
         workload: {} requests, mean prompt {:.0} / output {:.0} tokens, last arrival {:.1} s; engine: max_num_seqs {}, max_num_batched_tokens {}{}\n  \
         SLO: p90 TPOT <= {:.0} ms; locality: sparsity {}, sinks {}, recent {}, drift {} per step; seed {seed}",
        s.file.display(),
        m.name,
        m.layers,
        m.kv_heads,
        m.kv_bytes_per_token() / 1024,
        s.nodes,
        n.gpus(),
        n.gpu.name,
        n.tp,
        n.pp,
        tiers.join(", "),
        w.len(),
        w.mean_prompt_tokens(),
        w.mean_output_tokens(),
        w.last_arrival_ns().unwrap_or(0) as f64 / 1e9,
        s.engine.max_num_seqs,
        s.engine.max_num_batched_tokens,
        if s.batches.is_empty() { String::new() } else { format!("; offline batches {:?}", s.batches) },
        s.slo_tpot_s * 1e3,
        l.sparsity,
        l.sinks,
        l.recent,
        l.drift
    )
}

fn write_one(r: &SystemResult, out: &Path, s: &Serving) -> Result<(), ServeError> {
    let (start, iterations) = s.trace_window;
    run::write_result(r, &out.join(r.dir_name()), &Window { start, iterations })
}

/// `pam serve --replay`: one sampled attention operation of one system through the Verilated
/// devices ([`numerics::replay`]), on the first load point.
fn replay(s: &Serving, o: &ServeOptions, sample: &str) -> Result<(), ServeError> {
    let sample: numerics::SampleRef = sample.parse().map_err(|e| ServeError::Setup(format!("--replay {e}")))?;
    let chosen: Vec<_> = s.systems.iter().filter(|r| o.systems.is_empty() || o.systems.contains(&r.label())).collect();
    let [system] = chosen[..] else {
        let labels: Vec<String> = chosen.iter().map(|r| r.label()).collect();
        return Err(ServeError::Setup(format!(
            "--replay needs one system (--system NAME); candidates: {}",
            labels.join(", ")
        )));
    };
    let timing = run::pim_timing(s, &o.cache, o.seed)?;
    let gpu = run::gpu_backend(s)?;
    let (workload, engine, _) =
        run::load_points(s)?.into_iter().next().ok_or_else(|| ServeError::Setup("no load point".into()))?;
    let opts = numerics::ReplayOptions { sample, waves: o.waves, out: o.out.clone() };
    let ctx = run::Context { serving: s, gpu: gpu.as_ref(), timing: &timing, seed: o.seed, rtl: false };
    let r = numerics::replay(&ctx, *system, &workload, &engine, &opts).map_err(|e| ServeError::Setup(e.to_string()))?;
    print!("{}", r.describe());
    if !o.waves {
        println!("  (no waveforms: add --waves)");
    }
    if r.bit_exact && r.within_bound {
        Ok(())
    } else {
        Err(ServeError::Setup(format!(
            "replay of {}: the RTL and the golden chain disagree or leave the bound",
            system.label()
        )))
    }
}

/// Runs `pam serve`.
pub fn serve(s: &Serving, o: &ServeOptions) -> Result<Vec<SystemResult>, ServeError> {
    println!("{}", describe(s, o.seed));
    if let Some(sample) = &o.replay {
        replay(s, o, sample)?;
        return Ok(Vec::new());
    }
    let labels: Vec<String> = s.systems.iter().map(|r| r.label()).collect();
    if let Some(bad) = o.systems.iter().find(|x| !labels.contains(x)) {
        return Err(ServeError::Setup(format!("--system {bad}: not in the scenario; allowed: {}", labels.join(", "))));
    }
    std::fs::create_dir_all(&o.out).map_err(|source| ServeError::Write { path: o.out.clone(), source })?;
    let started = Instant::now();
    let timing = run::pim_timing(s, &o.cache, o.seed)?;
    println!(
        "PIM timing (calibrated from the RTL, cache {}): {:.1} s",
        o.cache.display(),
        started.elapsed().as_secs_f64()
    );
    print!("{}", timing.report());
    let gpu = run::gpu_backend(s)?;
    let ctx = run::Context { serving: s, gpu: gpu.as_ref(), timing: &timing, seed: o.seed, rtl: false };
    let mut results = Vec::new();
    for system in s.systems.iter().filter(|r| o.systems.is_empty() || o.systems.contains(&r.label())) {
        for (workload, engine, batch) in run::load_points(s)? {
            let t = Instant::now();
            let r = run::run_system(&ctx, *system, &workload, &engine, batch)?;
            write_one(&r, &o.out, s)?;
            println!(
                "  {:<22} {:>8} {:>7} requests, {:>8} iterations, {:>6.1} s simulated, {:>5.1} s host -> {}",
                r.label,
                batch.map_or(String::new(), |b| format!("batch {b}")),
                r.run.requests.len(),
                r.summary.engine.iterations,
                r.summary.engine.elapsed_s,
                t.elapsed().as_secs_f64(),
                o.out.join(r.dir_name()).display()
            );
            println!("  {:<22} {}", "", r.node.numerics.line());
            if let Some(limit) = r.kv_limit() {
                println!("  {:<22} {limit}", "");
            }
            results.push(r);
        }
        if o.peak {
            let base = &s.workload;
            let load = if s.batches.is_empty() { Load::Rate(base) } else { Load::Batch(base) };
            let what = if s.batches.is_empty() { "rate x" } else { "batch" };
            println!("  peak search for {} (p90 TPOT <= {:.0} ms):", system.label(), s.slo_tpot_s * 1e3);
            let p = peak::search(
                load,
                &s.engine,
                s.slo_tpot_s,
                |w, e| run::run_system(&ctx, *system, w, e, None),
                |p| {
                    println!(
                        "    {what} {:>9.3}: {:>9.1} tok/s, p90 TPOT {:>7.1} ms {}",
                        p.load,
                        p.tokens_per_s,
                        p.tpot_p90_s * 1e3,
                        if p.met { "meets" } else { "misses" }
                    )
                },
            )?;
            match p.best {
                Some(b) => println!("    peak: {:.1} tok/s at {what} {:.3}", b.tokens_per_s, b.load),
                None => println!("    peak: no load probed meets the SLO"),
            }
            if p.saturated {
                println!("    (the throughput stopped growing with the SLO still met: the workload's length, not the SLO, bounds this peak; give more requests)");
            }
        }
    }
    run::write_comparison(&results, &o.out)?;
    println!();
    print!("{}", run::table(&results));
    println!(
        "files: {0}/<system>/{{summary.json,requests.csv,iterations.csv,trace.json,plots/*.svg}}, {0}/comparison.{{csv,json}}, {0}/plots/*.svg",
        o.out.display()
    );
    Ok(results)
}

/// What `pam bench serve` measures.
pub struct ServeBench {
    /// The load point run.
    pub point: String,
    pub calibration_s: f64,
    pub host_s: f64,
    pub simulated_s: f64,
    pub iterations: u64,
    pub output_tokens: u64,
    pub prompt_tokens: u64,
    pub peak_positions: u64,
    pub peak_rss_mb: f64,
}

/// Peak resident memory of this process, MB (Linux `VmHWM`; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Serves `system` (a label of the section) at the section's largest load point, timed.
pub fn bench(s: &Serving, system: &str, seed: u64, cache: &Path) -> Result<ServeBench, ServeError> {
    let run_spec = s.systems.iter().find(|r| r.label() == system).ok_or_else(|| {
        let labels: Vec<String> = s.systems.iter().map(|r| r.label()).collect();
        ServeError::Setup(format!("--system {system}: not in the scenario; allowed: {}", labels.join(", ")))
    })?;
    let t = Instant::now();
    let timing = run::pim_timing(s, cache, seed)?;
    let calibration_s = t.elapsed().as_secs_f64();
    let gpu = run::gpu_backend(s)?;
    let (workload, engine, batch) =
        run::load_points(s)?.pop().ok_or_else(|| ServeError::Setup("no load point".into()))?;
    let t = Instant::now();
    let ctx = run::Context { serving: s, gpu: gpu.as_ref(), timing: &timing, seed, rtl: false };
    let r = run::run_system(&ctx, *run_spec, &workload, &engine, batch)?;
    let host_s = t.elapsed().as_secs_f64();
    let e = &r.summary.engine;
    Ok(ServeBench {
        point: format!(
            "{} requests{}, {} on {}",
            workload.len(),
            batch.map_or(String::new(), |b| format!(" (offline batch {b})")),
            s.model.name,
            s.node.gpu.name
        ),
        calibration_s,
        host_s,
        simulated_s: e.elapsed_s,
        iterations: e.iterations,
        output_tokens: e.output_tokens,
        prompt_tokens: e.prompt_tokens,
        peak_positions: r.node.tiers.values().map(|t| t.peak_positions).sum(),
        peak_rss_mb: peak_rss_mb(),
    })
}

/// One system of `pam serve --rtl-check`.
pub struct RtlCheck {
    pub system: String,
    /// Summed attention time of every tier (busy time of the busiest device, us), per tier:
    /// (tier, calibrated, RTL).
    pub tiers: Vec<(String, f64, f64)>,
    pub calibrated_us: f64,
    pub rtl_us: f64,
    /// The two runs made the same scheduling decisions: the same batches (every iteration's
    /// requests and tokens) and the same KV decisions (placements, selections, swaps).
    pub same_decisions: bool,
    pub rtl_runs: u64,
}

impl RtlCheck {
    pub fn ratio(&self) -> f64 {
        self.calibrated_us / self.rtl_us.max(1e-9)
    }
}

/// Tolerance of the fast path against the RTL on summed attention time.
pub const RTL_TOLERANCE: f64 = 0.02;

/// The summed `<tier>_attention` parts of a run, per tier.
fn attention_by_tier(r: &SystemResult) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for (name, us) in r.run.iterations.iter().flat_map(|i| i.extra.iter()) {
        if let Some(t) = name.strip_suffix("_attention") {
            match out.iter_mut().find(|(k, _)| k == t) {
                Some(e) => e.1 += us,
                None => out.push((t.to_string(), *us)),
            }
        }
    }
    out
}

/// Serves every PIM system of the section twice, on the calibrated model and with every tier's
/// RTL in the loop (the node's tiers must be Verilated presets), and compares.
pub fn rtl_check(s: &Serving, o: &ServeOptions) -> Result<Vec<RtlCheck>, ServeError> {
    println!("{}", describe(s, o.seed));
    if let Some(t) = s.node.tiers.iter().find(|t| !t.verilated) {
        return Err(ServeError::Setup(format!(
            "--rtl-check needs every tier Verilated; {} is not (use its scaled presets: {})",
            t.name(),
            crate::device::tier::TierPreset::verilated_names().join(", ")
        )));
    }
    let timing = run::pim_timing(s, &o.cache, o.seed)?;
    let gpu = run::gpu_backend(s)?;
    let mut out = Vec::new();
    for system in s.systems.iter().filter(|r| r.kind.pim() && (o.systems.is_empty() || o.systems.contains(&r.label())))
    {
        for (workload, engine, batch) in run::load_points(s)? {
            let run = |rtl| {
                let ctx = run::Context { serving: s, gpu: gpu.as_ref(), timing: &timing, seed: o.seed, rtl };
                run::run_system(&ctx, *system, &workload, &engine, batch)
            };
            let t = Instant::now();
            let fast = run(false)?;
            let fast_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let rtl = run(true)?;
            let rtl_s = t.elapsed().as_secs_f64();
            let shape = |r: &SystemResult| -> Vec<(u64, u32, u32, u64, u32)> {
                r.run
                    .iterations
                    .iter()
                    .map(|i| (i.iteration, i.stage, i.decode_seqs, i.prefill_tokens, i.running))
                    .collect()
            };
            let same = fast.node.decisions == rtl.node.decisions && shape(&fast) == shape(&rtl);
            let (a, b) = (attention_by_tier(&fast), attention_by_tier(&rtl));
            let tiers: Vec<(String, f64, f64)> =
                a.iter().map(|(k, v)| (k.clone(), *v, b.iter().find(|(l, _)| l == k).map_or(0.0, |x| x.1))).collect();
            let c = RtlCheck {
                system: fast.dir_name(),
                calibrated_us: tiers.iter().map(|t| t.1).sum(),
                rtl_us: tiers.iter().map(|t| t.2).sum(),
                tiers,
                same_decisions: same,
                rtl_runs: rtl.node.rtl_runs,
            };
            println!(
                "  {:<22} attention summed: calibrated {:>12.3} us, RTL {:>12.3} us, ratio {:.4} ({}); {} decisions; {} RTL runs; host {:.1} s vs {:.1} s",
                c.system,
                c.calibrated_us,
                c.rtl_us,
                c.ratio(),
                if (c.ratio() - 1.0).abs() <= RTL_TOLERANCE { "within 2%" } else { "OUTSIDE 2%" },
                if c.same_decisions { "same" } else { "DIFFERENT" },
                c.rtl_runs,
                fast_s,
                rtl_s
            );
            for (k, f, r) in &c.tiers {
                println!("      {k:<6} calibrated {f:>12.3} us, RTL {r:>12.3} us, ratio {:.4}", f / r.max(1e-9));
            }
            out.push(c);
        }
    }
    Ok(out)
}
