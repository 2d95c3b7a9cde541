//! Sweeps as a user runs them: expansion into points with stable ids, errors that name the
//! sweep file, an interrupted sweep that resumes with the remaining points only, and shards
//! that collect to the same table as one local run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pam::sweep::spec::Sweep;

mod serving;

fn pam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pam")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// A sweep over OPT-175B's offline base (a batch of 16, pam only: about a second a point).
fn tiny_sweep(dir: &Path, drifts: &str) -> PathBuf {
    let file = dir.join("tiny.yaml");
    let text = format!(
        "sweep: tiny\nseed: 5\nbase: {}\nparts:\n  - name: drift\n    figures: [drift]\n    axes:\n      serving.locality.drift: {drifts}\n      serving.batches: [[16]]\n      serving.systems: [[pam]]\n",
        repo("scenarios/serve_opt175b_arxiv.yaml").display()
    );
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn the_small_evaluation_expands_to_stable_distinct_points() {
    let file = repo("scenarios/eval/small.yaml");
    let a = Sweep::load(&file).unwrap();
    let b = Sweep::load(&file).unwrap();
    assert_eq!(a.points.len(), 9, "2 SLOs + 1 offline + 3 TP x PP + 3 drifts");
    assert_eq!(a.points.iter().map(|p| &p.id).collect::<Vec<_>>(), b.points.iter().map(|p| &p.id).collect::<Vec<_>>());
    let mut ids: Vec<&String> = a.points.iter().map(|p| &p.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 9, "ids are distinct");
    let node = a.points.iter().find(|p| p.values.get("serving.node.tp") == Some(&serde_json::json!(8))).unwrap();
    let s = node.serving().unwrap();
    assert_eq!((s.node.tp, s.node.pp), (8, 1), "a mapping value merges into the node");
    assert_eq!(s.node.tiers.len(), 3, "the rest of the node is the base's");
    let drift = a.points.iter().filter(|p| p.part == "drift").map(|p| p.serving().unwrap().locality.drift);
    assert_eq!(drift.collect::<Vec<_>>(), vec![0.0, 0.05, 0.2]);
    // A range expands inclusively, and its points differ from the list's.
    let d = serving::tmp("sweep", "ranges");
    let r = Sweep::load(&tiny_sweep(&d, "{from: 0.0, to: 0.2, step: 0.05}")).unwrap();
    let got: Vec<f64> = r.points.iter().map(|p| p.serving().unwrap().locality.drift).collect();
    assert_eq!(got, vec![0.0, 0.05, 0.1, 0.15, 0.2]);
    let g = Sweep::load(&tiny_sweep(&d, "{from: 0.01, to: 0.08, times: 2}")).unwrap();
    let got: Vec<f64> = g.points.iter().map(|p| p.serving().unwrap().locality.drift).collect();
    assert_eq!(got, vec![0.01, 0.02, 0.04, 0.08]);
    assert_eq!(g.points.iter().map(|p| p.seed).collect::<Vec<_>>(), vec![5; 4], "the sweep's seed");
}

#[test]
fn bad_sweeps_name_the_file_line_and_field() {
    let d = serving::tmp("sweep", "bad");
    let cases = [
        // (axes text, what the error must say)
        ("      serving.slo.tpot_ms: [-5]\n", "tpot_ms"),
        ("      serving.locality.drift: {from: 1, to: 0, step: 1}\n", "from <= to"),
        ("      serving.model: [no-such-model]\n", "no-such-model"),
        ("      serving..drift: [1]\n", "dotted scenario field"),
    ];
    for (axes, expect) in cases {
        let file = d.join("bad.yaml");
        let yaml = format!(
            "sweep: bad\nbase: {}\nparts:\n  - name: p\n    axes:\n{axes}",
            repo("scenarios/serve_opt175b_arxiv.yaml").display()
        );
        std::fs::write(&file, yaml).unwrap();
        let o = pam(&["sweep", file.to_str().unwrap(), "--out", d.join("out").to_str().unwrap()]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains("bad.yaml:6:"), "names the axis's line: {t}");
        assert!(t.contains("parts[0].axes"), "names the field: {t}");
        assert!(t.contains(expect), "says what is wrong ({expect}): {t}");
        assert!(!d.join("out/points").exists(), "nothing ran: {t}");
    }
    let o = pam(&["sweep", "collect", d.join("nowhere").to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("sweep.json"), "{}", text(&o));
}

fn done_points(out: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(out.join("points"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().join("rows.json").is_file())
                .map(|e| {
                    let id = e.file_name().to_string_lossy().into_owned();
                    (id, std::fs::read_to_string(e.path().join("point.json")).unwrap_or_default())
                })
                .filter(|(_, rec)| rec.contains("\"done\": true"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_killed_sweep_resumes_with_the_remaining_points_only() {
    let d = serving::tmp("sweep", "resume");
    let file = tiny_sweep(&d, "[0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14]");
    let out = d.join("out");
    let cache = serving::cache();
    let args = |extra: &[&str]| {
        let mut a =
            vec!["sweep", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--cache", cache.to_str().unwrap()];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    // Calibrate first, so the kill lands while points run.
    let o = Command::new(env!("CARGO_BIN_EXE_pam")).args(args(&["--point", "none"])).output().unwrap();
    assert!(!o.status.success() && text(&o).contains("no such point"), "{}", text(&o));
    pam::sweep::runner::warm_cache(&Sweep::load(&file).unwrap().points.iter().collect::<Vec<_>>(), &cache).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pam"))
        .args(args(&["--jobs", "1"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while done_points(&out).is_empty() {
        assert!(t.elapsed() < Duration::from_secs(300), "no point finished in 5 minutes");
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended before it was killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = done_points(&out);
    assert!(!before.is_empty() && before.len() < 8, "killed midway: {} of 8 done", before.len());
    let o = Command::new(env!("CARGO_BIN_EXE_pam")).args(args(&["--jobs", "2"])).output().unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let k = before.len();
    assert!(t.contains(&format!("{} to run, {k} already done", 8 - k)), "{t}");
    assert!(t.contains(&format!("8 points done ({} run now, {k} skipped", 8 - k)), "{t}");
    let after = done_points(&out);
    assert_eq!(after.len(), 8, "{t}");
    for (id, rec) in &before {
        let now = after.iter().find(|(i, _)| i == id).map(|(_, r)| r);
        assert_eq!(now, Some(rec), "point {id} was not run again");
    }
    let o = pam(&["sweep", "collect", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let r: pam::sweep::table::Results =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r.rows.len(), 8);
    let drifts: Vec<f64> = r.rows.iter().map(|x| x.drift).collect();
    assert_eq!(drifts, vec![0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14], "rows in point order");
}

#[test]
fn shards_collect_to_the_same_table_as_one_local_run() {
    let d = serving::tmp("sweep", "shards");
    let file = tiny_sweep(&d, "[0.0, 0.05, 0.1]");
    let cache = serving::cache();
    let run = |out: &Path, extra: &[&str]| {
        let mut a =
            vec!["sweep", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--cache", cache.to_str().unwrap()];
        a.extend_from_slice(extra);
        let o = pam(&a);
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    let local = d.join("local");
    run(&local, &["--jobs", "2"]);
    let sharded = d.join("sharded");
    let t = run(&sharded, &["--shard", "1/2"]);
    assert!(t.contains("1 points (shard 1/2 of 3)"), "{t}");
    let o = pam(&["sweep", "collect", sharded.to_str().unwrap()]);
    assert!(!o.status.success(), "a missing shard fails collect");
    let missing = text(&o);
    assert!(missing.contains("2 point(s) have no result"), "{missing}");
    run(&sharded, &["--shard", "0/2"]);
    for dir in [&local, &sharded] {
        let o = pam(&["sweep", "collect", dir.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
    }
    for f in ["results.json", "results.csv"] {
        let (a, b) = (std::fs::read(local.join(f)).unwrap(), std::fs::read(sharded.join(f)).unwrap());
        assert!(a == b, "{f} differs between the local and the sharded run");
    }
    // The same sweep under a Slurm array task's environment runs that task's shard.
    let env_out = d.join("env");
    let o = Command::new(env!("CARGO_BIN_EXE_pam"))
        .args(["sweep", file.to_str().unwrap(), "--out", env_out.to_str().unwrap(), "--cache", cache.to_str().unwrap()])
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    assert!(text(&o).contains("1 points (shard 2/3 of 3)"), "{}", text(&o));
    // --slurm writes an array script with one task per point.
    let o = pam(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        env_out.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--slurm",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let script = std::fs::read_to_string(env_out.join("slurm/sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-2"), "{script}");
    assert!(script.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\""), "{script}");
}
