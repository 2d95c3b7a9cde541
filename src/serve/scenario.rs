//! The `serving` section of a scenario (`pam serve`): a node, a model, a workload, the engine's
//! limits, the systems to run side by side, an SLO, locality, energy.
//!
//! ```yaml
//! name: serve_llama3_70b_conv
//! seed: 1
//! serving:
//!   model: llama3-70b              # a preset of presets/models.yaml, or a custom shape
//!   node:
//!     gpu: h100-sxm                # presets/gpus.yaml
//!     tp: 4
//!     pp: 2
//!     tiers: [hbm3-5.2, ddr4-3200, ssd]   # presets/tiers.yaml, fastest first; or
//!                                  # {preset: ssd, devices: 8}
//!     gpu_memory_utilization: 0.9
//!     reserved_gib_per_gpu: 4
//!     host_link_gbs: 54            # PCIe 5 x16 per GPU, achievable
//!   nodes: 1                       # nodes behind a router
//!   router: round-robin            # or least-loaded
//!   workload:
//!     trace: ../../shared/traces/splitwise_conv.csv   # relative to this file
//!     format: splitwise            # optional (detected)
//!     rate_factor: 1.0             # replay at k x the trace's rate
//!     max_requests: 2000
//!     window_s: [0, 600]           # optional
//!     arrivals: {kind: poisson, rate_per_s: 2}        # for traces without arrivals
//!     # or: synthetic: {requests, arrivals, lengths} (the workload module's spec)
//!   batches: [256, 512, 1024]      # offline: one run per batch (all at t = 0, max_num_seqs)
//!   engine: {max_num_seqs: 256, max_num_batched_tokens: 8192}
//!   gpu_time: roofline             # or {vidur: DIR} (mlp.csv and network tables)
//!   systems: [pam, vllm-offload, attacc, lpim, lspim]   # or {name: pam, sparse: false}
//!   slo: {tpot_ms: 150}
//!   locality: {sparsity: 0.125, sinks: 4, recent: 32, drift: 0.02}
//!   scheduler: {swap_budget: 0.01}
//!   energy: {...}                  # overrides of presets/energy.yaml
//!   trace: {first_iteration: 0, iterations: 200}      # the Perfetto window
//!   numerics: {sample_rate: 0.02, max_samples: 200}   # attention ops checked bit-accurately
//! ```
//!
//! Every error names the file, the line and column, the field and what is allowed.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::engine::{EngineConfig, KvPool};
use super::gpu::{GpuPreset, ModelShape};
use super::numerics::NumericsConfig;
use super::system::energy::EnergyOverrides;
use super::system::{EnergyConstants, Locality, NodeSpec, SystemKind};
use super::workload::{ArrivalProcess, LoadScaling, SyntheticSpec, TimeWindow, TraceFormat, Workload};
use crate::device::tier::TierPreset;
use crate::scenario::ScenarioError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServing {
    model: Spanned<RawModel>,
    node: Spanned<RawNode>,
    #[serde(default)]
    nodes: Option<Spanned<u64>>,
    #[serde(default)]
    router: Option<Spanned<String>>,
    workload: Spanned<RawWorkload>,
    #[serde(default)]
    batches: Option<Spanned<Vec<u64>>>,
    #[serde(default)]
    engine: Option<Spanned<RawEngine>>,
    #[serde(default)]
    gpu_time: Option<Spanned<RawGpuTime>>,
    systems: Spanned<Vec<Spanned<RawSystem>>>,
    slo: Spanned<RawSlo>,
    #[serde(default)]
    locality: Option<Spanned<Locality>>,
    #[serde(default)]
    scheduler: Option<Spanned<RawScheduler>>,
    #[serde(default)]
    energy: Option<Spanned<EnergyOverrides>>,
    #[serde(default)]
    trace: Option<Spanned<RawTraceWindow>>,
    #[serde(default)]
    numerics: Option<Spanned<NumericsConfig>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawModel {
    Preset(String),
    Custom(ModelShape),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    gpu: Spanned<String>,
    tp: Spanned<u32>,
    pp: Spanned<u32>,
    tiers: Spanned<Vec<Spanned<RawTier>>>,
    #[serde(default)]
    gpu_memory_utilization: Option<Spanned<f64>>,
    #[serde(default)]
    reserved_gib_per_gpu: Option<Spanned<f64>>,
    #[serde(default)]
    host_link_gbs: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawTier {
    Name(String),
    Entry { preset: String, devices: Option<u64> },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    #[serde(default)]
    trace: Option<Spanned<String>>,
    #[serde(default)]
    format: Option<Spanned<String>>,
    #[serde(default)]
    synthetic: Option<Spanned<SyntheticSpec>>,
    #[serde(default)]
    rate_factor: Option<Spanned<f64>>,
    #[serde(default)]
    max_requests: Option<Spanned<u64>>,
    #[serde(default)]
    window_s: Option<Spanned<(f64, f64)>>,
    #[serde(default)]
    arrivals: Option<Spanned<ArrivalProcess>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    #[serde(default)]
    max_num_seqs: Option<u32>,
    #[serde(default)]
    max_num_batched_tokens: Option<u32>,
    #[serde(default)]
    block_size: Option<u32>,
    #[serde(default)]
    prefix_caching: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawGpuTime {
    Roofline,
    Vidur(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawSystem {
    Name(String),
    Entry { name: String, sparse: Option<bool> },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    tpot_ms: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScheduler {
    swap_budget: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraceWindow {
    #[serde(default)]
    first_iteration: u64,
    iterations: Spanned<u64>,
}

/// Where GPU time comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum GpuTimeSource {
    Roofline,
    /// A Vidur profile: `DIR/mlp.csv`, and the network tables if `DIR/../../network` has them.
    Vidur(PathBuf),
}

/// One system to run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SystemRun {
    pub kind: SystemKind,
    pub sparse: bool,
}

impl SystemRun {
    /// The system's name in outputs: its kind, marked when sparsity differs from its default.
    pub fn label(&self) -> String {
        match (self.sparse, self.kind.sparse_by_default()) {
            (true, false) => format!("{}-sparse", self.kind),
            (false, true) => format!("{}-dense", self.kind),
            _ => self.kind.name().to_string(),
        }
    }
}

/// How requests are spread over the nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Router {
    RoundRobin,
    /// Each request to the node with the fewest tokens (prompt + output) assigned so far.
    LeastLoaded,
}

/// A validated `serving` section.
#[derive(Clone, Debug)]
pub struct Serving {
    pub file: PathBuf,
    pub model: ModelShape,
    pub node: NodeSpec,
    pub nodes: usize,
    pub router: Router,
    pub workload: Workload,
    /// Offline batch sizes (one run per batch), if any.
    pub batches: Vec<u32>,
    pub engine: EngineConfig,
    pub gpu_time: GpuTimeSource,
    pub systems: Vec<SystemRun>,
    pub slo_tpot_s: f64,
    pub locality: Locality,
    pub swap_budget: f64,
    pub energy: EnergyConstants,
    /// The Perfetto window: first iteration and how many.
    pub trace_window: (u64, u64),
    /// The sample of attention operations checked through the bit-accurate chain.
    pub numerics: NumericsConfig,
}

struct At<'a> {
    file: &'a Path,
}

impl At<'_> {
    fn fail<T>(&self, s: &Spanned<T>, field: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.into(),
            line: s.referenced.line(),
            column: s.referenced.column(),
            field: format!("serving.{field}"),
            message: message.into(),
        }
    }
}

impl RawServing {
    /// Validates the section; `seed` seeds synthetic arrivals and lengths when the workload
    /// does not give its own.
    pub(crate) fn validate(self, file: &Path, seed: u64) -> Result<Serving, ScenarioError> {
        let at = At { file };
        let model = match &self.model.value {
            RawModel::Preset(name) => {
                ModelShape::by_name(name).map_err(|e| at.fail(&self.model, "model", e.to_string()))?
            }
            RawModel::Custom(m) => m.clone(),
        };
        model.validate().map_err(|e| at.fail(&self.model, "model", e.to_string()))?;
        let n = &self.node.value;
        let gpu = GpuPreset::by_name(&n.gpu.value).map_err(|e| at.fail(&n.gpu, "node.gpu", e.to_string()))?;
        for (v, f) in [(&n.tp, "node.tp"), (&n.pp, "node.pp")] {
            if v.value == 0 || v.value > 64 {
                return Err(at.fail(v, f, format!("{}; allowed: 1..=64", v.value)));
            }
        }
        model.split(n.tp.value).map_err(|e| at.fail(&n.tp, "node.tp", e.to_string()))?;
        if n.pp.value > model.layers {
            return Err(at.fail(
                &n.pp,
                "node.pp",
                format!("{}; {} has {} layers", n.pp.value, model.name, model.layers),
            ));
        }
        if n.tiers.value.is_empty() || n.tiers.value.len() > super::system::kv::MAX_TIERS {
            return Err(at.fail(&n.tiers, "node.tiers", "allowed: 1 to 8 tier presets, fastest first"));
        }
        let mut tiers = Vec::new();
        let mut devices = Vec::new();
        for (i, t) in n.tiers.value.iter().enumerate() {
            let (name, count) = match &t.value {
                RawTier::Name(s) => (s.as_str(), None),
                RawTier::Entry { preset, devices } => (preset.as_str(), *devices),
            };
            let field = format!("node.tiers[{i}]");
            let preset = TierPreset::by_name(name).ok_or_else(|| {
                let names: Vec<&str> = TierPreset::all().iter().map(|p| p.name()).collect();
                at.fail(t, &field, format!("'{name}' is not a tier preset; allowed: {}", names.join(", ")))
            })?;
            preset.fits(model.head_dim as usize).map_err(|e| at.fail(t, &field, e))?;
            let count = count.unwrap_or(preset.devices_per_node() as u64);
            if !(1..=4096).contains(&count) {
                return Err(at.fail(t, &format!("{field}.devices"), format!("{count}; allowed: 1..=4096")));
            }
            tiers.push(preset);
            devices.push(count as usize);
        }
        let unit = |v: &Option<Spanned<f64>>, f: &str, default: f64, lo: f64, hi: f64| match v {
            Some(s) if !(s.value > lo && s.value <= hi) => {
                Err(at.fail(s, f, format!("{}; allowed: ({lo}, {hi}]", s.value)))
            }
            Some(s) => Ok(s.value),
            None => Ok(default),
        };
        let utilisation = unit(&n.gpu_memory_utilization, "node.gpu_memory_utilization", 0.9, 0.0, 1.0)?;
        let reserved = match &n.reserved_gib_per_gpu {
            Some(s) if !(s.value >= 0.0 && s.value < gpu.memory_mib as f64 / 1024.0) => {
                return Err(at.fail(
                    s,
                    "node.reserved_gib_per_gpu",
                    format!("{}; allowed: [0, the GPU's memory)", s.value),
                ))
            }
            Some(s) => s.value,
            None => 4.0,
        };
        let host_link = unit(&n.host_link_gbs, "node.host_link_gbs", 54.0, 0.0, 10_000.0)?;
        let node = NodeSpec {
            gpu: gpu.clone(),
            tp: n.tp.value,
            pp: n.pp.value,
            tiers,
            devices,
            gpu_memory_utilization: utilisation,
            reserved_bytes_per_gpu: (reserved * (1u64 << 30) as f64) as u64,
            host_link_bytes_per_s: host_link * 1e9,
        };
        let caps = node.capacities(&model).map_err(|e| at.fail(&self.node, "node", e))?;
        if caps.iter().all(|&c| c == 0) {
            return Err(at.fail(
                &self.node,
                "node.tiers",
                format!("the tiers hold no token position of {}", model.name),
            ));
        }
        let nodes = match &self.nodes {
            Some(s) if !(1..=1024).contains(&s.value) => {
                return Err(at.fail(s, "nodes", format!("{}; allowed: 1..=1024", s.value)))
            }
            Some(s) => s.value as usize,
            None => 1,
        };
        let router = match &self.router {
            None => Router::RoundRobin,
            Some(s) => match s.value.as_str() {
                "round-robin" => Router::RoundRobin,
                "least-loaded" => Router::LeastLoaded,
                other => return Err(at.fail(s, "router", format!("'{other}'; allowed: round-robin, least-loaded"))),
            },
        };
        let workload = load_workload(&at, &self.workload, file, seed)?;
        let batches = match &self.batches {
            None => Vec::new(),
            Some(b) if b.value.is_empty() || b.value.iter().any(|&x| !(1..=65_536).contains(&x)) => {
                return Err(at.fail(b, "batches", format!("{:?}; allowed: a non-empty list of 1..=65536", b.value)))
            }
            Some(b) => b.value.iter().map(|&x| x as u32).collect(),
        };
        let mut engine = EngineConfig {
            max_num_seqs: 256,
            max_num_batched_tokens: 8192,
            kv_pool: KvPool::Blocks { blocks: 1 },
            tp: node.tp,
            pp: node.pp,
            ..EngineConfig::default()
        };
        if let Some(e) = &self.engine {
            let v = &e.value;
            engine.max_num_seqs = v.max_num_seqs.unwrap_or(engine.max_num_seqs);
            engine.max_num_batched_tokens = v.max_num_batched_tokens.unwrap_or(engine.max_num_batched_tokens);
            engine.block_size = v.block_size.unwrap_or(engine.block_size);
            engine.prefix_caching = v.prefix_caching.unwrap_or(engine.prefix_caching);
            engine.validate().map_err(|err| at.fail(e, "engine", err.to_string()))?;
        }
        let gpu_time = match &self.gpu_time {
            None => GpuTimeSource::Roofline,
            Some(g) => match &g.value {
                RawGpuTime::Roofline => GpuTimeSource::Roofline,
                RawGpuTime::Vidur(dir) => {
                    let p = relative(file, dir);
                    if !p.join("mlp.csv").is_file() {
                        return Err(at.fail(g, "gpu_time.vidur", format!("{} has no mlp.csv", p.display())));
                    }
                    GpuTimeSource::Vidur(p)
                }
            },
        };
        if self.systems.value.is_empty() {
            return Err(at.fail(
                &self.systems,
                "systems",
                format!("empty; allowed: {}", SystemKind::names().join(", ")),
            ));
        }
        let mut systems = Vec::new();
        for (i, s) in self.systems.value.iter().enumerate() {
            let (name, sparse) = match &s.value {
                RawSystem::Name(n) => (n.as_str(), None),
                RawSystem::Entry { name, sparse } => (name.as_str(), *sparse),
            };
            let kind = SystemKind::by_name(name).ok_or_else(|| {
                at.fail(s, &format!("systems[{i}]"), format!("'{name}'; allowed: {}", SystemKind::names().join(", ")))
            })?;
            let run = SystemRun { kind, sparse: sparse.unwrap_or(kind.sparse_by_default()) };
            if systems.iter().any(|r: &SystemRun| r.label() == run.label()) {
                return Err(at.fail(s, &format!("systems[{i}]"), format!("'{}' is listed twice", run.label())));
            }
            if kind.top_tier_only() && caps[0] == 0 {
                return Err(at.fail(
                    s,
                    &format!("systems[{i}]"),
                    "attacc keeps KV in the first tier, which holds none",
                ));
            }
            systems.push(run);
        }
        let slo = &self.slo.value.tpot_ms;
        if !(slo.value > 0.0 && slo.value <= 1e6) {
            return Err(at.fail(slo, "slo.tpot_ms", format!("{}; allowed: (0, 1e6] ms", slo.value)));
        }
        let locality = match &self.locality {
            None => Locality::default(),
            Some(l) => {
                l.value.validate().map_err(|(f, m)| at.fail(l, &format!("locality.{f}"), m))?;
                l.value
            }
        };
        let swap_budget = match &self.scheduler {
            None => 0.01,
            Some(s) if !(s.value.swap_budget.value >= 0.0 && s.value.swap_budget.value <= 1.0) => {
                let b = &s.value.swap_budget;
                return Err(at.fail(b, "scheduler.swap_budget", format!("{}; allowed: [0, 1]", b.value)));
            }
            Some(s) => s.value.swap_budget.value,
        };
        let energy = match &self.energy {
            None => EnergyConstants::preset().clone(),
            Some(o) => {
                let c = EnergyConstants::preset().with(&o.value);
                c.validate().map_err(|m| at.fail(o, "energy", m))?;
                c
            }
        };
        for t in &node.tiers {
            energy.tier(t.label()).map_err(|m| at.fail(&self.node, "node.tiers", m))?;
        }
        let trace_window = match &self.trace {
            None => (0, 200),
            Some(t) if !(1..=100_000).contains(&t.value.iterations.value) => {
                let i = &t.value.iterations;
                return Err(at.fail(i, "trace.iterations", format!("{}; allowed: 1..=100000", i.value)));
            }
            Some(t) => (t.value.first_iteration, t.value.iterations.value),
        };
        let numerics = match &self.numerics {
            None => NumericsConfig::default(),
            Some(n) => {
                n.value.validate().map_err(|(f, m)| at.fail(n, &format!("numerics.{f}"), m))?;
                n.value
            }
        };
        Ok(Serving {
            file: file.into(),
            model,
            node,
            nodes,
            router,
            workload,
            batches,
            engine,
            gpu_time,
            systems,
            slo_tpot_s: slo.value / 1e3,
            locality,
            swap_budget,
            energy,
            trace_window,
            numerics,
        })
    }
}

/// `path` relative to the scenario file's directory (absolute paths kept).
fn relative(file: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.into()
    } else {
        file.parent().unwrap_or(Path::new(".")).join(p)
    }
}

