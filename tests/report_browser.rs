//! `pam report`'s page in a real browser: a sweep's merged table made here (every figure fed:
//! several systems, offline batches with an out-of-memory run, SLOs of 100/150/200 ms, TP x PP
//! configurations, drift rates), its report written, and `index.html` opened in headless
//! Chromium. The page must load, every one of the six figures must render at a non-zero size,
//! and nothing may be logged to the console (the page logs nothing when all is well, so any
//! console line is an error). A copy of the page with a script error and a hidden figure
//! checks that the same harness catches both.
//!
//! Chromium is required, not optional: `scripts/setup.sh` installs Debian's `chromium`
//! (`PAM_CHROMIUM` may name another binary).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pam::sweep::report::write_report;
use pam::sweep::table::{Figure, PeakResult, Results, Row};

const COMMIT: &str = "3f9c2e1";

/// The systems and what they do relative to one another: (name, throughput factor, joules per
/// token factor, largest batch it holds).
const SYSTEMS: [(&str, f64, f64, u32); 8] = [
    ("vllm-offload", 1.0, 1.0, 64),
    ("attacc", 1.6, 0.8, 128),
    ("lpim", 1.9, 0.7, 256),
    ("lspim", 2.2, 0.6, 256),
    ("pam", 3.4, 0.35, 256),
    ("pam-no-pamattention", 2.5, 0.55, 256),
    ("pam-no-mapping", 2.9, 0.45, 256),
    ("pam-no-scheduler", 3.0, 0.42, 256),
];

fn factors(system: &str) -> (f64, f64, u32) {
    SYSTEMS.iter().find(|s| s.0 == system).map(|s| (s.1, s.2, s.3)).expect("known system")
}

struct Point<'a> {
    part: &'a str,
    figures: &'a [Figure],
    index: usize,
    values: BTreeMap<String, serde_json::Value>,
}

fn row(p: &Point<'_>, system: &str) -> Row {
    let (speed, energy, _) = factors(system);
    let jpt = 2.4 * energy;
    let pim = if system == "vllm-offload" { 0.0 } else { 0.25 };
    let components = [
        ("gpu", 0.55 - pim / 2.0),
        ("pim_HBM", pim * 0.5),
        ("pim_DDR5", pim * 0.3),
        ("pim_SSD", pim * 0.2),
        ("migration", if system.starts_with("pam") { 0.03 } else { 0.0 }),
        ("offload", if system == "vllm-offload" { 0.25 } else { 0.02 }),
        ("links", 0.07),
        ("static", 0.1),
    ];
    let total: f64 = components.iter().map(|c| c.1).sum();
    Row {
        sweep: "eval-browser".into(),
        part: p.part.into(),
        figures: p.figures.to_vec(),
        point: format!("{}-{:04}", p.part, p.index),
        index: p.index,
        values: p.values.clone(),
        commit: COMMIT.into(),
        seed: 1,
        model: "llama3-70b".into(),
        trace: "arxiv".into(),
        tp: 8,
        pp: 1,
        nodes: 1,
        slo_tpot_ms: 150.0,
        drift: 0.01,
        system: system.into(),
        batch: None,
        peak: None,
        requests: 400,
        finished: 400,
        output_tokens_per_s: 180.0 * speed,
        requests_per_s: 0.9 * speed,
        ttft_mean_s: 4.0 / speed,
        ttft_p50_s: 3.5 / speed,
        ttft_p90_s: 7.0 / speed,
        ttft_p99_s: 9.0 / speed,
        tpot_mean_s: 0.09,
        tpot_p50_s: 0.085,
        tpot_p90_s: 0.12,
        tpot_p99_s: 0.16,
        latency_mean_s: 40.0 / speed,
        latency_p90_s: 70.0 / speed,
        slo_attainment: 0.97,
        goodput_tokens_per_s: 175.0 * speed,
        preemptions: 0,
        max_running: 32,
        out_of_memory: false,
        migrated_per_step: if system.starts_with("pam") { 12.0 } else { 0.0 },
        joules_per_output_token: jpt,
        joules_by_component: components.iter().map(|(k, v)| (k.to_string(), v / total * jpt)).collect(),
        util: BTreeMap::from([("HBM".into(), 0.6), ("DDR5".into(), 0.3), ("SSD".into(), 0.1)]),
    }
}

