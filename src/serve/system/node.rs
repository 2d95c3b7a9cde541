//! A serving node at full size (SERVING-SPEC §2, §7, §8) and the engine's node model of each
//! system: what a step costs beyond the GPU time backend.
//!
//! # The node
//!
//! GPUs (a preset, TP x PP of them) and memory tiers at their reference geometry, fastest first.
//! A tier labelled HBM first in the list is the GPUs' own HBM: its capacity is what vLLM's pool
//! would get (memory x utilisation - weights - reserved, over all GPUs), and its devices are the
//! stacks. The other tiers hold `devices x` what one device stores. Capacities are counted in
//! token positions (K and V of every layer and KV head, [`ModelShape::kv_bytes_per_token`]).
//!
//! **Decision (devices per stage):** with pipeline parallelism the KV of a stage's layers lives
//! in that stage's share of every tier (`devices / PP`, at least one): the HBM stacks of its
//! GPUs, and an equal share of the DIMMs, expanders and SSDs, so the stages' attention never
//! contends for a device.
//!
//! # One step of a PIM system (per stage; L its layers, g = query heads / KV heads)
//!
//! The GPU runs the dense operators and prefill attention (compute-bound, on the GPU:
//! [`AttentionOn::PimDecode`]); every decode's attention runs in the tiers. Per layer and tier:
//! 1. the queries go out and the partial results (O in FP32, m, l) come back over each device's
//!    link ([`TierTiming::link_ps`]), for every request with attended positions on the device;
//!    under TP a device holds the KV heads of one GPU's share (as vLLM splits them), so it sees
//!    that GPU's query heads;
//! 2. the busiest device attends its token-vectors (positions x KV heads):
//!    [`TierTiming::device_ps`]. With PAMattention a tier's attended token-vectors spread evenly
//!    over its devices; without it each request's attention in a tier runs in one device
//!    (request slot modulo devices) and the busiest device is the most loaded one. With the KV
//!    mapping the busiest PU holds the device's share rounded up; without it, attended tokens
//!    fall into PUs as balls into bins, and the busiest PU holds about
//!    mu + sqrt(2 mu ln P) (mu the mean per PU, P the PUs), the classic maximum-load estimate;
//! 3. the devices' partials merge in the tier's RUs ([`TierTiming::merge_ps`], PAMattention), or
//!    on the GPU after the link (without it);
//! 4. the tiers run in parallel; their partials merge in the HBM tier's RUs.
//!
//! A layer takes the slowest tier plus the merge; the stage adds L of them to its GPU time
//! (the GPU waits for attention: the output projection needs it). Migrations (the scheduler's
//! swaps, through the migration interface: [`PimTiming::migrate_ps`]) and writes of new KV into
//! tiers below the first overlap attention: the stage adds only what exceeds it.
//!
//! # One step of vllm-offload
//!
//! Attention on the GPU over every attended position. Per layer, each GPU also streams the KV
//! of its heads held beyond the first tier, at min(host link per GPU, what the tier delivers /
//! GPUs); a layer takes max(GPU time, transfer time), so the stage adds L x max(0, transfer -
//! GPU layer time).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::energy::{j_per_byte, EnergyConstants, EnergyReport};
use super::kind::SystemKind;
use super::kv::{KvManager, KvPolicy, Locality, StepKv, MAX_TIERS};
use crate::device::tier::TierPreset;
use crate::serve::engine::{EngineError, NodeModel, StageExtra, Step};
use crate::serve::gpu::{AttentionOn, GpuPreset, IterationTime, ModelShape};
use crate::serve::numerics::{NumericsReport, Sampler};
use crate::serve::pim::rtl::RtlTier;
use crate::serve::pim::{PimTiming, TierLoad, TierTiming};

/// A node's hardware: GPUs and tiers at full size.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub gpu: GpuPreset,
    pub tp: u32,
    pub pp: u32,
    /// Reference presets, fastest first.
    pub tiers: Vec<TierPreset>,
    /// Devices of each tier on the node.
    pub devices: Vec<usize>,
    /// vLLM's `gpu_memory_utilization` (the HBM tier's share of the GPU memory).
    pub gpu_memory_utilization: f64,
    /// Bytes per GPU kept for activations and the runtime.
    pub reserved_bytes_per_gpu: u64,
    /// Host to each GPU (PCIe 5 x16: 64 GB/s, about 54 achievable), bytes/s.
    pub host_link_bytes_per_s: f64,
}

