//! `pam serve` at full size: every system on synthetic workloads (no file of ../shared needed),
//! the KV manager's invariants over a whole run, what each system must do differently, the
//! files, determinism, the router, the peak search, and bad input.

mod serving;

use std::path::{Path, PathBuf};

use pam::scenario::Scenario;
use pam::serve::engine::{simulate_node, KvPool};
use pam::serve::run::{self, SystemResult};
use pam::serve::scenario::Serving;
use pam::serve::system::{ServingNode, SystemKind};
use serving::{cache, scenario};

fn tmp(name: &str) -> PathBuf {
    serving::tmp("serve", name)
}

const NODE: &str = "  model: llama3-70b
  node: {gpu: h100-sxm, tp: 4, pp: 2, tiers: [hbm3-5.2, ddr4-3200, ssd]}
";

/// Long prompts offline: 1024 requests of ~5K tokens hold ~1.7 TB of KV, past the HBM pool.
fn long_offline(dir: &Path, systems: &str) -> Serving {
    let s = format!(
        "{NODE}  workload:
    synthetic:
      requests: 1024
      arrivals: {{kind: offline}}
      lengths: {{kind: independent, prompt: {{kind: uniform, min: 4000, max: 6000}}, output: {{kind: fixed, tokens: 300}}}}
      seed: 0
  engine: {{max_num_seqs: 1024, max_num_batched_tokens: 65536}}
  systems: [{systems}]
  slo: {{tpot_ms: 150}}
"
    );
    scenario(dir, "long", &s).expect("valid")
}

fn serve(s: &Serving, only: &[&str], seed: u64) -> Vec<SystemResult> {
    let only: Vec<String> = only.iter().map(|x| x.to_string()).collect();
    run::serve_all(s, &only, seed, &cache(), |_| Ok(())).expect("serves")
}

#[test]
fn every_system_serves_a_conversation_workload_and_writes_its_files() {
    let dir = tmp("all");
    let s = scenario(
        &dir,
        "conv",
        &format!(
            "{NODE}  workload:
    synthetic:
      requests: 120
      arrivals: {{kind: poisson, rate_per_s: 8}}
      lengths: {{kind: independent, prompt: {{kind: uniform, min: 100, max: 3000}}, output: {{kind: uniform, min: 20, max: 300}}}}
      seed: 0
  systems: [pam, vllm-offload, attacc, lpim, lspim, pam-no-pamattention, pam-no-mapping, pam-no-scheduler]
  slo: {{tpot_ms: 150}}
"
        ),
    )
    .expect("valid");
    let out = dir.join("out");
    let opts = pam::serve::command::ServeOptions {
        systems: Vec::new(),
        seed: 3,
        out: out.clone(),
        cache: cache(),
        peak: false,
        replay: None,
        waves: false,
    };
    let results = pam::serve::command::serve(&s, &opts).expect("serves");
    assert_eq!(results.len(), 8);
    for r in &results {
        let e = &r.summary.engine;
        assert_eq!((e.requests, e.finished), (120, 120), "{}", r.label);
        assert!(e.output_tokens_per_s > 0.0 && e.tpot_s.p90 > 0.0);
        assert!(r.summary.joules_per_output_token > 0.0, "{}", r.label);
        let parts: f64 = r.summary.joules_per_token_by_component.iter().map(|c| c.1).sum();
        assert!((parts - r.summary.joules_per_output_token).abs() < 1e-9 * parts.max(1.0));
        for f in ["summary.json", "requests.csv", "iterations.csv"] {
            assert!(out.join(&r.label).join(f).is_file(), "{} {f}", r.label);
        }
        let its = std::fs::read_to_string(out.join(&r.label).join("iterations.csv")).expect("iterations");
        let header = its.lines().next().unwrap_or_default().to_string();
        if r.label == "vllm-offload" {
            assert!(header.contains("offload_ddr_us") && !header.contains("hbm_attention_us"), "{header}");
        } else if r.label == "attacc" {
            assert!(header.contains("hbm_attention_us") && !header.contains("ddr_attention_us"), "{header}");
        } else {
            assert!(
                ["hbm_attention_us", "ddr_link_us", "ssd_attention_us", "hbm_merge_us", "migration_us", "kv_write_us"]
                    .iter()
                    .all(|c| header.contains(c)),
                "{header}"
            );
        }
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(&r.label).join("summary.json")).expect("summary"))
                .expect("json");
        assert_eq!(json["serving"]["system"], r.label.as_str());
        assert!(json["serving"]["node"]["tiers"]["hbm"]["capacity_positions"].as_u64().unwrap_or(0) > 1_000_000);
    }
    let sparse = results.iter().find(|r| r.label == "pam").expect("pam");
    assert_eq!(sparse.node.locality.map(|l| l.sparsity), Some(0.125));
    let table = std::fs::read_to_string(out.join("comparison.csv")).expect("comparison");
    assert_eq!(table.lines().count(), 9);
}

