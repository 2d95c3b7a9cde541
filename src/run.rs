//! `pam run`: executes a scenario, prints a human summary and writes `summary.json`.
//!
//! The summary is written even when a problem fails or a unit hangs, so that the results
//! already produced are never lost; the exit status says whether everything matched.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::datapath::{self, Units};
use crate::device::check::{check as device_check, DeviceProblem};
use crate::device::memory::CommandCounts;
use crate::device::pim::RunBreakdown;
use crate::golden::reference::REL_BOUND;
use crate::problem::{case_seed, Problem};
use crate::scenario::{DatapathSpec, Scenario, SystemSpec, TierCheck};

pub struct RunOptions {
    pub seed: u64,
    pub out: PathBuf,
    pub waves: bool,
}

/// Totals of the datapath section.
#[derive(Debug, Default)]
pub struct DatapathTotals {
    pub checked: u64,
    pub mismatches: u64,
    pub failed_problems: Vec<serde_json::Value>,
    pub max_rel_err_f64: f64,
    pub max_lse_abs_err: f64,
    /// Problems whose output is outside the accuracy bound against float64.
    pub outside_bound: u64,
    pub pu_cycles: u64,
    pub ru_cycles: u64,
    pub tokens: u64,
    pub err_flags: u64,
    pub waves: Vec<PathBuf>,
}

impl DatapathTotals {
    pub fn ok(&self) -> bool {
        self.mismatches == 0 && self.failed_problems.is_empty() && self.outside_bound == 0
    }
}

fn traced_units(spec: &DatapathSpec, p: &Problem, out: &Path, index: u64) -> anyhow::Result<(Units, Vec<PathBuf>)> {
    let mut units = Units::new(spec.clock_mhz);
    let pu_path = out.join(format!("p{index:04}_pu{}.fst", p.pu_lanes));
    let ru_path = out.join(format!("p{index:04}_ru{}.fst", p.ru_lanes));
    units.pu(p.pu_lanes)?.model().trace_open(&pu_path)?;
    units.ru(p.ru_lanes)?.model().trace_open(&ru_path)?;
    Ok((units, vec![pu_path, ru_path]))
}

pub fn run_datapath(spec: &DatapathSpec, opts: &RunOptions) -> DatapathTotals {
    let mut t = DatapathTotals::default();
    let mut units = Units::new(spec.clock_mhz);
    for i in 0..spec.problems {
        let seed = case_seed(opts.seed, i);
        let p = Problem::generate(&spec.space, seed);
        let mut traced = None;
        if opts.waves && i < spec.waves {
            match traced_units(spec, &p, &opts.out, i) {
                Ok((u, files)) => {
                    t.waves.extend(files);
                    traced = Some(u);
                }
                Err(e) => eprintln!("warning: no waveform for problem {i}: {e:#}"),
            }
        }
        // A traced problem runs on its own units so that its dump holds just that problem.
        let result = datapath::check(&p, traced.as_mut().unwrap_or(&mut units));
        drop(traced);
        t.checked += 1;
        t.tokens += p.tokens() as u64;
        match result {
            Ok(o) => {
                t.pu_cycles += o.pu_cycles;
                t.ru_cycles += o.ru_cycles;
                t.err_flags += o.err_flag as u64;
                if let Some(e) = o.rel_err_f64.filter(|_| !o.err_flag) {
                    t.max_rel_err_f64 = t.max_rel_err_f64.max(e);
                }
                if !o.err_flag && !o.within_bound {
                    t.outside_bound += 1;
                    println!(
                        "FAIL problem {i} seed={seed:#x} {}: outside the accuracy bound against float64",
                        p.label()
                    );
                }
                if let Some(e) = o.lse_abs_err.filter(|_| !o.err_flag) {
                    t.max_lse_abs_err = t.max_lse_abs_err.max(e);
                }
                if !o.mismatches.is_empty() {
                    t.mismatches += o.mismatches.len() as u64;
                    println!("FAIL problem {i} seed={seed:#x} {}: {}", p.label(), o.mismatches[0]);
                    t.failed_problems.push(json!({"index": i, "seed": format!("{seed:#x}"), "label": p.label(), "mismatches": o.mismatches}));
                }
            }
            Err(e) => {
                println!("FAIL problem {i} seed={seed:#x} {}: simulation error: {e}", p.label());
                t.failed_problems.push(
                    json!({"index": i, "seed": format!("{seed:#x}"), "label": p.label(), "error": e.to_string()}),
                );
                units = Units::new(spec.clock_mhz);
            }
        }
    }
    t
}

