//! The run's trace and plots (SERVING-SPEC §11) from real simulated runs: the trace parses,
//! nests per track whatever the importer does with microseconds, is limited to its window and
//! names its tracks; the SVG plots are well formed, carry their axis labels and one line per
//! system; a run that finished nothing still gets its files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pam::serve::engine::{self, EngineConfig, KvPool, RunResult};
use pam::serve::gpu::{GpuPreset, ModelShape, Roofline};
use pam::serve::report::{self, plots, PlotOptions, TierUtilisation, Window};
use pam::serve::workload::{ArrivalProcess, LengthDist, Lengths, SyntheticSpec, Workload};
use serde_json::Value;

fn workload(requests: usize) -> Workload {
    SyntheticSpec {
        requests,
        arrivals: ArrivalProcess::Poisson { rate_per_s: 20.0 },
        lengths: Lengths::Independent {
            prompt: LengthDist::Uniform { min: 16, max: 400 },
            output: LengthDist::Uniform { min: 2, max: 120 },
        },
        seed: 7,
    }
    .generate()
    .expect("synthetic workload")
}

/// Llama-3.1-8B on the H100 roofline: TP 2 and PP 2 so that every GPU component (all-reduce,
/// pipeline transfer) shows.
fn run(tp: u32, pp: u32, requests: usize) -> RunResult {
    let model = ModelShape::by_name("llama-3.1-8b").expect("model preset");
    let gpu = Roofline::new(&GpuPreset::by_name("h100-sxm").expect("GPU preset"));
    let config = EngineConfig { tp, pp, kv_pool: KvPool::Blocks { blocks: 4000 }, ..EngineConfig::default() };
    engine::simulate(&config, &model, &gpu, &workload(requests)).expect("run")
}

/// A fresh directory under the system's temporary one, removed when dropped; under
/// `$PAM_REPORT_KEEP` instead, and kept, when that is set (to look at the files).
struct TempDir(PathBuf, bool);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let keep = std::env::var_os("PAM_REPORT_KEEP").map(PathBuf::from);
        let dir = match &keep {
            Some(root) => root.join(name),
            None => std::env::temp_dir().join(format!("pam-serve-report-{}-{name}", std::process::id())),
        };
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir, keep.is_some())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Per track, every X slice ends before the next one starts or holds it whole, with
/// microseconds turned into nanoseconds by `to_ns`. Returns the X slices per track.
fn check_nesting(events: &[Value], to_ns: fn(f64) -> i64) -> BTreeMap<i64, Vec<(i64, i64, String)>> {
    let mut by_track: BTreeMap<i64, Vec<(i64, i64, String)>> = BTreeMap::new();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let ts = to_ns(e["ts"].as_f64().expect("ts"));
        let end = ts + to_ns(e["dur"].as_f64().expect("dur"));
        let name = e["name"].as_str().expect("name").to_string();
        by_track.entry(e["tid"].as_i64().expect("tid")).or_default().push((ts, end, name));
    }
    for (tid, slices) in &mut by_track {
        slices.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
        let mut open: Vec<(i64, &str)> = Vec::new();
        for (s, e, name) in slices.iter() {
            while open.last().is_some_and(|&(end, _)| end <= *s) {
                open.pop();
            }
            if let Some(&(end, parent)) = open.last() {
                assert!(e <= &end, "track {tid}: {name} [{s}, {e}] ns crosses the end {end} of {parent}");
            }
            open.push((*e, name));
        }
    }
    by_track
}

fn read_trace(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("trace file");
    let json: Value = serde_json::from_str(&text).expect("the trace is JSON");
    json["traceEvents"].as_array().expect("traceEvents").clone()
}