/// A sweep of four parts feeding all six figures, shaped like scenarios/eval/small.yaml.
fn sweep() -> Results {
    let mut rows = Vec::new();
    let mut index = 0;
    let mut next = |part: &'static str, figures: &'static [Figure], values: &[(&str, serde_json::Value)]| {
        index += 1;
        Point {
            part,
            figures,
            index: index - 1,
            values: values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        }
    };
    // Peak throughput under each SLO, two traces.
    for trace in ["arxiv", "conversation"] {
        for slo in [100.0, 150.0, 200.0] {
            let p =
                next("slo", &[Figure::Slo], &[("serving.slo.tpot_ms", slo.into()), ("serving.trace", trace.into())]);
            for system in ["vllm-offload", "attacc", "lspim", "pam"] {
                let mut r = row(&p, system);
                r.trace = trace.into();
                r.slo_tpot_ms = slo;
                r.output_tokens_per_s *= slo / 150.0;
                r.max_running = ((slo / 10.0) * factors(system).0).round() as u32;
                let met = !(system == "vllm-offload" && slo == 100.0);
                r.peak =
                    Some(PeakResult { load_kind: "rate".into(), load: slo / 100.0, met, saturated: false, probes: 6 });
                rows.push(r);
            }
        }
    }
    // Offline batches: throughput, energy and the ablation; vllm-offload cannot hold 256.
    for batch in [16u32, 64, 256] {
        let p = next(
            "offline",
            &[Figure::Offline, Figure::Energy, Figure::Ablation],
            &[("serving.batches", serde_json::json!([batch]))],
        );
        for (system, ..) in SYSTEMS {
            let mut r = row(&p, system);
            let (_, _, holds) = factors(system);
            r.batch = Some(batch);
            r.output_tokens_per_s *= f64::from(batch.min(holds)).sqrt();
            r.max_running = batch.min(holds);
            r.out_of_memory = batch > holds;
            r.preemptions = if r.out_of_memory { 37 } else { 0 };
            rows.push(r);
        }
    }
    // TP x PP configurations.
    for (tp, pp) in [(4u32, 1u32), (8, 1), (4, 2), (8, 2)] {
        let p = next("scaling", &[Figure::Scaling], &[("serving.node.tp", tp.into()), ("serving.node.pp", pp.into())]);
        for system in ["vllm-offload", "lspim", "pam"] {
            let mut r = row(&p, system);
            (r.tp, r.pp) = (tp, pp);
            r.output_tokens_per_s *= f64::from(tp * pp).powf(0.8) / 8f64.powf(0.8);
            rows.push(r);
        }
    }
    // Locality drift.
    for drift in [0.0, 0.01, 0.05, 0.1] {
        let p = next("drift", &[Figure::Drift], &[("serving.locality.drift", drift.into())]);
        for system in ["lspim", "pam"] {
            let mut r = row(&p, system);
            r.drift = drift;
            if system == "pam" {
                r.output_tokens_per_s /= 1.0 + 8.0 * drift;
            }
            rows.push(r);
        }
    }
    Results { sweep: "eval-browser".into(), file: "scenarios/eval/browser.yaml".into(), points: index, rows }
}

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("PAM_CHROMIUM") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "PAM_CHROMIUM={} is not a file: unset it to use the chromium of scripts/setup.sh",
            p.display()
        );
        return p;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "no Chromium found (chromium, chromium-browser or google-chrome on PATH, or PAM_CHROMIUM): \
         run scripts/setup.sh as root, which installs Debian's chromium"
    );
}

