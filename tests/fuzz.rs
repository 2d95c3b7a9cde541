//! The fuzzing campaign in small (`pam fuzz` runs it at 10^6 inputs: `make fuzz`), and the
//! regression tests of what it found, each with its minimal reproducer.

use std::path::Path;
use std::time::{Duration, Instant};

use pam::fuzz::{self, seeds::seeds, Campaign, Outcome, Target};
use pam::scenario::Scenario;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pam-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// 20,000 seeded inputs over every target: nothing crashes, and each parser both accepts and
/// rejects inputs (the generator reaches the success and the failure paths).
#[test]
fn campaign_finds_no_crash_and_reaches_both_paths() {
    let out = tmp("campaign");
    let c = Campaign {
        inputs: 20_000,
        seed: 0x5eed,
        targets: Target::ALL.to_vec(),
        out: Some(out.clone()),
        verbose: true,
        inject_crash: None,
    };
    let reports = fuzz::run(&c).unwrap();
    assert_eq!(reports.len(), Target::ALL.len());
    for r in &reports {
        let crashes: Vec<String> = r
            .crashes
            .iter()
            .map(|k| format!("input {} ({}): {}", k.index, fuzz::replay_command(c.seed, r.target, k.index), k.message))
            .collect();
        assert_eq!(r.crashed, 0, "{}: {crashes:#?}", r.target.name());
        assert_eq!(r.accepted + r.rejected, r.inputs, "{}", r.target.name());
        assert!(r.accepted > r.inputs / 10, "{}: only {} of {} accepted", r.target.name(), r.accepted, r.inputs);
        assert!(r.rejected > r.inputs / 10, "{}: only {} of {} rejected", r.target.name(), r.rejected, r.inputs);
    }
    assert!(!out.exists(), "no crash, no reproducer written");
}

#[test]
fn every_seed_input_is_accepted() {
    for target in Target::ALL {
        for (i, seed) in seeds(target).iter().enumerate() {
            assert_eq!(fuzz::check(target, seed.as_bytes()), Outcome::Accepted, "{} seed {i}", target.name());
        }
    }
}

#[test]
fn an_input_is_replayed_from_the_seed_target_and_index() {
    for target in Target::ALL {
        let a: Vec<Vec<u8>> = (0..50).map(|i| fuzz::input(9, target, i)).collect();
        let b: Vec<Vec<u8>> = (0..50).rev().map(|i| fuzz::input(9, target, i)).rev().collect();
        assert_eq!(a, b, "{}: an input depends on the inputs before it", target.name());
        let distinct: std::collections::HashSet<&Vec<u8>> = a.iter().collect();
        assert!(distinct.len() > 25, "{}: only {} distinct inputs of 50", target.name(), distinct.len());
        assert_ne!(fuzz::input(9, target, 7), fuzz::input(10, target, 7));
    }
}

/// Crashes (here injected) are caught, counted, and written as reproducers that say how to
/// replay them, with the panic's location.
#[test]
fn crashes_are_counted_and_written_with_their_replay() {
    let out = tmp("inject");
    let c = Campaign {
        inputs: 400,
        seed: 77,
        targets: vec![Target::Scenario, Target::Jsonl],
        out: Some(out.clone()),
        verbose: false,
        inject_crash: Some(20),
    };
    let reports = fuzz::run(&c).unwrap();
    for r in &reports {
        assert_eq!(r.crashed, 10, "{}", r.target.name());
        assert_eq!(r.crashes.len(), fuzz::MAX_REPRODUCERS);
        let first = &r.crashes[0];
        assert_eq!(first.index, 19);
        let text = std::fs::read(first.file.as_ref().unwrap()).unwrap();
        let text = String::from_utf8_lossy(&text);
        let replay = format!("pam fuzz --target {} --seed 77 --replay 19", r.target.name());
        assert!(
            text.contains(&replay) && text.contains("injected crash") && text.contains("src/fuzz/mod.rs"),
            "{text}"
        );
        assert!(text.ends_with(&*String::from_utf8_lossy(&fuzz::input(77, r.target, 19))), "{text}");
        let ext = if r.target == Target::Scenario { "yaml" } else { "jsonl" };
        let bare = out.join(format!("crash-{}-0.{ext}", r.target.name()));
        assert_eq!(std::fs::read(bare).unwrap(), fuzz::input(77, r.target, 19));
    }
    let _ = std::fs::remove_dir_all(&out);
}

