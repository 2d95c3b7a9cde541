//! PAMattention for the query group of one KV head (spec §5, §11), top to bottom:
//! 1. the group's queries (g = query heads / KV heads) go to every device holding tokens of
//!    the request, in every tier;
//! 2. each device runs local attention over its tokens for all g queries at once: every K/V
//!    beat is read once and serves the whole group ([`PimDevice::load_queries`]); PUs, then
//!    bank-group or channel RUs, then the device RU reduce each query to one partial; the
//!    devices of all tiers work in parallel;
//! 3. the device partials meet in an RU of the merging tier (the first by default), which merges each query's partials in
//!    (tier, device) order and normalises: O / l in FP16 and lse = m + ln l. A tier holding
//!    none of the tokens sends the empty partial.
//!
//! Time: every device's queries out over its link, its run, its partials back; the slowest
//! device, then the merges of the g queries one after the other (on the merging tier's PU
//! clock).

use std::sync::Arc;

use crate::device::attention::{AttentionDevice, DeviceModel};
use crate::device::calibrated::{CalibratedDevice, Calibration};
use crate::device::pim::DeviceRun;
use crate::device::tier::TierPreset;
use crate::error::SimError;
use crate::golden::ru;
use crate::kernel::clock::Clock;
use crate::kernel::link::Link;
use crate::kernel::Ps;
use crate::kv::location::PhysLoc;
use crate::partial::Partial;
use crate::rtl::ru::{RuOutput, RuSim};

/// One device of a tier, with the link between it and the host side.
pub struct TierDevice {
    pub device: Box<dyn AttentionDevice>,
    pub link: Link,
}

/// What a tier of a system is made of: `devices` devices of `preset`, holding at most
/// `capacity` tokens, each device the RTL or the model calibrated from it.
#[derive(Clone, Debug)]
pub struct TierConfig {
    pub preset: TierPreset,
    pub devices: usize,
    pub capacity: usize,
    pub model: DeviceModel,
}

impl TierConfig {
    /// The Verilated presets of `names`, fastest first, with one RTL device each.
    pub fn scaled(names: &[&str], capacity: &[usize]) -> Result<Vec<TierConfig>, SimError> {
        names
            .iter()
            .zip(capacity)
            .map(|(&n, &capacity)| {
                let preset = TierPreset::verilated_named(n).map_err(SimError::Input)?;
                Ok(TierConfig { preset, devices: 1, capacity, model: DeviceModel::Rtl })
            })
            .collect()
    }
}

/// The keys of a system's tiers in summaries and waveforms ([`crate::device::tier::tier_keys`]).
pub fn tier_keys(tiers: &[TierConfig]) -> Vec<String> {
    crate::device::tier::tier_keys(tiers.iter().map(|t| &t.preset))
}

/// The devices of one tier.
pub struct Tier {
    pub preset: TierPreset,
    pub devices: Vec<TierDevice>,
    /// The calibrated model's fit, when the tier runs it.
    pub calibration: Option<Arc<Calibration>>,
}

/// The tiers' devices and the merging tier's RU.
pub struct Tiers {
    pub tiers: Vec<Tier>,
    /// The tier whose RU merges the devices' partials.
    pub merge_tier: usize,
    merge_ru: RuSim,
    merge_clock_ps: Ps,
}

/// One query's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOutput {
    /// O / l in FP16.
    pub out: Vec<u16>,
    /// lse = m + ln l, FP32 bits.
    pub lse: u32,
}

/// What one device did for the group.
#[derive(Clone, Debug)]
pub struct DeviceWork {
    pub tier: usize,
    pub device: usize,
    pub tokens: usize,
    pub run: DeviceRun,
    /// The queries out, and the partials back, over the device's link.
    pub link_ps: [Ps; 2],
}

impl DeviceWork {
    /// From the queries leaving to the last partial back.
    pub fn span_ps(&self) -> Ps {
        self.link_ps[0] + self.run.ps + self.link_ps[1]
    }
}

/// What one query group's attention across tiers produced.
#[derive(Clone, Debug)]
pub struct GroupStep {
    /// One per query, in the group's order.
    pub outputs: Vec<QueryOutput>,
    /// Every device that held tokens, in (tier, device) order.
    pub devices: Vec<DeviceWork>,
    /// Per query, the partials that met in the merging tier, in merge order.
    pub partials: Vec<Vec<Partial>>,
    pub merge_cycles: u64,
    /// Slowest device (links included) plus the merges.
    pub ps: Ps,
    pub err: bool,
}

impl GroupStep {
    /// Tier `t`'s slowest device (links included), or None when no device of the tier held
    /// tokens.
    pub fn slowest_in(&self, t: usize) -> Option<&DeviceWork> {
        self.devices.iter().filter(|d| d.tier == t).max_by_key(|d| d.span_ps())
    }
}

/// Which partials meet in the merge, in order: (tier, device, tokens), one per device holding
/// tokens; a tier holding none sends one empty partial (tokens empty).
fn plan(per_tier: &[Vec<PhysLoc>]) -> Vec<(usize, usize, Vec<PhysLoc>)> {
    let mut out = Vec::new();
    for (t, locs) in per_tier.iter().enumerate() {
        let mut devices: Vec<usize> = locs.iter().map(|l| l.device as usize).collect();
        devices.sort_unstable();
        devices.dedup();
        if devices.is_empty() {
            out.push((t, 0, Vec::new()));
        }
        for d in devices {
            out.push((t, d, locs.iter().filter(|l| l.device as usize == d).copied().collect()));
        }
    }
    out
}