#[test]
fn past_the_hbm_pool_offloading_streams_attacc_waits_and_pam_migrates() {
    let dir = tmp("long");
    let s = long_offline(&dir, "pam, vllm-offload, attacc, lspim");
    let results = serve(&s, &[], 3);
    let by = |l: &str| results.iter().find(|r| r.label == l).expect(l);
    let (pam, off, attacc, lspim) = (by("pam"), by("vllm-offload"), by("attacc"), by("lspim"));
    for r in [pam, off, attacc, lspim] {
        assert_eq!(r.summary.engine.finished, 1024, "{}", r.label);
    }
    // KV beyond the HBM pool lives in DDR: offloading streams it every layer.
    assert!(off.node.tiers["ddr"].peak_positions > 0);
    let offload_us: f64 = off
        .run
        .iterations
        .iter()
        .flat_map(|i| i.extra.iter())
        .filter(|(n, _)| n.starts_with("offload"))
        .map(|p| p.1)
        .sum();
    assert!(offload_us > 0.0);
    assert!(
        off.summary.engine.tpot_s.mean > pam.summary.engine.tpot_s.mean,
        "offloading is slower than PIM in the tiers"
    );
    // AttAcc holds KV in HBM only: fewer requests run at once, so the batch takes longer.
    assert!(
        attacc.node.tiers.len() == 1
            && attacc.node.tiers["hbm"].peak_positions <= attacc.node.tiers["hbm"].capacity_positions
    );
    assert!(attacc.max_running() < pam.max_running(), "{} vs {}", attacc.max_running(), pam.max_running());
    // ... and says so, where pam, whose KV spills to DDR, held the whole batch.
    let limit = attacc.kv_limit().expect("attacc reports what it could not hold");
    assert!(limit.contains(&format!("at most {} of 1024 requests", attacc.max_running())), "{limit}");
    assert_eq!(pam.kv_limit(), None);
    // PAM's scheduler moves important positions into HBM; LS-PIM's placement is static.
    assert!(pam.node.migrated_positions > 0 && lspim.node.migrated_positions == 0);
    assert!(
        pam.node.tiers["hbm"].importance_share > lspim.node.tiers["hbm"].importance_share,
        "{} vs {}",
        pam.node.tiers["hbm"].importance_share,
        lspim.node.tiers["hbm"].importance_share
    );
    assert!(pam.node.migrated_fraction_per_step < 0.02);
}

#[test]
fn the_kv_manager_stays_consistent_over_a_whole_run_with_preemptions() {
    let dir = tmp("kv");
    // A small DDR tier and a tiny SSD force the pool to fill and requests to be preempted.
    let s = scenario(
        &dir,
        "kv",
        "  model: llama3-70b
  node: {gpu: h100-sxm, tp: 4, pp: 2, gpu_memory_utilization: 0.3, tiers: [hbm3-5.2, {preset: ddr4-3200, devices: 1}]}
  workload:
    synthetic:
      requests: 300
      arrivals: {kind: offline}
      lengths: {kind: independent, prompt: {kind: uniform, min: 1000, max: 4000}, output: {kind: uniform, min: 100, max: 900}}
      seed: 0
  engine: {max_num_seqs: 300, max_num_batched_tokens: 8192}
  systems: [pam]
  slo: {tpot_ms: 150}
",
    )
    .expect("valid");
    let timing = run::pim_timing(&s, &cache(), 3).expect("timing");
    let gpu = run::gpu_backend(&s).expect("gpu");
    let mut node = ServingNode::new(SystemKind::Pam, true, &s.node, &s.model, &timing, s.locality, &s.energy, 0.01, 3)
        .expect("node");
    let blocks = node.capacity_positions() / 16;
    let mut cfg = s.engine.clone();
    cfg.kv_pool = KvPool::Blocks { blocks };
    let r = simulate_node(&cfg, blocks, &s.model, gpu.as_ref(), &mut node, &s.workload, &mut ()).expect("runs");
    assert!(r.summary().preemptions > 0, "the pool was meant to overflow");
    assert_eq!(r.summary().finished, 300);
    node.kv().check().expect("consistent");
    assert!(node.kv().used().iter().all(|&u| u == 0), "every position freed: {:?}", node.kv().used());
}

