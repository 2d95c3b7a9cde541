//! Every tier's RTL in the serving loop: a step's per-tier load run on the tier's Verilated
//! device instead of the calibrated model, to check the fast path against the hardware it
//! stands for (`pam serve SCENARIO --rtl-check`, on a node of scaled presets).
//!
//! Each tier opens its Verilated device as the calibration does (PUs on their own clock, reads
//! at the compute cap's spacing), fills it with random tokens placed evenly over bank groups or
//! channels ([`calibrate::balanced_placer`]), and times a load by running local attention from
//! cold caches over the busiest device's token-vectors for the load's query group: the first
//! ones stored for a packed load, a random subset of the stored ones for a sparse load. A load
//! the same as an earlier one (token-vectors, group, stored) is not run again: a cold run of the
//! same tokens takes the same time.

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
    dim: usize,
    rng: ChaCha8Rng,
    memo: HashMap<(u64, u32, Option<u64>), f64>,
    /// RTL runs made (loads not found in the memo).
    pub runs: u64,
}

impl RtlTier {
    /// Opens and fills the Verilated device of `preset` (a scaled preset).
    pub fn open(preset: &TierPreset, dim: usize, seed: u64) -> Result<RtlTier, PimError> {
        let what = |s: &str| format!("{} in the loop: {s}", preset.name());
        let rtl = |s: String| move |e: crate::error::SimError| PimError::Rtl { what: s, source: e };
        if !preset.verilated {
            return Err(PimError::NoScaled { tier: preset.name().to_string() });
        }
        let gap = cap_gap(preset, &preset.reference_preset())?;
        let mut dev = preset.open_with_pu_clock(Some(gap)).map_err(rtl(what("opening the device")))?;
        let m = preset.capacity(dim).map_err(rtl(what("its capacity")))?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut placer = balanced_placer(preset, dim)?;
        let stored =
            calibrate::place_and_write(&mut dev, &mut rng, &mut placer, m, dim).map_err(rtl(what("writing tokens")))?;
        Ok(RtlTier { preset: preset.clone(), dev, stored, dim, rng, memo: HashMap::new(), runs: 0 })
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
        let key = (load.token_vectors, load.group.max(1), stored);
        if let Some(&ps) = self.memo.get(&key) {
            return Ok(ps);
        }
        let n = load.token_vectors as usize;
        let tokens: Vec<PhysLoc> = match stored {
            None => self.stored[..n].to_vec(),
            Some(s) => sample(&mut self.rng, s as usize, n).into_iter().map(|j| self.stored[j]).collect(),
        };
        let what = format!("{} in the loop: a run of {n} token-vectors", self.preset.name());
        let run = calibrate::run_cold(&mut self.dev, &mut self.rng, &tokens, key.1, self.dim)
            .map_err(|e| PimError::Rtl { what, source: e })?;
        self.runs += 1;
        let ps = run.ps as f64;
        self.memo.insert(key, ps);
        Ok(ps)
    }
}
