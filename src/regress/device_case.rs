//! The `device` suite: one random local-attention problem in one tier's scaled device, for one
//! query or (in a fraction of the cases) a group of queries sharing the K/V reads.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Verdict;
use crate::device::check::{check, DeviceProblem, DIMS};
use crate::device::pim::PimDevice;
use crate::device::tier::TierPreset;
use crate::error::SimError;

/// Most tokens a case places: enough to span several rows of every bank group.
pub const MAX_TOKENS: usize = 300;

/// Devices kept alive across cases, one per preset. Every case powers its device on first
/// ([`check`]), so what ran before on it changes nothing the case reports.
#[derive(Default)]
pub struct Devices(HashMap<&'static str, PimDevice>);

/// Cases whose query group is larger than one.
pub const GROUPED_FRACTION: f64 = 0.25;
/// Largest query group a case draws (spec §11's models have g = 5 and 8; the contexts do not
/// interact, so a few cover the broadcast and the back-pressure of the slowest).
pub const MAX_GROUP: usize = 4;

/// The preset a case seed runs on.
pub fn preset_of(seed: u64) -> TierPreset {
    let presets: Vec<&TierPreset> = TierPreset::verilated().collect();
    let i = ChaCha8Rng::seed_from_u64(seed ^ 0xDE71CE).random_range(0..presets.len());
    presets[i].clone()
}

/// The number of queries sharing a case's K/V reads.
pub fn group_of(seed: u64) -> usize {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6A0);
    if rng.random_bool(GROUPED_FRACTION) {
        rng.random_range(2..=MAX_GROUP)
    } else {
        1
    }
}

pub fn run(devs: &mut Devices, seed: u64, inject_fault: bool) -> Result<Verdict, SimError> {
    let preset = preset_of(seed);
    let p = DeviceProblem::generate_group(&preset, seed, &DIMS, (1, MAX_TOKENS), group_of(seed))?;
    if !devs.0.contains_key(preset.name()) {
        devs.0.insert(preset.name(), preset.open(None)?);
    }
    let dev = devs.0.get_mut(preset.name()).expect("inserted");
    let o = check(dev, &p, inject_fault)?;
    let properties = vec![
        ("label".into(), p.label()),
        ("cycles".into(), o.cycles.to_string()),
        ("ns".into(), format!("{:.1}", o.ns)),
        ("bank_commands".into(), format!("{:?}", o.commands)),
        ("max_rel_err_f64".into(), o.rel_err_f64.map_or("n/a".into(), |e| format!("{e:.3e}"))),
    ];
    Ok(Verdict { problems: o.mismatches, rel_err: o.rel_err_f64, properties })
}