/// What Chromium printed: the DOM (stdout) and its log (stderr).
struct Run {
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium on `page` with `extra` flags, a fresh profile, and a time limit.
fn run_chromium(page: &Path, extra: &[String]) -> Run {
    // A fresh profile per run: tests run in parallel, and Chromium locks its profile.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    let profile =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("chromium-profile-{}-{n}", std::process::id()));
    std::fs::remove_dir_all(&profile).ok();
    let url = format!("file://{}", page.canonicalize().expect("page path").display());
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).ok();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish within 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let run = Run { stdout: reader.join().expect("stdout"), stderr: err_reader.join().expect("stderr") };
    std::fs::remove_dir_all(&profile).ok();
    assert!(status.success(), "chromium failed ({status}) on {url}:\n{}", run.stderr);
    run
}

/// The opening tags named `name` in `html`, as attribute maps (quotes respected).
fn tags(html: &str, name: &str) -> Vec<BTreeMap<String, String>> {
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        if !after.starts_with([' ', '>', '\n']) {
            rest = after;
            continue;
        }
        let mut attrs = BTreeMap::new();
        let mut chars = after.char_indices().peekable();
        let mut end = after.len();
        let (mut key, mut in_key) = (String::new(), false);
        while let Some((i, c)) = chars.next() {
            match c {
                '>' => {
                    end = i;
                    break;
                }
                '=' if in_key => {
                    let quote = chars.next().map(|x| x.1).unwrap_or('"');
                    let mut value = String::new();
                    for (_, v) in chars.by_ref() {
                        if v == quote {
                            break;
                        }
                        value.push(v);
                    }
                    attrs.insert(std::mem::take(&mut key), value);
                    in_key = false;
                }
                c if c.is_whitespace() => {
                    if in_key {
                        attrs.insert(std::mem::take(&mut key), String::new());
                        in_key = false;
                    }
                }
                c => {
                    key.push(c);
                    in_key = true;
                }
            }
        }
        found.push(attrs);
        rest = &after[end..];
    }
    found
}

/// What the page's own check wrote (see src/sweep/report/html.rs) and the console lines.
struct Check {
    checked: bool,
    errors: usize,
    error_log: String,
    /// Figure name to rendered (width, height).
    rendered: BTreeMap<String, (u32, u32)>,
    console: Vec<String>,
}

fn check(run: &Run) -> Check {
    let body = tags(&run.stdout, "body").into_iter().next().expect("a <body> in the dumped DOM");
    let rendered = tags(&run.stdout, "figure")
        .into_iter()
        .filter_map(|f| {
            let name = f.get("data-figure")?.clone();
            let size = f.get("data-rendered").cloned().unwrap_or_default();
            let (w, h) = size.split_once('x').unwrap_or(("0", "0"));
            Some((name, (w.parse().unwrap_or(0), h.parse().unwrap_or(0))))
        })
        .collect();
    Check {
        checked: body.get("data-checked").is_some_and(|v| v == "true"),
        errors: body.get("data-errors").and_then(|v| v.parse().ok()).unwrap_or(usize::MAX),
        error_log: body.get("data-error-log").cloned().unwrap_or_default(),
        rendered,
        console: run.stderr.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect(),
    }
}

fn report_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    std::fs::remove_dir_all(&dir).ok();
    dir
}

