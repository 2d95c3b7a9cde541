//! The merged table of a sweep (`pam sweep collect DIR`): one [`Row`] per point, system and
//! offline batch, with the point's axis values, the context a figure groups by (model, trace,
//! TP x PP, SLO, drift) and the run's figures. `results.json` holds [`Results`]; `results.csv`
//! the same rows flattened. Nothing in a row depends on the host (no wall time), so a sweep
//! run locally and the same sweep run as a Slurm array merge into identical tables.

use std::collections::BTreeMap;

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
