//! PAMattention across the three tiers, RTL in the loop: every tier's device partial and the
//! HBM tier's final merge bit for bit against the golden models, the output against float64.

use pam::device::attention::DeviceModel;
use pam::device::tier::TierPreset;
use pam::golden::{self, fp::fp16_to_fp32, fp::fp32_to_fp16};
use pam::kv::location::PhysLoc;
use pam::system::pamattention::{TierConfig, Tiers};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn h(x: f32) -> u16 {
    fp32_to_fp16(x.to_bits())
}

fn f(x: u16) -> f64 {
    f32::from_bits(fp16_to_fp32(x)) as f64
}

struct Tok {
    loc: PhysLoc,
    k: Vec<u16>,
    v: Vec<u16>,
}

/// Places `counts[t]` tokens over the `devices[t]` devices of tier t, runs a group of `g`
/// queries over all of them, checks everything.
fn attend_across_tiers(counts: [usize; 3], devices: [usize; 3], g: usize, seed: u64) {
    let dim = 128;
    let mut specs = TierConfig::scaled(&["hbm-s", "ddr-s", "ssd-s"], &[0; 3]).unwrap();
    for (s, d) in specs.iter_mut().zip(devices) {
        s.devices = d;
    }
    let presets: Vec<TierPreset> = specs.iter().map(|s| s.preset.clone()).collect();
    let mut sys = Tiers::open(&specs, 0, dim, true, seed).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut toks = Vec::new();
    for (t, (preset, &n)) in presets.iter().zip(&counts).enumerate() {
        let mut placer = preset.tier_placer(t, devices[t], dim).unwrap();
        for _ in 0..n {
            let loc = placer.place().unwrap();
            let k: Vec<u16> = (0..dim).map(|_| h(rng.random_range(-3.0..3.0))).collect();
            let v: Vec<u16> = (0..dim).map(|_| h(rng.random_range(-1.0..1.0))).collect();
            sys.device(&loc).unwrap().write_token(&loc, &k, &v).unwrap();
            toks.push(Tok { loc, k, v });
        }
        if n > 0 {
            assert_eq!(
                placer.stored().iter().filter(|&&s| s > 0).count(),
                devices[t].min(n),
                "tokens spread over devices"
            );
        }
        for d in &mut sys.tiers[t].devices {
            d.device.drop_caches().unwrap();
        }
    }
    let qs: Vec<Vec<u16>> = (0..g).map(|_| (0..dim).map(|_| h(rng.random_range(-0.3..0.3))).collect()).collect();
    let per_tier: Vec<Vec<PhysLoc>> =
        (0..3).map(|t| toks.iter().filter(|x| x.loc.tier as usize == t).map(|x| x.loc).collect()).collect();
    let step = sys.attend(&qs, &per_tier).unwrap();
    assert!(!step.err);
    assert_eq!(step.outputs.len(), g);
    assert_eq!(step.devices.len(), (0..3).map(|t| devices[t].min(counts[t])).sum::<usize>());

    let kv = |l: &PhysLoc| {
        let x = toks.iter().find(|x| x.loc == *l).unwrap();
        (x.k.as_slice(), x.v.as_slice())
    };
    let kd: Vec<f64> = toks.iter().flat_map(|x| x.k.iter().map(|&e| f(e))).collect();
    let vd: Vec<f64> = toks.iter().flat_map(|x| x.v.iter().map(|&e| f(e))).collect();
    for (i, q) in qs.iter().enumerate() {
        // Golden: each device in the order it streams, then the merge in (tier, device) order.
        let (want_parts, want) = sys.golden(q, &per_tier, kv);
        assert_eq!(step.partials[i].len(), want_parts.len());
        for (j, part) in want_parts.iter().enumerate() {
            assert_eq!(step.partials[i][j].diff(part), None, "query {i}, partial {j}");
        }
        assert_eq!(step.outputs[i], want, "query {i}");
        let qd: Vec<f64> = q.iter().map(|&x| f(x)).collect();
        let r = golden::reference::attention(&qd, &kd, &vd).unwrap();
        let o: Vec<f64> = step.outputs[i].out.iter().map(|&x| f(x)).collect();
        assert!(golden::reference::within_bound(&o, &r), "rel err {}", golden::reference::rel_err(&o, &r.out));
    }
    let ns: Vec<String> = step
        .devices
        .iter()
        .map(|w| format!("tier {} device {}: {} tokens {:.0} ns", w.tier, w.device, w.tokens, w.run.ps as f64 / 1e3))
        .collect();
    println!(
        "tokens {counts:?} on {devices:?} devices, {g} queries: {ns:?}, merge {} cycles, step {:.0} ns",
        step.merge_cycles,
        step.ps as f64 / 1e3
    );
}