impl Tiers {
    /// Opens the tiers of `specs`, fastest first, for tokens of head dimension `dim`; the RU
    /// of tier `merge_tier` merges. `own_pu_clocks` runs every tier's PUs on its own PU clock.
    /// A calibrated tier is first measured on its RTL, with random draws from `seed`.
    pub fn open(
        specs: &[TierConfig],
        merge_tier: usize,
        dim: usize,
        own_pu_clocks: bool,
        seed: u64,
    ) -> Result<Tiers, SimError> {
        let merging = specs.get(merge_tier).ok_or_else(|| {
            SimError::Input(format!("the merging tier {merge_tier} is not one of the {} tiers", specs.len()))
        })?;
        if let Some(s) = specs.iter().find(|s| s.devices == 0) {
            return Err(SimError::Input(format!("tier {}: at least one device", s.preset.name())));
        }
        let mut tiers = Vec::with_capacity(specs.len());
        for s in specs {
            let calibration = match s.model {
                DeviceModel::Rtl => None,
                DeviceModel::Calibrated => Some(Arc::new(Calibration::measure(&s.preset, dim, own_pu_clocks, seed)?)),
            };
            let devices = (0..s.devices)
                .map(|_| {
                    let device: Box<dyn AttentionDevice> = match &calibration {
                        Some(cal) => Box::new(CalibratedDevice::new(s.preset.clone(), cal.clone())),
                        None if own_pu_clocks => Box::new(s.preset.open_with_pu_clock(None)?),
                        None => Box::new(s.preset.open(None)?),
                    };
                    Ok(TierDevice { device, link: s.preset.link })
                })
                .collect::<Result<Vec<_>, SimError>>()?;
            tiers.push(Tier { preset: s.preset.clone(), devices, calibration });
        }
        let mhz = merging.preset.pu_clock_mhz();
        let merge_clock_ps = Clock::from_mhz("merge", mhz).period_ps;
        Ok(Tiers { tiers, merge_tier, merge_ru: RuSim::new(merging.preset.pu_lanes(), mhz)?, merge_clock_ps })
    }

    /// The device a location is in.
    pub fn device(&mut self, loc: &PhysLoc) -> Result<&mut (dyn AttentionDevice + 'static), SimError> {
        self.tiers
            .get_mut(loc.tier as usize)
            .and_then(|t| t.devices.get_mut(loc.device as usize))
            .map(|d| d.device.as_mut())
            .ok_or_else(|| SimError::Input(format!("{loc:?}: no such tier or device")))
    }

    /// Attention of the queries `qs` (one KV head's group) over the tokens at `per_tier[t]`
    /// in tier `t`.
    pub fn attend(&mut self, qs: &[Vec<u16>], per_tier: &[Vec<PhysLoc>]) -> Result<GroupStep, SimError> {
        if per_tier.len() != self.tiers.len() {
            return Err(SimError::Input(format!("{} token lists for {} tiers", per_tier.len(), self.tiers.len())));
        }
        let dim = qs.first().map_or(0, Vec::len);
        let g = qs.len();
        let mut partials = vec![Vec::new(); g];
        let mut devices = Vec::new();
        let (mut slowest, mut err) = (0, false);
        for (t, d, tokens) in plan(per_tier) {
            if tokens.is_empty() {
                partials.iter_mut().for_each(|p| p.push(Partial::empty(dim)));
                continue;
            }
            let dev = self.tiers[t]
                .devices
                .get_mut(d)
                .ok_or_else(|| SimError::Input(format!("tier {t} has no device {d}")))?;
            dev.device.load_queries(qs)?;
            let run = dev.device.run(&tokens)?;
            // FP16 queries out; FP32 O, m and l back, per query.
            let link_ps = [dev.link.transfer_ps(g * 2 * dim), dev.link.transfer_ps(g * (4 * dim + 8))];
            err |= run.err;
            for (p, part) in partials.iter_mut().zip(&run.partials) {
                p.push(part.clone());
            }
            let work = DeviceWork { tier: t, device: d, tokens: tokens.len(), run, link_ps };
            slowest = slowest.max(work.span_ps());
            devices.push(work);
        }
        let mut outputs = Vec::with_capacity(g);
        let mut merge_cycles = 0;
        for parts in &partials {
            let merged = self.merge_ru.reduce(dim, parts, true)?;
            err |= merged.err;
            merge_cycles += merged.cycles;
            let RuOutput::Final { out, lse } = merged.output else {
                unreachable!("FINAL returns the normalised output")
            };
            outputs.push(QueryOutput { out, lse });
        }
        Ok(GroupStep {
            outputs,
            devices,
            partials,
            merge_cycles,
            ps: slowest + merge_cycles * self.merge_clock_ps,
            err,
        })
    }

    /// The bit-accurate chain of [`Tiers::attend`] for one query: each device over its
    /// tokens in the order it streams them, then the merge in (tier, device) order and the
    /// normalisation. `kv` gives the K and V of the token at a location. Returns the partials
    /// that meet in the merge and the output.
    pub fn golden<'k>(
        &self,
        q: &[u16],
        per_tier: &[Vec<PhysLoc>],
        kv: impl Fn(&PhysLoc) -> (&'k [u16], &'k [u16]),
    ) -> (Vec<Partial>, QueryOutput) {
        let dim = q.len();
        let parts: Vec<Partial> = plan(per_tier)
            .into_iter()
            .map(|(t, d, locs)| match self.tiers[t].devices.get(d) {
                Some(dev) if !locs.is_empty() => dev.device.golden(q, &locs, &kv),
                _ => Partial::empty(dim),
            })
            .collect();
        let (out, lse) = ru::finalize(&ru::merge(dim, &parts).0);
        (parts, QueryOutput { out, lse })
    }
}
