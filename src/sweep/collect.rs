//! `pam sweep collect DIR`: every finished point's rows, in point order, into `results.json`
//! and `results.csv`. The table holds nothing that depends on the host or on how the points
//! were scheduled, so a sweep run locally and as a Slurm array collect to identical files.

use std::collections::BTreeSet;
use std::path::Path;

use super::point::{self, write_atomic};
use super::runner::Manifest;
use super::table::{Results, Row};
use super::SweepError;

/// What `collect` found: the merged table and the points with no result yet.
pub struct Collected {
    pub results: Results,
    pub missing: Vec<String>,
}

/// Merges the points of the sweep in `out` and writes `results.json` and `results.csv` there
/// (with the rows of the finished points, even when some are missing).
pub fn collect(out: &Path) -> Result<Collected, SweepError> {
    let manifest = Manifest::read(out)?;
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for p in &manifest.points {
        if point::is_done(out, &p.id) {
            rows.extend(point::rows(out, &p.id)?);
        } else {
            missing.push(p.id.clone());
        }
    }
    let results =
        Results { sweep: manifest.name.clone(), file: manifest.file.clone(), points: manifest.points.len(), rows };
    write_atomic(&out.join("results.json"), &(serde_json::to_string_pretty(&results).unwrap_or_default() + "\n"))?;
    write_atomic(&out.join("results.csv"), &csv_text(&results.rows)?)?;
    Ok(Collected { results, missing })
}

/// The rows flattened: fixed columns, then `value:<field>`, `J:<component>` and
/// `util:<tier>` over the union of every row's keys.
pub fn csv_text(rows: &[Row]) -> Result<String, SweepError> {
    let keys = |f: &dyn Fn(&Row) -> Vec<String>| rows.iter().flat_map(f).collect::<BTreeSet<String>>();
    let values = keys(&|r| r.values.keys().cloned().collect());
    let joules = keys(&|r| r.joules_by_component.keys().cloned().collect());
    let utils = keys(&|r| r.util.keys().cloned().collect());
    let fixed = [
        "sweep",
        "part",
        "point",
        "index",
        "commit",
        "seed",
        "model",
        "trace",
        "tp",
        "pp",
        "nodes",
        "slo_tpot_ms",
        "drift",
        "system",
        "batch",
        "peak_load_kind",
        "peak_load",
        "peak_met",
        "peak_saturated",
        "requests",
        "finished",
        "output_tokens_per_s",
        "requests_per_s",
        "ttft_mean_s",
        "ttft_p50_s",
        "ttft_p90_s",
        "ttft_p99_s",
        "tpot_mean_s",
        "tpot_p50_s",
        "tpot_p90_s",
        "tpot_p99_s",
        "latency_mean_s",
        "latency_p90_s",
        "slo_attainment",
        "goodput_tokens_per_s",
        "preemptions",
        "max_running",
        "out_of_memory",
        "migrated_per_step",
        "joules_per_output_token",
    ];
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| SweepError::Other(format!("results.csv: {e}"));
    let header: Vec<String> = fixed
        .iter()
        .map(|s| s.to_string())
        .chain(values.iter().map(|k| format!("value:{k}")))
        .chain(joules.iter().map(|k| format!("J:{k}")))
        .chain(utils.iter().map(|k| format!("util:{k}")))
        .collect();
    w.write_record(&header).map_err(csv_err)?;
    for r in rows {
        let opt = |x: Option<String>| x.unwrap_or_default();
        let mut rec: Vec<String> = vec![
            r.sweep.clone(),
            r.part.clone(),
            r.point.clone(),
            r.index.to_string(),
            r.commit.clone(),
            r.seed.to_string(),
            r.model.clone(),
            r.trace.clone(),
            r.tp.to_string(),
            r.pp.to_string(),
            r.nodes.to_string(),
            r.slo_tpot_ms.to_string(),
            r.drift.to_string(),
            r.system.clone(),
            opt(r.batch.map(|b| b.to_string())),
            opt(r.peak.as_ref().map(|p| p.load_kind.clone())),
            opt(r.peak.as_ref().map(|p| p.load.to_string())),
            opt(r.peak.as_ref().map(|p| p.met.to_string())),
            opt(r.peak.as_ref().map(|p| p.saturated.to_string())),
            r.requests.to_string(),
            r.finished.to_string(),
            r.output_tokens_per_s.to_string(),
            r.requests_per_s.to_string(),
            r.ttft_mean_s.to_string(),
            r.ttft_p50_s.to_string(),
            r.ttft_p90_s.to_string(),
            r.ttft_p99_s.to_string(),
            r.tpot_mean_s.to_string(),
            r.tpot_p50_s.to_string(),
            r.tpot_p90_s.to_string(),
            r.tpot_p99_s.to_string(),
            r.latency_mean_s.to_string(),
            r.latency_p90_s.to_string(),
            r.slo_attainment.to_string(),
            r.goodput_tokens_per_s.to_string(),
            r.preemptions.to_string(),
            r.max_running.to_string(),
            r.out_of_memory.to_string(),
            r.migrated_per_step.to_string(),
            r.joules_per_output_token.to_string(),
        ];
        rec.extend(values.iter().map(|k| {
            r.values.get(k).map_or(String::new(), |v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        }));
        rec.extend(joules.iter().map(|k| opt(r.joules_by_component.get(k).map(f64::to_string))));
        rec.extend(utils.iter().map(|k| opt(r.util.get(k).map(f64::to_string))));
        w.write_record(&rec).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| SweepError::Other(format!("results.csv: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
