//! One sweep point: its serving section served (every system, every offline batch) or, with
//! `peak: true`, searched for the peak load under its SLO; its rows of the merged table
//! written to `rows.json`, and only then the point marked done, so an interrupted point is
//! run again and a done one never is.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::spec::Point;
use super::table::{PeakResult, Row};
use super::SweepError;
use crate::serve::peak::{self, Load};
use crate::serve::run::{self, Context, ServeSummary, SystemResult};
use crate::serve::scenario::Serving;

/// `points/<id>/point.json`: the point, the commit that ran it, and whether it finished.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PointRecord {
    #[serde(flatten)]
    pub point: Point,
    pub commit: String,
    pub done: bool,
    /// Host seconds the point took (not in the merged table: it differs between machines).
    pub host_s: f64,
}

/// The figures of one run that a row needs.
struct RunFigures {
    summary: ServeSummary,
    max_running: u32,
    /// The KV pool was (nearly) full while requests waited.
    kv_full: bool,
}

impl RunFigures {
    fn of(r: &SystemResult) -> RunFigures {
        RunFigures { summary: r.summary.clone(), max_running: r.max_running(), kv_full: r.kv_full() }
    }
}

/// The directory of point `id` under a sweep's output directory.
pub fn dir_of(out: &Path, id: &str) -> PathBuf {
    out.join("points").join(id)
}