/// Totals of one tier's device.
#[derive(Debug, Default, serde::Serialize)]
pub struct TierTotals {
    pub preset: String,
    pub problems: u64,
    pub tokens_attended: u64,
    pub cycles: u64,
    pub ns: f64,
    pub breakdown: RunBreakdown,
    pub bank_commands: CommandCounts,
    pub timing_violations: u64,
    pub mismatches: u64,
    pub failed_problems: Vec<serde_json::Value>,
    pub max_rel_err_f64: f64,
    pub waves: Vec<String>,
}

pub fn run_tier(index: usize, spec: &TierCheck, opts: &RunOptions) -> TierTotals {
    let mut t = TierTotals { preset: spec.preset.name().to_string(), ..Default::default() };
    let mut dev = match spec.preset.open(Some(spec.gap)) {
        Ok(d) => d,
        Err(e) => {
            t.failed_problems.push(json!({"error": e.to_string()}));
            return t;
        }
    };
    for i in 0..spec.problems {
        // Each tier draws from its own stream of the run seed.
        let seed = case_seed(opts.seed ^ (0x7153_0000 + index as u64), i);
        let label = format!("tier {} problem {i} seed={seed:#x}", spec.preset.name());
        let p = match DeviceProblem::generate(&spec.preset, seed, &spec.head_dims, spec.tokens) {
            Ok(p) => p,
            Err(e) => {
                println!("FAIL {label}: {e}");
                t.failed_problems.push(json!({"index": i, "seed": format!("{seed:#x}"), "error": e.to_string()}));
                continue;
            }
        };
        if opts.waves && i == 0 {
            // The memory side, and the first PU and first-level RU beside it (models of their own).
            match dev.trace_open(&opts.out, &format!("tier{index}_{}_p0000", spec.preset.name())) {
                Ok(files) => t.waves.extend(files.iter().map(|f| f.display().to_string())),
                Err(e) => eprintln!("warning: no waveform for {label}: {e}"),
            }
        }
        let r = device_check(&mut dev, &p, false);
        dev.close_traces();
        t.problems += 1;
        match r {
            Ok(o) => {
                t.tokens_attended += p.selected.len() as u64;
                t.cycles += o.cycles;
                t.ns += o.ns;
                t.breakdown.stream += o.breakdown.stream;
                t.breakdown.pu_drain += o.breakdown.pu_drain;
                t.breakdown.ru_first_level += o.breakdown.ru_first_level;
                t.breakdown.ru_device += o.breakdown.ru_device;
                t.breakdown.ru_span += o.breakdown.ru_span;
                let c = &o.commands;
                let b = &mut t.bank_commands;
                (b.act, b.rd, b.wr, b.pre, b.refresh) =
                    (b.act + c.act, b.rd + c.rd, b.wr + c.wr, b.pre + c.pre, b.refresh + c.refresh);
                t.timing_violations += o.rtl_violations + o.rust_violations as u64;
                t.max_rel_err_f64 = t.max_rel_err_f64.max(o.rel_err_f64.unwrap_or(0.0));
                if !o.mismatches.is_empty() {
                    println!("FAIL {label} {}: {}", p.label(), o.mismatches[0]);
                    t.mismatches += o.mismatches.len() as u64;
                    t.failed_problems.push(json!({"index": i, "seed": format!("{seed:#x}"), "label": p.label(), "mismatches": o.mismatches}));
                }
            }
            Err(e) => {
                println!("FAIL {label}: simulation error: {e}");
                t.failed_problems.push(json!({"index": i, "seed": format!("{seed:#x}"), "error": e.to_string()}));
            }
        }
    }
    t
}

