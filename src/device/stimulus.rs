//! Random stimulus for measurements on a device (bandwidth, tier throughput, calibration):
//! tokens whose K and V are the same vector drawn uniformly from [-1, 1), and a small query.
//! What is drawn, and in which order, is part of every figure these measurements print.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::pim::PimDevice;
use crate::error::SimError;
use crate::golden::fp::fp16_of;
use crate::kv::location::PhysLoc;

/// Writes `n` tokens of head dimension `dim`, each at the place `place` gives (it may draw
/// from `rng` too, before the token's values); returns each place with the token's K (= V).
pub fn write_random_tokens(
    dev: &mut PimDevice,
    rng: &mut ChaCha8Rng,
    n: usize,
    dim: usize,
    mut place: impl FnMut(&mut ChaCha8Rng) -> Result<PhysLoc, SimError>,
) -> Result<Vec<(PhysLoc, Vec<u16>)>, SimError> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let loc = place(rng)?;
        let kv: Vec<u16> = (0..dim).map(|_| fp16_of(rng.random_range(-1.0..1.0))).collect();
        dev.write_token(&loc, &kv, &kv)?;
        out.push((loc, kv));
    }
    Ok(out)
}

/// A query of head dimension `dim` drawn uniformly from [-0.1, 0.1): scores stay small, so
/// every token is weighed alike and the run measures the stream, not the data.
pub fn random_query(rng: &mut ChaCha8Rng, dim: usize) -> Vec<u16> {
    (0..dim).map(|_| fp16_of(rng.random_range(-0.1..0.1))).collect()
}
