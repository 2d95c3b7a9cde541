//! The `pam` command line as a user drives it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pam")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pam-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SMALL: &str = "name: small\nseed: 3\ndatapath:\n  problems: 12\n  pu_lanes: [16, 4]\n  ru_lanes: [16, 4]\n  head_dim: {min: 1, max: 256}\n  tokens: {min: 0, max: 64}\n  tiles: {min: 1, max: 3}\n  amplitude: {min: 0.05, max: 32}\n  waves: 1\n";

#[test]
fn run_writes_a_summary_and_waveforms() {
    let d = tmp("run");
    let sc = d.join("small.yaml");
    std::fs::write(&sc, SMALL).unwrap();
    let out = d.join("out");
    let o = pam(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap(), "--waves"]);
    assert!(o.status.success(), "{}", text(&o));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["checked"], 12);
    assert_eq!(s["mismatches"], 0);
    assert!(s["max_rel_err_f64"].as_f64().unwrap() <= 1e-3);
    assert!(s["cycles"].as_u64().unwrap() > 0);
    assert_eq!(s["seed"], 3);
    let fst: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "fst"))
        .collect();
    assert_eq!(fst.len(), 2, "one PU and one RU dump");
    assert!(fst.iter().all(|e| e.metadata().unwrap().len() > 1000));
    assert!(text(&o).contains("gtkwave "), "the summary says how to open the dump");

    // The same seed gives the same numbers.
    let again = d.join("again");
    let o2 = pam(&["run", sc.to_str().unwrap(), "--out", again.to_str().unwrap()]);
    assert!(o2.status.success());
    let s2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(again.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        (s["cycles"].clone(), s["max_rel_err_f64"].clone()),
        (s2["cycles"].clone(), s2["max_rel_err_f64"].clone())
    );
}