fn load_workload(at: &At<'_>, w: &Spanned<RawWorkload>, file: &Path, seed: u64) -> Result<Workload, ScenarioError> {
    let v = &w.value;
    let workload = match (&v.trace, &v.synthetic) {
        (Some(t), None) => {
            let path = relative(file, &t.value);
            let format = match &v.format {
                None => None,
                Some(f) => {
                    Some(f.value.parse::<TraceFormat>().map_err(|e| at.fail(f, "workload.format", e.to_string()))?)
                }
            };
            let bytes = std::fs::read(&path)
                .map_err(|e| at.fail(t, "workload.trace", format!("cannot read {}: {e}", path.display())))?;
            Workload::parse(&path.display().to_string(), &bytes, format)
                .map_err(|e| at.fail(t, "workload.trace", e.to_string()))?
        }
        (None, Some(s)) => {
            let mut spec = s.value.clone();
            if spec.seed == 0 {
                spec.seed = seed;
            }
            spec.generate().map_err(|e| at.fail(s, "workload.synthetic", e.to_string()))?
        }
        _ => return Err(at.fail(w, "workload", "give exactly one of `trace` and `synthetic`")),
    };
    let workload = match &v.arrivals {
        None => workload,
        Some(a) => {
            workload.with_arrivals(&a.value, seed).map_err(|e| at.fail(a, "workload.arrivals", e.to_string()))?
        }
    };
    let window = match &v.window_s {
        None => None,
        Some(s) => {
            let (a, b) = s.value;
            if !(a >= 0.0 && b > a && b.is_finite()) {
                return Err(at.fail(
                    s,
                    "workload.window_s",
                    format!("[{a}, {b}]; allowed: [start, end] seconds, 0 <= start < end"),
                ));
            }
            Some(TimeWindow { start_ns: (a * 1e9) as u64, end_ns: (b * 1e9) as u64 })
        }
    };
    let scaling = LoadScaling {
        window,
        rate_factor: v.rate_factor.as_ref().map_or(1.0, |r| r.value),
        max_requests: v.max_requests.as_ref().map(|m| m.value as usize),
    };
    if let Some(m) = &v.max_requests {
        if m.value == 0 {
            return Err(at.fail(m, "workload.max_requests", "0; allowed: at least 1"));
        }
    }
    let workload = scaling.apply(workload).map_err(|e| at.fail(w, "workload", e.to_string()))?;
    if workload.is_empty() {
        return Err(at.fail(w, "workload", "no request is left after the window and limits"));
    }
    Ok(workload)
}
