//! The target importance split x : y : 1 (spec §7 Decision): derived from the tiers' measured
//! local-attention throughput, so that at the target split every tier finishes its share of a
//! step's attention at about the same time.
//!
//! Under sparse attention the tokens a tier attends follow the importance it holds, so tier i
//! takes w_i N / T_i for a share w_i of N attended tokens at throughput T_i: equal times need
//! w_i proportional to T_i, hence x = T_HBM / T_SSD and y = T_DDR / T_SSD. Each T_i is measured
//! on the tier's Verilated scaled device (PUs on their own clock, tokens streamed from the
//! array), then scaled to the reference device (per bank for DRAM, per channel for flash: both
//! stream in parallel) and to a node (devices per node).

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
    pub x: f64,
    pub y: f64,
}

fn reference_scale(p: &TierPreset) -> (f64, usize) {
    use crate::device::preset::DramPreset;
    use crate::device::ssd::FlashPreset;
    match p {
        TierPreset::Dram(s) => {
            let r = if s.tier == "HBM" { DramPreset::hbm3() } else { DramPreset::ddr4() };
            (r.banks() as f64 / s.banks() as f64, r.devices_per_node)
        }
        // Flash streams at the smaller of its bus and its dies' page reads, which does not
        // scale with channels alone.
        TierPreset::Flash(s) => {
            let r = FlashPreset::ssd();
            (r.stream_bound() / s.stream_bound(), r.devices_per_node)
        }
    }
}

/// Measures each scaled tier with `tokens` tokens of head dimension `dim`.
pub fn derive(dim: usize, tokens: usize, seed: u64) -> Result<Split, SimError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tiers = Vec::new();
    for preset in TierPreset::scaled() {
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
        let (scale, per_node) = reference_scale(&preset);
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
    let (h, d, s) = (tiers[0].node, tiers[1].node, tiers[2].node);
    Ok(Split { x: h / s, y: d / s, tiers })
}
