//! `pam serve`: what it prints and writes. Each system's files are written as soon as it has
//! run, so an error in a later system never loses an earlier one's results.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::numerics;
use super::peak::{self, Load};
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

fn write_one(r: &SystemResult, out: &Path) -> Result<(), ServeError> {
    let dir = out.join(r.dir_name());
    run::write_result(r, &dir)
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
    let r = numerics::replay(s, *system, &workload, &engine, gpu.as_ref(), &timing, o.seed, &opts)
        .map_err(|e| ServeError::Setup(e.to_string()))?;
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
    println!("PIM timing (calibrated from the RTL, cache {}): {:.1} s", o.cache.display(), started.elapsed().as_secs_f64());
    print!("{}", timing.report());
    let gpu = run::gpu_backend(s)?;
    let mut results = Vec::new();
    for system in s.systems.iter().filter(|r| o.systems.is_empty() || o.systems.contains(&r.label())) {
        for (workload, engine, batch) in run::load_points(s)? {
            let t = Instant::now();
            let r = run::run_system(s, *system, &workload, &engine, batch, gpu.as_ref(), &timing, o.seed)?;
            write_one(&r, &o.out)?;
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
                |w, e| run::run_system(s, *system, w, e, None, gpu.as_ref(), &timing, o.seed),
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
        }
    }
    run::write_comparison(&results, &o.out)?;
    println!();
    print!("{}", run::table(&results));
    println!("files: {}/<system>/{{summary.json,requests.csv,iterations.csv}}, {}/comparison.{{csv,json}}", o.out.display(), o.out.display());
    Ok(results)
}