fn bad_scenario(body: &str) -> String {
    let d = tmp(&format!("bad{}", body.len()));
    let sc = d.join("bad.yaml");
    std::fs::write(&sc, body).unwrap();
    let o = pam(&["run", sc.to_str().unwrap(), "--out", d.join("o").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(!t.contains("panicked"), "{t}");
    assert!(t.contains("bad.yaml"), "the message names the file: {t}");
    t
}

#[test]
fn bad_scenarios_are_rejected_with_file_line_and_field() {
    let t = bad_scenario(&SMALL.replace("  waves: 1\n", "  waves: 1\n  wavez: 2\n"));
    assert!(t.contains("wavez") && t.contains("line 12"), "{t}");
    let t = bad_scenario(&SMALL.replace("max: 256", "max: 512"));
    assert!(t.contains(":7:") && t.contains("datapath.head_dim") && t.contains("1..=256"), "{t}");
    let t = bad_scenario(&SMALL.replace("tiles: {min: 1, max: 3}", "tiles: {min: 0, max: 3}"));
    assert!(t.contains(":9:") && t.contains("datapath.tiles"), "{t}");
    let t = bad_scenario(&SMALL.replace("problems: 12", "problems: -1"));
    assert!(t.contains("line 4"), "{t}");
    let t = bad_scenario("name: [unclosed\n");
    assert!(t.contains("line"), "{t}");
    let o = pam(&["run", "/nonexistent/x.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("/nonexistent/x.yaml"));
}

fn junit_cases(path: &Path) -> Vec<(String, String)> {
    let x = std::fs::read_to_string(path).unwrap();
    x.split("<testcase ")
        .skip(1)
        .map(|c| {
            let name = c.split(" name=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
            let seed = c.split("name=\"seed\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
            (name, seed)
        })
        .collect()
}

#[test]
fn regress_reports_junit_with_seeds_and_replays_a_case() {
    let d = tmp("regress");
    let j = d.join("J.xml");
    let o = pam(&["regress", "--suite", "datapath", "--seeds", "6", "--junit", j.to_str().unwrap()]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.lines().any(|l| l == "6 passed, 0 failed"), "{t}");
    let cases = junit_cases(&j);
    assert_eq!(cases.len(), 6);
    let (name, seed) = &cases[3];
    let o = pam(&["regress", "--suite", "datapath", "--replay", seed]);
    let t = text(&o);
    assert!(o.status.success() && t.lines().any(|l| l == "1 passed, 0 failed"), "{t}");
    // The replayed case is the same problem: same label.
    let label = name.split_once('_').unwrap().1;
    let j2 = d.join("J2.xml");
    pam(&["regress", "--suite", "datapath", "--replay", seed, "--junit", j2.to_str().unwrap()]);
    assert!(junit_cases(&j2)[0].0.ends_with(label));
}

#[test]
fn regress_failures_name_the_seed_and_fail_the_run() {
    let d = tmp("fail");
    let j = d.join("J.xml");
    let o = pam(&[
        "regress",
        "--suite",
        "datapath",
        "--seeds",
        "4",
        "--inject-faults",
        "2",
        "--junit",
        j.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert_eq!(t.lines().filter(|l| l.starts_with("FAIL datapath/")).count(), 2, "{t}");
    assert_eq!(
        t.lines().filter(|l| l.trim_start().starts_with("replay: pam regress --suite datapath --replay 0x")).count(),
        2
    );
    assert!(t.lines().any(|l| l == "2 passed, 2 failed"), "{t}");
    let x = std::fs::read_to_string(&j).unwrap();
    assert_eq!(x.matches("<failure ").count(), 2);

    let o = pam(&["regress", "--suite", "fp", "--seeds", "2", "--inject-faults", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).lines().any(|l| l == "1 passed, 1 failed"));
}

#[test]
fn a_failing_case_leaves_its_waveforms() {
    let d = tmp("fail-waves");
    let waves = d.join("waves");
    let j = d.join("J.xml");
    let args = ["regress", "--suite", "datapath", "--seeds", "3", "--inject-faults", "1", "--junit"];
    let mut a: Vec<&str> = args.to_vec();
    a.extend([j.to_str().unwrap(), "--fail-waves", waves.to_str().unwrap()]);
    let o = pam(&a);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let line = t.lines().find(|l| l.trim_start().starts_with("waves: ")).expect("the failure names its waveforms");
    let dir = PathBuf::from(line.trim_start().trim_start_matches("waves: "));
    assert!(dir.starts_with(&waves), "{t}");
    let fst: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "fst"))
        .filter(|e| e.metadata().is_ok_and(|m| m.len() > 0))
        .collect();
    assert!(!fst.is_empty(), "FST files of the failing case's models in {}", dir.display());
    let passing = std::fs::read_dir(&waves).unwrap().count();
    assert_eq!(passing, 1, "only the failing case is dumped");
    assert!(std::fs::read_to_string(&j).unwrap().contains("name=\"waves\""), "the JUnit file keeps the path");
}

#[test]
fn regress_filter_selects_cases_by_name() {
    let o = pam(&["regress", "--suite", "datapath", "--seeds", "40", "--filter", "*_L4_*"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let line = t.lines().find(|l| l.ends_with("0 failed")).unwrap();
    let passed: usize = line.split(' ').next().unwrap().parse().unwrap();
    assert!(passed > 0 && passed < 40, "{t}");
    // A filter that matches nothing ran no test: that is a failure, not a silent pass.
    assert!(!pam(&["regress", "--suite", "datapath", "--seeds", "3", "--filter", "nothing*"]).status.success());
}

const TIERS: &str = "name: t\nseed: 4\ntiers:\n  - preset: hbm-s\n    problems: 2\n    tokens: {min: 10, max: 40}\n    head_dim: [64]\n  - preset: ddr-s\n    problems: 1\n    tokens: {min: 5, max: 20}\n";

#[test]
fn tiers_run_reports_each_tier() {
    let d = tmp("tiers");
    let sc = d.join("tiers.yaml");
    std::fs::write(&sc, TIERS).unwrap();
    let out = d.join("out");
    let o = pam(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for tier in ["hbm-s", "ddr-s"] {
        let t = &s["tiers"][tier];
        assert!(t["cycles"].as_u64().unwrap() > 0 && t["ns"].as_f64().unwrap() > 0.0, "{tier}: {t}");
        assert_eq!(t["timing_violations"], 0);
        assert_eq!(t["mismatches"], 0);
        for k in ["act", "rd", "wr", "pre", "refresh"] {
            assert!(t["bank_commands"][k].is_u64(), "{tier} {k}");
        }
        assert!(t["bank_commands"]["rd"].as_u64().unwrap() > 0);
    }
}

#[test]
fn impossible_tiers_are_rejected() {
    let t = bad_scenario(&TIERS.replace("preset: ddr-s", "preset: ddr5"));
    assert!(t.contains("tiers[1].preset") && t.contains("hbm-s"), "{t}");
    let t = bad_scenario(&TIERS.replace("    head_dim: [64]\n", "    head_dim: [64]\n    geometry: {bank_groups: 0, banks_per_group: 4, banks_per_pu: 2, rows: 128, cols: 32, lanes: 16}\n"));
    assert!(t.contains("geometry.bank_groups") && t.contains("at least 1"), "{t}");
    let t = bad_scenario(&TIERS.replace("    head_dim: [64]\n", "    head_dim: [64]\n    geometry: {bank_groups: 4, banks_per_group: 4, banks_per_pu: 2, rows: 128, cols: 32, lanes: 16}\n"));
    assert!(t.contains("tiers[0].geometry") && t.contains("Verilated"), "{t}");
    let t = bad_scenario(&TIERS.replace("    head_dim: [64]\n", "    head_dim: [64]\n    timing: {ras: 10}\n"));
    assert!(t.contains("tiers[0].timing") && t.contains("ras"), "{t}");
    let t = bad_scenario(&TIERS.replace("    head_dim: [64]\n", "    head_dim: [64]\n    timing: {trcd: 10}\n"));
    assert!(t.contains("tiers[0].timing.trcd") && t.contains("rcd"), "{t}");
    // A 4-lane DDR row of 128 columns holds at most 256-dimensional tokens: 256 fits, 300 is over DMAX.
    let t =
        bad_scenario(&TIERS.replace("tokens: {min: 5, max: 20}\n", "tokens: {min: 5, max: 20}\n    head_dim: [300]\n"));
    assert!(t.contains("tiers[1].head_dim"), "{t}");
    // More tokens than the device holds is bad input (exit 2, not a panic), named with the
    // device's capacity at the entry's largest head dimension (issue 11).
    let t = bad_scenario(&TIERS.replace("tokens: {min: 5, max: 20}", "tokens: {min: 5, max: 120000}"));
    let ddr = pam::device::tier::TierPreset::verilated_named("ddr-s").unwrap();
    let capacity = pam::device::check::DIMS.iter().map(|&d| ddr.capacity(d).unwrap()).min().unwrap();
    assert!(t.contains("tiers[1].tokens.max") && t.contains("bad.yaml:10:"), "{t}");
    assert!(t.contains(&format!("120000 tokens, but one ddr-s device holds at most {capacity} tokens")), "{t}");
}

#[test]
fn impossible_systems_are_rejected() {
    let sys = std::fs::read_to_string("scenarios/pam_small.yaml").unwrap();
    let t = bad_scenario(&sys.replace("capacity: 20000", "capacity: 20"));
    assert!(t.contains("system.tiers") && t.contains("cannot hold"), "{t}");
    let t = bad_scenario(&sys.replace("policy: pam", "policy: fifo"));
    assert!(t.contains("system.policy") && t.contains("lru"), "{t}");
    let t = bad_scenario(&sys.replace("migration: interface", "migration: dma"));
    assert!(t.contains("system.migration") && t.contains("interface") && t.contains("host"), "{t}");
    let t = bad_scenario(&sys.replace("head_dim: 64", "head_dim: 40"));
    assert!(t.contains("system.migration") && t.contains("multiple of 16"), "{t}");
    let t = bad_scenario(&sys.replace("scores: synthetic", "scores: oracle"));
    assert!(t.contains("system.scores") && t.contains("exact") && t.contains("label"), "{t}");
    let t = bad_scenario(&sys.replace("capacity: 600", "capacity: 60000"));
    assert!(t.contains("system.tiers[0].capacity") && t.contains("hbm-s") && t.contains("at most"), "{t}");
    let t = bad_scenario(&sys.replace("capacity: 1200}", "capacity: 1200, devices: 0}"));
    assert!(t.contains("system.tiers[1].devices") && t.contains("1..=8"), "{t}");
    let t = bad_scenario(&sys.replace("capacity: 20000}", "capacity: 20000, model: verilog}"));
    assert!(t.contains("system.tiers[2].model") && t.contains("calibrated"), "{t}");
    let t = bad_scenario(&sys.replace("preset: ddr-s", "preset: ddr4-3200"));
    assert!(t.contains("system.tiers[1].preset") && t.contains("ddr-s"), "{t}");
    let t = bad_scenario(&sys.replace("target: [6, 3, 1]", "target: [6, 3]"));
    assert!(t.contains("system.target") && t.contains("3 positive weights"), "{t}");
    let t = bad_scenario(&sys.replace("target: [6, 3, 1]", "target: [6, 3, 1]\n  merge_tier: 3"));
    assert!(t.contains("system.merge_tier") && t.contains("0..=2"), "{t}");
    let t = bad_scenario(&sys.replace("policy: pam", "policy: pam\n  capacity: {hbm: 1, ddr: 1, ssd: 1}"));
    assert!(t.contains("capacity") && t.contains("tiers"), "the old form is named: {t}");
    let t = bad_scenario(&sys.replace("kv_heads: 2", "kv_heads: 3"));
    assert!(t.contains("system.model"), "{t}");
}

#[test]
fn impossible_counts_are_rejected_before_anything_runs() {
    for args in [
        &["bench", "policies", "--steps", "0"][..],
        &["bench", "calibrated", "--steps", "0"],
        &["bench", "migration", "--tokens", "0"],
        &["xy", "--tokens", "0"],
        &["regress", "--jobs", "0"],
        &["bench", "policies", "--x", "5"],
    ] {
        let o = pam(args);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {t}");
        assert!(!t.contains("panicked"), "{t}");
        assert!(t.contains(args[args.len() - 2]) || t.contains("--y"), "{args:?} names the option: {t}");
    }
}

/// Every shipped scenario is valid (the long ones are run by hand, see the README).
#[test]
fn shipped_scenarios_validate() {
    let mut n = 0;
    for e in std::fs::read_dir("scenarios").unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "yaml") {
            pam::scenario::Scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 4, "{n} scenarios");
}