#[test]
fn a_run_is_a_function_of_its_seed_and_the_router_spreads_requests() {
    let dir = tmp("seed");
    let text = format!(
        "{NODE}  nodes: 2
  router: least-loaded
  workload:
    synthetic:
      requests: 80
      arrivals: {{kind: gamma, rate_per_s: 20, cv: 2}}
      lengths: {{kind: independent, prompt: {{kind: zipf, min: 50, max: 4000, exponent: 1.1}}, output: {{kind: uniform, min: 10, max: 200}}}}
  systems: [pam]
  slo: {{tpot_ms: 100}}
"
    );
    let a = scenario(&dir, "seed", &text).expect("valid");
    let (r1, r2) = (serve(&a, &[], 5), serve(&a, &[], 5));
    let csv = |r: &SystemResult| {
        let mut v = Vec::new();
        r.run.write_requests_csv(&mut v).expect("csv");
        v
    };
    assert_eq!(csv(&r1[0]), csv(&r2[0]));
    let instances: std::collections::BTreeSet<u32> = r1[0].run.requests.iter().map(|r| r.instance).collect();
    assert_eq!(instances.into_iter().collect::<Vec<_>>(), [0, 1]);
    assert_eq!(r1[0].summary.engine.finished, 80);
    // Another seed draws another workload (the synthetic spec has no seed of its own).
    let file = dir.join("seed.yaml");
    let other = Scenario::load_with_seed(&file, Some(6)).expect("loads").serving.expect("serving");
    assert_ne!(other.workload.requests()[0].prompt_tokens, 0);
    assert_ne!(
        other.workload.requests().iter().map(|r| r.prompt_tokens).collect::<Vec<_>>(),
        a.workload.requests().iter().map(|r| r.prompt_tokens).collect::<Vec<_>>()
    );
}

#[test]
fn the_peak_search_reports_the_best_load_that_meets_the_slo() {
    let dir = tmp("peak");
    let s = scenario(
        &dir,
        "peak",
        &format!(
            "{NODE}  workload:
    synthetic:
      requests: 200
      arrivals: {{kind: poisson, rate_per_s: 2}}
      lengths: {{kind: independent, prompt: {{kind: uniform, min: 200, max: 2000}}, output: {{kind: uniform, min: 50, max: 200}}}}
  engine: {{max_num_batched_tokens: 2048}}
  systems: [lspim]
  slo: {{tpot_ms: 60}}
"
        ),
    )
    .expect("valid");
    let gpu = run::gpu_backend(&s).expect("gpu");
    let timing = run::pim_timing(&s, &cache(), 3).expect("timing");
    let ctx = run::Context { serving: &s, gpu: gpu.as_ref(), timing: &timing, seed: 3, rtl: false };
    let mut seen = Vec::new();
    let p = pam::serve::peak::search(
        pam::serve::peak::Load::Rate(&s.workload),
        &s.engine,
        s.slo_tpot_s,
        |w, e| run::run_system(&ctx, s.systems[0], w, e, None),
        |p| seen.push(p.clone()),
    )
    .expect("searches");
    assert!(p.probes.len() >= 3 && p.probes.len() == seen.len());
    assert!(p.probes.iter().any(|p| p.met) && p.probes.iter().any(|p| !p.met), "{:?}", p.probes);
    let best = p.best.expect("a load meets the SLO");
    assert!(best.met && best.tpot_p90_s <= s.slo_tpot_s);
    assert!(p.probes.iter().filter(|q| q.met).all(|q| q.tokens_per_s <= best.tokens_per_s));
}

