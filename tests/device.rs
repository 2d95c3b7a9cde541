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

/// With the PUs on the tier's own clock, every beat crosses a dual-clock FIFO: the arithmetic
/// is the same (bit-exact with the model), the timing is the PU's.
#[test]
fn pus_on_their_own_clock_give_the_same_bits_and_their_own_timing() {
    for preset in [TierPreset::Dram(DramPreset::hbm_scaled()), TierPreset::Dram(DramPreset::ddr_scaled())] {
        let mut same = preset.open(None).unwrap();
        let mut own = preset.open_with_pu_clock(None).unwrap();
        let p = DeviceProblem::generate(&preset, 7, &[128], (200, 200)).unwrap();
        let a = check(&mut same, &p, false).unwrap();
        let b = check(&mut own, &p, false).unwrap();
        assert!(a.mismatches.is_empty() && b.mismatches.is_empty(), "{:?} {:?}", a.mismatches, b.mismatches);
        println!(
            "{}: PU on the memory clock {:.0} ns, on its own {} MHz clock {:.0} ns",
            preset.name(),
            a.ns,
            preset.pu_clock_mhz(),
            b.ns
        );
        // The PU clocks are slower than the memory clocks here: the run cannot get faster.
        assert!(b.ns >= a.ns, "{}: {} < {}", preset.name(), b.ns, a.ns);
    }
}