#[test]
fn the_report_renders_every_figure_in_chromium_without_errors() {
    let results = sweep();
    let out = report_dir().join("report");
    let summary = write_report(&results, &out).expect("report");
    assert_eq!(summary.figures.len(), 6);
    for f in &summary.figures {
        assert!(f.empty.is_none() && f.marks > 0, "{:?} has nothing drawn: {:?}", f.figure, f.empty);
        assert!(f.provenance.contains("eval-browser") && f.provenance.contains(COMMIT), "{}", f.provenance);
        let svg = std::fs::read_to_string(&f.svg).expect("svg");
        assert!(svg.starts_with("<svg") && svg.contains(COMMIT), "{} names its commit", f.svg.display());
        let csv = std::fs::read_to_string(&f.csv).expect("csv");
        assert!(csv.lines().count() > 1, "{} has rows", f.csv.display());
    }
    let points = std::fs::read_to_string(&summary.points).expect("points.csv");
    assert_eq!(points.lines().count(), results.rows.len() + 1);

    let html = std::fs::read_to_string(&summary.index).expect("index.html");
    for external in [" src=", "href=\"http", "href='http", "url(", "@import", "<link", "<iframe"] {
        assert!(!html.contains(external), "index.html fetches something ({external})");
    }
    for figure in Figure::ALL {
        let tag = format!("data-figure=\"{}\"", figure.name());
        assert_eq!(html.matches(&tag).count(), 1, "one figure {tag}");
    }

    let shot = out.join("screenshot.png");
    let run = run_chromium(&summary.index, &["--dump-dom".into(), "--virtual-time-budget=5000".into()]);
    let c = check(&run);
    assert!(c.checked, "the page's load handler did not run:\n{}", run.stdout.chars().take(2000).collect::<String>());
    assert_eq!((c.errors, c.error_log.as_str()), (0, ""), "the page logged errors");
    assert!(c.console.is_empty(), "console output while loading the page:\n{}", c.console.join("\n"));
    let names: Vec<&str> = c.rendered.keys().map(String::as_str).collect();
    let mut expected: Vec<&str> = Figure::ALL.iter().map(|f| f.name()).collect();
    expected.sort_unstable();
    assert_eq!(names, expected, "every figure is on the page");
    for (name, (w, h)) in &c.rendered {
        assert!(*w > 100 && *h > 100, "figure {name} rendered at {w}x{h}");
    }

    // A picture for a person to look at (the test only checks that it was taken).
    run_chromium(
        &summary.index,
        &[format!("--screenshot={}", shot.display()), "--window-size=1400,9000".into(), "--hide-scrollbars".into()],
    );
    let png = std::fs::read(&shot).expect("screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} is a PNG", shot.display());
    println!("report: {}\nscreenshot: {}", summary.index.display(), shot.display());
}

#[test]
fn the_browser_check_catches_a_script_error_and_a_hidden_figure() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-browser-broken");
    let summary = write_report(&sweep(), &dir).expect("report");
    let html = std::fs::read_to_string(&summary.index).expect("index.html");
    let broken = html
        .replacen("<figure id=\"fig-drift\"", "<figure style=\"display:none\" id=\"fig-drift\"", 1)
        .replacen("</main>", "</main>\n<script>notAFunction();</script>", 1);
    assert_ne!(broken, html);
    let page = dir.join("broken.html");
    std::fs::write(&page, broken).expect("write");
    let c = check(&run_chromium(&page, &["--dump-dom".into(), "--virtual-time-budget=5000".into()]));
    assert!(c.checked);
    assert_eq!(c.errors, 1, "{}", c.error_log);
    assert!(c.error_log.contains("notAFunction"), "{}", c.error_log);
    assert!(c.console.iter().any(|l| l.contains("notAFunction")), "{:?}", c.console);
    assert_eq!(c.rendered.get("drift"), Some(&(0, 0)));
    assert!(c.rendered.get("slo").is_some_and(|s| s.0 > 0));
    std::fs::remove_dir_all(&dir).ok();
}

/// Runs the `pam` binary.
fn pam(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pam")).args(args).output().expect("run pam");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn pam_report_reads_results_json_and_names_what_is_wrong() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-cli");
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("dir");
    let d = dir.to_str().expect("utf-8 path");

    let (code, _, err) = pam(&["report", d]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("results.json") && err.contains("pam sweep collect"), "{err}");

    let json = dir.join("results.json");
    std::fs::write(&json, "{\"sweep\": \"x\",\n \"file\": \"x.yaml\",\n \"points\": \"many\", \"rows\": []}")
        .expect("write");
    let (code, _, err) = pam(&["report", d]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&json.display().to_string()) && err.contains("line 3"), "{err}");

    std::fs::write(&json, serde_json::to_string_pretty(&sweep()).expect("json")).expect("write");
    let (code, out, err) = pam(&["report", d]);
    assert_eq!(code, 0, "{err}");
    let index = dir.join("report").join("index.html");
    assert!(out.contains(&index.display().to_string()) && index.is_file(), "{out}");
    for figure in Figure::ALL {
        let line = out.lines().find(|l| l.trim_start().starts_with(figure.name())).unwrap_or_default();
        assert!(line.contains(&format!("{}.svg", figure.name())) && line.contains(COMMIT), "{out}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