#[test]
fn attention_spread_over_three_tiers_matches_the_models() {
    attend_across_tiers([120, 60, 90], [1, 1, 1], 1, 1);
}

#[test]
fn a_tier_without_tokens_contributes_the_empty_partial() {
    attend_across_tiers([80, 0, 40], [1, 1, 1], 1, 2);
    attend_across_tiers([0, 0, 50], [1, 1, 1], 1, 3);
}

#[test]
fn several_devices_per_tier_and_grouped_queries_match_the_models() {
    attend_across_tiers([100, 40, 60], [2, 2, 2], 2, 4);
    attend_across_tiers([30, 50, 3], [3, 1, 2], 4, 5);
}

/// The group's queries share every K/V read: one grouped pass reads what one query reads, and
/// takes less time than the queries one after the other.
#[test]
fn a_query_group_shares_the_kv_reads() {
    let dim = 64;
    let specs = TierConfig::scaled(&["hbm-s", "ddr-s", "ssd-s"], &[0; 3]).unwrap();
    let presets: Vec<TierPreset> = specs.iter().map(|s| s.preset.clone()).collect();
    let mut sys = Tiers::open(&specs, 0, dim, true, 7).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut per_tier = vec![Vec::new(); 3];
    for (t, preset) in presets.iter().enumerate() {
        let mut placer = preset.tier_placer(t, 1, dim).unwrap();
        for _ in 0..40 {
            let loc = placer.place().unwrap();
            let k: Vec<u16> = (0..dim).map(|_| h(rng.random_range(-1.0..1.0))).collect();
            sys.device(&loc).unwrap().write_token(&loc, &k, &k).unwrap();
            per_tier[t].push(loc);
        }
    }
    let qs: Vec<Vec<u16>> = (0..4).map(|_| (0..dim).map(|_| h(rng.random_range(-0.3..0.3))).collect()).collect();
    let reads =
        |sys: &Tiers| -> Vec<u64> { sys.tiers.iter().map(|t| t.devices[0].device.counts().unwrap().rd).collect() };
    // Once first: the SSD programs the pages its writes left in the dies' page registers.
    sys.attend(&qs, &per_tier).unwrap();
    let before = reads(&sys);
    let grouped = sys.attend(&qs, &per_tier).unwrap();
    let mid = reads(&sys);
    let mut one_by_one = 0;
    for q in &qs {
        let r = sys.attend(std::slice::from_ref(q), &per_tier).unwrap();
        assert_eq!(r.outputs[0], grouped.outputs[qs.iter().position(|x| x == q).unwrap()]);
        one_by_one += r.ps;
    }
    let after = reads(&sys);
    for t in 0..3 {
        let (g, s) = (mid[t] - before[t], after[t] - mid[t]);
        assert_eq!(s, 4 * g, "tier {t}: {g} reads grouped, {s} for four single queries");
    }
    println!("4 queries: grouped {} ns, one by one {} ns", grouped.ps / 1000, one_by_one / 1000);
    assert!(grouped.ps < one_by_one);
}

#[test]
fn a_system_needs_tiers_and_one_list_per_tier() {
    assert!(Tiers::open(&[], 0, 64, false, 1).is_err());
    let spec = |preset, devices| TierConfig { preset, devices, capacity: 0, model: DeviceModel::Rtl };
    let two = |n| vec![spec(TierPreset::by_name("hbm-s").unwrap(), 1), spec(TierPreset::by_name("ssd-s").unwrap(), n)];
    assert!(Tiers::open(&two(0), 0, 64, false, 1).is_err());
    assert!(Tiers::open(&two(1), 2, 64, false, 1).is_err(), "no third tier to merge in");
    let mut sys = Tiers::open(&two(1), 1, 64, false, 1).unwrap();
    assert!(sys.attend(&[vec![0x3c00u16; 64]], &[vec![]]).is_err());
}

#[test]
fn target_split_follows_measured_tier_throughput() {
    let presets: Vec<TierPreset> =
        ["hbm-s", "ddr-s", "ssd-s"].iter().map(|n| TierPreset::by_name(n).unwrap()).collect();
    let s = pam::system::xy::derive(&presets, 64, 96, 5).unwrap();
    assert_eq!(s.tiers.len(), 3);
    for t in &s.tiers {
        assert!(t.ns > 0.0 && t.node > 0.0, "{t:?}");
    }
    let (x, y) = (s.weights[0], s.weights[1]);
    assert!((x - s.tiers[0].node / s.tiers[2].node).abs() < 1e-9 * x);
    assert_eq!(s.weights[2], 1.0);
    // HBM is the fastest tier and flash the slowest: x > y > 1.
    assert!(x > y && y > 1.0, "x {x} y {y}");
}
