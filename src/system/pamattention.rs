//! PAMattention for one query (spec §5), top to bottom:
//! 1. the query goes to every tier that holds tokens of the request;
//! 2. each tier's device runs local attention over its tokens and reduces them to one partial
//!    (PUs, then bank-group or channel RUs, then the device RU); the tiers work in parallel;
//! 3. the tier partials meet in an RU of the HBM tier, which merges them in tier order
//!    (HBM, DDR, SSD) and normalises: O / l in FP16 and lse = m + ln l.
//!
//! Time: for every tier, the query over its link, its device, its partial back over the link;
//! the slowest tier, then the merge (on the HBM PU clock).

use crate::device::pim::{DeviceRun, PimDevice};
use crate::device::tier::TierPreset;
use crate::error::SimError;
use crate::golden::ru;
use crate::kernel::clock::Clock;
use crate::kernel::link::Link;
use crate::kernel::Ps;
use crate::kv::location::PhysLoc;
use crate::partial::Partial;
use crate::rtl::ru::{RuOutput, RuSim};

/// One tier's device in the system.
pub struct TierDevice {
    pub preset: TierPreset,
    pub device: PimDevice,
    pub link: Link,
}

/// The tiers' devices and the HBM tier's merging RU.
pub struct Tiers {
    pub tiers: Vec<TierDevice>,
    merge_ru: RuSim,
    merge_clock_ps: Ps,
}

/// What one query's attention across tiers produced.
#[derive(Clone, Debug)]
pub struct TieredStep {
    /// O / l in FP16.
    pub out: Vec<u16>,
    /// lse = m + ln l, FP32 bits.
    pub lse: u32,
    /// Each tier's device run (None: the tier held no token of the request).
    pub per_tier: Vec<Option<DeviceRun>>,
    /// The partials that met in the HBM tier, in tier order (empty ones included).
    pub tier_partials: Vec<Partial>,
    pub merge_cycles: u64,
    /// Per tier: the query out and the partial back over the tier's link.
    pub link_ps: Vec<Ps>,
    /// Slowest tier (links included) plus the merge.
    pub ps: Ps,
    pub err: bool,
}

impl Tiers {
    /// Opens the devices of `presets` (the first one must be the HBM tier, whose RU merges);
    /// `own_pu_clocks` runs every tier's PUs on its own PU clock.
    pub fn open(presets: &[TierPreset], own_pu_clocks: bool) -> Result<Tiers, SimError> {
        let first = presets.first().ok_or_else(|| SimError::Input("a system needs at least one tier".into()))?;
        let lanes = match first {
            TierPreset::Dram(p) => p.pu_lanes,
            TierPreset::Flash(p) => p.pu_lanes,
        };
        let mut tiers = Vec::with_capacity(presets.len());
        for p in presets {
            let device = if own_pu_clocks { p.open_with_pu_clock(None)? } else { p.open(None)? };
            let link = match p {
                TierPreset::Flash(_) => Link::PCIE,
                TierPreset::Dram(d) if d.tier == "DDR" => Link::DDR,
                TierPreset::Dram(_) => Link::HBM,
            };
            tiers.push(TierDevice { preset: p.clone(), device, link });
        }
        let merge_clock_ps = Clock::from_mhz("merge", first.pu_clock_mhz()).period_ps;
        Ok(Tiers { tiers, merge_ru: RuSim::new(lanes, first.pu_clock_mhz())?, merge_clock_ps })
    }

    /// Attention of query `q` over the tokens at `per_tier[t]` in tier `t`.
    pub fn attend(&mut self, q: &[u16], per_tier: &[Vec<PhysLoc>]) -> Result<TieredStep, SimError> {
        if per_tier.len() != self.tiers.len() {
            return Err(SimError::Input(format!("{} token lists for {} tiers", per_tier.len(), self.tiers.len())));
        }
        let dim = q.len();
        let mut runs = Vec::with_capacity(self.tiers.len());
        let mut parts = Vec::with_capacity(self.tiers.len());
        let mut slowest = 0;
        let mut err = false;
        let mut link_ps = Vec::with_capacity(self.tiers.len());
        for (tier, tokens) in self.tiers.iter_mut().zip(per_tier) {
            if tokens.is_empty() {
                // A tier without tokens of the request gets no query and sends the empty partial.
                parts.push(Partial::empty(dim));
                runs.push(None);
                link_ps.push(0);
                continue;
            }
            tier.device.load_query(q)?;
            let run = tier.device.run(tokens)?;
            // FP16 query out; FP32 O, m and l back.
            let link = tier.link.transfer_ps(2 * dim) + tier.link.transfer_ps(4 * dim + 8);
            link_ps.push(link);
            slowest = slowest.max(run.ps + link);
            err |= run.err;
            parts.push(run.partial.clone());
            runs.push(Some(run));
        }
        let merged = self.merge_ru.reduce(dim, &parts, true)?;
        err |= merged.err;
        let RuOutput::Final { out, lse } = merged.output else { unreachable!("FINAL returns the normalised output") };
        Ok(TieredStep {
            out,
            lse,
            per_tier: runs,
            tier_partials: parts,
            merge_cycles: merged.cycles,
            link_ps,
            ps: slowest + merged.cycles * self.merge_clock_ps,
            err,
        })
    }
}

impl Tiers {
    /// The bit-accurate chain of [`Tiers::attend`]: each tier's device over its tokens in the
    /// order it streams them, then the merge in tier order and the normalisation. `kv` gives
    /// the K and V of the token at a tier's location. Returns the tier partials and (O, lse).
    pub fn golden<'k>(
        &self,
        q: &[u16],
        per_tier: &[Vec<PhysLoc>],
        kv: impl Fn(usize, &PhysLoc) -> (&'k [u16], &'k [u16]),
    ) -> (Vec<Partial>, Vec<u16>, u32) {
        let dim = q.len();
        let mut parts = Vec::with_capacity(per_tier.len());
        for (t, locs) in per_tier.iter().enumerate() {
            if locs.is_empty() {
                parts.push(Partial::empty(dim));
                continue;
            }
            parts.push(self.tiers[t].device.golden(q, locs, |l| kv(t, l)));
        }
        let (out, lse) = ru::finalize(&ru::merge(dim, &parts).0);
        (parts, out, lse)
    }
}
