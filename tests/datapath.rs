//! Corner cases of the datapath, RTL against the golden model and float64.

use pam::datapath::{check, golden_final, Units, DEFAULT_CLOCK_MHZ};
use pam::golden::fp::{fp16_to_fp32, fp32_to_fp16, FP32_NEG_INF};
use pam::golden::{pu as gpu, reference};
use pam::partial::Partial;
use pam::problem::{Flavour, Problem};
use pam::rtl::pu::PuSim;
use pam::rtl::ru::{RuOutput, RuSim};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FP16_ONE: u16 = 0x3C00;
const FP16_NAN: u16 = 0x7E00;
const FP16_INF: u16 = 0x7C00;

fn h(x: f32) -> u16 {
    fp32_to_fp16(x.to_bits())
}

fn f(h: u16) -> f64 {
    f32::from_bits(fp16_to_fp32(h)) as f64
}

fn random_vec(rng: &mut ChaCha8Rng, n: usize, amp: f32) -> Vec<u16> {
    (0..n).map(|_| h(rng.random_range(-amp..=amp))).collect()
}

fn problem(dim: usize, q: Vec<u16>, k: Vec<u16>, v: Vec<u16>, tiles: Vec<usize>, pu: usize, ru: usize) -> Problem {
    assert_eq!(q.len(), dim);
    Problem { seed: 0, flavour: Flavour::Random, pu_lanes: pu, ru_lanes: ru, q, k, v, tiles }
}

fn final_of(ru: &mut RuSim, dim: usize, parts: &[Partial]) -> (Vec<u16>, u32) {
    match ru.reduce(dim, parts, true).unwrap().output {
        RuOutput::Final { out, lse } => (out, lse),
        RuOutput::Merged(_) => unreachable!(),
    }
}

#[test]
fn zero_tokens_give_the_empty_partial_and_a_zero_result() {
    for lanes in [16, 4] {
        let mut units = Units::new(DEFAULT_CLOCK_MHZ);
        let p = problem(20, vec![FP16_ONE; 20], vec![], vec![], vec![0, 0], lanes, lanes);
        let o = check(&p, &mut units).unwrap();
        assert!(o.passed(), "{:?}", o.mismatches);
        assert!(o.out.iter().all(|&x| x == 0));
        assert_eq!(o.lse, FP32_NEG_INF);
        assert_eq!(o.rel_err_f64, None);
        let mut pu = PuSim::new(lanes, DEFAULT_CLOCK_MHZ).unwrap();
        pu.load_query(&[FP16_ONE; 20]).unwrap();
        assert_eq!(pu.run(&[], &[]).unwrap().partial, Partial::empty(20));
    }
}

#[test]
fn one_token_returns_its_value_exactly() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (dim, lanes) in [(64, 16), (37, 4), (1, 16), (256, 4)] {
        let q = random_vec(&mut rng, dim, 0.5);
        let k = random_vec(&mut rng, dim, 2.0);
        let v = random_vec(&mut rng, dim, 1.0);
        let mut units = Units::new(DEFAULT_CLOCK_MHZ);
        let o = check(&problem(dim, q, k, v.clone(), vec![1], lanes, 16), &mut units).unwrap();
        assert!(o.passed(), "{:?}", o.mismatches);
        // softmax of one score is 1: O = v, l = 1, 1/l = 1, so the FP16 output is v bit for bit.
        assert_eq!(o.out, v);
    }
}

#[test]
fn all_equal_scores_average_the_values() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (dim, n) = (48, 300);
    let q = random_vec(&mut rng, dim, 0.5);
    let key = random_vec(&mut rng, dim, 2.0);
    let k: Vec<u16> = key.iter().copied().cycle().take(n * dim).collect();
    let v = random_vec(&mut rng, n * dim, 1.0);
    let mut units = Units::new(DEFAULT_CLOCK_MHZ);
    let o = check(&problem(dim, q, k, v.clone(), vec![100, 200], 16, 16), &mut units).unwrap();
    assert!(o.passed(), "{:?}", o.mismatches);
    let mean: Vec<f64> = (0..dim).map(|i| (0..n).map(|t| f(v[t * dim + i])).sum::<f64>() / n as f64).collect();
    let out: Vec<f64> = o.out.iter().map(|&x| f(x)).collect();
    assert!(reference::rel_err(&out, &mean) < 1e-3, "{}", reference::rel_err(&out, &mean));
}

