//! `pam serve`: every system of a serving scenario on its node(s), at each offline batch size,
//! with its files and the side-by-side table (SERVING-SPEC §11).
//!
//! A serving iteration reads top to bottom in [`crate::serve::engine`]'s loop: the scheduler
//! picks the step, the GPU backend times its dense work per stage, the system's
//! [`ServingNode`] applies it to the KV manager and times attention in the tiers (or the
//! offload transfers), and the stage's duration is the GPU time plus what that adds.
//!
//! Several nodes behind a router run independently (a node never waits for another); the
//! router splits the workload before the run, keeping an agentic session on one node.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::engine::{simulate_node, EngineConfig, EngineError, KvPool, RequestRecord, RunResult, Summary};
use super::gpu::{GpuTime, NetworkTable, Roofline, VidurTable};
use super::numerics::Sampler;
use super::pim::PimTiming;
use super::report::{trace_from_run, write_plots, PlotOptions, ReportError, TierUtilisation, Window};
use super::scenario::{GpuTimeSource, Router, Serving, SystemRun};
use super::system::{NodeReport, ServingNode};
use super::workload::{ArrivalProcess, Request, SessionLink, Workload};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{system}: {source}")]
    Engine { system: String, source: EngineError },
    #[error("{0}")]
    Setup(String),
    #[error("{path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// What one run of one system gave.
#[derive(Clone, Debug)]
pub struct SystemResult {
    pub label: String,
    /// The offline batch size of this run, if any.
    pub batch: Option<u32>,
    pub run: RunResult,
    pub node: NodeReport,
    pub summary: ServeSummary,
}

/// A run's figures: the engine's, the SLO's, the node's.
#[derive(Clone, Debug, Serialize)]
pub struct ServeSummary {
    pub system: String,
    pub batch: Option<u32>,
    pub seed: u64,
    pub slo_tpot_s: f64,
    /// Finished requests whose TPOT met the SLO (single-token outputs meet it).
    pub slo_attainment: f64,
    /// Output tokens per second of the requests that met the SLO.
    pub goodput_tokens_per_s: f64,
    pub joules_per_output_token: f64,
    /// Joules per output token by component.
    pub joules_per_token_by_component: Vec<(String, f64)>,
    pub engine: Summary,
    pub node: NodeReport,
}

impl SystemResult {
    /// The run's directory name under the output directory.
    pub fn dir_name(&self) -> String {
        match self.batch {
            Some(b) => format!("{}/batch-{b}", self.label),
            None => self.label.clone(),
        }
    }

    /// Most requests running at once.
    pub fn max_running(&self) -> u32 {
        self.run.iterations.iter().map(|i| i.running).max().unwrap_or(0)
    }

    /// The KV pool was (nearly) full while requests waited: the node could not hold the load.
    pub fn kv_full(&self) -> bool {
        let full = 0.98 * self.run.num_blocks as f64;
        self.run.iterations.iter().any(|i| i.waiting > 0 && i.kv_blocks_used as f64 >= full)
    }

    /// What the node could not hold, when it could not: how many requests its KV pool held at
    /// once, and how many of those it preempted (a system whose KV must fit one tier, AttAcc,
    /// serves a large batch this way instead of failing).
    pub fn kv_limit(&self) -> Option<String> {
        let preempted = self.summary.engine.preemptions;
        if !self.kv_full() && preempted == 0 {
            return None;
        }
        Some(format!(
            "KV pool full ({} blocks of {} positions): at most {} of {} requests held at once, the others waited; {preempted} preemptions by recompute",
            self.run.num_blocks,
            self.run.config.block_size,
            self.max_running(),
            self.run.requests.len()
        ))
    }
}

/// The GPU time backend of a serving section.
pub fn gpu_backend(s: &Serving) -> Result<Box<dyn GpuTime>, ServeError> {
    Ok(match &s.gpu_time {
        GpuTimeSource::Roofline => Box::new(Roofline::new(&s.node.gpu)),
        GpuTimeSource::Vidur(dir) => {
            let table =
                VidurTable::load(dir.join("mlp.csv"), &s.node.gpu).map_err(|e| ServeError::Setup(e.to_string()))?;
            // Vidur's layout: compute/<gpu>/<model>/mlp.csv beside network/<node>/.
            let net = dir.ancestors().nth(4).map(|root| root.join("network/h100_dgx"));
            match net.filter(|n| n.join("all_reduce.csv").is_file()) {
                Some(n) => Box::new(
                    table.with_network(
                        NetworkTable::load_vidur(n.join("all_reduce.csv"), n.join("send_recv.csv"))
                            .map_err(|e| ServeError::Setup(e.to_string()))?,
                    ),
                ),
                None => Box::new(table),
            }
        }
    })
}