impl NodeSpec {
    pub fn gpus(&self) -> u32 {
        self.tp * self.pp
    }

    /// Tier keys: labels in lower case (`hbm`, `ddr`, ...), numbered when repeated.
    pub fn keys(&self) -> Vec<String> {
        crate::device::tier::tier_keys(&self.tiers)
    }

    /// Whether tier 0 is the GPUs' own HBM (a full-size HBM preset first; a scaled one holds
    /// what its devices hold).
    pub fn gpu_hbm(&self) -> bool {
        self.tiers.first().is_some_and(|t| t.label() == "HBM" && t.reference == t.name())
    }

    /// Positions each tier holds for `model` (head dimension `model.head_dim`).
    pub fn capacities(&self, model: &ModelShape) -> Result<Vec<u64>, String> {
        let per_position = model.kv_bytes_per_token();
        let dim = model.head_dim as usize;
        let mut caps = Vec::new();
        for (i, (t, &n)) in self.tiers.iter().zip(&self.devices).enumerate() {
            let bytes = if i == 0 && self.gpu_hbm() {
                let budget = self.gpu.memory_bytes() as f64 * self.gpu_memory_utilization;
                let per_gpu =
                    budget - model.weight_bytes() as f64 / f64::from(self.gpus()) - self.reserved_bytes_per_gpu as f64;
                if per_gpu <= 0.0 {
                    return Err(format!(
                        "{} does not fit: {} GPUs of {} MiB at utilisation {} hold {:.1} GB of weights per GPU plus {} reserved bytes",
                        model.name,
                        self.gpus(),
                        self.gpu.memory_mib,
                        self.gpu_memory_utilization,
                        model.weight_bytes() as f64 / f64::from(self.gpus()) / 1e9,
                        self.reserved_bytes_per_gpu
                    ));
                }
                per_gpu * f64::from(self.gpus())
            } else {
                let tokens = t.device_capacity(dim).map_err(|e| e.to_string())?;
                (tokens * crate::migration::interface::token_bytes(dim)) as f64 * n as f64
            };
            caps.push((bytes / per_position as f64).floor() as u64);
        }
        Ok(caps)
    }

    /// What a tier delivers to the host in all, bytes/s: its links, or for flash the slower of
    /// its link and its dies and channels.
    fn deliver_bytes_per_s(&self, tier: usize) -> f64 {
        let t = &self.tiers[tier];
        let own = t.as_flash().map_or(f64::INFINITY, |f| f.stream_bound());
        t.link.bandwidth.min(own) * self.devices[tier] as f64
    }
}

/// One tier's figures over a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TierReport {
    pub preset: String,
    pub devices: usize,
    pub capacity_positions: u64,
    /// Most positions held at once.
    pub peak_positions: u64,
    /// Fraction of the run the tier's busiest device computed attention.
    pub utilisation: f64,
    /// Bytes its PUs read (K and V of attended positions).
    pub pim_bytes: f64,
    /// Positions attended per decode step, mean.
    pub attended_per_step: f64,
    /// Share of the attended positions (the importance it holds), mean over steps.
    pub importance_share: f64,
}

/// A system's node figures over a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeReport {
    pub system: String,
    pub sparse: bool,
    pub locality: Option<Locality>,
    /// The scheduler's target weights (fastest first), if it runs.
    pub target: Option<Vec<f64>>,
    pub tiers: BTreeMap<String, TierReport>,
    /// Steps with decodes.
    pub decode_steps: u64,
    pub migrated_positions: u64,
    /// Positions migrated per decode step, mean; and as a fraction of the positions stored.
    pub migrated_per_step: f64,
    pub migrated_fraction_per_step: f64,
    pub energy: EnergyReport,
    /// A hash of every step's KV decisions (positions written and attended per tier, swaps):
    /// two runs with the same value decided alike.
    pub decisions: u64,
    /// RTL runs made when the tiers' RTL is in the loop (0 on the calibrated model).
    pub rtl_runs: u64,
    /// The sample of attention operations recomputed through the bit-accurate chain.
    pub numerics: NumericsReport,
}

