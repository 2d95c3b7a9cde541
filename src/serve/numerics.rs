//! Numerics while serving: a sample of a full-size run's attention operations recomputed
//! through the bit-accurate chain, in the tiers the KV manager placed their tokens in, and
//! checked against float64; any sampled operation replayed through the Verilated devices.
//!
//! # The data
//!
//! The serving layer never stores K and V: it counts positions. So that an operation can be
//! recomputed at any time, the K and V of every (request, layer, KV head, position) and the query of
//! every (request, step, layer, query head) are pure functions of the run's seed
//! ([`kv_vector`], [`query_vector`]): a ChaCha8 stream seeded by a splitmix hash of the tuple.
//! Amplitudes are those of the device checks' middle setting (`crate::device::check`): K and the
//! raw query uniform in [-2, 2], V in [-1, 1], so the scaled scores spread with a standard
//! deviation of about 1.3 (the softmax is neither flat nor one-hot). The query is scaled by
//! 1/sqrt(d) before it goes to the tiers (PAM-SPEC §4) and rounded to FP16 there.
//!
//! # A sampled operation
//!
//! [`Sampler`] (scenario `serving.numerics: {sample_rate, max_samples}`) draws, at each step
//! with decodes, whether to sample one operation (probability `sample_rate`) until it holds
//! `max_samples`; then a decoding request of the step, a layer and a KV head, uniformly. The
//! draws come from their own stream of the node's seed, so sampling never changes the run.
//! The operation is the attention of the KV head's query group (g = query heads / KV heads
//! queries) over the positions the KV manager attends for the request this step
//! ([`KvManager::attended`]), each in the tier it is in. Its cost is that of the context: at
//! most `max_samples` contexts' worth of the golden model per run.
//!
//! Each query goes through the chain of PAM-SPEC §4-§5 as the full-size node would run it:
//! 1. each tier's positions spread over the devices of the stage (`devices / PP`) and, within
//!    a device, over its PUs. **Decision:** a position's device and PU are a hash of (seed,
//!    request, position, tier), fixed while it stays in the tier, as a placement made when it
//!    was written would be; without PAMattention (lpim, lspim, pam-no-pamattention) a
//!    request's tokens of a tier all sit in one device (its KV slot modulo the devices, as the
//!    timing model says). A PU folds its tokens in position order;
//! 2. each first-level RU (bank group, flash channel: the reference preset's `pus_per_ru`)
//!    merges its PUs' partials in PU order, the device RU the groups in order, the tier's RU
//!    the devices in order, and an HBM RU the tiers in order, then normalises (O / l in FP16).
//!    Lanes are the tier's reference preset's. **Decision:** PUs, groups and devices that hold
//!    none of the tokens are left out of the merges: merging the empty partial is the identity
//!    but for the sign of a zero O element and FTZ of a subnormal one, and a full-size device
//!    has hundreds of PUs (merging them all would cost a thousand times the tokens). Without
//!    PAMattention the partials meet on the GPU; they are merged with the RU's arithmetic.
//! 3. float64 softmax attention over the same FP16 inputs ([`crate::golden::reference`]) is the
//!    yardstick: an operation mismatches when the chain's output is outside
//!    [`within_bound`] or a unit raised its NaN/infinity flag.
//!
//! **Decision (vllm-offload):** attention runs on the GPU (FlashAttention, FP16 inputs, FP32
//! accumulation in an order the project has no bit-accurate model of), so nothing is sampled;
//! the report says why ([`NumericsReport::skipped`]).
//!
//! # Replay with waveforms
//!
//! [`replay`] re-runs the system's serving loop with the same seed (it is deterministic) up to
//! the sample, takes the operation's positions, and runs it through the Verilated devices of
//! each tier's scaled preset (the Verilated preset whose `reference` is the tier's preset,
//! PUs on their own clock): the tier's tokens are written in the device (as many runs as the
//! scaled device needs to hold them all, each a partial of its own), the query group loaded,
//! local attention run, every partial checked bit for bit against the golden model of that
//! device, then all partials merged in a Verilated RU of the first tier's scaled preset in
//! (tier, run) order and the normalised outputs checked bit for bit against the golden merge.
//! A scaled device has fewer PUs than the full-size one, so its merge tree is another order
//! of the same FP32 merges: the replay's output is compared to the full-size chain's and to
//! float64 within the bound, not bit for bit. With waveforms, each device run dumps its
//! memory side, first PU and first RU as FST (`pam run --waves` names, with a GTKWave view
//! generated beside the memory side's dump) and the merging RU dumps `merge_ruL.fst`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::engine::{simulate_node, EngineConfig, EngineError, Step};
use super::gpu::ModelShape;
use super::run::{route, Context};
use super::scenario::{Serving, SystemRun};
use super::system::{KvManager, NodeSpec, SystemKind};
use super::workload::Workload;
use crate::device::tier::TierPreset;
use crate::error::SimError;
use crate::golden::fp::{fp16_of, fp16_to_f64};
use crate::golden::pu::local_attention;
use crate::golden::reference::{self, rel_err, within_bound, Reference};
use crate::golden::ru;
use crate::kv::location::PhysLoc;
use crate::partial::Partial;
use crate::problem::case_seed;
use crate::rtl::ru::{RuOutput, RuSim};