/// Decode steps of the `system` section; fills the summary; returns whether all matched.
pub fn run_system(spec: &SystemSpec, opts: &RunOptions, summary: &mut serde_json::Value) -> anyhow::Result<bool> {
    use crate::sched::{LPim, Lru, NoSchedule, Policy, Scheduler, SchedulerConfig, Target};
    use crate::system::decode::{DecodeConfig, PamSystem};

    let policy: Box<dyn Policy> = match spec.policy.as_str() {
        "pam" => Box::new(Scheduler::new(SchedulerConfig::new(Target::from_weights(spec.target.clone())?))),
        "none" => Box::new(NoSchedule),
        "lpim" => Box::new(LPim),
        _ => Box::new(Lru::new()),
    };
    let cfg = DecodeConfig {
        model: spec.model,
        contexts: spec.contexts.clone(),
        steps: spec.steps,
        scores: spec.scores,
        drift: spec.drift,
        fraction: spec.fraction,
        tiers: spec.tiers.clone(),
        merge_tier: spec.merge_tier,
        migration: spec.migration,
        seed: opts.seed,
    };
    let started = std::time::Instant::now();
    let mut sys = PamSystem::new(cfg, policy)?;
    // The second step: the first one also rebalances the prompts' placement.
    let traced = spec.steps.min(2) - 1;
    if opts.waves {
        sys.trace_step(traced);
    }
    // A step that fails ends the run; the steps before it are reported all the same.
    let mut out = crate::system::decode::DecodeOutcome::default();
    let stopped = sys.run_into(&mut out).err().map(|e| format!("stopped: {e}"));
    // What is stored must be what the host wrote, wherever the run moved it.
    let storage = if stopped.is_none() { sys.verify_storage().err() } else { None };
    let mut waves = Vec::new();
    if let Some(trace) = sys.take_trace() {
        let path = opts.out.join(format!("system_step{traced:04}.vcd"));
        match trace.write(&path) {
            Ok(view) => waves.push((path.display().to_string(), view.display().to_string())),
            Err(e) => eprintln!("warning: cannot write {}: {e}", path.display()),
        }
    }
    let tier_count = spec.tiers.len();
    let busy: Vec<f64> = (0..tier_count).map(|t| out.steps.iter().map(|s| s.attention_ns[t]).sum()).collect();
    let total: f64 = out.steps.iter().map(|s| s.latency_ns).sum();
    let last = out.steps.last().cloned().unwrap_or_else(|| crate::system::decode::StepStats::new(tier_count));
    let names = crate::system::pamattention::tier_keys(&spec.tiers);
    let ratio = |v: &[f64]| v.iter().map(|x| format!("{x}")).collect::<Vec<_>>().join(" : ");
    println!(
        "  system: {} decode steps, {} queries, {} scores, policy {}, target {}, {} mismatches, max relative error vs float64 {:.3e} ({:.1} s)",
        out.steps.len(), out.queries, spec.scores.name(), spec.policy, ratio(&spec.target), out.mismatches.len(), out.max_rel_err_f64, started.elapsed().as_secs_f64()
    );
    let per_device = &out.tokens_per_device;
    let calibrations: Vec<_> = sys.tiers().tiers.iter().map(|t| t.calibration.clone()).collect();
    for (t, name) in names.iter().enumerate() {
        println!(
            "    {name} ({}): {} tokens {:?} on {} {} device(s), busy {:.1} us, utilisation {:.3}",
            spec.tiers[t].preset.name(),
            last.tokens[t],
            per_device[t],
            per_device[t].len(),
            spec.tiers[t].model.name(),
            busy[t] / 1e3,
            busy[t] / total.max(1e-9)
        );
        if let Some(c) = &calibrations[t] {
            println!(
                "      calibrated on {} RTL runs of {}: held-out runs off by {:.1}% on average, their sum by {:.1}%",
                crate::device::calibrated::FIT_RUNS,
                c.preset,
                100.0 * c.mean_rel_err,
                100.0 * c.total_rel_err
            );
        }
    }
    if !out.steps.is_empty() {
        let n = out.steps.len() as f64;
        let mean =
            |f: &dyn Fn(&crate::system::decode::StepStats) -> f64| out.steps.iter().map(f).sum::<f64>() / n / 1e3;
        let per_tier = |f: &dyn Fn(&crate::system::decode::StepStats, usize) -> f64| {
            (0..tier_count).map(|t| format!("{} {:.1}", names[t], mean(&|s| f(s, t)))).collect::<Vec<_>>().join(", ")
        };
        println!(
            "    mean step {:.1} us: attention {:.1} us (in us, local per tier: {}; of which in-device reductions: {}; links: {}; final merges {:.1}), migration {:.1} us overlapping it",
            mean(&|s| s.latency_ns),
            mean(&|s| s.attention_total_ns),
            per_tier(&|s, t| s.attention_ns[t]),
            per_tier(&|s, t| s.reduce_ns[t]),
            per_tier(&|s, t| s.link_ns[t]),
            mean(&|s| s.merge_ns),
            mean(&|s| s.migration_ns)
        );
    }
    let moved: Vec<usize> = out.steps.iter().map(|s| s.tokens_migrated).collect();
    let mig_ns: f64 = out.steps.iter().map(|s| s.migration_ns).sum();
    println!(
        "    tokens migrated per step: {moved:?} ({} in all through the {} path, {:.1} us)",
        moved.iter().sum::<usize>(),
        spec.migration.name(),
        mig_ns / 1e3
    );
    if let Some(sp) = out.splits.last() {
        let shares = |v: &[f64]| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(" : ");
        let sum: f64 = spec.target.iter().sum();
        let target: Vec<f64> = spec.target.iter().map(|w| w / sum).collect();
        println!("    importance split at the end: {} (target {})", shares(sp), shares(&target));
    }
    for m in out.mismatches.iter().take(5) {
        println!("FAIL system: {m}");
    }
    if let Some(e) = &stopped {
        println!("FAIL system: {e}");
    }
    match &storage {
        Some(e) => println!("FAIL system: storage: {e}"),
        None if stopped.is_none() => println!(
            "    storage: every token at one place, its K and V read back from its device equal to the host's copy, every tier within its capacity"
        ),
        None => {}
    }
    for (vcd, view) in &waves {
        println!("    waves:  gtkwave {vcd} {view}");
    }
    let tiers: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .enumerate()
        .map(|(t, n)| {
            (
                n.to_string(),
                json!({
                    "tokens": last.tokens[t],
                    "tokens_per_device": per_device[t],
                    "preset": spec.tiers[t].preset.name(),
                    "device_model": spec.tiers[t].model,
                    "calibration": calibrations[t].as_deref(),
                    "busy_ns": busy[t],
                    "utilisation": busy[t] / total.max(1e-9),
                }),
            )
        })
        .collect();
    summary["decode_steps"] = json!(out.steps.len());
    summary["mismatches"] = json!(summary["mismatches"].as_u64().unwrap_or(0) + out.mismatches.len() as u64);
    summary["max_rel_err_f64"] = json!(summary["max_rel_err_f64"].as_f64().unwrap_or(0.0).max(out.max_rel_err_f64));
    summary["system"] = json!({
        "policy": spec.policy,
        "migration": spec.migration,
        "scores": spec.scores,
        "target": spec.target,
        "merge_tier": spec.merge_tier,
        "queries": out.queries,
        "tiers": tiers,
        "tokens_migrated": moved,
        "importance_split": out.splits,
        "steps": out.steps,
        "mismatches": out.mismatches,
        "waves": waves.iter().map(|w| &w.0).collect::<Vec<_>>(),
        "storage_error": storage,
        "error": stopped,
    });
    Ok(out.mismatches.is_empty() && stopped.is_none() && storage.is_none())
}