#[test]
fn trace_of_a_served_run_nests_names_its_tracks_and_keeps_its_window() {
    let result = run(2, 2, 80);
    let steps = result.iterations.iter().map(|i| i.iteration + 1).max().expect("iterations");
    assert!(steps > 60, "the run must be longer than the window ({steps} steps)");
    let dir = TempDir::new("trace");
    let path = dir.0.join("trace.json");
    let window = Window { start: 10, iterations: 40 };
    report::trace_from_run(&result, &window).expect("trace").write_file(&path).expect("write");
    let events = read_trace(&path);

    let exact = check_nesting(&events, |us| (us * 1e3).round() as i64);
    let truncated = check_nesting(&events, |us| (us * 1e3) as i64);
    assert_eq!(exact, truncated, "times are exact in binary: truncation changes nothing");

    // Metadata: the process and every track with a slice are named.
    let named: BTreeMap<i64, &str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| (e["tid"].as_i64().expect("tid"), e["args"]["name"].as_str().expect("name")))
        .collect();
    assert_eq!(named.values().copied().collect::<Vec<_>>(), ["GPU stage 0", "GPU stage 1"]);
    assert!(exact.keys().all(|tid| named.contains_key(tid)), "every track is named");
    assert!(events.iter().any(|e| e["ph"] == "M" && e["name"] == "process_name"), "the process is named");

    // The window: one parent per iteration and stage, from iteration 10 to 49.
    let parents: Vec<&Value> = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"].as_str().is_some_and(|n| n.starts_with("iteration")))
        .collect();
    assert_eq!(parents.len(), 2 * 40);
    let its: Vec<u64> = parents.iter().map(|e| e["args"]["iteration"].as_u64().expect("iteration")).collect();
    assert_eq!((its.iter().min(), its.iter().max()), (Some(&10), Some(&49)));
    let full = report::trace_from_run(&result, &Window { start: 0, iterations: steps }).expect("trace");
    let limited = report::trace_from_run(&result, &window).expect("trace");
    assert!(limited.slice_count() * 2 < full.slice_count(), "the window bounds the slices");

    // Children are the GPU components, inside their parents, every component present.
    let components: std::collections::BTreeSet<&str> =
        exact.values().flatten().map(|s| s.2.as_str()).filter(|n| !n.starts_with("iteration")).collect();
    assert_eq!(
        components.into_iter().collect::<Vec<_>>(),
        ["all_reduce", "attention", "dense", "lm_head", "pp_transfer"]
    );

    // Counters: running and waiting requests, KV blocks, batch tokens, once per step.
    let counters: Vec<&Value> = events.iter().filter(|e| e["ph"] == "C").collect();
    for (name, key) in
        [("requests", "running"), ("requests", "waiting"), ("kv_blocks", "used"), ("batch_tokens", "tokens")]
    {
        let n = counters.iter().filter(|c| c["name"] == name && c["args"][key].is_number()).count();
        assert_eq!(n, 40, "counter {name}.{key}");
    }
    assert!(counters.iter().any(|c| c["args"]["running"].as_f64() > Some(1.0)), "batches of several requests");
}

/// Checks that `svg` is well formed as far as tags go (every opened tag closed, in order).
fn check_tags(svg: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(at) = rest.find('<') {
        let end = rest[at..].find('>').expect("a tag ends") + at;
        let tag = &rest[at + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name.trim()), "closing tag");
        } else if !tag.ends_with('/') {
            open.push(tag.split_whitespace().next().expect("tag name"));
        }
    }
    assert!(open.is_empty(), "unclosed tags {open:?}");
}

/// The data lines of an SVG (polylines of more than two points), by stroke colour.
fn lines_by_colour(svg: &str) -> BTreeMap<String, usize> {
    let mut lines = BTreeMap::new();
    for tag in svg.split("<polyline").skip(1) {
        let tag = &tag[..tag.find("/>").expect("polyline ends")];
        let attr = |name: &str| {
            let at = tag.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
            &tag[at..at + tag[at..].find('"').expect("quote")]
        };
        if attr("points").split_whitespace().count() > 2 {
            *lines.entry(attr("stroke").to_string()).or_default() += 1;
        }
    }
    lines
}

fn read_svg(path: &Path) -> String {
    let svg = std::fs::read_to_string(path).expect("svg");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{}", path.display());
    check_tags(&svg);
    svg
}