/// The calibrated PIM timing of a section's tiers (from the cache when it has them).
pub fn pim_timing(s: &Serving, cache: &Path, seed: u64) -> Result<PimTiming, ServeError> {
    let names: Vec<&str> = s.node.tiers.iter().map(|t| t.name()).collect();
    PimTiming::load_or_calibrate(&names, s.model.head_dim as usize, cache, seed)
        .map_err(|e| ServeError::Setup(e.to_string()))
}

/// The workload of each node: requests in order, sessions kept together, ids renumbered per
/// node (with the original id alongside).
pub fn route(workload: &Workload, nodes: usize, router: Router) -> Result<Vec<(Workload, Vec<u64>)>, ServeError> {
    let requests = workload.requests();
    let mut node_of = vec![0usize; requests.len()];
    let mut load = vec![0u64; nodes];
    let mut next = 0;
    for r in requests {
        let n = match r.after() {
            // A session's later turn follows its first one.
            Some(a) => node_of[a.request as usize],
            None => match router {
                Router::RoundRobin => {
                    next += 1;
                    (next - 1) % nodes
                }
                Router::LeastLoaded => (0..nodes).min_by_key(|&i| (load[i], i)).unwrap_or(0),
            },
        };
        node_of[r.id as usize] = n;
        load[n] += u64::from(r.prompt_tokens) + u64::from(r.output_tokens);
    }
    let mut out = Vec::new();
    for n in 0..nodes {
        let ids: Vec<u64> = requests.iter().filter(|r| node_of[r.id as usize] == n).map(|r| r.id).collect();
        let mut local = vec![u64::MAX; requests.len()];
        for (i, &id) in ids.iter().enumerate() {
            local[id as usize] = i as u64;
        }
        let reqs: Vec<Request> = ids
            .iter()
            .map(|&id| {
                let r = &requests[id as usize];
                let mut c = *r;
                c.id = local[id as usize];
                c.session = r.session.map(|s| SessionLink {
                    after: s.after.map(|mut a| {
                        a.request = local[a.request as usize];
                        a
                    }),
                    ..s
                });
                c
            })
            .collect();
        if !reqs.is_empty() {
            out.push((Workload::new(reqs).map_err(|e| ServeError::Setup(e.to_string()))?, ids));
        }
    }
    Ok(out)
}

/// What every run of a section shares: the section, the GPU backend, the PIM timing, the
/// seed, and whether every tier's RTL is in the loop.
pub struct Context<'a> {
    pub serving: &'a Serving,
    pub gpu: &'a dyn GpuTime,
    pub timing: &'a PimTiming,
    pub seed: u64,
    /// Time device loads on the Verilated devices (scaled presets only) instead of the
    /// calibrated model.
    pub rtl: bool,
}