/// Whether `dump` is a tier device's memory side (`tier<i>_<preset>_p0000.fst`), whose view
/// is generated from its preset next to it rather than shipped.
fn is_device_dump(dump: &Path) -> bool {
    dump.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("_p0000.fst"))
}

/// The GTKWave view of a dump: a tier device's memory side has its generated view beside it
/// ([`crate::device::view`]); PU and RU dumps open with the shipped views of waveforms/ (by the
/// unit and width in the name).
pub fn view_for(dump: &Path) -> String {
    if is_device_dump(dump) {
        return crate::device::view::view_path(dump).display().to_string();
    }
    let name = dump.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match name.rsplit('_').next() {
        Some("pu4.fst") => "waveforms/pu4.gtkw",
        Some("ru16.fst") => "waveforms/ru.gtkw",
        Some("pu16.fst") => "waveforms/pu.gtkw",
        Some("ru4.fst") => "waveforms/ru4.gtkw",
        _ => "waveforms/pu.gtkw",
    }
    .to_string()
}

/// Runs every section of `sc`; returns whether everything matched.
pub fn run(sc: &Scenario, opts: &RunOptions) -> anyhow::Result<bool> {
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| anyhow::anyhow!("cannot create output directory {}: {e}", opts.out.display()))?;
    println!(
        "pam run {} (scenario '{}', seed {}; replay with --seed {})",
        sc.file.display(),
        sc.name,
        opts.seed,
        opts.seed
    );
    let mut summary = json!({
        "scenario": sc.name,
        "file": sc.file.display().to_string(),
        "seed": opts.seed,
        "verilator": crate::rtl::VERILATOR_VERSION,
    });
    let mut ok = true;
    if let Some(spec) = &sc.datapath {
        let t = run_datapath(spec, opts);
        let cycles = t.pu_cycles + t.ru_cycles;
        println!(
            "  datapath: {} problems ({} tokens), {} mismatches between RTL and bit-accurate model",
            t.checked, t.tokens, t.mismatches
        );
        println!("  accuracy: max normwise relative error vs float64 {:.3e} (bound {REL_BOUND:e} plus cancellation allowance; {} outside), max |lse error| {:.3e}", t.max_rel_err_f64, t.outside_bound, t.max_lse_abs_err);
        println!(
            "  cycles:   PU {} + RU {} = {cycles} ({:.3} ms at {} MHz)",
            t.pu_cycles,
            t.ru_cycles,
            cycles as f64 / spec.clock_mhz / 1e3,
            spec.clock_mhz
        );
        if t.err_flags > 0 {
            println!("  error flags raised: {} problems (NaN/infinity inputs)", t.err_flags);
        }
        for w in &t.waves {
            println!("  waves:    gtkwave {} {}", w.display(), view_for(w));
        }
        summary["checked"] = json!(t.checked);
        summary["mismatches"] = json!(t.mismatches);
        summary["max_rel_err_f64"] = json!(t.max_rel_err_f64);
        summary["cycles"] = json!(cycles);
        summary["datapath"] = json!({
            "checked": t.checked,
            "tokens": t.tokens,
            "mismatches": t.mismatches,
            "failed_problems": t.failed_problems,
            "max_rel_err_f64": t.max_rel_err_f64,
            "max_lse_abs_err": t.max_lse_abs_err,
            "rel_err_bound": REL_BOUND,
            "outside_bound": t.outside_bound,
            "pu_cycles": t.pu_cycles,
            "ru_cycles": t.ru_cycles,
            "clock_mhz": spec.clock_mhz,
            "error_flags": t.err_flags,
            "waves": t.waves.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        ok &= t.ok();
    }
    if !sc.tiers.is_empty() {
        let mut tiers = serde_json::Map::new();
        for (i, spec) in sc.tiers.iter().enumerate() {
            let t = run_tier(i, spec, opts);
            println!(
                "  tier {}: {} problems, {} tokens attended, {} cycles = {:.1} ns of local attention, commands {:?}, {} timing violations, {} mismatches",
                t.preset, t.problems, t.tokens_attended, t.cycles, t.ns, t.bank_commands, t.timing_violations, t.mismatches
            );
            for w in t.waves.iter().map(Path::new) {
                if is_device_dump(w) {
                    if let Err(e) = crate::device::view::write_device_view(&spec.preset, w) {
                        eprintln!("warning: no view for {}: {e}", w.display());
                    }
                }
                println!("  waves:    gtkwave {} {}", w.display(), view_for(w));
            }
            ok &= t.mismatches == 0
                && t.timing_violations == 0
                && t.failed_problems.is_empty()
                && t.problems == spec.problems;
            let key = if tiers.contains_key(&t.preset) { format!("{}#{i}", t.preset) } else { t.preset.clone() };
            tiers.insert(key, serde_json::to_value(&t)?);
        }
        summary["tiers"] = serde_json::Value::Object(tiers);
    }
    // A system that cannot start is an error, but the sections before it keep their results.
    let mut failed = None;
    if let Some(spec) = &sc.system {
        match run_system(spec, opts, &mut summary) {
            Ok(passed) => ok &= passed,
            Err(e) => {
                summary["system"] = json!({ "error": format!("{e:#}") });
                failed = Some(e);
                ok = false;
            }
        }
    }
    summary["passed"] = json!(ok);
    let path = opts.out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n")
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    println!("  summary:  {}", path.display());
    if let Some(e) = failed {
        return Err(e.context(format!("the system section did not run (summary so far: {})", path.display())));
    }
    println!("{}", if ok { "PASS" } else { "FAIL" });
    Ok(ok)
}