/// Amplitude of K and of the query before scaling; V is in [-1, 1].
const AMP: f32 = 2.0;
/// Domain tags of the hashes, so K/V, queries, placement and sampling draw apart.
const TAG_KV: u64 = 0x4b56_0000_0000_0001;
const TAG_Q: u64 = 0x5155_0000_0000_0002;
const TAG_PLACE: u64 = 0x504c_0000_0000_0003;
const TAG_SAMPLE: u64 = 0x534d_0000_0000_0004;

/// One token's K and V; the tokens of one tier by position.
type Kv = (Vec<u16>, Vec<u16>);
type TierKv = HashMap<u32, Kv>;

/// A splitmix hash of a tuple under a tag.
fn hash(tag: u64, parts: &[u64]) -> u64 {
    parts.iter().fold(tag, |h, &p| case_seed(h, p))
}

/// The K and V (FP16, `dim` elements each) of (request, layer, KV head, position) in the run
/// of `seed`: a pure function of the tuple.
pub fn kv_vector(seed: u64, request: u64, layer: u32, kv_head: u32, position: u32, dim: usize) -> (Vec<u16>, Vec<u16>) {
    let mut rng = ChaCha8Rng::seed_from_u64(hash(
        TAG_KV,
        &[seed, request, u64::from(layer), u64::from(kv_head), u64::from(position)],
    ));
    let k = (0..dim).map(|_| fp16_of(rng.random_range(-AMP..=AMP))).collect();
    let v = (0..dim).map(|_| fp16_of(rng.random_range(-1.0f32..=1.0))).collect();
    (k, v)
}

/// The query (FP16, already scaled by 1/sqrt(d)) of (request, step, layer, query head) in the
/// run of `seed`.
pub fn query_vector(seed: u64, request: u64, step: u64, layer: u32, q_head: u32, dim: usize) -> Vec<u16> {
    let mut rng = ChaCha8Rng::seed_from_u64(hash(TAG_Q, &[seed, request, step, u64::from(layer), u64::from(q_head)]));
    let scale = 1.0 / (dim as f32).sqrt();
    (0..dim).map(|_| fp16_of(rng.random_range(-AMP..=AMP) * scale)).collect()
}

/// The scenario's `serving.numerics`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NumericsConfig {
    /// Probability that a step with decodes has one of its attention operations sampled.
    pub sample_rate: f64,
    /// Most operations sampled per node and run.
    pub max_samples: u64,
}

impl Default for NumericsConfig {
    /// One operation every 50 decode steps, at most 200 a run: seconds of golden model.
    fn default() -> Self {
        NumericsConfig { sample_rate: 0.02, max_samples: 200 }
    }
}

impl NumericsConfig {
    /// Rejects values outside their ranges; the message names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(0.0..=1.0).contains(&self.sample_rate) {
            return Err(("sample_rate", format!("{}; allowed: [0, 1]", self.sample_rate)));
        }
        if self.max_samples > 100_000 {
            return Err(("max_samples", format!("{}; allowed: 0..=100000", self.max_samples)));
        }
        Ok(())
    }
}

/// One sampled operation.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SampleId {
    /// The node (instance) of the run, and the step there.
    pub node: u32,
    pub step: u64,
    /// The node's request id (the run's own id with one node).
    pub request: u64,
    pub layer: u32,
    pub kv_head: u32,
    /// Positions attended in each tier (tier key).
    pub positions: BTreeMap<String, u64>,
    /// Query heads of the group outside the bound, and the group's largest normwise relative
    /// error against float64.
    pub mismatches: u32,
    pub max_rel_err: f64,
}

/// What a run's sample gave.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NumericsReport {
    pub sample_rate: f64,
    pub max_samples: u64,
    /// Attention operations (one query head each) recomputed, and those outside the bound.
    pub ops: u64,
    pub mismatches: u64,
    /// Largest normwise relative error against float64.
    pub max_rel_err: f64,
    pub samples: Vec<SampleId>,
    /// Why nothing was sampled, when nothing can be.
    pub skipped: Option<String>,
}

impl NumericsReport {
    /// Adds another node's report.
    pub fn merge(&mut self, other: &NumericsReport) {
        self.ops += other.ops;
        self.mismatches += other.mismatches;
        self.max_rel_err = self.max_rel_err.max(other.max_rel_err);
        self.samples.extend(other.samples.iter().cloned());
        if self.skipped.is_none() {
            self.skipped.clone_from(&other.skipped);
        }
    }

