//! The target importance split (spec §7 Decision; x : y : 1 for three tiers): derived from the
//! tiers' measured local-attention throughput, so that at the target split every tier finishes
//! its share of a step's attention at about the same time.
//!
//! Under sparse attention the tokens a tier attends follow the importance it holds, so tier i
//! takes w_i N / T_i for a share w_i of N attended tokens at throughput T_i: equal times need
//! w_i proportional to T_i, hence w_i = T_i / T_last (x = T_HBM / T_SSD and y = T_DDR / T_SSD
//! for HBM, DDR, SSD). Each T_i is measured on the tier's Verilated scaled device (PUs on their
//! own clock, tokens streamed from the array), then scaled to its reference device (per bank
//! for DRAM, by the streaming bound for flash) and to a node (devices per node).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::device::stimulus::{random_query, write_random_tokens};
use crate::device::tier::TierPreset;
use crate::error::SimError;

/// One tier's measurement.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TierThroughput {
    pub preset: &'static str,
    pub tokens: usize,
    pub ns: f64,
    /// Tokens per second on the simulated device.
    pub device: f64,
    /// Reference device / simulated device (banks or channels).
    pub scale: f64,
    pub devices_per_node: usize,
    /// Tokens per second of a whole node's tier.
    pub node: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Split {
    pub tiers: Vec<TierThroughput>,
    /// The target's importance weight per tier, the last tier's 1.
    pub weights: Vec<f64>,
}

/// Measures each of `presets` (Verilated, fastest first) with `tokens` tokens of head
/// dimension `dim`.
pub fn derive(presets: &[TierPreset], dim: usize, tokens: usize, seed: u64) -> Result<Split, SimError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tiers = Vec::new();
    for preset in presets {
        let mut dev = preset.open_with_pu_clock(None)?;
        let mut placer = preset.placer(dim)?;
        let locs: Vec<_> = write_random_tokens(&mut dev, &mut rng, tokens, dim, |rng| placer.place(rng))?
            .into_iter()
            .map(|(loc, _)| loc)
            .collect();
        dev.memory().drop_caches()?;
        dev.load_query(&random_query(&mut rng, dim))?;
        let run = dev.run(&locs)?;
        let ns = run.ps as f64 / 1e3;
        let device = tokens as f64 / (ns * 1e-9);
        let (scale, per_node) = (preset.scale_to_reference(), preset.reference_preset().devices_per_node());
        tiers.push(TierThroughput {
            preset: preset.name(),
            tokens,
            ns,
            device,
            scale,
            devices_per_node: per_node,
            node: device * scale * per_node as f64,
        });
    }
    let last = tiers.last().map_or(1.0, |t| t.node);
    Ok(Split { weights: tiers.iter().map(|t| t.node / last).collect(), tiers })
}
