//! The DRAM-PIM devices of the HBM and DDR tiers, RTL in the loop.

use pam::device::check::{check, DeviceProblem, DIMS};
use pam::device::preset::DramPreset;
use pam::device::ssd::FlashPreset;
use pam::device::tier::TierPreset;

fn device_matches_model(preset: TierPreset, seeds: std::ops::Range<u64>) {
    let mut dev = preset.open(None).unwrap();
    for seed in seeds {
        let p = DeviceProblem::generate(&preset, seed, &DIMS, (1, 120)).unwrap();
        let o = check(&mut dev, &p, false).unwrap();
        println!("{} seed {seed}: {} cycles {:?} commands {:?}", p.label(), o.cycles, o.breakdown, o.commands);
        assert!(o.mismatches.is_empty(), "{} seed {seed}: {:?}", p.label(), o.mismatches);
        // Every run opens rows (DRAM ACT) or reads pages (flash, counted as ACT), reads and writes.
        assert!(o.commands.act > 0 && o.commands.rd > 0 && o.commands.wr > 0, "{:?}", o.commands);
        // The checker must be able to fail: the same run with a flipped model bit is caught.
        if seed == 0 {
            let bad = check(&mut dev, &p, true).unwrap();
            assert!(bad.mismatches.iter().any(|m| m.contains("RTL vs model")));
        }
    }
}

#[test]
fn hbm_device_local_attention_matches_model() {
    device_matches_model(TierPreset::Dram(DramPreset::hbm_scaled()), 0..3);
}

#[test]
fn ddr_device_local_attention_matches_model() {
    device_matches_model(TierPreset::Dram(DramPreset::ddr_scaled()), 0..3);
}

#[test]
fn ssd_device_local_attention_matches_model() {
    device_matches_model(TierPreset::Flash(FlashPreset::ssd_scaled()), 0..2);
}
