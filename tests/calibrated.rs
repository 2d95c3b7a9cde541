//! The fast device model calibrated from the RTL: its time model predicts held-out RTL runs,
//! its arithmetic is bit for bit the RTL's, and a decode run over calibrated tiers makes the
//! same decisions and outputs as over the RTL.

use std::sync::Arc;

use pam::device::attention::{AttentionDevice, DeviceModel};
use pam::device::calibrated::{CalibratedDevice, Calibration};
use pam::device::tier::TierPreset;
use pam::golden::fp::fp32_to_fp16;
use pam::migration::MigrationPath;
use pam::sched::{Scheduler, SchedulerConfig, Target};
use pam::system::decode::{DecodeConfig, ModelShape, PamSystem};
use pam::system::pamattention::TierConfig;
use pam::system::scores::ScoreKind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn h(x: f32) -> u16 {
    fp32_to_fp16(x.to_bits())
}

#[test]
fn the_time_model_predicts_held_out_rtl_runs() {
    // The system runs every tier's PUs on their own clock.
    for preset in TierPreset::verilated() {
        let cal = Calibration::measure(preset, 64, true, 3).unwrap();
        println!(
            "{}: coef {:?}, held-out error max {:.3} mean {:.3} total {:.3}",
            cal.preset, cal.coef, cal.max_rel_err, cal.mean_rel_err, cal.total_rel_err
        );
        assert!(cal.mean_rel_err < 0.2 && cal.total_rel_err < 0.1, "{cal:?}");
    }
}

#[test]
fn calibrated_partials_are_the_rtl_partials() {
    let dim = 64;
    for preset in TierPreset::verilated() {
        let cal = Arc::new(Calibration::measure(preset, dim, true, 4).unwrap());
        let mut fast = CalibratedDevice::new(preset.clone(), cal);
        let mut rtl = preset.open_with_pu_clock(None).unwrap();
        let mut placer = preset.placer(dim).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut locs = Vec::new();
        for _ in 0..150 {
            let loc = placer.place(&mut rng).unwrap();
            let k: Vec<u16> = (0..dim).map(|_| h(rng.random_range(-2.0..2.0))).collect();
            let v: Vec<u16> = (0..dim).map(|_| h(rng.random_range(-1.0..1.0))).collect();
            AttentionDevice::write_token(&mut fast, &loc, &k, &v).unwrap();
            rtl.write_token(&loc, &k, &v).unwrap();
            assert_eq!(fast.read_token(&loc, dim).unwrap(), (k, v));
            locs.push(loc);
        }
        let qs: Vec<Vec<u16>> = (0..3).map(|_| (0..dim).map(|_| h(rng.random_range(-0.3..0.3))).collect()).collect();
        fast.load_queries(&qs).unwrap();
        rtl.load_queries(&qs).unwrap();
        let subset: Vec<_> = locs.iter().copied().step_by(2).collect();
        let (f, r) = (fast.run(&subset).unwrap(), rtl.run(&subset).unwrap());
        assert_eq!(f.partials, r.partials, "{}", preset.name());
        assert_eq!(f.tokens_per_pu, r.tokens_per_pu);
        // The RUs merge a fixed number of partials per query: their time does not depend on
        // the tokens.
        assert!(r.reduce_ps > 0 && r.reduce_ps < r.ps);
        assert!(f.reduce_ps.abs_diff(r.reduce_ps) <= 3, "RU time {} vs RTL {}", f.reduce_ps, r.reduce_ps);
        println!("{}: calibrated {} ns, RTL {} ns", preset.name(), f.ps / 1000, r.ps / 1000);
        assert!(fast.run(&[pam::kv::location::PhysLoc { row: 9999, ..locs[0] }]).is_err(), "no token there");
    }
}

#[test]
fn a_decode_run_over_calibrated_tiers_decides_and_computes_as_over_the_rtl() {
    let run = |model: DeviceModel| {
        let cfg = DecodeConfig {
            model: ModelShape { layers: 1, q_heads: 2, kv_heads: 1, head_dim: 64 },
            contexts: vec![60, 40],
            steps: 6,
            scores: ScoreKind::Synthetic,
            drift: 0.1,
            fraction: 0.25,
            tiers: TierConfig::scaled(&["hbm-s", "ddr-s", "ssd-s"], &[30, 30, 400])
                .unwrap()
                .into_iter()
                .map(|t| TierConfig { model, ..t })
                .collect(),
            merge_tier: 0,
            migration: MigrationPath::Interface,
            seed: 11,
        };
        let sched = Scheduler::new(SchedulerConfig::new(Target::new(6.0, 3.0).unwrap()));
        let mut sys = PamSystem::new(cfg, Box::new(sched)).unwrap();
        let out = sys.run().unwrap();
        sys.verify_storage().unwrap();
        assert!(out.mismatches.is_empty(), "{:?}", out.mismatches);
        out
    };
    let rtl = run(DeviceModel::Rtl);
    let fast = run(DeviceModel::Calibrated);
    assert_eq!(rtl.splits, fast.splits);
    assert_eq!(rtl.max_rel_err_f64, fast.max_rel_err_f64, "the same outputs");
    for t in 0..3 {
        let total = |o: &pam::system::decode::DecodeOutcome| o.steps.iter().map(|s| s.attention_ns[t]).sum::<f64>();
        let (r, f) = (total(&rtl), total(&fast));
        println!("tier {t}: attention RTL {:.1} us, calibrated {:.1} us", r / 1e3, f / 1e3);
        assert!(r > 0.0 && (f - r).abs() < 0.35 * r, "tier {t}: RTL {r} ns, calibrated {f} ns");
    }
}