    /// One line for `pam serve`.
    pub fn line(&self) -> String {
        match &self.skipped {
            Some(why) => format!("numerics: not sampled ({why})"),
            None => format!(
                "numerics: {} ops sampled through the bit-accurate chain ({} groups), {} mismatches, max rel err {:.3e}",
                self.ops,
                self.samples.len(),
                self.mismatches,
                self.max_rel_err
            ),
        }
    }
}

/// One tier of the node as the golden chain sees it.
#[derive(Clone, Debug)]
struct TierShape {
    key: String,
    lanes: usize,
    pus_per_ru: usize,
    pus: u64,
    devices: u64,
}

/// What the sampler knows of the node it is attached to.
#[derive(Clone, Debug)]
struct NodeShape {
    dim: usize,
    layers: u32,
    kv_heads: u32,
    group: u32,
    pamattention: bool,
    tiers: Vec<TierShape>,
}

/// An operation taken for replay: its positions per tier and the full-size chain's outputs.
#[derive(Clone, Debug)]
pub struct Captured {
    pub id: SampleId,
    /// Attended positions of each tier, ascending.
    pub per_tier: Vec<Vec<u32>>,
    /// The group's queries (scaled FP16), and the full-size chain's FP16 outputs.
    pub queries: Vec<Vec<u16>>,
    pub outputs: Vec<Vec<u16>>,
    pub seed: u64,
}

/// Which sample to replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleRef {
    /// The n-th sample of the run (0-based, as listed in `summary.json`).
    Index(usize),
    /// Any operation: `step:request:layer:head` (node 0), or `node:step:request:layer:head`.
    Op { node: u32, step: u64, request: u64, layer: u32, kv_head: u32 },
}

impl FromStr for SampleRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "'{s}'; allowed: a sample index (0, 1, ...), step:request:layer:head or node:step:request:layer:head"
            )
        };
        let parts: Vec<u64> =
            s.split(':').map(|p| p.trim().parse::<u64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
        let narrow = |v: u64| u32::try_from(v).map_err(|_| bad());
        match parts[..] {
            [i] => Ok(SampleRef::Index(usize::try_from(i).map_err(|_| bad())?)),
            [step, request, layer, head] => {
                Ok(SampleRef::Op { node: 0, step, request, layer: narrow(layer)?, kv_head: narrow(head)? })
            }
            [node, step, request, layer, head] => {
                Ok(SampleRef::Op { node: narrow(node)?, step, request, layer: narrow(layer)?, kv_head: narrow(head)? })
            }
            _ => Err(bad()),
        }
    }
}

/// Samples a node's attention operations through the golden chain (see the module doc).
pub struct Sampler {
    config: NumericsConfig,
    seed: u64,
    node: u32,
    rng: ChaCha8Rng,
    shape: Option<NodeShape>,
    report: NumericsReport,
    /// Samples whose tier partials are corrupted before the merge (checks the checker).
    faults: u64,
    target: Option<SampleRef>,
    captured: Option<Captured>,
}

impl Sampler {
    /// A sampler for node `node` of a run whose node seed is `seed`.
    pub fn new(config: NumericsConfig, seed: u64, node: u32) -> Sampler {
        Sampler {
            config,
            seed,
            node,
            rng: ChaCha8Rng::seed_from_u64(hash(TAG_SAMPLE, &[seed, u64::from(node)])),
            shape: None,
            report: NumericsReport {
                sample_rate: config.sample_rate,
                max_samples: config.max_samples,
                ..NumericsReport::default()
            },
            faults: 0,
            target: None,
            captured: None,
        }
    }

    /// Test hook: the tier partials of the first `n` samples are corrupted (every O element's
    /// sign flipped) before they merge, so those operations must be counted as mismatches.
    #[doc(hidden)]
    pub fn inject_faults(mut self, n: u64) -> Sampler {
        self.faults = n;
        self
    }

    /// Keeps the operation `target` when it is computed (see [`replay`]).
    pub fn capture(mut self, target: SampleRef) -> Sampler {
        self.target = Some(target);
        self
    }

    /// The operation kept for replay, once computed.
    pub fn captured(&self) -> Option<&Captured> {
        self.captured.as_ref()
    }