/// Per-tier parts of a stage.
struct TierCost {
    attention_ps: f64,
    link_ps: f64,
    pim_bytes: f64,
    link_bytes: f64,
}

/// The node model of one system.
pub struct ServingNode<'a> {
    kind: SystemKind,
    sparse: bool,
    spec: NodeSpec,
    model: ModelShape,
    /// The tiers this system uses (attacc: the first only).
    tiers: usize,
    keys: Vec<String>,
    timing: &'a PimTiming,
    /// Every tier's Verilated device, when the RTL is in the loop.
    rtl: Option<Vec<RtlTier>>,
    kv: KvManager,
    energy: EnergyConstants,
    parts: Vec<Arc<str>>,
    report: NodeReport,
    busy_ps: Vec<f64>,
    attended: Vec<f64>,
    share: Vec<f64>,
    stored_sum: f64,
    gpu_busy_s: f64,
    numerics: Option<Sampler>,
}

impl<'a> ServingNode<'a> {
    /// The node model of `kind` on `spec` serving `model`; `timing` has a [`TierTiming`] per
    /// tier of `spec` (same order). Fails naming what does not fit.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: SystemKind,
        sparse: bool,
        spec: &NodeSpec,
        model: &ModelShape,
        timing: &'a PimTiming,
        locality: Locality,
        energy: &EnergyConstants,
        swap_budget: f64,
        seed: u64,
    ) -> Result<ServingNode<'a>, String> {
        if timing.tiers.len() != spec.tiers.len() {
            return Err(format!("{} tier timings for {} tiers", timing.tiers.len(), spec.tiers.len()));
        }
        let tiers = if kind.top_tier_only() { 1 } else { spec.tiers.len() };
        if tiers > MAX_TIERS {
            return Err(format!("{} tiers; allowed: at most {MAX_TIERS}", spec.tiers.len()));
        }
        for t in &spec.tiers[..tiers] {
            energy.tier(t.label())?;
        }
        let capacity = spec.capacities(model)?[..tiers].to_vec();
        let group = model.q_heads / model.kv_heads.max(1);
        let target = (kind.scheduler() && sparse && tiers > 1).then(|| {
            // Each tier's node throughput in token-vectors per second (PAM-SPEC §7 Decision):
            // at the target split every tier finishes its share together.
            let rate: Vec<f64> = (0..tiers)
                .map(|t| {
                    let tt = &timing.tiers[t];
                    tt.node_token_vectors_per_s(group) / tt.devices() as f64 * spec.devices[t] as f64
                })
                .collect();
            let last = rate[tiers - 1];
            rate.iter().map(|r| r / last).collect::<Vec<f64>>()
        });
        let policy = KvPolicy {
            capacity: capacity.clone(),
            sparse: sparse.then_some(locality),
            target: target.clone(),
            swap_budget,
        };
        let keys: Vec<String> = spec.keys()[..tiers].to_vec();
        let mut parts: Vec<Arc<str>> = Vec::new();
        if kind.pim() {
            for k in &keys {
                parts.push(Arc::from(format!("{k}_attention")));
                parts.push(Arc::from(format!("{k}_link")));
            }
            // The tiers' partials merge in the first tier's RUs.
            parts.push(Arc::from(format!("{}_merge", keys[0])));
            parts.extend(["migration", "kv_write"].map(Arc::from));
        } else {
            parts.extend(keys[1..].iter().map(|k| Arc::from(format!("offload_{k}"))));
        }
        let report = NodeReport {
            system: kind.name().into(),
            sparse,
            locality: sparse.then_some(locality),
            target,
            tiers: keys
                .iter()
                .enumerate()
                .map(|(t, k)| {
                    let r = TierReport {
                        preset: spec.tiers[t].name().into(),
                        devices: spec.devices[t],
                        capacity_positions: capacity[t],
                        ..TierReport::default()
                    };
                    (k.clone(), r)
                })
                .collect(),
            ..NodeReport::default()
        };
        Ok(ServingNode {
            kind,
            sparse,
            spec: spec.clone(),
            model: model.clone(),
            tiers,
            keys,
            timing,
            rtl: None,
            kv: KvManager::new(policy, seed),
            energy: energy.clone(),
            parts,
            report,
            busy_ps: vec![0.0; tiers],
            attended: vec![0.0; tiers],
            share: vec![0.0; tiers],
            stored_sum: 0.0,
            gpu_busy_s: 0.0,
            numerics: None,
        })
    }

    /// Puts every tier's RTL in the loop (scaled, Verilated presets only): device times come
    /// from running each step's loads on the Verilated devices instead of the calibrated model.
    pub fn with_rtl(mut self, seed: u64) -> Result<Self, String> {
        let dim = self.model.head_dim as usize;
        let tiers = (0..self.tiers)
            .map(|t| RtlTier::open(&self.spec.tiers[t], dim, seed ^ t as u64).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        self.rtl = Some(tiers);
        Ok(self)
    }

    /// Positions the KV pool holds in all (the engine's pool is this, in blocks).
    pub fn capacity_positions(&self) -> u64 {
        self.report.tiers.values().map(|t| t.capacity_positions).sum()
    }

    pub fn kv(&self) -> &KvManager {
        &self.kv
    }

    /// Samples attention operations through the bit-accurate chain ([`crate::serve::numerics`]).
    pub fn with_numerics(mut self, sampler: Sampler) -> Self {
        self.numerics = Some(sampler.attach(self.kind, &self.spec, &self.model, self.tiers));
        self
    }

    pub fn numerics(&self) -> Option<&Sampler> {
        self.numerics.as_ref()
    }

    /// The run's figures, given its length (for static and idle power).
    pub fn report(&self, elapsed_s: f64) -> NodeReport {
        let mut r = self.report.clone();
        r.rtl_runs = self.rtl.iter().flatten().map(|t| t.runs).sum();
        r.numerics = self.numerics.as_ref().map(|s| s.report().clone()).unwrap_or_default();
        let steps = r.decode_steps.max(1) as f64;
        for (t, k) in self.keys.iter().enumerate() {
            if let Some(tr) = r.tiers.get_mut(k) {
                tr.utilisation = if elapsed_s > 0.0 { self.busy_ps[t] * 1e-12 / elapsed_s } else { 0.0 };
                tr.attended_per_step = self.attended[t] / steps;
                tr.importance_share = self.share[t] / steps;
            }
        }
        r.migrated_per_step = r.migrated_positions as f64 / steps;
        r.migrated_fraction_per_step =
            if self.stored_sum > 0.0 { r.migrated_positions as f64 / self.stored_sum } else { 0.0 };
        let gpus = f64::from(self.spec.gpus());
        r.energy.gpu_j += (gpus * elapsed_s - self.gpu_busy_s).max(0.0) * self.energy.gpu.idle_w;
        for t in 0..self.tiers {
            let idle = self.energy.tier(self.spec.tiers[t].label()).map_or(0.0, |e| e.idle_w_per_device);
            if !(t == 0 && self.spec.gpu_hbm()) {
                r.energy.static_j += idle * self.spec.devices[t] as f64 * elapsed_s;
            }
        }
        r
    }

    fn tier_energy(&self, t: usize) -> (f64, f64) {
        self.energy
            .tier(self.spec.tiers[t].label())
            .map_or((0.0, 0.0), |e| (j_per_byte(e.pim_read_pj_per_bit), j_per_byte(e.host_read_pj_per_bit)))
    }

    /// Whether tier `t`'s link is off the package (PCIe, CXL, the memory bus: PCIe energy).
    fn off_package(&self, t: usize) -> bool {
        !(t == 0 && self.spec.gpu_hbm())
    }

    /// Devices of tier `t` a stage's layers use.
    fn stage_devices(&self, t: usize) -> u64 {
        (self.spec.devices[t] as u64 / u64::from(self.spec.pp)).max(1)
    }

    /// One layer of tier `t` for the decoding requests' attended positions `att` (slots
    /// alongside).
    fn tier_layer(&mut self, t: usize, att: &[[u64; MAX_TIERS]], slots: &[u32]) -> Result<TierCost, String> {
        let tt: &TierTiming = &self.timing.tiers[t];
        let m = &self.model;
        let (kvh, group, dim) = (u64::from(m.kv_heads), m.q_heads / m.kv_heads.max(1), u64::from(m.head_dim));
        let devices = self.stage_devices(t);
        let total: u64 = att.iter().map(|a| a[t]).sum::<u64>() * kvh;
        if total == 0 {
            return Ok(TierCost { attention_ps: 0.0, link_ps: 0.0, pim_bytes: 0.0, link_bytes: 0.0 });
        }
        let requests = att.iter().filter(|a| a[t] > 0).count() as u64;
        let (busiest, requests_per_device) = if self.kind.pamattention() {
            (total.div_ceil(devices), requests)
        } else {
            let mut load = vec![0u64; devices as usize];
            let mut reqs = vec![0u64; devices as usize];
            for (a, &s) in att.iter().zip(slots) {
                let d = (u64::from(s) % devices) as usize;
                load[d] += a[t] * kvh;
                reqs[d] += u64::from(a[t] > 0);
            }
            let i = (0..load.len()).max_by_key(|&i| load[i]).unwrap_or(0);
            (load[i], reqs[i])
        };
        let pus = tt.pus_per_device().max(1);
        let busiest_pu = if self.kind.mapping() {
            busiest.div_ceil(pus)
        } else {
            // Placed without the mapping, a PU gets its tokens at random: the expected busiest
            // of `pus` bins, but no more than a PU holds (a full device is balanced).
            let mu = busiest as f64 / pus as f64;
            let random = (mu + (2.0 * mu * (pus as f64).ln()).sqrt()).ceil() as u64;
            random.min(tt.capacity().div_ceil(pus)).clamp(busiest.div_ceil(pus), busiest)
        };
        let load = TierLoad { token_vectors: busiest, busiest_pu, group };
        // Sparse attention draws its positions among those stored: they touch more rows
        // (pages) than packed ones.
        let stored = self.sparse.then(|| self.kv.used()[t] * kvh / devices);
        let device = match (&mut self.rtl, stored) {
            (Some(rtl), _) => rtl[t].device_ps(&load, stored).map_err(|e| e.to_string())?,
            (None, Some(stored)) => tt.device_ps_sparse(&load, stored),
            (None, None) => tt.device_ps(&load),
        };
        let merge = if self.kind.pamattention() { tt.merge_ps(devices, group) } else { 0.0 };
        // Per request and query head: the FP16 query out, O in FP32 and (m, l) back. Under TP a
        // device holds the KV heads of one GPU's share, so it sees that share of the queries.
        let heads = u64::from((m.q_heads / self.spec.tp).max(1));
        let per_request = heads * (2 * dim + 4 * dim + 8);
        let link_bytes = requests_per_device * per_request;
        Ok(TierCost {
            attention_ps: device + merge,
            link_ps: tt.link_ps(link_bytes),
            pim_bytes: (total * tt.token_vector_bytes()) as f64,
            link_bytes: (link_bytes * devices) as f64,
        })
    }

    fn pim_stage(&mut self, kv: &StepKv, slots: &[u32], gpu: &IterationTime) -> Result<StageExtra, String> {
        let layers = f64::from(gpu.layers);
        let mut costs: Vec<TierCost> = Vec::with_capacity(self.tiers);
        for t in 0..self.tiers {
            costs.push(self.tier_layer(t, &kv.attended, slots)?);
        }
        let busy: Vec<usize> = (0..self.tiers).filter(|&t| costs[t].attention_ps > 0.0).collect();
        let group = self.model.q_heads / self.model.kv_heads.max(1);
        let merge_ps = match busy.len() {
            0 | 1 => 0.0,
            n if self.kind.pamattention() => self.timing.tiers[0].merge_ps(n as u64, group),
            _ => 0.0,
        };
        let layer_ps = costs.iter().map(|c| c.attention_ps + c.link_ps).fold(0.0, f64::max) + merge_ps;
        let attention_us = layers * layer_ps / 1e6;
        // The stage's share of a position's bytes.
        let per_position = self.model.kv_bytes_per_token() as f64 * layers / f64::from(self.model.layers);
        let mut migration_ps = 0.0;
        let mut migration_j = 0.0;
        for k in 0..self.tiers.saturating_sub(1) {
            let n = kv.swaps[k];
            if n > 0 {
                let up = self.timing.migrate_ps(k + 1, k, n, per_position as u64);
                let down = self.timing.migrate_ps(k, k + 1, n, per_position as u64);
                migration_ps += up.max(down);
                let bytes = 2.0 * n as f64 * per_position;
                let ((_, a), (_, b)) = (self.tier_energy(k), self.tier_energy(k + 1));
                migration_j += bytes * (a + b + j_per_byte(self.energy.links.pcie_pj_per_bit));
            }
        }
        let mut write_ps: f64 = 0.0;
        let mut write_j = 0.0;
        for t in 1..self.tiers {
            let n = kv.written[t];
            if n > 0 {
                let bytes = n as f64 * per_position;
                let per_device = (bytes / self.stage_devices(t) as f64) as u64;
                write_ps = write_ps.max(self.timing.tiers[t].link_ps(per_device));
                write_j += bytes * (self.tier_energy(t).1 + j_per_byte(self.energy.links.pcie_pj_per_bit));
            }
        }
        let overlapped_us = (migration_ps + write_ps) / 1e6;
        let mut parts = Vec::with_capacity(self.parts.len());
        let mut pim_j = Vec::new();
        let mut link_j = 0.0;
        for (t, c) in costs.iter().enumerate() {
            parts.push(layers * c.attention_ps / 1e6);
            parts.push(layers * c.link_ps / 1e6);
            self.busy_ps[t] += layers * costs[t].attention_ps;
            let (pim, _) = self.tier_energy(t);
            pim_j.push(layers * c.pim_bytes * pim * (1.0 + self.energy.pu_op_factor));
            if self.off_package(t) {
                link_j += layers * c.link_bytes * j_per_byte(self.energy.links.pcie_pj_per_bit);
            }
            if let Some(r) = self.report.tiers.get_mut(&self.keys[t]) {
                r.pim_bytes += layers * c.pim_bytes;
            }
        }
        parts.extend([layers * merge_ps / 1e6, migration_ps / 1e6, write_ps / 1e6]);
        for (t, j) in pim_j.into_iter().enumerate() {
            *self.report.energy.pim_j.entry(self.keys[t].clone()).or_default() += j;
        }
        self.report.energy.migration_j += migration_j;
        self.report.energy.links_j += link_j + write_j;
        Ok(StageExtra {
            parts_us: parts,
            stage_us: gpu.total_us() + attention_us + (overlapped_us - attention_us).max(0.0),
        })
    }

    fn offload_stage(&mut self, kv: &StepKv, gpu: &IterationTime) -> StageExtra {
        let layers = f64::from(gpu.layers);
        let m = &self.model;
        // One layer's K and V of a position, on one GPU (its share of the KV heads).
        let per_layer =
            2.0 * f64::from((m.kv_heads / self.spec.tp).max(1)) * f64::from(m.head_dim) * f64::from(m.dtype_bytes);
        let gpus = f64::from(self.spec.gpus());
        let mut xfer_us = 0.0;
        let mut parts = Vec::new();
        for t in 1..self.tiers {
            let positions: u64 = kv.attended.iter().map(|a| a[t]).sum();
            let bytes = positions as f64 * per_layer;
            let bw = self.spec.host_link_bytes_per_s.min(self.spec.deliver_bytes_per_s(t) / gpus);
            let us = bytes / bw * 1e6;
            xfer_us += us;
            parts.push(layers * us);
            let all_gpus = bytes * layers * f64::from(self.spec.tp);
            self.report.energy.offload_j +=
                all_gpus * (self.tier_energy(t).1 + j_per_byte(self.energy.links.pcie_pj_per_bit));
        }
        let gpu_layer_us =
            if layers > 0.0 { (gpu.dense_us + gpu.attention_us + gpu.all_reduce_us) / layers } else { 0.0 };
        StageExtra { parts_us: parts, stage_us: gpu.total_us() + layers * (xfer_us - gpu_layer_us).max(0.0) }
    }
}