fn scenario_error(text: &str) -> String {
    let started = Instant::now();
    let e = Scenario::parse(Path::new("f.yaml"), text).expect_err("rejected").to_string();
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}: {e}", started.elapsed());
    assert!(e.starts_with("f.yaml"), "{e}");
    e
}

const SYSTEM: &str = "name: s\nsystem:\n  model: {layers: 1, q_heads: 2, kv_heads: 2, head_dim: 64}\n  contexts: [100]\n  steps: 2\n  tiers:\n    - {preset: ssd-s, capacity: 1000}\n  policy: pam\n";

/// Found by the campaign on a build with overflow checks (`make fuzz-checked`: 21 of 60,000
/// scenario inputs of seed 11 panicked at the multiplication, e.g. `layers:
/// 18446744073709551615`); a release build wraps silently: layers x KV heads x tokens
/// overflowed u64, and wrapped to 0 tokens a model of 2^63 layers was accepted on a 1000-token
/// tier.
#[test]
fn regression_huge_model_overflows_the_capacity_check() {
    assert!(Scenario::parse(Path::new("f.yaml"), SYSTEM).is_ok());
    let e = scenario_error(&SYSTEM.replace("layers: 1", "layers: 9223372036854775808"));
    assert!(e.starts_with("f.yaml:7:") && e.contains("system.tiers") && e.contains("cannot hold"), "{e}");
    let e = scenario_error(
        &SYSTEM
            .replace("kv_heads: 2", "kv_heads: 18446744073709551615")
            .replace("q_heads: 2", "q_heads: 18446744073709551615"),
    );
    assert!(e.contains("system.tiers") && e.contains("cannot hold"), "{e}");
}

/// A "billion laughs" of YAML aliases as a flow-map key: expanded, 3^11 scalars; the default
/// budget let it run to 250,000 nodes (0.75 s). Now refused within the scenario budget.
#[test]
fn regression_yaml_alias_bomb_is_refused_quickly() {
    let bomb = fuzz::mutate::alias_bomb(11, 3);
    let e = scenario_error(&format!("name: t\ndatapath:\n  problems: 1\n  tiles: {{min: 1,{bomb} max: 2}}\n"));
    assert!(e.contains("line 4") && e.contains("budget"), "{e}");
    let e = scenario_error(&format!("name: t\nsystem:\n  target: {bomb}\n"));
    assert!(e.contains("line 3") && e.contains("budget"), "{e}");
}

#[test]
fn regression_deep_nesting_and_huge_files_are_refused() {
    let deep = format!("name: t\nseed: {}1{}\n", "[".repeat(5000), "]".repeat(5000));
    let e = scenario_error(&deep);
    assert!(e.contains("line 2"), "{e}");
    let e = scenario_error(&format!("name: t\ndescription: {}\n", "x".repeat(2 << 20)));
    assert!(e.contains("bytes") && e.contains("at most"), "{e}");
}

/// Found by the campaign (its scenario generator asks the validator's capacity question for
/// head dimension 0): a token of 0 column accesses divided by zero in the DRAM placement.
#[test]
fn regression_head_dimension_zero_has_no_capacity() {
    for preset in pam::device::tier::TierPreset::verilated_names() {
        let p = pam::device::tier::TierPreset::verilated_named(preset).unwrap();
        let e = p.capacity(0).expect_err(preset).to_string();
        assert!(e.contains(preset), "{e}");
        assert!(p.capacity(64).unwrap() > 0);
    }
}

/// Found by the seed check of the campaign: the documented three-tier target form
/// `target: {x: 4, y: 2}` never parsed, as YAML 1.1 reads the key `y` as the boolean `true`
/// (`"y"` quoted worked). Scenarios now take YAML 1.2 booleans.
#[test]
fn regression_target_x_y_form_parses() {
    let three = SYSTEM.replace(
        "    - {preset: ssd-s, capacity: 1000}\n",
        "    - {preset: hbm-s, capacity: 10}\n    - {preset: ddr-s, capacity: 10}\n    - {preset: ssd-s, capacity: 1000}\n",
    );
    for form in ["{x: 4, y: 2}", "{x: 4.5, \"y\": 2}", "{y: 2, x: 4}"] {
        let text = format!("{three}  target: {form}\n");
        let s = Scenario::parse(Path::new("f.yaml"), &text).unwrap_or_else(|e| panic!("{form}: {e}"));
        let target = s.system.unwrap().target;
        assert_eq!(target[1..], [2.0, 1.0], "{form}");
    }
    let e = scenario_error(&format!("{SYSTEM}  target: {{x: 4, y: 2}}\n"));
    assert!(e.contains("system.target") && e.contains("three-tier"), "{e}");
}
