//! A skewed token-use workload for comparing placement rules (spec §6, §7).
//!
//! One token arrives per decode step; every step attends a sparse set of tokens: the most
//! recent ones, "structural" tokens (every `period`-th position, like the separators of a
//! fixed-width format) that keep being attended long after they arrived, and a random
//! sprinkle of the rest. With as many bank groups as the period, round robin puts every
//! structural token in the same group; the least-activated rule sees that group's activations
//! and sends new tokens elsewhere.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::location::PhysLoc;
use super::placement::{DramPlacer, DramShape, GroupPolicy, PlacementError};

#[derive(Clone, Copy, Debug)]
pub struct SkewedWorkload {
    pub steps: usize,
    pub period: usize,
    pub recent: usize,
    /// Chance a structural token is attended in a step.
    pub structural_use: f64,
    /// Chance any other token is attended in a step.
    pub background_use: f64,
}

impl Default for SkewedWorkload {
    fn default() -> Self {
        SkewedWorkload { steps: 3000, period: 4, recent: 16, structural_use: 0.5, background_use: 0.01 }
    }
}

impl SkewedWorkload {
    /// Activations per bank group over the whole run under `policy`.
    pub fn run(&self, shape: DramShape, policy: GroupPolicy, seed: u64) -> Result<Vec<u64>, PlacementError> {
        let mut placer = DramPlacer::new(shape, policy, 0, 0)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut locs: Vec<PhysLoc> = Vec::with_capacity(self.steps);
        let mut total = vec![0u64; shape.bank_groups];
        for _ in 0..self.steps {
            locs.push(placer.place()?);
            let n = locs.len();
            for (pos, loc) in locs.iter().enumerate() {
                let used = pos + self.recent >= n
                    || (pos % self.period == 0 && rng.random_bool(self.structural_use))
                    || rng.random_bool(self.background_use);
                if used {
                    let g = loc.bank_group as usize;
                    placer.window().record(g, 1);
                    total[g] += 1;
                }
            }
            placer.window().end_step();
        }
        Ok(total)
    }
}

/// Busiest group's activations relative to the mean (1.0 = perfectly balanced).
pub fn imbalance(total: &[u64]) -> f64 {
    let mean = total.iter().sum::<u64>() as f64 / total.len() as f64;
    *total.iter().max().unwrap_or(&0) as f64 / mean
}
