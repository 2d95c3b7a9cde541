//! PAMattention across the three tiers, RTL in the loop: every tier's device partial and the
//! HBM tier's final merge bit for bit against the golden models, the output against float64.

use pam::device::preset::DramPreset;
use pam::device::ssd::FlashPreset;
use pam::device::tier::TierPreset;
use pam::golden::{self, fp::fp16_to_fp32, fp::fp32_to_fp16};
use pam::kv::location::PhysLoc;
use pam::system::pamattention::Tiers;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn h(x: f32) -> u16 {
    fp32_to_fp16(x.to_bits())
}

fn f(x: u16) -> f64 {
    f32::from_bits(fp16_to_fp32(x)) as f64
}

struct Tok {
    tier: usize,
    loc: PhysLoc,
    k: Vec<u16>,
    v: Vec<u16>,
}

/// Places `counts[t]` tokens in tier t, runs one query over all of them, checks everything.
fn attend_across_tiers(counts: [usize; 3], seed: u64) {
    let dim = 128;
    let presets = TierPreset::scaled();
    let mut sys = Tiers::open(&presets, true).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut toks = Vec::new();
    for (t, (preset, &n)) in presets.iter().zip(&counts).enumerate() {
        let mut placer = preset.placer(dim).unwrap();
        for _ in 0..n {
            let loc = placer.place(&mut rng).unwrap();
            let k: Vec<u16> = (0..dim).map(|_| h(rng.random_range(-3.0..3.0))).collect();
            let v: Vec<u16> = (0..dim).map(|_| h(rng.random_range(-1.0..1.0))).collect();
            sys.tiers[t].device.write_token(&loc, &k, &v).unwrap();
            toks.push(Tok { tier: t, loc, k, v });
        }
        sys.tiers[t].device.memory().drop_caches().unwrap();
    }
    let q: Vec<u16> = (0..dim).map(|_| h(rng.random_range(-0.3..0.3))).collect();
    let per_tier: Vec<Vec<PhysLoc>> =
        (0..3).map(|t| toks.iter().filter(|x| x.tier == t).map(|x| x.loc).collect()).collect();
    let step = sys.attend(&q, &per_tier).unwrap();
    assert!(!step.err);

    // Golden: each tier's device in the order it streams, then the merge in tier order.
    let kv = |t: usize, l: &PhysLoc| {
        let x = toks.iter().find(|x| x.tier == t && x.loc == *l).unwrap();
        (x.k.as_slice(), x.v.as_slice())
    };
    let (want_parts, want_out, want_lse) = sys.golden(&q, &per_tier, kv);
    for (t, part) in want_parts.iter().enumerate() {
        assert_eq!(step.tier_partials[t].diff(part), None, "tier {t}");
    }
    assert_eq!((step.out.clone(), step.lse), (want_out, want_lse));

    let qd: Vec<f64> = q.iter().map(|&x| f(x)).collect();
    let kd: Vec<f64> = toks.iter().flat_map(|x| x.k.iter().map(|&e| f(e))).collect();
    let vd: Vec<f64> = toks.iter().flat_map(|x| x.v.iter().map(|&e| f(e))).collect();
    let r = golden::reference::attention(&qd, &kd, &vd).unwrap();
    let o: Vec<f64> = step.out.iter().map(|&x| f(x)).collect();
    assert!(golden::reference::within_bound(&o, &r), "rel err {}", golden::reference::rel_err(&o, &r.out));
    let ns: Vec<String> = step
        .per_tier
        .iter()
        .map(|r| r.as_ref().map_or("-".into(), |r| format!("{:.0} ns", r.ps as f64 / 1e3)))
        .collect();
    println!(
        "tokens {counts:?}: tiers {ns:?}, merge {} cycles, step {:.0} ns",
        step.merge_cycles,
        step.ps as f64 / 1e3
    );
}

#[test]
fn attention_spread_over_three_tiers_matches_the_models() {
    attend_across_tiers([120, 60, 90], 1);
}

#[test]
fn a_tier_without_tokens_contributes_the_empty_partial() {
    attend_across_tiers([80, 0, 40], 2);
    attend_across_tiers([0, 0, 50], 3);
}

#[test]
fn a_system_needs_tiers_and_one_list_per_tier() {
    assert!(Tiers::open(&[], false).is_err());
    let mut sys =
        Tiers::open(&[TierPreset::Dram(DramPreset::hbm_scaled()), TierPreset::Flash(FlashPreset::ssd_scaled())], false)
            .unwrap();
    assert!(sys.attend(&[0x3c00; 64], &[vec![]]).is_err());
}

#[test]
fn target_split_follows_measured_tier_throughput() {
    let s = pam::system::xy::derive(64, 96, 5).unwrap();
    assert_eq!(s.tiers.len(), 3);
    for t in &s.tiers {
        assert!(t.ns > 0.0 && t.node > 0.0, "{t:?}");
    }
    assert!((s.x - s.tiers[0].node / s.tiers[2].node).abs() < 1e-9 * s.x);
    // HBM is the fastest tier and flash the slowest: x > y > 1.
    assert!(s.x > s.y && s.y > 1.0, "x {} y {}", s.x, s.y);
}