#[test]
fn bad_serving_input_names_the_file_line_and_field() {
    let dir = tmp("bad");
    let base = format!(
        "{NODE}  workload:
    synthetic: {{requests: 4, arrivals: {{kind: offline}}, lengths: {{kind: independent, prompt: {{kind: fixed, tokens: 10}}, output: {{kind: fixed, tokens: 5}}}}}}
  systems: [pam]
  slo: {{tpot_ms: 150}}
"
    );
    let cases = [
        ("systems: [pam]", "systems: [pam, warp-drive]", "serving.systems[1]", "vllm-offload"),
        ("tiers: [hbm3-5.2, ddr4-3200, ssd]", "tiers: [hbm3-5.2, ddr9]", "serving.node.tiers[1]", "ddr4-3200"),
        ("tp: 4", "tp: 3", "serving.node.tp", "3"),
        ("gpu: h100-sxm, tp: 4, pp: 2", "gpu: rtx4090, tp: 1, pp: 1", "serving.node", "does not fit"),
        ("tpot_ms: 150", "tpot_ms: -1", "serving.slo.tpot_ms", "allowed"),
        ("systems: [pam]", "systems: [pam]\n  locality: {drift: 2}", "serving.locality.drift", "[0, 1]"),
    ];
    for (from, to, field, allowed) in cases {
        let text = base.replace(from, to);
        let e = scenario(&dir, "bad", &text).expect_err(to);
        assert!(e.contains("bad.yaml:") && e.contains(field) && e.contains(allowed), "{to}: {e}");
    }
    let missing = base.replace(
        "    synthetic: {requests: 4, arrivals: {kind: offline}, lengths: {kind: independent, prompt: {kind: fixed, tokens: 10}, output: {kind: fixed, tokens: 5}}}",
        "    trace: no/such/trace.csv",
    );
    let e = scenario(&dir, "bad", &missing).expect_err("missing trace");
    assert!(e.contains(":7:") && e.contains("serving.workload.trace") && e.contains("no/such/trace.csv"), "{e}");
}

#[test]
fn with_every_tiers_rtl_in_the_loop_the_decisions_are_the_same_and_the_times_close() {
    let dir = tmp("rtl");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/serve_small_rtl.yaml"))
        .expect("scenario");
    let serving = text.split_once("serving:\n").expect("a serving section").1;
    // Enough KV to reach every tier, few decode steps.
    let small = serving
        .replace("requests: 16", "requests: 8")
        .replace("min: 300, max: 700", "min: 800, max: 1000")
        .replace("min: 20, max: 40", "min: 4, max: 6");
    let s = scenario(&dir, "rtl", &small).expect("valid");
    let opts = pam::serve::command::ServeOptions {
        systems: vec!["pam".into()],
        seed: 3,
        out: dir.join("out"),
        cache: cache(),
        peak: false,
        replay: None,
        waves: false,
    };
    let checks = pam::serve::command::rtl_check(&s, &opts).expect("runs");
    assert_eq!(checks.len(), 1);
    let c = &checks[0];
    assert!(c.same_decisions, "the RTL's times changed a decision");
    assert!(c.rtl_runs > 0 && c.tiers.len() == 4, "{} runs, {:?}", c.rtl_runs, c.tiers);
    // The summed attention within the 2% the command reports against; each tier, over its few
    // loads here (a DRAM run that meets a refresh takes tRFC longer), within 5%.
    assert!((c.ratio() - 1.0).abs() <= pam::serve::command::RTL_TOLERANCE, "ratio {}", c.ratio());
    for (t, fast, rtl) in &c.tiers {
        assert!(*rtl > 0.0 && (fast / rtl - 1.0).abs() < 0.05, "{t}: {fast} vs {rtl}");
    }
    // A node of full-size tiers cannot have its RTL in the loop.
    let full = scenario(&dir, "full", &format!("{NODE}  workload: {{synthetic: {{requests: 2, arrivals: {{kind: offline}}, lengths: {{kind: independent, prompt: {{kind: fixed, tokens: 10}}, output: {{kind: fixed, tokens: 2}}}}}}}}\n  systems: [pam]\n  slo: {{tpot_ms: 150}}\n")).expect("valid");
    let e = pam::serve::command::rtl_check(&full, &opts).err().expect("refused").to_string();
    assert!(e.contains("hbm3-5.2") && e.contains("hbm-s"), "{e}");
}