    /// Attaches the sampler to a node of `kind` on `spec` serving `model`, using its first
    /// `tiers` tiers. Called by [`ServingNode::with_numerics`].
    pub fn attach(mut self, kind: SystemKind, spec: &NodeSpec, model: &ModelShape, tiers: usize) -> Sampler {
        if !kind.pim() {
            self.report.skipped = Some(format!(
                "{}: attention runs on the GPU in FP16/FP32, which has no bit-accurate model here",
                kind.name()
            ));
            return self;
        }
        let keys = spec.keys();
        let shapes = (0..tiers.min(spec.tiers.len()))
            .map(|t| {
                let p = &spec.tiers[t];
                let pus = p.as_dram().map_or_else(|| p.as_flash().map_or(1, |f| f.pus()), |d| d.pus()) as u64;
                TierShape {
                    key: keys[t].clone(),
                    lanes: p.pu_lanes(),
                    pus_per_ru: p.pus_per_ru().max(1),
                    pus: pus.max(1),
                    devices: (spec.devices[t] as u64 / u64::from(spec.pp)).max(1),
                }
            })
            .collect();
        self.shape = Some(NodeShape {
            dim: model.head_dim as usize,
            layers: model.layers,
            kv_heads: model.kv_heads.max(1),
            group: (model.q_heads / model.kv_heads.max(1)).max(1),
            pamattention: kind.pamattention(),
            tiers: shapes,
        });
        self
    }

    pub fn report(&self) -> &NumericsReport {
        &self.report
    }

    /// Whether the replay's operation has been taken (the run can stop).
    pub fn done(&self) -> bool {
        self.captured.is_some()
    }

    /// Called once per scheduled step, after the KV manager applied it.
    pub fn step(&mut self, step: &Step, kv: &KvManager) -> Result<(), String> {
        let Some(shape) = self.shape.clone() else { return Ok(()) };
        let decoding: Vec<u64> = step.items.iter().filter(|i| i.decode).map(|i| i.request).collect();
        if let Some(SampleRef::Op { node, step: at, request, layer, kv_head }) = self.target {
            if node != self.node || step.index != at {
                return Ok(());
            }
            if !decoding.contains(&request) {
                return Err(format!(
                    "request {request} does not decode at step {at} of node {node}; decoding: {decoding:?}"
                ));
            }
            if layer >= shape.layers || kv_head >= shape.kv_heads {
                return Err(format!(
                    "layer {layer} / KV head {kv_head}; allowed: layers 0..{}, KV heads 0..{}",
                    shape.layers, shape.kv_heads
                ));
            }
            self.op(&shape, step.index, request, layer, kv_head, kv, true);
            return Ok(());
        }
        if decoding.is_empty() || self.report.samples.len() as u64 >= self.config.max_samples {
            return Ok(());
        }
        if self.rng.random::<f64>() >= self.config.sample_rate {
            return Ok(());
        }
        let request = decoding[self.rng.random_range(0..decoding.len())];
        let layer = self.rng.random_range(0..shape.layers);
        let kv_head = self.rng.random_range(0..shape.kv_heads);
        let keep = self.target == Some(SampleRef::Index(self.report.samples.len()));
        self.op(&shape, step.index, request, layer, kv_head, kv, keep);
        Ok(())
    }

    /// Recomputes one operation and counts it; keeps it for replay when `keep`.
    #[allow(clippy::too_many_arguments)]
    fn op(&mut self, shape: &NodeShape, step: u64, request: u64, layer: u32, kv_head: u32, kv: &KvManager, keep: bool) {
        let attended = kv.attended(request);
        let mut per_tier: Vec<Vec<u32>> = vec![Vec::new(); shape.tiers.len()];
        for &(pos, t) in &attended {
            if let Some(list) = per_tier.get_mut(usize::from(t)) {
                list.push(pos);
            }
        }
        per_tier.iter_mut().for_each(|l| l.sort_unstable());
        let dim = shape.dim;
        let kvs: Vec<TierKv> = per_tier
            .iter()
            .map(|l| l.iter().map(|&p| (p, kv_vector(self.seed, request, layer, kv_head, p, dim))).collect())
            .collect();
        let slot = u64::from(kv.slot(request).unwrap_or(0));
        let corrupt = self.report.samples.len() < self.faults as usize;
        let mut id = SampleId {
            node: self.node,
            step,
            request,
            layer,
            kv_head,
            positions: shape.tiers.iter().zip(&per_tier).map(|(t, l)| (t.key.clone(), l.len() as u64)).collect(),
            ..SampleId::default()
        };
        let mut queries = Vec::new();
        let mut outputs = Vec::new();
        for h in kv_head * shape.group..(kv_head + 1) * shape.group {
            let q = query_vector(self.seed, request, step, layer, h, dim);
            let (out, err) = full_size_chain(self.seed, shape, request, slot, &q, &per_tier, &kvs, corrupt);
            let (ok, e) = check(&q, &out, per_tier.iter().zip(&kvs).flat_map(|(l, m)| l.iter().map(move |p| &m[p])));
            self.report.ops += 1;
            if !ok || err {
                id.mismatches += 1;
                self.report.mismatches += 1;
            }
            id.max_rel_err = id.max_rel_err.max(e);
            self.report.max_rel_err = self.report.max_rel_err.max(e);
            queries.push(q);
            outputs.push(out);
        }
        if keep {
            self.captured = Some(Captured { id: id.clone(), per_tier, queries, outputs, seed: self.seed });
        }
        self.report.samples.push(id);
    }
}