/// Node `instance` of `system` as every run builds it: its seed derived from the run's, its
/// numerics sampler (`sampler` may adjust it), and `engine` with the KV pool sized to its tiers.
pub fn build_node<'a>(
    s: &Serving,
    system: SystemRun,
    timing: &'a PimTiming,
    engine: &EngineConfig,
    seed: u64,
    instance: usize,
    sampler: impl FnOnce(Sampler) -> Sampler,
) -> Result<(ServingNode<'a>, EngineConfig), String> {
    let node_seed = seed ^ (instance as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let node = ServingNode::new(
        system.kind,
        system.sparse,
        &s.node,
        &s.model,
        timing,
        s.locality,
        &s.energy,
        s.swap_budget,
        node_seed,
    )?
    .with_numerics(sampler(Sampler::new(s.numerics, node_seed, instance as u32)));
    let blocks = (node.capacity_positions() / u64::from(engine.block_size)).max(1);
    let cfg = EngineConfig { kv_pool: KvPool::Blocks { blocks }, ..engine.clone() };
    Ok((node, cfg))
}

/// Runs one system on `workload` (one node or several behind the router) with `engine`.
pub fn run_system(
    ctx: &Context<'_>,
    system: SystemRun,
    workload: &Workload,
    engine: &EngineConfig,
    batch: Option<u32>,
) -> Result<SystemResult, ServeError> {
    let (s, gpu, timing, seed) = (ctx.serving, ctx.gpu, ctx.timing, ctx.seed);
    let label = system.label();
    let fail = |e: String| ServeError::Setup(format!("{label}: {e}"));
    let mut requests: Vec<RequestRecord> = Vec::new();
    let mut iterations = Vec::new();
    let mut node_report: Option<NodeReport> = None;
    let mut result: Option<RunResult> = None;
    let shards = route(workload, s.nodes, s.router)?;
    for (instance, (local, ids)) in shards.iter().enumerate() {
        let (mut node, cfg) = build_node(s, system, timing, engine, seed, instance, |x| x).map_err(&fail)?;
        if ctx.rtl {
            node = node.with_rtl(seed).map_err(&fail)?;
        }
        let blocks = cfg.num_blocks(&s.model).map_err(|e| fail(e.to_string()))?;
        let run = simulate_node(&cfg, blocks, &s.model, gpu, &mut node, local, &mut ())
            .map_err(|source| ServeError::Engine { system: label.clone(), source })?;
        let elapsed = run.summary().elapsed_s;
        let report = node.report(elapsed);
        node_report = Some(match node_report {
            None => report,
            Some(mut acc) => {
                merge_reports(&mut acc, instance, &report);
                acc
            }
        });
        requests.extend(run.requests.iter().cloned().map(|mut r| {
            r.instance = instance as u32;
            r.id = ids[r.id as usize];
            r
        }));
        iterations.extend(run.iterations.iter().cloned());
        result.get_or_insert(run);
    }
    let mut run = result.ok_or_else(|| fail("the workload has no request".into()))?;
    requests.sort_by_key(|r| r.id);
    run.requests = requests;
    if shards.len() > 1 {
        run.iterations = iterations;
    }
    run.backend = format!("{} + {}", gpu.name(), label);
    let node = node_report.unwrap_or_default();
    let summary = summarise(&run, &node, &label, batch, s.slo_tpot_s, seed);
    Ok(SystemResult { label, batch, run, node, summary })
}

/// Adds node report `r` to `acc`, the merge of the `merged` nodes before it: totals add up,
/// per-step figures and utilisations are the mean over the nodes.
fn merge_reports(acc: &mut NodeReport, merged: usize, r: &NodeReport) {
    let n = merged as f64;
    let mean = |a: &mut f64, x: f64| *a = (*a * n + x) / (n + 1.0);
    acc.decode_steps += r.decode_steps;
    acc.migrated_positions += r.migrated_positions;
    mean(&mut acc.migrated_per_step, r.migrated_per_step);
    mean(&mut acc.migrated_fraction_per_step, r.migrated_fraction_per_step);
    acc.rtl_runs += r.rtl_runs;
    for (k, t) in &r.tiers {
        if let Some(a) = acc.tiers.get_mut(k) {
            mean(&mut a.utilisation, t.utilisation);
            mean(&mut a.attended_per_step, t.attended_per_step);
            mean(&mut a.importance_share, t.importance_share);
            a.pim_bytes += t.pim_bytes;
            a.peak_positions = a.peak_positions.max(t.peak_positions);
        }
    }
    acc.energy.gpu_j += r.energy.gpu_j;
    for (k, j) in &r.energy.pim_j {
        *acc.energy.pim_j.entry(k.clone()).or_default() += j;
    }
    acc.energy.migration_j += r.energy.migration_j;
    acc.energy.offload_j += r.energy.offload_j;
    acc.energy.links_j += r.energy.links_j;
    acc.energy.static_j += r.energy.static_j;
    acc.numerics.merge(&r.numerics);
}

fn summarise(run: &RunResult, node: &NodeReport, label: &str, batch: Option<u32>, slo: f64, seed: u64) -> ServeSummary {
    let engine = run.summary();
    let done: Vec<&RequestRecord> = run.requests.iter().filter(|r| r.finished()).collect();
    let met: Vec<&&RequestRecord> = done.iter().filter(|r| r.tpot_ns().is_none_or(|t| t / 1e9 <= slo)).collect();
    let tokens = engine.output_tokens.max(1) as f64;
    let good: u64 = met.iter().map(|r| u64::from(r.output_tokens)).sum();
    ServeSummary {
        system: label.into(),
        batch,
        seed,
        slo_tpot_s: slo,
        slo_attainment: if done.is_empty() { 0.0 } else { met.len() as f64 / done.len() as f64 },
        goodput_tokens_per_s: if engine.elapsed_s > 0.0 { good as f64 / engine.elapsed_s } else { 0.0 },
        joules_per_output_token: node.energy.total_j() / tokens,
        joules_per_token_by_component: node.energy.components().into_iter().map(|(k, j)| (k, j / tokens)).collect(),
        engine,
        node: node.clone(),
    }
}

/// Every system of the section (optionally only `only`), at every offline batch size.
pub fn serve_all(
    s: &Serving,
    only: &[String],
    seed: u64,
    cache: &Path,
    mut each: impl FnMut(&SystemResult) -> Result<(), ServeError>,
) -> Result<Vec<SystemResult>, ServeError> {
    let gpu = gpu_backend(s)?;
    let timing = pim_timing(s, cache, seed)?;
    let ctx = Context { serving: s, gpu: gpu.as_ref(), timing: &timing, seed, rtl: false };
    let mut out = Vec::new();
    for system in s.systems.iter().filter(|r| only.is_empty() || only.contains(&r.label())) {
        for (workload, engine, batch) in load_points(s)? {
            let r = run_system(&ctx, *system, &workload, &engine, batch)?;
            each(&r)?;
            out.push(r);
        }
    }
    Ok(out)
}

/// The load points of a section: the workload as given, or one offline batch per size (the
/// first `batch` requests at t = 0, `batch` running at most).
pub fn load_points(s: &Serving) -> Result<Vec<(Workload, EngineConfig, Option<u32>)>, ServeError> {
    if s.batches.is_empty() {
        return Ok(vec![(s.workload.clone(), s.engine.clone(), None)]);
    }
    s.batches
        .iter()
        .map(|&b| {
            let w = s
                .workload
                .clone()
                .limit(b as usize)
                .with_arrivals(&ArrivalProcess::Offline, 0)
                .map_err(|e| ServeError::Setup(e.to_string()))?;
            let engine = EngineConfig { max_num_seqs: b, ..s.engine.clone() };
            Ok((w, engine, Some(b)))
        })
        .collect()
}

/// Each tier's busy fraction per iteration of the first stage: (start s, attention / duration).
pub fn tier_utilisation(r: &SystemResult) -> Vec<TierUtilisation> {
    let mut out: Vec<TierUtilisation> = Vec::new();
    for i in r.run.iterations.iter().filter(|i| i.stage == 0 && i.duration_ns > 0) {
        for (name, us) in &i.extra {
            let Some(tier) = name.strip_suffix("_attention") else { continue };
            let name = format!("{} {tier}", r.label);
            let point = (i.start_ns as f64 / 1e9, (us * 1e3 / i.duration_ns as f64).min(1.0));
            match out.iter_mut().find(|t| t.name == name) {
                Some(t) => t.points.push(point),
                None => out.push(TierUtilisation { name, points: vec![point] }),
            }
        }
    }
    out
}

/// Writes a run's files into `dir`: `requests.csv`, `iterations.csv`, `summary.json`, the
/// Perfetto trace of `window` (`trace.json`) and its plots (`plots/`).
pub fn write_result(r: &SystemResult, dir: &Path, window: &Window) -> Result<(), ServeError> {
    r.run.write_dir(dir).map_err(|e| ServeError::Setup(e.to_string()))?;
    let report = |e: ReportError| ServeError::Setup(format!("{}: {e}", r.label));
    trace_from_run(&r.run, window).map_err(report)?.write_file(&dir.join("trace.json")).map_err(report)?;
    write_plots(&[(&r.label, &r.run)], &tier_utilisation(r), &dir.join("plots"), &PlotOptions::default())
        .map_err(report)?;
    let path = dir.join("summary.json");
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "model": r.run.model,
        "backend": r.run.backend,
        "config": r.run.config,
        "num_blocks": r.run.num_blocks,
        "serving": r.summary,
    }))
    .map_err(|e| ServeError::Setup(e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(|source| ServeError::Write { path, source })
}

/// The side-by-side table of every result.
pub fn table(results: &[SystemResult]) -> String {
    let mut tiers: Vec<String> = Vec::new();
    for r in results {
        for k in r.node.tiers.keys() {
            if !tiers.contains(k) {
                tiers.push(k.clone());
            }
        }
    }
    let mut s = String::new();
    let util: Vec<String> = tiers.iter().map(|k| format!("{k:>6}")).collect();
    let _ = writeln!(
        s,
        "{:<22} {:>6} {:>9} {:>8} {:>8} {:>8}  {:>7} {:>7} {:>7} {:>6} {:>6}  util%:{}  {:>9} {:>8}",
        "system",
        "batch",
        "tok/s",
        "TTFT p50",
        "p90",
        "p99",
        "TPOT p50",
        "p90",
        "p99",
        "SLO%",
        "done",
        util.join(""),
        "mig/step",
        "J/token"
    );
    for r in results {
        let e = &r.summary.engine;
        let u: Vec<String> = tiers
            .iter()
            .map(|k| r.node.tiers.get(k).map_or(format!("{:>6}", "-"), |t| format!("{:>6.1}", 100.0 * t.utilisation)))
            .collect();
        let _ = writeln!(
            s,
            "{:<22} {:>6} {:>9.1} {:>7.2}s {:>7.2}s {:>7.2}s  {:>5.1}ms {:>5.1}ms {:>5.1}ms {:>6.1} {:>6}        {}  {:>9.1} {:>8.3}",
            r.label,
            r.batch.map_or("-".into(), |b| b.to_string()),
            e.output_tokens_per_s,
            e.ttft_s.p50,
            e.ttft_s.p90,
            e.ttft_s.p99,
            e.tpot_s.p50 * 1e3,
            e.tpot_s.p90 * 1e3,
            e.tpot_s.p99 * 1e3,
            100.0 * r.summary.slo_attainment,
            format!("{}/{}", e.finished, e.requests),
            u.join(""),
            r.node.migrated_per_step,
            r.summary.joules_per_output_token
        );
    }
    s
}

/// `comparison.csv`, `comparison.json` and the plots of every result side by side (`plots/`:
/// one line or bar per system and batch).
pub fn write_comparison(results: &[SystemResult], dir: &Path) -> Result<(), ServeError> {
    let runs: Vec<(String, &RunResult)> = results.iter().map(|r| (r.dir_name(), &r.run)).collect();
    let runs: Vec<(&str, &RunResult)> = runs.iter().map(|(n, r)| (n.as_str(), *r)).collect();
    let tiers: Vec<TierUtilisation> = results.iter().flat_map(tier_utilisation).collect();
    write_plots(&runs, &tiers, &dir.join("plots"), &PlotOptions::default())
        .map_err(|e| ServeError::Setup(format!("comparison plots: {e}")))?;
    let path = dir.join("comparison.json");
    let all: Vec<&ServeSummary> = results.iter().map(|r| &r.summary).collect();
    let text = serde_json::to_string_pretty(&all).map_err(|e| ServeError::Setup(e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(|source| ServeError::Write { path, source })?;
    let path = dir.join("comparison.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| ServeError::Setup(format!("{}: {e}", path.display())))?;
    let mut header = vec![
        "system",
        "batch",
        "requests",
        "finished",
        "output_tokens_per_s",
        "ttft_p50_s",
        "ttft_p90_s",
        "ttft_p99_s",
        "tpot_p50_s",
        "tpot_p90_s",
        "tpot_p99_s",
        "latency_mean_s",
        "slo_attainment",
        "goodput_tokens_per_s",
        "migrated_per_step",
        "joules_per_output_token",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    let tiers: Vec<String> = results.first().map(|r| r.node.tiers.keys().cloned().collect()).unwrap_or_default();
    header.extend(tiers.iter().map(|k| format!("util_{k}")));
    w.write_record(&header).map_err(|e| ServeError::Setup(e.to_string()))?;
    for r in results {
        let e = &r.summary.engine;
        let mut row = vec![
            r.label.clone(),
            r.batch.map_or(String::new(), |b| b.to_string()),
            e.requests.to_string(),
            e.finished.to_string(),
            e.output_tokens_per_s.to_string(),
            e.ttft_s.p50.to_string(),
            e.ttft_s.p90.to_string(),
            e.ttft_s.p99.to_string(),
            e.tpot_s.p50.to_string(),
            e.tpot_s.p90.to_string(),
            e.tpot_s.p99.to_string(),
            e.latency_s.mean.to_string(),
            r.summary.slo_attainment.to_string(),
            r.summary.goodput_tokens_per_s.to_string(),
            r.node.migrated_per_step.to_string(),
            r.summary.joules_per_output_token.to_string(),
        ];
        row.extend(tiers.iter().map(|k| r.node.tiers.get(k).map_or(String::new(), |t| t.utilisation.to_string())));
        w.write_record(&row).map_err(|e| ServeError::Setup(e.to_string()))?;
    }
    w.flush().map_err(|source| ServeError::Write { path, source })
}
