//! Numerics while serving (`pam::serve::numerics`): the K/V of a full-size run are a pure
//! function of the seed, a run's sample of attention operations goes through the bit-accurate
//! chain in the tiers the KV manager placed them in with no mismatch against float64, a
//! corrupted partial is caught, and a sample replays through the Verilated devices with
//! waveforms, bit for bit as the golden chain. Synthetic workloads only.

mod serving;

use std::path::{Path, PathBuf};

use pam::serve::engine::{simulate_node, KvPool};
use pam::serve::numerics::{self, kv_vector, query_vector, ReplayOptions, SampleRef, Sampler};
use pam::serve::run;
use pam::serve::scenario::Serving;
use pam::serve::system::{ServingNode, SystemKind};
use serving::{cache, scenario};

fn tmp(name: &str) -> PathBuf {
    serving::tmp("serve_numerics", name)
}

/// A small HBM pool (utilisation 0.3) spilling into SSD: 40 prompts of ~3K tokens hold more
/// than the ~92K positions of HBM, so operations attend positions in both tiers.
fn spilling(dir: &Path, systems: &str, numerics: &str) -> Serving {
    let s = format!(
        "  model: llama3-70b
  node: {{gpu: h100-sxm, tp: 4, pp: 2, gpu_memory_utilization: 0.3, tiers: [hbm3-5.2, ssd]}}
  workload:
    synthetic:
      requests: 40
      arrivals: {{kind: offline}}
      lengths: {{kind: independent, prompt: {{kind: uniform, min: 2500, max: 3500}}, output: {{kind: fixed, tokens: 40}}}}
      seed: 0
  engine: {{max_num_seqs: 40, max_num_batched_tokens: 16384}}
  systems: [{systems}]
  slo: {{tpot_ms: 150}}
  numerics: {numerics}
"
    );
    scenario(dir, "spill", &s).expect("valid")
}

#[test]
fn the_kv_of_a_position_is_a_pure_function_of_its_tuple() {
    let a = kv_vector(9, 3, 17, 2, 1234, 128);
    assert_eq!(a, kv_vector(9, 3, 17, 2, 1234, 128), "same tuple, same bits");
    assert_eq!((a.0.len(), a.1.len()), (128, 128));
    assert_ne!(a.0, a.1);
    for (i, b) in [
        kv_vector(10, 3, 17, 2, 1234, 128),
        kv_vector(9, 4, 17, 2, 1234, 128),
        kv_vector(9, 3, 18, 2, 1234, 128),
        kv_vector(9, 3, 17, 3, 1234, 128),
        kv_vector(9, 3, 17, 2, 1235, 128),
    ]
    .into_iter()
    .enumerate()
    {
        assert_ne!(a, b, "field {i} changed, the vectors must too");
    }
    let q = query_vector(9, 3, 50, 17, 20, 128);
    assert_eq!(q, query_vector(9, 3, 50, 17, 20, 128));
    assert_ne!(q, query_vector(9, 3, 51, 17, 20, 128));
    // Scaled by 1/sqrt(128): every element within 2 / sqrt(128) (FP16 rounding aside).
    let bound = 2.0 / 128f64.sqrt() * (1.0 + 1e-3);
    assert!(q.iter().all(|&h| pam::golden::fp::fp16_to_f64(h).abs() <= bound));
}

#[test]
fn a_serving_run_samples_operations_through_the_chain_with_no_mismatch() {
    let dir = tmp("run");
    let s = spilling(&dir, "pam, lpim, vllm-offload", "{sample_rate: 0.5, max_samples: 12}");
    let results = run::serve_all(&s, &[], 3, &cache(), |_| Ok(())).expect("serves");
    for r in &results {
        let n = &r.node.numerics;
        println!("{}: {}", r.label, n.line());
        if r.label == "vllm-offload" {
            assert_eq!(n.ops, 0);
            assert!(n.skipped.as_deref().is_some_and(|w| w.contains("GPU")), "{n:?}");
            continue;
        }
        assert!(n.skipped.is_none());
        assert_eq!(n.samples.len(), 12, "{}", r.label);
        // llama3-70b: 8 query heads per KV head.
        assert_eq!(n.ops, 12 * 8);
        assert_eq!(n.mismatches, 0, "{}: {:?}", r.label, n.samples);
        assert!(n.max_rel_err > 0.0 && n.max_rel_err < 1e-2, "{}: {}", r.label, n.max_rel_err);
        // Operations over positions in both tiers were sampled.
        assert!(n.samples.iter().any(|x| x.positions["hbm"] > 0 && x.positions["ssd"] > 0), "{:?}", n.samples);
        assert!(n.samples.iter().all(|x| x.layer < 80 && x.kv_head < 8));
        // The summary carries it.
        let dir = dir.join(r.dir_name());
        run::write_result(r, &dir, &pam::serve::report::Window::default()).expect("writes");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).expect("summary")).expect("json");
        assert_eq!(json["serving"]["node"]["numerics"]["ops"], 96);
        assert_eq!(json["serving"]["node"]["numerics"]["samples"].as_array().map(Vec::len), Some(12));
    }
    // Sparse pam attends an eighth of what dense lpim does.
    let attended = |label: &str| -> u64 {
        let r = results.iter().find(|r| r.label == label).expect("ran");
        r.node.numerics.samples.iter().flat_map(|x| x.positions.values()).sum()
    };
    assert!(attended("pam") * 4 < attended("lpim"));
}