#[test]
fn one_dominant_token_takes_all_the_weight() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let (dim, n, hot) = (64, 200, 137);
    let q: Vec<u16> = (0..dim).map(|i| h(if i % 2 == 0 { 0.5 } else { -0.5 })).collect();
    let mut k = random_vec(&mut rng, n * dim, 0.1);
    for i in 0..dim {
        k[hot * dim + i] = h(if i % 2 == 0 { 8.0 } else { -8.0 });
    }
    let v = random_vec(&mut rng, n * dim, 1.0);
    let mut units = Units::new(DEFAULT_CLOCK_MHZ);
    let o = check(&problem(dim, q, k, v.clone(), vec![50, 100, 50], 4, 16), &mut units).unwrap();
    assert!(o.passed(), "{:?}", o.mismatches);
    // Score 256 against scores near 0: every other weight underflows to exactly 0.
    assert_eq!(o.out, v[hot * dim..(hot + 1) * dim]);
}

#[test]
fn scores_far_apart_underflow_without_losing_accuracy() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let (dim, n) = (128, 500);
    let q = random_vec(&mut rng, dim, 32.0 / (dim as f32).sqrt());
    let k = random_vec(&mut rng, n * dim, 32.0);
    let v = random_vec(&mut rng, n * dim, 1.0);
    let gq: Vec<u32> = q.iter().map(|&x| fp16_to_fp32(x)).collect();
    let scores: Vec<f32> = k.chunks(dim).map(|kt| f32::from_bits(gpu::score(&gq, kt, 16))).collect();
    let spread = scores.iter().cloned().fold(f32::MIN, f32::max) - scores.iter().cloned().fold(f32::MAX, f32::min);
    assert!(spread > 200.0, "the test needs exp(s - m) to underflow: spread {spread}");
    let mut units = Units::new(DEFAULT_CLOCK_MHZ);
    let o = check(&problem(dim, q, k, v, vec![n], 16, 4), &mut units).unwrap();
    assert!(o.passed(), "{:?}", o.mismatches);
    assert!(o.rel_err_f64.unwrap() < 1e-3);
}

#[test]
fn nan_and_infinity_inputs_raise_the_sticky_flag() {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let dim = 24;
    for (what, lanes) in [("q", 16), ("k", 4), ("v", 16), ("k-inf", 16)] {
        let mut q = random_vec(&mut rng, dim, 0.5);
        let mut k = random_vec(&mut rng, 5 * dim, 1.0);
        let mut v = random_vec(&mut rng, 5 * dim, 1.0);
        match what {
            "q" => q[dim - 1] = FP16_NAN,
            "k" => k[2 * dim + 3] = FP16_NAN,
            "v" => v[4 * dim] = FP16_NAN | 0x8000,
            _ => k[dim + 7] = FP16_INF,
        }
        let mut units = Units::new(DEFAULT_CLOCK_MHZ);
        let o = check(&problem(dim, q.clone(), k.clone(), v.clone(), vec![2, 3], lanes, 16), &mut units).unwrap();
        assert!(o.err_flag, "{what}: flag not raised");
        assert!(o.passed(), "{what}: RTL and model disagree on special values: {:?}", o.mismatches);
        // The flag is sticky across RUNs and cleared by the next LOAD_Q with clean data.
        let pu = units.pu(lanes).unwrap();
        pu.load_query(&random_vec(&mut rng, dim, 0.5)).unwrap();
        let clean_k = random_vec(&mut rng, dim, 1.0);
        assert!(!pu.run(&clean_k, &clean_k).unwrap().err, "{what}: flag not cleared by LOAD_Q");
    }
    // Values outside the head dimension are ignored, special or not.
    let mut units = Units::new(DEFAULT_CLOCK_MHZ);
    let pu = units.pu(16).unwrap();
    pu.load_query(&[FP16_ONE; 3]).unwrap();
    assert!(!pu.run(&[FP16_ONE; 3], &[FP16_ONE; 3]).unwrap().err);
}

#[test]
fn an_empty_partial_in_a_merge_changes_nothing() {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let dim = 33;
    let q = random_vec(&mut rng, dim, 0.5);
    let mut pu = PuSim::new(16, DEFAULT_CLOCK_MHZ).unwrap();
    pu.load_query(&q).unwrap();
    let mut parts = Vec::new();
    for n in [7, 19] {
        let k = random_vec(&mut rng, n * dim, 2.0);
        let v = random_vec(&mut rng, n * dim, 1.0);
        parts.push(pu.run(&k, &v).unwrap().partial);
    }
    let with_empty =
        vec![Partial::empty(dim), parts[0].clone(), Partial::empty(dim), parts[1].clone(), Partial::empty(dim)];
    for lanes in [16, 4] {
        let mut ru = RuSim::new(lanes, DEFAULT_CLOCK_MHZ).unwrap();
        let plain = final_of(&mut ru, dim, &parts);
        let padded = final_of(&mut ru, dim, &with_empty);
        assert_eq!(plain, padded);
        assert_eq!(padded, golden_final(dim, &with_empty));
        let merged = ru.reduce(dim, &with_empty, false).unwrap();
        assert!(!merged.err);
    }
}

