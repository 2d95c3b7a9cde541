//! Every tier's RTL in the serving loop: a step's per-tier load run on the tier's Verilated
//! device instead of the calibrated model, to check the fast path against the hardware it
//! stands for (`pam serve SCENARIO --rtl-check`, on a node of scaled presets).
//!
//! Each tier opens its Verilated device as the calibration does (PUs on their own clock, reads
//! at the compute cap's spacing), fills it with random tokens placed evenly over bank groups or
//! channels ([`calibrate::balanced_placer`]), and times a load by running local attention from
//! cold caches over the busiest device's token-vectors for the load's query group: the first
//! ones stored for a packed load, a random subset of the stored ones for a sparse load. A
//! packed DRAM load whose busiest PU holds more than the balanced share (a system without
//! PAM's mapping: L-PIM, LS-PIM) is run with that PU holding that many and the others sharing
//! the rest, the placement the fast path's features stand for. A load the same as an earlier
//! one (token-vectors, busiest PU, group, stored) is not run again: a cold run of the same
//! tokens takes the same time.

use std::collections::HashMap;

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::calibrate::{self, balanced_placer, cap_gap};
use super::{PimError, TierLoad};
use crate::device::pim::PimDevice;
use crate::device::tier::TierPreset;
use crate::kv::location::PhysLoc;

/// One tier's Verilated device, filled.
pub struct RtlTier {
    preset: TierPreset,
    dev: PimDevice,
    stored: Vec<PhysLoc>,
    /// The stored tokens by PU, each PU's in stream order (slot after slot).
    by_pu: Vec<Vec<PhysLoc>>,
    dim: usize,
    rng: ChaCha8Rng,
    memo: HashMap<(u64, u64, u32, Option<u64>), f64>,
    /// RTL runs made (loads not found in the memo).
    pub runs: u64,
}

impl RtlTier {
    /// Opens and fills the Verilated device of `preset` (a scaled preset).
    pub fn open(preset: &TierPreset, dim: usize, seed: u64) -> Result<RtlTier, PimError> {
        Self::open_holding(preset, dim, seed, usize::MAX)
    }

    /// As [`Self::open`], writing at most `tokens` tokens (loads of more fail): filling a whole
    /// flash device through its program path takes a while.
    pub fn open_holding(preset: &TierPreset, dim: usize, seed: u64, tokens: usize) -> Result<RtlTier, PimError> {
        let what = |s: &str| format!("{} in the loop: {s}", preset.name());
        let rtl = |s: String| move |e: crate::error::SimError| PimError::Rtl { what: s, source: e };
        if !preset.verilated {
            return Err(PimError::NoScaled { tier: preset.name().to_string() });
        }
        let gap = cap_gap(preset, &preset.reference_preset())?;
        let mut dev = preset.open_with_pu_clock(Some(gap)).map_err(rtl(what("opening the device")))?;
        let m = preset.capacity(dim).map_err(rtl(what("its capacity")))?.min(tokens);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut placer = balanced_placer(preset, dim)?;
        let stored =
            calibrate::place_and_write(&mut dev, &mut rng, &mut placer, m, dim).map_err(rtl(what("writing tokens")))?;
        let by_pu = preset.stream_order(&stored, dim);
        Ok(RtlTier { preset: preset.clone(), dev, stored, by_pu, dim, rng, memo: HashMap::new(), runs: 0 })
    }

    /// Token-vectors the device holds.
    pub fn capacity(&self) -> u64 {
        self.stored.len() as u64
    }

    /// The load's time on the RTL, ps; `stored` for a sparse load (drawn among that many).
    pub fn device_ps(&mut self, load: &TierLoad, stored: Option<u64>) -> Result<f64, PimError> {
        let cap = self.stored.len() as u64;
        if load.token_vectors > cap {
            return Err(PimError::Geometry {
                preset: self.preset.name().to_string(),
                message: format!(
                    "a load of {} token-vectors on one device, which holds {cap}: give the tier more devices",
                    load.token_vectors
                ),
            });
        }
        if load.token_vectors == 0 {
            return Ok(0.0);
        }
        let stored = stored.map(|s| s.clamp(load.token_vectors, cap));
        let n = load.token_vectors as usize;
        let skewed = stored.is_none()
            && self.preset.as_dram().is_some()
            && load.busiest_pu > load.token_vectors.div_ceil(self.by_pu.len().max(1) as u64);
        let busiest = if skewed { load.busiest_pu } else { 0 };
        let key = (load.token_vectors, busiest, load.group.max(1), stored);
        if let Some(&ps) = self.memo.get(&key) {
            return Ok(ps);
        }
        let tokens: Vec<PhysLoc> = match stored {
            None if skewed => self.skewed(n, busiest as usize),
            None => self.stored[..n].to_vec(),
            Some(s) => sample(&mut self.rng, s as usize, n).into_iter().map(|j| self.stored[j]).collect(),
        };
        let what = format!("{} in the loop: a run of {n} token-vectors", self.preset.name());
        let run = calibrate::run_cold(&mut self.dev, &mut self.rng, &tokens, key.2, self.dim)
            .map_err(|e| PimError::Rtl { what, source: e })?;
        self.runs += 1;
        let ps = run.ps as f64;
        self.memo.insert(key, ps);
        Ok(ps)
    }

    /// `n` stored tokens with the first PU holding `busiest` of them (at most all it holds)
    /// and the others taking the rest in turn, each PU its first slots.
    fn skewed(&self, n: usize, busiest: usize) -> Vec<PhysLoc> {
        let first = busiest.min(n).min(self.by_pu[0].len());
        let mut tokens: Vec<PhysLoc> = self.by_pu[0][..first].to_vec();
        let mut taken = vec![0usize; self.by_pu.len()];
        taken[0] = first;
        // The others in turn; the first PU again only if they are full.
        let mut pu = 1 % self.by_pu.len();
        while tokens.len() < n {
            let full = |p: usize, taken: &[usize]| taken[p] >= self.by_pu[p].len();
            if (1..self.by_pu.len()).all(|p| full(p, &taken)) {
                pu = 0;
            }
            if !full(pu, &taken) {
                tokens.push(self.by_pu[pu][taken[pu]]);
                taken[pu] += 1;
            }
            pu = if pu + 1 < self.by_pu.len() { pu + 1 } else { 1 % self.by_pu.len() };
        }
        tokens
    }
}