#[test]
fn a_corrupted_partial_is_counted_as_a_mismatch() {
    let dir = tmp("fault");
    let s = spilling(&dir, "pam", "{sample_rate: 0.5, max_samples: 6}");
    let timing = run::pim_timing(&s, &cache(), 3).expect("timing");
    let gpu = run::gpu_backend(&s).expect("gpu");
    let sampler = Sampler::new(s.numerics, 3, 0).inject_faults(2);
    let mut node = ServingNode::new(SystemKind::Pam, true, &s.node, &s.model, &timing, s.locality, &s.energy, 0.01, 3)
        .expect("node")
        .with_numerics(sampler);
    let blocks = node.capacity_positions() / 16;
    let mut cfg = s.engine.clone();
    cfg.kv_pool = KvPool::Blocks { blocks };
    simulate_node(&cfg, blocks, &s.model, gpu.as_ref(), &mut node, &s.workload, &mut ()).expect("runs");
    let n = node.numerics().expect("sampler").report();
    assert_eq!(n.samples.len(), 6);
    // The two corrupted operations, every query head of each, and nothing else.
    assert_eq!(n.samples.iter().map(|x| x.mismatches).collect::<Vec<_>>(), [8, 8, 0, 0, 0, 0], "{n:?}");
    assert_eq!(n.mismatches, 16);
    assert!(n.max_rel_err > 0.5);
}

#[test]
fn a_sample_replays_through_the_rtl_bit_exact_with_waveforms() {
    let dir = tmp("replay");
    let s = spilling(&dir, "pam", "{sample_rate: 0.5, max_samples: 12}");
    let timing = run::pim_timing(&s, &cache(), 3).expect("timing");
    let gpu = run::gpu_backend(&s).expect("gpu");
    let system = s.systems[0];
    // Find a sample over both tiers, then replay it by index.
    let ctx = run::Context { serving: &s, gpu: gpu.as_ref(), timing: &timing, seed: 3, rtl: false };
    let r = run::run_system(&ctx, system, &s.workload, &s.engine, None).expect("runs");
    let (index, sample) = r
        .node
        .numerics
        .samples
        .iter()
        .enumerate()
        .filter(|(_, x)| x.positions["hbm"] > 0 && x.positions["ssd"] > 0)
        .max_by_key(|(_, x)| x.positions["ssd"].min(x.positions["hbm"]))
        .expect("a sample over both tiers");
    let out = dir.join("waves");
    let opts = ReplayOptions { sample: SampleRef::Index(index), waves: true, out: out.clone() };
    let rep = numerics::replay(&ctx, system, &s.workload, &s.engine, &opts).expect("replays");
    print!("{}", rep.describe());
    assert_eq!(rep.id.step, sample.step);
    assert_eq!(rep.id.positions, sample.positions);
    assert!(rep.bit_exact, "{:?}", rep.mismatches);
    assert!(rep.within_bound && rep.max_rel_err < 1e-2);
    assert!(rep.max_rel_diff_full_size < 1e-2);
    let presets: Vec<&str> = rep.tiers.iter().map(|t| t.verilated.as_str()).collect();
    assert_eq!(presets, ["hbm-s", "ssd-s"]);
    // Memory side, first PU and first RU of each device run, its view, and the merging RU.
    assert!(rep.waves.len() >= 7, "{:?}", rep.waves);
    for (f, view) in &rep.waves {
        let len = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{} is empty", f.display());
        assert!(view.ends_with(".gtkw"));
    }
    assert!(rep.waves.iter().any(|(f, v)| f.to_string_lossy().ends_with("_p0000.fst") && Path::new(v).is_file()));
    // The same operation by its id.
    let op = SampleRef::Op {
        node: 0,
        step: sample.step,
        request: sample.request,
        layer: sample.layer,
        kv_head: sample.kv_head,
    };
    let opts = ReplayOptions { sample: op, waves: false, out };
    let again = numerics::replay(&ctx, system, &s.workload, &s.engine, &opts).expect("replays");
    assert!(again.bit_exact && again.waves.is_empty());
    assert_eq!(again.id.positions, sample.positions);
}

#[test]
fn bad_numerics_settings_name_the_file_line_and_field() {
    let dir = tmp("bad");
    let file = dir.join("spill.yaml");
    for (bad, field) in [
        ("{sample_rate: 1.5}", "serving.numerics.sample_rate"),
        ("{max_samples: 1000000}", "serving.numerics.max_samples"),
        ("{rate: 0.1}", "rate"),
    ] {
        let s = format!(
            "  model: llama3-70b
  node: {{gpu: h100-sxm, tp: 4, pp: 2, tiers: [hbm3-5.2, ssd]}}
  workload:
    synthetic: {{requests: 4, arrivals: {{kind: offline}}, lengths: {{kind: independent, prompt: {{kind: fixed, tokens: 10}}, output: {{kind: fixed, tokens: 5}}}}}}
  systems: [pam]
  slo: {{tpot_ms: 150}}
  numerics: {bad}
"
        );
        let e = scenario(&dir, "spill", &s).expect_err("invalid");
        assert!(e.contains(&file.display().to_string()) && e.contains(field), "{bad}: {e}");
        // The `numerics` line of the file (after name, seed and `serving:`).
        assert!(e.contains(":10:") || e.contains("line 10"), "{bad}: {e}");
    }
}