/// Whether `out` is within the chain's bound of float64 attention over `tokens`, and its
/// normwise relative error.
fn check<'a>(q: &[u16], out: &[u16], tokens: impl Iterator<Item = &'a Kv>) -> (bool, f64) {
    let (k, v): (Vec<f64>, Vec<f64>) =
        tokens.flat_map(|(k, v)| k.iter().zip(v).map(|(&a, &b)| (fp16_to_f64(a), fp16_to_f64(b)))).unzip();
    let q64: Vec<f64> = q.iter().map(|&h| fp16_to_f64(h)).collect();
    let x: Vec<f64> = out.iter().map(|&h| fp16_to_f64(h)).collect();
    match reference::attention(&q64, &k, &v) {
        // No token attended: the chain's output is zero.
        None => (x.iter().all(|&e| e == 0.0), 0.0),
        Some(r) => (within_bound(&x, &r), rel_err(&x, &r.out)),
    }
}

/// The float64 reference of one query over `tokens`.
fn reference_of<'a>(q: &[u16], tokens: impl Iterator<Item = &'a Kv>) -> Option<Reference> {
    let (k, v): (Vec<f64>, Vec<f64>) =
        tokens.flat_map(|(k, v)| k.iter().zip(v).map(|(&a, &b)| (fp16_to_f64(a), fp16_to_f64(b)))).unzip();
    let q64: Vec<f64> = q.iter().map(|&h| fp16_to_f64(h)).collect();
    reference::attention(&q64, &k, &v)
}

/// One query through the full-size chain (module doc, steps 1-2): its FP16 output and whether
/// a unit flagged NaN or infinity.
#[allow(clippy::too_many_arguments)]
fn full_size_chain(
    seed: u64,
    shape: &NodeShape,
    request: u64,
    slot: u64,
    q: &[u16],
    per_tier: &[Vec<u32>],
    kvs: &[TierKv],
    corrupt: bool,
) -> (Vec<u16>, bool) {
    let dim = q.len();
    let mut err = false;
    let mut tier_parts = Vec::new();
    for (t, (positions, kv)) in per_tier.iter().zip(kvs).enumerate().filter(|(_, (l, _))| !l.is_empty()) {
        let ts = &shape.tiers[t];
        // device -> PU -> positions, in order.
        let mut tree: BTreeMap<u64, BTreeMap<u64, Vec<u32>>> = BTreeMap::new();
        for &p in positions {
            let h = hash(TAG_PLACE, &[seed, request, u64::from(p), t as u64]);
            let device = if shape.pamattention { h % ts.devices } else { slot % ts.devices };
            let pu = (h / ts.devices) % ts.pus;
            tree.entry(device).or_default().entry(pu).or_default().push(p);
        }
        let mut device_parts = Vec::new();
        for pus in tree.values() {
            let mut groups: BTreeMap<u64, Vec<Partial>> = BTreeMap::new();
            for (&pu, list) in pus {
                let k: Vec<u16> = list.iter().flat_map(|p| kv[p].0.iter().copied()).collect();
                let v: Vec<u16> = list.iter().flat_map(|p| kv[p].1.iter().copied()).collect();
                let r = local_attention(q, &k, &v, ts.lanes);
                err |= r.err;
                groups.entry(pu / ts.pus_per_ru as u64).or_default().push(r.partial);
            }
            let group_parts: Vec<Partial> = groups.values().map(|g| merge(dim, g, &mut err)).collect();
            device_parts.push(merge(dim, &group_parts, &mut err));
        }
        let mut part = merge(dim, &device_parts, &mut err);
        if corrupt {
            part.o.iter_mut().for_each(|x| *x ^= 0x8000_0000);
        }
        tier_parts.push(part);
    }
    let total = merge(dim, &tier_parts, &mut err);
    let (out, _) = ru::finalize(&total);
    (out, err)
}

fn merge(dim: usize, parts: &[Partial], err: &mut bool) -> Partial {
    let (p, e) = ru::merge(dim, parts);
    *err |= e;
    p
}

#[derive(Debug, thiserror::Error)]
pub enum NumericsError {
    #[error("replay: {0}")]
    Setup(String),
    #[error("replay of {system}: the serving loop failed before the sample: {source}")]
    Engine { system: String, source: EngineError },
    #[error("replay, tier {tier} ({preset}): {source}")]
    Device { tier: String, preset: String, source: SimError },
    #[error("replay, merge RU: {0}")]
    Merge(SimError),
}