/// The point's record, if its directory has one.
pub fn record(out: &Path, id: &str) -> Option<PointRecord> {
    let text = std::fs::read_to_string(dir_of(out, id).join("point.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// The rows of a finished point.
pub fn rows(out: &Path, id: &str) -> Result<Vec<Row>, SweepError> {
    let path = dir_of(out, id).join("rows.json");
    let text = std::fs::read_to_string(&path).map_err(|err| SweepError::Io { path: path.clone(), err })?;
    serde_json::from_str(&text).map_err(|e| SweepError::Other(format!("{}: {e}", path.display())))
}

/// Whether point `id` finished in an earlier run.
pub fn is_done(out: &Path, id: &str) -> bool {
    record(out, id).is_some_and(|r| r.done) && dir_of(out, id).join("rows.json").is_file()
}

/// Writes `text` to `path` through a temporary file renamed over it, so a reader (or a resumed
/// sweep) never sees half a file.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), SweepError> {
    let io = |err| SweepError::Io { path: path.to_path_buf(), err };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.{:?}.tmp", std::process::id(), std::thread::current().id()));
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// Runs `point` of sweep `sweep` into `out/points/<id>/` and returns its rows.
pub fn run(sweep: &str, point: &Point, out: &Path, cache: &Path, commit: &str) -> Result<Vec<Row>, SweepError> {
    let started = Instant::now();
    let dir = dir_of(out, &point.id);
    // What an interrupted run left is discarded: the point starts clean.
    let _ = std::fs::remove_dir_all(&dir);
    let mut record = PointRecord { point: point.clone(), commit: commit.into(), done: false, host_s: 0.0 };
    write_atomic(&dir.join("point.json"), &json(&record))?;
    let s = point.serving().map_err(|e| SweepError::Other(e.to_string()))?;
    let timing = run::pim_timing(&s, cache, point.seed)?;
    let gpu = run::gpu_backend(&s)?;
    let ctx = Context { serving: &s, gpu: gpu.as_ref(), timing: &timing, seed: point.seed, rtl: false };
    let mut rows = Vec::new();
    let mut probes = Vec::new();
    for system in &s.systems {
        if point.peak {
            let load = if s.batches.is_empty() { Load::Rate(&s.workload) } else { Load::Batch(&s.workload) };
            let mut runs: Vec<RunFigures> = Vec::new();
            let p = peak::search(
                load,
                &s.engine,
                s.slo_tpot_s,
                |w, e| {
                    let r = run::run_system(&ctx, *system, w, e, None)?;
                    runs.push(RunFigures::of(&r));
                    Ok(r)
                },
                |_| {},
            )?;
            // Probes and runs are in step; the row is the best probe's, or the lightest load's.
            let pick = p
                .best
                .as_ref()
                .and_then(|b| p.probes.iter().position(|q| q.load == b.load))
                .or_else(|| (0..p.probes.len()).min_by(|&a, &b| p.probes[a].load.total_cmp(&p.probes[b].load)));
            if let Some(i) = pick {
                let kind = if s.batches.is_empty() { "rate" } else { "batch" };
                let peak = PeakResult {
                    load_kind: kind.into(),
                    load: p.probes[i].load,
                    met: p.best.is_some(),
                    saturated: p.saturated,
                    probes: p.probes.len(),
                };
                let batch = (kind == "batch").then(|| p.probes[i].load.round() as u32);
                rows.push(row(sweep, point, &s, &runs[i], batch, Some(peak), commit));
            }
            probes.push(serde_json::json!({
                "system": system.label(),
                "probes": p.probes.iter().map(|q| serde_json::json!({
                    "load": q.load, "tokens_per_s": q.tokens_per_s, "tpot_p90_s": q.tpot_p90_s, "met": q.met,
                })).collect::<Vec<_>>(),
            }));
        } else {
            for (workload, engine, batch) in run::load_points(&s)? {
                let r = run::run_system(&ctx, *system, &workload, &engine, batch)?;
                write_atomic(&dir.join(r.dir_name()).join("summary.json"), &json(&r.summary))?;
                rows.push(row(sweep, point, &s, &RunFigures::of(&r), batch, None, commit));
            }
        }
    }
    if point.peak {
        write_atomic(&dir.join("peak.json"), &json(&probes))?;
    }
    write_atomic(&dir.join("rows.json"), &json(&rows))?;
    record.done = true;
    record.host_s = started.elapsed().as_secs_f64();
    write_atomic(&dir.join("point.json"), &json(&record))?;
    Ok(rows)
}

fn row(
    sweep: &str,
    point: &Point,
    s: &Serving,
    f: &RunFigures,
    batch: Option<u32>,
    peak: Option<PeakResult>,
    commit: &str,
) -> Row {
    let sum = &f.summary;
    let e = &sum.engine;
    let out_of_memory = batch.is_some() && (f.kv_full || e.preemptions > 0);
    Row {
        sweep: sweep.into(),
        part: point.part.clone(),
        figures: point.figures.clone(),
        point: point.id.clone(),
        index: point.index,
        values: point.values.clone(),
        commit: commit.into(),
        seed: point.seed,
        model: s.model.name.clone(),
        trace: point.trace_name(),
        tp: s.node.tp,
        pp: s.node.pp,
        nodes: s.nodes,
        slo_tpot_ms: s.slo_tpot_s * 1e3,
        drift: s.locality.drift,
        system: sum.system.clone(),
        batch,
        peak,
        requests: e.requests,
        finished: e.finished,
        output_tokens_per_s: e.output_tokens_per_s,
        requests_per_s: e.requests_per_s,
        ttft_mean_s: e.ttft_s.mean,
        ttft_p50_s: e.ttft_s.p50,
        ttft_p90_s: e.ttft_s.p90,
        ttft_p99_s: e.ttft_s.p99,
        tpot_mean_s: e.tpot_s.mean,
        tpot_p50_s: e.tpot_s.p50,
        tpot_p90_s: e.tpot_s.p90,
        tpot_p99_s: e.tpot_s.p99,
        latency_mean_s: e.latency_s.mean,
        latency_p90_s: e.latency_s.p90,
        slo_attainment: sum.slo_attainment,
        goodput_tokens_per_s: sum.goodput_tokens_per_s,
        preemptions: e.preemptions,
        max_running: f.max_running,
        out_of_memory,
        migrated_per_step: sum.node.migrated_per_step,
        joules_per_output_token: sum.joules_per_output_token,
        joules_by_component: sum.joules_per_token_by_component.iter().cloned().collect(),
        util: sum.node.tiers.iter().map(|(k, t)| (k.clone(), t.utilisation)).collect(),
    }
}