#[test]
fn merge_order_does_not_matter_beyond_the_documented_bound() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let dim = 64;
    let q = random_vec(&mut rng, dim, 2.0);
    let sizes = [40usize, 1, 300, 77, 0, 150];
    let n: usize = sizes.iter().sum();
    let k = random_vec(&mut rng, n * dim, 4.0);
    let v = random_vec(&mut rng, n * dim, 1.0);
    let mut pu = PuSim::new(16, DEFAULT_CLOCK_MHZ).unwrap();
    pu.load_query(&q).unwrap();
    let mut parts = Vec::new();
    let mut first = 0;
    for &s in &sizes {
        parts.push(pu.run(&k[first * dim..(first + s) * dim], &v[first * dim..(first + s) * dim]).unwrap().partial);
        first += s;
    }

    // float64: merging the RTL partials in any order gives the same result.
    let merge64 = |order: &[usize]| {
        let (mut m, mut l, mut o) = (f64::NEG_INFINITY, 0.0f64, vec![0.0f64; dim]);
        for &i in order {
            let p = &parts[i];
            let pm = f32::from_bits(p.m) as f64;
            if pm == f64::NEG_INFINITY {
                continue;
            }
            let nm = m.max(pm);
            let (a, b) = ((m - nm).exp(), (pm - nm).exp());
            l = l * a + f32::from_bits(p.l) as f64 * b;
            for (x, &y) in o.iter_mut().zip(&p.o) {
                *x = *x * a + f32::from_bits(y) as f64 * b;
            }
            m = nm;
        }
        o.iter().map(|x| x / l).collect::<Vec<f64>>()
    };
    let base_order: Vec<usize> = (0..parts.len()).collect();
    let base = merge64(&base_order);
    let qd: Vec<f64> = q.iter().map(|&x| f(x)).collect();
    let kd: Vec<f64> = k.iter().map(|&x| f(x)).collect();
    let vd: Vec<f64> = v.iter().map(|&x| f(x)).collect();
    let truth = reference::attention(&qd, &kd, &vd).unwrap().out;

    let mut ru = RuSim::new(16, DEFAULT_CLOCK_MHZ).unwrap();
    for _ in 0..12 {
        let mut order = base_order.clone();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        assert!(reference::rel_err(&merge64(&order), &base) < 1e-12);
        let shuffled: Vec<Partial> = order.iter().map(|&i| parts[i].clone()).collect();
        let (out, _) = final_of(&mut ru, dim, &shuffled);
        assert_eq!((out.clone(), 0), (golden_final(dim, &shuffled).0, 0));
        let got: Vec<f64> = out.iter().map(|&x| f(x)).collect();
        assert!(reference::rel_err(&got, &truth) < reference::REL_BOUND);
    }
}

#[test]
fn pu_throughput_matches_its_documented_cycles_per_token() {
    for (dim, lanes) in [(128, 16), (128, 4), (100, 16), (17, 4), (256, 16)] {
        let mut pu = PuSim::new(lanes, DEFAULT_CLOCK_MHZ).unwrap();
        let q = vec![h(0.1); dim];
        pu.load_query(&q).unwrap();
        let kv = |n: usize| vec![h(0.25); n * dim];
        let c1 = pu.run(&kv(1), &kv(1)).unwrap().cycles;
        let c101 = pu.run(&kv(101), &kv(101)).unwrap().cycles;
        let per_token = (c101 - c1) as f64 / 100.0;
        let documented = 2 * dim.div_ceil(lanes) + 1;
        println!("PU {lanes} lanes, head dim {dim}: {per_token} cycles per token (documented {documented})");
        assert_eq!(per_token, documented as f64);
        assert_eq!(c1, gpu::run_cycles(1, dim, lanes));
    }
}

#[test]
fn head_dimension_outside_the_hardware_is_an_error_not_a_panic() {
    let mut pu = PuSim::new(16, DEFAULT_CLOCK_MHZ).unwrap();
    assert!(pu.load_query(&[]).is_err());
    assert!(pu.load_query(&vec![FP16_ONE; 257]).is_err());
    assert!(PuSim::new(8, DEFAULT_CLOCK_MHZ).is_err());
    let mut ru = RuSim::new(4, DEFAULT_CLOCK_MHZ).unwrap();
    assert!(ru.reduce(300, &[], true).is_err());
    assert!(ru.reduce(8, &[Partial::empty(9)], true).is_err());
}