/// What [`replay`] is asked for.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    pub sample: SampleRef,
    pub waves: bool,
    /// Where the waveforms go.
    pub out: PathBuf,
}

/// One tier of a replay.
#[derive(Clone, Debug, Serialize)]
pub struct ReplayTier {
    pub key: String,
    /// The full-size preset, and the Verilated one that stood for it.
    pub preset: String,
    pub verilated: String,
    pub positions: usize,
    /// Device runs (each holds at most what one scaled device stores).
    pub runs: usize,
    /// Time of the tier's runs on the scaled device, ps.
    pub ps: u64,
}

/// What a replay found.
#[derive(Clone, Debug, Serialize)]
pub struct ReplayReport {
    pub id: SampleId,
    /// Query heads of the group.
    pub queries: usize,
    pub tiers: Vec<ReplayTier>,
    /// Every device partial and every output agreed bit for bit with the golden model.
    pub bit_exact: bool,
    /// The disagreements, if any.
    pub mismatches: Vec<String>,
    /// The replay's outputs against float64: all within the bound, largest error.
    pub within_bound: bool,
    pub max_rel_err: f64,
    /// Largest normwise difference between the replay's outputs and the full-size chain's
    /// (another merge tree over the same tokens).
    pub max_rel_diff_full_size: f64,
    /// FST dumps and the GTKWave view of each.
    pub waves: Vec<(PathBuf, String)>,
}

impl ReplayReport {
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let id = &self.id;
        let _ = writeln!(
            s,
            "replay of node {} step {} request {} layer {} KV head {} ({} query heads):",
            id.node, id.step, id.request, id.layer, id.kv_head, self.queries
        );
        for t in &self.tiers {
            let _ = writeln!(
                s,
                "  {:<5} {:>6} positions on {} (Verilated, standing for {}), {} device run(s), {:.3} us",
                t.key,
                t.positions,
                t.verilated,
                t.preset,
                t.runs,
                t.ps as f64 / 1e6
            );
        }
        let _ = writeln!(
            s,
            "  RTL vs golden chain: {}; vs float64: max rel err {:.3e} ({}); vs the full-size chain: max rel diff {:.3e}",
            if self.bit_exact { "bit-exact".to_string() } else { format!("{} mismatches: {}", self.mismatches.len(), self.mismatches[0]) },
            self.max_rel_err,
            if self.within_bound { "within the bound" } else { "OUTSIDE the bound" },
            self.max_rel_diff_full_size
        );
        for (f, v) in &self.waves {
            let _ = writeln!(s, "  waves:    gtkwave {} {}", f.display(), v);
        }
        s
    }
}

/// Replays one sampled operation of `system` (module doc): re-runs the serving loop of the
/// sample's node with the same seed until the operation is computed, then runs it through the
/// Verilated devices. `workload` and `engine` are the load point the sample came from.
pub fn replay(
    ctx: &Context<'_>,
    system: SystemRun,
    workload: &Workload,
    engine: &EngineConfig,
    opts: &ReplayOptions,
) -> Result<ReplayReport, NumericsError> {
    let label = system.label();
    if !system.kind.pim() {
        return Err(NumericsError::Setup(format!("{label}: attention runs on the GPU; only PIM systems replay")));
    }
    let captured = capture(ctx, system, workload, engine, opts.sample)?;
    run_on_rtl(ctx.serving, &captured, opts)
}

/// Re-runs the serving loop until the sample is computed; its positions and outputs.
fn capture(
    ctx: &Context<'_>,
    system: SystemRun,
    workload: &Workload,
    engine: &EngineConfig,
    sample: SampleRef,
) -> Result<Captured, NumericsError> {
    let s = ctx.serving;
    let label = system.label();
    let shards = route(workload, s.nodes, s.router).map_err(|e| NumericsError::Setup(e.to_string()))?;
    let nodes: Vec<usize> = match sample {
        SampleRef::Op { node, .. } => vec![node as usize],
        SampleRef::Index(_) => (0..shards.len()).collect(),
    };
    // Samples are listed node after node: an index counts through the nodes in order.
    let mut skip = match sample {
        SampleRef::Index(i) => i,
        SampleRef::Op { .. } => 0,
    };
    for instance in nodes {
        let (local, _) = shards
            .get(instance)
            .ok_or_else(|| NumericsError::Setup(format!("node {instance}; the run has {} node(s)", shards.len())))?;
        let target = match sample {
            SampleRef::Index(_) => SampleRef::Index(skip),
            op => op,
        };
        let (mut node, cfg) =
            crate::serve::run::build_node(s, system, ctx.timing, engine, ctx.seed, instance, |x| x.capture(target))
                .map_err(|e| NumericsError::Setup(format!("{label}: {e}")))?;
        let blocks = cfg.num_blocks(&s.model).map_err(|e| NumericsError::Setup(format!("{label}: {e}")))?;
        let run = simulate_node(&cfg, blocks, &s.model, ctx.gpu, &mut node, local, &mut ());
        let sampler = node.numerics();
        if let Some(c) = sampler.and_then(Sampler::captured) {
            return Ok(c.clone());
        }
        run.map_err(|source| NumericsError::Engine { system: label.clone(), source })?;
        let taken = sampler.map_or(0, |x| x.report().samples.len());
        if let SampleRef::Index(_) = sample {
            skip -= taken.min(skip);
        }
    }
    Err(NumericsError::Setup(match sample {
        SampleRef::Index(i) => format!("{label}: the run took fewer than {} samples", i + 1),
        SampleRef::Op { node, step, request, .. } => {
            format!("{label}: node {node} never reached step {step} with request {request} decoding")
        }
    }))
}

