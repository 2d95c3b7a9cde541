//! The merged table of a sweep (`pam sweep collect DIR`): one [`Row`] per point, system and
//! offline batch, with the point's axis values, the context a figure groups by (model, trace,
//! TP x PP, SLO, drift) and the run's figures. `results.json` holds [`Results`]; `results.csv`
//! the same rows flattened. Nothing in a row depends on the host (no wall time), so a sweep
//! run locally and the same sweep run as a Slurm array merge into identical tables.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A figure of the evaluation report that a sweep part feeds (`figures:` in the sweep file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Figure {
    /// Peak throughput under each SLO, per model, trace and system (bars, maximum batch reached).
    Slo,
    /// Offline throughput against batch size per system, out-of-memory runs marked.
    Offline,
    /// Energy per output token by component, normalised to vllm-offload.
    Energy,
    /// pam and its ablations normalised to lspim, at the smallest and largest batch.
    Ablation,
    /// Throughput over TP x PP configurations.
    Scaling,
    /// Throughput against the locality drift rate.
    Drift,
}

impl Figure {
    pub const ALL: [Figure; 6] =
        [Figure::Slo, Figure::Offline, Figure::Energy, Figure::Ablation, Figure::Scaling, Figure::Drift];

    pub fn name(self) -> &'static str {
        match self {
            Figure::Slo => "slo",
            Figure::Offline => "offline",
            Figure::Energy => "energy",
            Figure::Ablation => "ablation",
            Figure::Scaling => "scaling",
            Figure::Drift => "drift",
        }
    }
}

/// The peak search of a point run with `peak: true` (SERVING-SPEC §11).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeakResult {
    /// `rate` (arrival-rate scale of an online trace) or `batch` (offline batch size).
    pub load_kind: String,
    /// The best load that met the SLO (the row's figures are that probe's); the lowest load
    /// probed when none met it.
    pub load: f64,
    pub met: bool,
    /// The SLO still held when more load stopped adding throughput: the workload's length,
    /// not the SLO, bounds this peak.
    pub saturated: bool,
    pub probes: usize,
}

/// One system at one load point of one sweep point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub sweep: String,
    /// The sweep part the point belongs to, and the figures that part feeds.
    pub part: String,
    pub figures: Vec<Figure>,
    /// The point's stable id (its directory under `points/`) and its place in the expansion.
    pub point: String,
    pub index: usize,
    /// The point's axis values: scenario field (dotted) to value, mappings flattened to leaves.
    pub values: BTreeMap<String, serde_json::Value>,
    /// The commit of the `pam` that ran the point (`-dirty` when the tree had changes).
    pub commit: String,
    pub seed: u64,
    // What figures group by, read off the point's scenario.
    pub model: String,
    /// The trace's file stem, or `synthetic`.
    pub trace: String,
    pub tp: u32,
    pub pp: u32,
    pub nodes: usize,
    pub slo_tpot_ms: f64,
    pub drift: f64,
    pub system: String,
    pub batch: Option<u32>,
    pub peak: Option<PeakResult>,
    // The run's figures.
    pub requests: usize,
    pub finished: usize,
    pub output_tokens_per_s: f64,
    pub requests_per_s: f64,
    pub ttft_mean_s: f64,
    pub ttft_p50_s: f64,
    pub ttft_p90_s: f64,
    pub ttft_p99_s: f64,
    pub tpot_mean_s: f64,
    pub tpot_p50_s: f64,
    pub tpot_p90_s: f64,
    pub tpot_p99_s: f64,
    pub latency_mean_s: f64,
    pub latency_p90_s: f64,
    pub slo_attainment: f64,
    pub goodput_tokens_per_s: f64,
    pub preemptions: u64,
    /// The most requests running in one step (the batch the system reached).
    pub max_running: u32,
    /// An offline batch the system could not hold at once: its KV pool filled while requests
    /// waited, or it preempted.
    pub out_of_memory: bool,
    pub migrated_per_step: f64,
    pub joules_per_output_token: f64,
    pub joules_by_component: BTreeMap<String, f64>,
    /// Busy fraction per tier.
    pub util: BTreeMap<String, f64>,
}

/// `results.json`: the sweep's rows in point order, then system and batch order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub sweep: String,
    /// The sweep file, as given to `pam sweep`.
    pub file: String,
    pub points: usize,
    pub rows: Vec<Row>,
}