/// Folds a step's KV decisions into `h` (FNV-1a over the counts).
fn decisions_hash(h: u64, kv: &StepKv) -> u64 {
    let mut h = if h == 0 { 0xcbf2_9ce4_8422_2325 } else { h };
    let words = kv.attended.iter().flatten().chain(&kv.written).chain(&kv.swaps);
    for w in words {
        for b in w.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

impl NodeModel for ServingNode<'_> {
    fn attention_on(&self) -> AttentionOn {
        if self.kind.pim() {
            AttentionOn::PimDecode
        } else {
            AttentionOn::Gpu
        }
    }

    fn parts(&self) -> Vec<Arc<str>> {
        self.parts.clone()
    }

    fn step(&mut self, step: &Step, _now_ns: u64, gpu: &[IterationTime]) -> Result<Vec<StageExtra>, EngineError> {
        let kv = self.kv.apply(step).map_err(|e| EngineError::invalid("KV tiers", e))?;
        if let Some(s) = &mut self.numerics {
            s.step(step, &self.kv).map_err(|e| EngineError::invalid("numerics sample", e))?;
            if s.done() {
                // A replay has its operation: the rest of the run is not needed.
                return Err(EngineError::invalid("numerics replay", "the sample is taken; the run stops here"));
            }
        }
        let slots: Vec<u32> =
            step.items.iter().filter(|i| i.decode).map(|i| self.kv.slot(i.request).unwrap_or(0)).collect();
        if !kv.attended.is_empty() {
            self.report.decode_steps += 1;
            let used = self.kv.used();
            let stored: u64 = used.iter().sum();
            self.stored_sum += stored as f64;
            let total: u64 = kv.attended.iter().flat_map(|a| a[..self.tiers].iter()).sum();
            for t in 0..self.tiers {
                let a: u64 = kv.attended.iter().map(|a| a[t]).sum();
                self.attended[t] += a as f64;
                if total > 0 {
                    self.share[t] += a as f64 / total as f64;
                }
            }
        }
        for (t, k) in self.keys.iter().enumerate() {
            if let Some(r) = self.report.tiers.get_mut(k) {
                r.peak_positions = r.peak_positions.max(self.kv.used()[t]);
            }
        }
        self.report.migrated_positions += kv.migrated();
        self.report.decisions = decisions_hash(self.report.decisions, &kv);
        let mut out = Vec::with_capacity(gpu.len());
        for g in gpu {
            let extra = if self.kind.pim() {
                self.pim_stage(&kv, &slots, g).map_err(|e| EngineError::invalid("PIM tiers", e))?
            } else {
                self.offload_stage(&kv, g)
            };
            let s = extra.stage_us * 1e-6;
            let w = if step.prefill_tokens() > 0 { self.energy.gpu.prefill_w } else { self.energy.gpu.decode_w };
            let tp = f64::from(self.spec.tp);
            self.report.energy.gpu_j += s * tp * w;
            self.gpu_busy_s += s * tp;
            // Tensor-parallel all-reduces and the pipeline transfer over NVLink: ring all-reduce
            // moves 2 (TP - 1) / TP of the activations per GPU.
            let act = step.tokens() as f64 * f64::from(self.model.hidden) * f64::from(self.model.dtype_bytes);
            let ar = if tp > 1.0 { (2.0 * f64::from(g.layers) + 1.0) * 2.0 * (tp - 1.0) * act } else { 0.0 };
            let pp = if g.pp_transfer_us > 0.0 { 2.0 * act } else { 0.0 };
            self.report.energy.links_j += (ar + pp) * j_per_byte(self.energy.links.nvlink_pj_per_bit);
            out.push(extra);
        }
        Ok(out)
    }

    fn finished(&mut self, ids: &[u64]) {
        for &id in ids {
            self.kv.free(id);
        }
    }
}