/// The Verilated preset standing for the full-size `preset`.
fn scaled_for(preset: &TierPreset) -> Result<TierPreset, NumericsError> {
    TierPreset::verilated()
        .find(|p| p.reference == preset.name())
        .cloned()
        .ok_or_else(|| NumericsError::Setup(format!("{}: no Verilated preset stands for it", preset.name())))
}

/// The captured operation through the Verilated devices (module doc).
fn run_on_rtl(s: &Serving, c: &Captured, opts: &ReplayOptions) -> Result<ReplayReport, NumericsError> {
    let dim = s.model.head_dim as usize;
    let id = &c.id;
    let keys = s.node.keys();
    if opts.waves {
        std::fs::create_dir_all(&opts.out)
            .map_err(|e| NumericsError::Setup(format!("cannot create {}: {e}", opts.out.display())))?;
    }
    let g = c.queries.len();
    let mut parts: Vec<Vec<Partial>> = vec![Vec::new(); g];
    let mut tiers = Vec::new();
    let mut mismatches = Vec::new();
    let mut waves = Vec::new();
    let mut tokens_all: Vec<Kv> = Vec::new();
    let mut first_scaled: Option<TierPreset> = None;
    for (t, positions) in c.per_tier.iter().enumerate() {
        let full = &s.node.tiers[t];
        let scaled = scaled_for(full)?;
        first_scaled.get_or_insert_with(|| scaled.clone());
        if positions.is_empty() {
            continue;
        }
        let fail =
            |source: SimError| NumericsError::Device { tier: keys[t].clone(), preset: scaled.name().into(), source };
        let capacity = scaled.capacity(dim).map_err(fail)?;
        let mut dev = scaled.open_with_pu_clock(None).map_err(fail)?;
        dev.load_queries(&c.queries).map_err(fail)?;
        let mut runs = 0;
        let mut ps = 0;
        for (r, chunk) in positions.chunks(capacity.max(1)).enumerate() {
            let mut placer = scaled.device_placer(dim, t as u8, 0).map_err(|e| fail(SimError::Input(e.to_string())))?;
            let mut store: HashMap<PhysLoc, Kv> = HashMap::new();
            let mut locs = Vec::with_capacity(chunk.len());
            for &p in chunk {
                let loc = placer.place().map_err(|e| fail(SimError::Input(e.to_string())))?;
                let (k, v) = kv_vector(c.seed, id.request, id.layer, id.kv_head, p, dim);
                dev.write_token(&loc, &k, &v).map_err(fail)?;
                tokens_all.push((k.clone(), v.clone()));
                store.insert(loc, (k, v));
                locs.push(loc);
            }
            if opts.waves {
                let stem = format!("replay_s{}_r{}_tier{t}_{}_run{r}_p0000", id.step, id.request, scaled.name());
                let files = dev.trace_open(&opts.out, &stem).map_err(fail)?;
                if let Some(mem) = files.first() {
                    crate::device::view::write_device_view(&scaled, mem).map_err(fail)?;
                }
                waves.extend(files.into_iter().map(|f| {
                    let v = crate::run::view_for(&f);
                    (f, v)
                }));
            }
            let run = dev.run(&locs);
            dev.close_traces();
            let run = run.map_err(fail)?;
            if run.err {
                mismatches.push(format!("tier {} run {r}: the device raised its error flag", keys[t]));
            }
            for (qi, q) in c.queries.iter().enumerate() {
                let golden = dev.golden(q, &locs, |l: &PhysLoc| {
                    let (k, v) = &store[l];
                    (k.as_slice(), v.as_slice())
                });
                let got = run.partials.get(qi).cloned().unwrap_or_else(|| Partial::empty(dim));
                if let Some(d) = got.diff(&golden) {
                    mismatches.push(format!("tier {} run {r} query {qi}: RTL vs golden partial: {d}", keys[t]));
                }
                parts[qi].push(got);
            }
            runs += 1;
            ps += run.ps;
        }
        tiers.push(ReplayTier {
            key: keys[t].clone(),
            preset: full.name().into(),
            verilated: scaled.name().into(),
            positions: positions.len(),
            runs,
            ps,
        });
    }
    // The tiers' partials meet in an RU of the first tier (HBM), on its PU clock.
    let merging = first_scaled.ok_or_else(|| NumericsError::Setup("the node has no tier".into()))?;
    let mut ru_sim = RuSim::new(merging.pu_lanes(), merging.pu_clock_mhz()).map_err(NumericsError::Merge)?;
    if opts.waves {
        let f = opts.out.join(format!("replay_s{}_r{}_merge_ru{}.fst", id.step, id.request, merging.pu_lanes()));
        ru_sim.model().trace_open(&f).map_err(NumericsError::Merge)?;
        let v = crate::run::view_for(&f);
        waves.push((f, v));
    }
    let (mut within, mut max_err, mut max_diff) = (true, 0.0f64, 0.0f64);
    for (qi, q) in c.queries.iter().enumerate() {
        let list = if parts[qi].is_empty() { vec![Partial::empty(dim)] } else { parts[qi].clone() };
        let merged = ru_sim.reduce(dim, &list, true);
        let merged = match merged {
            Ok(m) => m,
            Err(e) => {
                ru_sim.model().trace_close();
                return Err(NumericsError::Merge(e));
            }
        };
        let RuOutput::Final { out, lse } = merged.output else {
            return Err(NumericsError::Merge(SimError::Input("FINAL returned no normalised output".into())));
        };
        let (golden_out, golden_lse) = ru::finalize(&ru::merge(dim, &list).0);
        if out != golden_out || lse != golden_lse {
            let i = out.iter().zip(&golden_out).position(|(a, b)| a != b);
            mismatches.push(format!(
                "query {qi}: merge RU vs golden: {}",
                i.map_or(format!("lse {lse:#010x} vs {golden_lse:#010x}"), |i| format!(
                    "out[{i}] {:#06x} vs {:#06x}",
                    out[i], golden_out[i]
                ))
            ));
        }
        if merged.err {
            mismatches.push(format!("query {qi}: the merge RU raised its error flag"));
        }
        let x: Vec<f64> = out.iter().map(|&h| fp16_to_f64(h)).collect();
        if let Some(r) = reference_of(q, tokens_all.iter()) {
            within &= within_bound(&x, &r);
            max_err = max_err.max(rel_err(&x, &r.out));
        }
        let full: Vec<f64> = c.outputs[qi].iter().map(|&h| fp16_to_f64(h)).collect();
        max_diff = max_diff.max(rel_err(&x, &full));
    }
    ru_sim.model().trace_close();
    Ok(ReplayReport {
        id: id.clone(),
        queries: g,
        tiers,
        bit_exact: mismatches.is_empty(),
        mismatches,
        within_bound: within,
        max_rel_err: max_err,
        max_rel_diff_full_size: max_diff,
        waves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_and_queries_are_pure_functions_of_their_tuple() {
        assert_eq!(kv_vector(1, 2, 3, 4, 5, 128), kv_vector(1, 2, 3, 4, 5, 128));
        let base = kv_vector(1, 2, 3, 4, 5, 128);
        for other in [
            kv_vector(2, 2, 3, 4, 5, 128),
            kv_vector(1, 3, 3, 4, 5, 128),
            kv_vector(1, 2, 4, 4, 5, 128),
            kv_vector(1, 2, 3, 5, 5, 128),
            kv_vector(1, 2, 3, 4, 6, 128),
        ] {
            assert_ne!(base, other);
        }
        assert_eq!(query_vector(1, 2, 3, 4, 5, 64), query_vector(1, 2, 3, 4, 5, 64));
        assert_ne!(query_vector(1, 2, 3, 4, 5, 64), query_vector(1, 2, 4, 4, 5, 64));
    }

    #[test]
    fn sample_refs_parse_and_bad_ones_say_what_is_allowed() {
        assert_eq!("7".parse::<SampleRef>(), Ok(SampleRef::Index(7)));
        assert_eq!(
            "10:3:5:1".parse::<SampleRef>(),
            Ok(SampleRef::Op { node: 0, step: 10, request: 3, layer: 5, kv_head: 1 })
        );
        assert!("1:2".parse::<SampleRef>().unwrap_err().contains("allowed"));
        assert!("x".parse::<SampleRef>().is_err());
    }

    #[test]
    fn config_validation_names_the_field() {
        assert_eq!(NumericsConfig { sample_rate: 1.5, ..Default::default() }.validate().unwrap_err().0, "sample_rate");
        assert!(NumericsConfig::default().validate().is_ok());
    }
}