/// A column of the flat table: its header and how a row shows in it.
pub type Column = (&'static str, fn(&Row) -> String);

/// An optional cell: empty when absent.
pub fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The fixed columns of the flat table (`results.csv`, the report's `tables/points.csv`).
pub const COLUMNS: [Column; 42] = [
    ("sweep", |r| r.sweep.clone()),
    ("part", |r| r.part.clone()),
    ("point", |r| r.point.clone()),
    ("index", |r| r.index.to_string()),
    ("commit", |r| r.commit.clone()),
    ("seed", |r| r.seed.to_string()),
    ("figures", |r| r.figures.iter().map(|f| f.name()).collect::<Vec<_>>().join(";")),
    ("model", |r| r.model.clone()),
    ("trace", |r| r.trace.clone()),
    ("tp", |r| r.tp.to_string()),
    ("pp", |r| r.pp.to_string()),
    ("nodes", |r| r.nodes.to_string()),
    ("slo_tpot_ms", |r| r.slo_tpot_ms.to_string()),
    ("drift", |r| r.drift.to_string()),
    ("system", |r| r.system.clone()),
    ("batch", |r| opt(r.batch)),
    ("peak_load_kind", |r| opt(r.peak.as_ref().map(|p| p.load_kind.clone()))),
    ("peak_load", |r| opt(r.peak.as_ref().map(|p| p.load))),
    ("peak_met", |r| opt(r.peak.as_ref().map(|p| p.met))),
    ("peak_saturated", |r| opt(r.peak.as_ref().map(|p| p.saturated))),
    ("peak_probes", |r| opt(r.peak.as_ref().map(|p| p.probes))),
    ("requests", |r| r.requests.to_string()),
    ("finished", |r| r.finished.to_string()),
    ("output_tokens_per_s", |r| r.output_tokens_per_s.to_string()),
    ("requests_per_s", |r| r.requests_per_s.to_string()),
    ("ttft_mean_s", |r| r.ttft_mean_s.to_string()),
    ("ttft_p50_s", |r| r.ttft_p50_s.to_string()),
    ("ttft_p90_s", |r| r.ttft_p90_s.to_string()),
    ("ttft_p99_s", |r| r.ttft_p99_s.to_string()),
    ("tpot_mean_s", |r| r.tpot_mean_s.to_string()),
    ("tpot_p50_s", |r| r.tpot_p50_s.to_string()),
    ("tpot_p90_s", |r| r.tpot_p90_s.to_string()),
    ("tpot_p99_s", |r| r.tpot_p99_s.to_string()),
    ("latency_mean_s", |r| r.latency_mean_s.to_string()),
    ("latency_p90_s", |r| r.latency_p90_s.to_string()),
    ("slo_attainment", |r| r.slo_attainment.to_string()),
    ("goodput_tokens_per_s", |r| r.goodput_tokens_per_s.to_string()),
    ("preemptions", |r| r.preemptions.to_string()),
    ("max_running", |r| r.max_running.to_string()),
    ("out_of_memory", |r| r.out_of_memory.to_string()),
    ("migrated_per_step", |r| r.migrated_per_step.to_string()),
    ("joules_per_output_token", |r| r.joules_per_output_token.to_string()),
];

/// `rows` flattened to CSV: the [`COLUMNS`], then `value:<field>`, `J:<component>` and
/// `util:<tier>` over the union of every row's keys.
pub fn csv_text(rows: &[Row]) -> Result<String, csv::Error> {
    let values: BTreeSet<&String> = rows.iter().flat_map(|r| r.values.keys()).collect();
    let joules: BTreeSet<&String> = rows.iter().flat_map(|r| r.joules_by_component.keys()).collect();
    let util: BTreeSet<&String> = rows.iter().flat_map(|r| r.util.keys()).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<String> = COLUMNS
        .iter()
        .map(|c| c.0.to_string())
        .chain(values.iter().map(|v| format!("value:{v}")))
        .chain(joules.iter().map(|j| format!("J:{j}")))
        .chain(util.iter().map(|u| format!("util:{u}")))
        .collect();
    w.write_record(&header)?;
    for r in rows {
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|c| (c.1)(r))
            .chain(values.iter().map(|v| match r.values.get(*v) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            }))
            .chain(joules.iter().map(|j| opt(r.joules_by_component.get(*j))))
            .chain(util.iter().map(|u| opt(r.util.get(*u))))
            .collect();
        w.write_record(&cells)?;
    }
    let bytes = w.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