#[test]
fn plots_of_two_systems_carry_their_axes_and_a_line_per_system() {
    let (one, two) = (run(1, 1, 60), run(2, 2, 60));
    let dir = TempDir::new("plots");
    let tiers = [
        TierUtilisation { name: "HBM".into(), points: (0..50).map(|i| (f64::from(i) * 0.1, 0.5)).collect() },
        TierUtilisation { name: "DDR5".into(), points: (0..50).map(|i| (f64::from(i) * 0.1, 0.2)).collect() },
    ];
    let written = report::write_plots(&[("TP1", &one), ("TP2 PP2", &two)], &tiers, &dir.0, &PlotOptions::default())
        .expect("plots");
    let names: Vec<String> =
        written.written.iter().map(|p| p.file_name().expect("name").to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["latency_cdf.svg", "throughput.svg", "batch.svg", "breakdown.svg", "utilisation.svg"]);
    assert!(written.skipped.is_empty());

    let (c0, c1) = (plots::colour_hex(0), plots::colour_hex(1));
    let expect = [
        ("latency_cdf.svg", &[plots::TTFT_LABEL, plots::TPOT_LABEL, plots::LATENCY_LABEL, plots::CDF_LABEL][..], 3),
        ("throughput.svg", &[plots::TIME_LABEL, plots::THROUGHPUT_LABEL][..], 1),
        ("batch.svg", &[plots::TIME_LABEL, plots::RUNNING_LABEL][..], 1),
        ("utilisation.svg", &[plots::TIME_LABEL, plots::BUSY_LABEL, "HBM", "DDR5"][..], 1),
    ];
    for (file, labels, per_system) in expect {
        let svg = read_svg(&dir.0.join(file));
        for label in labels {
            assert!(svg.contains(&format!(">\n{label}\n</text>")), "{file}: label {label:?}");
        }
        let lines = lines_by_colour(&svg);
        assert_eq!(lines.get(&c0), Some(&per_system), "{file}: {lines:?}");
        assert_eq!(lines.get(&c1), Some(&per_system), "{file}: {lines:?}");
        assert_eq!(lines.values().sum::<usize>(), 2 * per_system, "{file}: nothing else is a line");
        assert!(!svg.contains(plots::NO_DATA), "{file}");
    }
    let svg = read_svg(&dir.0.join("latency_cdf.svg"));
    assert!(svg.contains(">\nTP1\n</text>") && svg.contains(">\nTP2 PP2\n</text>"), "legend");

    // The breakdown: a bar per system and component, the systems named on the x axis, the
    // components in the legend; the TP2 PP2 system has two components more.
    let svg = read_svg(&dir.0.join("breakdown.svg"));
    for label in
        [plots::BREAKDOWN_LABEL, "TP1", "TP2 PP2", "dense", "attention", "lm_head", "all_reduce", "pp_transfer"]
    {
        assert!(svg.contains(&format!(">\n{label}\n</text>")), "breakdown: label {label:?}");
    }
    let bars = |colour: &str| svg.matches(&format!("fill=\"{colour}\" stroke=\"none\"/>")).count();
    // Each component: its bars plus its legend swatch. dense (0), attention (1), lm_head (2) are
    // in both systems, all_reduce and pp_transfer only in TP2 PP2.
    assert_eq!((bars(&c0), bars(&c1), bars(&plots::colour_hex(2))), (3, 3, 3));
    assert_eq!((bars(&plots::colour_hex(3)), bars(&plots::colour_hex(4))), (2, 2));
}

#[test]
fn a_run_that_finished_nothing_still_gets_its_files() {
    let mut idle = run(1, 1, 5);
    for r in &mut idle.requests {
        r.token_times_ns.clear();
    }
    idle.iterations.clear();
    let dir = TempDir::new("idle");
    let written = report::write_plots(&[("idle", &idle)], &[], &dir.0, &PlotOptions::default()).expect("plots");
    assert_eq!(written.written.len(), 4);
    assert_eq!(written.skipped.len(), 1);
    assert_eq!(written.skipped[0].0, "utilisation.svg");
    for path in &written.written {
        let svg = read_svg(path);
        assert!(svg.contains(plots::NO_DATA), "{}", path.display());
        assert!(lines_by_colour(&svg).is_empty(), "{}", path.display());
    }
    assert!(read_svg(&dir.0.join("latency_cdf.svg")).contains("idle (no finished request)"));

    let path = dir.0.join("trace.json");
    report::trace_from_run(&idle, &Window::default()).expect("trace").write_file(&path).expect("write");
    let events = read_trace(&path);
    assert!(events.iter().all(|e| e["ph"] == "M"), "metadata only");
    // An unwritable place is an error with the path, not a panic.
    let blocked = dir.0.join("latency_cdf.svg").join("sub");
    let err = report::write_plots(&[("idle", &idle)], &[], &blocked, &PlotOptions::default()).expect_err("a file");
    assert!(err.to_string().contains("sub"), "{err}");
}
