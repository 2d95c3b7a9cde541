//! Request workloads (SERVING-SPEC §4): the real traces of `../shared/traces/`, the error
//! messages of every format, synthetic arrivals, load scaling, agentic sessions, and random
//! bytes fed to every parser.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pam::serve::workload::{
    After, ArrivalProcess, LengthDist, Lengths, LoadScaling, SessionLink, SyntheticSpec, TimeWindow, TraceFormat,
    Workload, WorkloadError,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn trace(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces").join(name)
}

const CONV: &str = "splitwise_conv.csv";
const CODE: &str = "splitwise_code.csv";
const ARXIV: &str = "arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv";
const SHAREGPT: &str = "sharegpt-llama-3.1-8b-300-sps10.jsonl";

/// A file in the system's temporary folder, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> TempFile {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pam-workload-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn read(&self) -> Result<Workload, WorkloadError> {
        Workload::read(&self.0)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The real traces.

/// Reads a real trace, checks its detected format, count, mean lengths (to the README's
/// rounding) and non-decreasing arrivals.
fn check_real(name: &str, format: TraceFormat, count: usize, mean_prompt: f64, mean_output: f64) -> Workload {
    let path = trace(name);
    let head = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(TraceFormat::detect(&path.display().to_string(), &head[..head.len().min(4096)]).unwrap(), format);
    let w = Workload::read(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.len(), count, "{name}");
    assert!((w.mean_prompt_tokens() - mean_prompt).abs() <= 0.5, "{name}: mean prompt {}", w.mean_prompt_tokens());
    assert!((w.mean_output_tokens() - mean_output).abs() <= 0.5, "{name}: mean output {}", w.mean_output_tokens());
    for (i, r) in w.requests().iter().enumerate() {
        assert_eq!(r.id, i as u64);
        assert!(r.prompt_tokens > 0 && r.output_tokens > 0 && r.session.is_none());
    }
    assert!(w.requests().windows(2).all(|p| p[0].arrival_ns <= p[1].arrival_ns), "{name}: arrivals go backwards");
    // The same file named explicitly reads the same.
    assert_eq!(Workload::read_as(&path, format).unwrap(), w);
    w
}

#[test]
fn splitwise_conversation_trace() {
    let w = check_real(CONV, TraceFormat::Splitwise, 19_366, 1155.0, 211.0);
    let r = w.requests();
    assert_eq!((r[0].arrival_ns, r[0].prompt_tokens, r[0].output_tokens), (0, 374, 44));
    assert_eq!((r[1].arrival_ns, r[1].prompt_tokens, r[1].output_tokens), (4_314_579_000, 396, 109));
    // One hour of conversations, in seconds turned into nanoseconds.
    let last = w.last_arrival_ns().unwrap();
    assert!((3_400e9..3_700e9).contains(&(last as f64)), "{last}");
}

#[test]
fn splitwise_code_trace() {
    check_real(CODE, TraceFormat::Splitwise, 8_819, 2048.0, 28.0);
}

#[test]
fn arxiv_token_counts_are_offline() {
    let w = check_real(ARXIV, TraceFormat::TokenCounts, 28_257, 2588.0, 291.0);
    assert!(w.requests().iter().all(|r| r.arrival_ns == 0));
    assert_eq!((w.requests()[0].prompt_tokens, w.requests()[0].output_tokens), (3772, 54));
    // Arrivals generated for it keep the lengths.
    let timed = w.clone().with_arrivals(&ArrivalProcess::Poisson { rate_per_s: 2.0 }, 3).unwrap();
    assert_eq!(timed.len(), w.len());
    assert!(timed.requests().iter().zip(w.requests()).all(|(a, b)| a.prompt_tokens == b.prompt_tokens));
    assert!(timed.requests().windows(2).all(|p| p[0].arrival_ns <= p[1].arrival_ns));
    let span_s = timed.last_arrival_ns().unwrap() as f64 / 1e9;
    assert!((span_s - 28_257.0 / 2.0).abs() < 0.03 * 28_257.0 / 2.0, "{span_s}");
}

#[test]
fn sharegpt_jsonl_arrivals_are_nanoseconds() {
    // Means measured on the file (the README says "see the file").
    let w = check_real(SHAREGPT, TraceFormat::LlmServingSim, 300, 857.46, 652.51);
    let r = w.requests();
    assert_eq!((r[0].arrival_ns, r[0].prompt_tokens, r[0].output_tokens), (46_926_808, 2358, 531));
    // 300 requests at 10 per second span about 30 s: the times are nanoseconds, not seconds.
    let last = w.last_arrival_ns().unwrap();
    assert_eq!(last, 29_183_763_203);
    let mean_gap_s = last as f64 / 1e9 / 300.0;
    assert!((0.07..0.13).contains(&mean_gap_s), "{mean_gap_s}");
}

// ---------------------------------------------------------------------------------------------
// Error messages: file, line, column, what is allowed.

/// Reads `contents` from a temporary file named `name` (format detected) and returns the error
/// message, checking it names the file, `line:` and `column`.
fn error_of(name: &str, contents: &str, line: u64, column: &str) -> String {
    let file = TempFile::new(name, contents.as_bytes());
    let err = match file.read() {
        Ok(w) => panic!("{name}: accepted {contents:?} as {} requests", w.len()),
        Err(e) => e.to_string(),
    };
    let at = format!("{}:{line}: ", file.path().display());
    assert!(err.starts_with(&at), "expected `{at}` at the start of: {err}");
    assert!(err.contains(column), "expected `{column}` in: {err}");
    assert!(err.contains("allowed"), "expected what is allowed in: {err}");
    err
}

#[test]
fn splitwise_errors() {
    let h = "arrived_at,num_prefill_tokens,num_decode_tokens\n";
    let e = error_of("s.csv", &format!("{h}0.0,10,5\n1.0,-3,5\n"), 3, "column 2 (num_prefill_tokens)");
    assert!(e.contains("`-3` is negative"), "{e}");
    let e = error_of("s.csv", &format!("{h}0.0,10,5\n1.0,10,many\n"), 3, "column 3 (num_decode_tokens)");
    assert!(e.contains("`many` is not a number"), "{e}");
    let e = error_of("s.csv", &format!("{h}0.0,10,5\n2.0,10,5\n\n1.5,10,5\n"), 5, "column 1 (arrived_at)");
    assert!(e.contains("before the previous request's 2.000000000 s (line 3)"), "{e}");
    let e = error_of("s.csv", &format!("{h}-1.0,10,5\n"), 2, "column 1 (arrived_at)");
    assert!(e.contains("negative"), "{e}");
    let e = error_of("s.csv", &format!("{h}0.5,10,0\n"), 2, "column 3 (num_decode_tokens)");
    assert!(e.contains("zero output tokens"), "{e}");
    let e = error_of("s.csv", &format!("{h}0.5,10.5,3\n"), 2, "column 2 (num_prefill_tokens)");
    assert!(e.contains("not a whole number"), "{e}");
    let e = error_of("s.csv", &format!("{h}0.5,,3\n"), 2, "column 2 (num_prefill_tokens)");
    assert!(e.contains("empty"), "{e}");
    // A missing column: the header is line 1.
    let e = error_of("s.csv", "arrived_at,num_prefill_tokens\n0,1\n", 1, "num_decode_tokens");
    assert!(e.contains("missing column `num_decode_tokens`"), "{e}");
    // Without `arrived_at` the header reads as token counts: name the format to get the error.
    let file = TempFile::new("s.csv", b"num_prefill_tokens,num_decode_tokens\n1,1\n");
    let e = Workload::read_as(file.path(), TraceFormat::Splitwise).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}:1: header: missing column `arrived_at`", file.path().display())), "{e}");
}

#[test]
fn token_count_errors() {
    let h = "num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\n";
    let e = error_of("a.csv", &format!("{h}10,5,15,2.0\n-10,5,15,2.0\n"), 3, "column 1 (num_prefill_tokens)");
    assert!(e.contains("negative"), "{e}");
    let e = error_of("a.csv", &format!("{h}10,x5,15,2.0\n"), 2, "column 2 (num_decode_tokens)");
    assert!(e.contains("not a number"), "{e}");
    let e = error_of("a.csv", "num_prefill_tokens,num_total_tokens\n10,15\n", 1, "num_decode_tokens");
    assert!(e.contains("missing column"), "{e}");
    // Extra columns are not checked; a row with too few fields is.
    let e = error_of("a.csv", &format!("{h}10,5\n"), 2, "");
    assert!(e.contains("2 fields where the header has 4"), "{e}");
}

#[test]
fn azure_errors() {
    let h = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
    let t0 = "2023-11-16 18:15:46.6805900";
    let e = error_of("z.csv", &format!("{h}{t0},10,5\n{t0},-1,5\n"), 3, "column 2 (ContextTokens)");
    assert!(e.contains("negative"), "{e}");
    let e = error_of("z.csv", &format!("{h}{t0},10,5\n{t0},10,five\n"), 3, "column 3 (GeneratedTokens)");
    assert!(e.contains("not a number"), "{e}");
    let e = error_of("z.csv", &format!("{h}{t0},10,5\n2023-11-16 18:15:45.0,10,5\n"), 3, "column 1 (TIMESTAMP)");
    assert!(e.contains("before the first request's time"), "{e}");
    let e = error_of(
        "z.csv",
        &format!("{h}{t0},10,5\n2023-11-16 18:15:50,10,5\n2023-11-16 18:15:49,10,5\n"),
        4,
        "column 1 (TIMESTAMP)",
    );
    assert!(e.contains("before the previous request's 3.319410000 s (line 3)"), "{e}");
    let e = error_of("z.csv", &format!("{h}yesterday,10,5\n"), 2, "column 1 (TIMESTAMP)");
    assert!(e.contains("neither a date-time nor a number"), "{e}");
    let e = error_of("z.csv", "TIMESTAMP,ContextTokens\n1,1\n", 1, "GeneratedTokens");
    assert!(e.contains("missing column `GeneratedTokens`"), "{e}");
    // Plain seconds going backwards.
    let e = error_of("z.csv", &format!("{h}1.0,10,5\n0.5,10,5\n"), 3, "column 1 (TIMESTAMP)");
    assert!(e.contains("before the previous request's"), "{e}");
}

#[test]
fn azure_datetimes_read_relative_to_the_first() {
    let file = TempFile::new(
        "AzureLLMInferenceTrace_conv.csv",
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n\
          2023-11-16 18:15:46.6805900,12,1\n2023-11-16 18:16:46.7005900,396,109\n",
    );
    let w = file.read().unwrap();
    let arrivals: Vec<u64> = w.requests().iter().map(|r| r.arrival_ns).collect();
    assert_eq!(arrivals, [0, 0, 60_020_000_000]);
}

#[test]
fn jsonl_errors() {
    let ok = "{\"input_toks\": 5, \"output_toks\": 2, \"arrival_time_ns\": 100}\n";
    let e = error_of("w.jsonl", &format!("{ok}{{\"input_toks\": 5, \"arrival_time_ns\": 100}}\n"), 2, "output_toks");
    assert!(e.contains("field output_toks: missing"), "{e}");
    let e = error_of(
        "w.jsonl",
        &format!("{ok}{{\"input_toks\": -5, \"output_toks\": 2, \"arrival_time_ns\": 100}}\n"),
        2,
        "field input_toks",
    );
    assert!(e.contains("negative"), "{e}");
    let e = error_of(
        "w.jsonl",
        &format!("{ok}{{\"input_toks\": \"5\", \"output_toks\": 2, \"arrival_time_ns\": 100}}\n"),
        2,
        "field input_toks",
    );
    assert!(e.contains("not a number"), "{e}");
    let e = error_of(
        "w.jsonl",
        &format!("{ok}\n{{\"input_toks\": 5, \"output_toks\": 2, \"arrival_time_ns\": 99}}\n"),
        3,
        "field arrival_time_ns",
    );
    assert!(e.contains("before the previous line's"), "{e}");
    let e = error_of(
        "w.jsonl",
        &format!("{ok}{{\"input_toks\": 5, \"output_toks\": 2, \"arrival_time_ns\": -1}}\n"),
        2,
        "field arrival_time_ns",
    );
    assert!(e.contains("negative"), "{e}");
    let e = error_of("w.jsonl", &format!("{ok}{ok}{{\"input_toks\": 5, \"output_toks\" 2}}\n"), 3, "column 33");
    assert!(e.contains("malformed JSON"), "{e}");
    let e = error_of(
        "w.jsonl",
        "{\"arrival_time_ns\": 1, \"sub_requests\": [{\"input_toks\": 1, \"output_toks\": 1}, {\"input_toks\": 1}]}\n",
        1,
        "field sub_requests[1].output_toks",
    );
    assert!(e.contains("missing"), "{e}");
    let e = error_of(
        "w.jsonl",
        "{\"arrival_time_ns\": 1, \"sub_requests\": [{\"input_toks\": 1, \"output_toks\": 1, \"tool_duration_ns\": -4}]}\n",
        1,
        "field sub_requests[0].tool_duration_ns",
    );
    assert!(e.contains("negative"), "{e}");
}

#[test]
fn io_and_format_errors_name_the_file() {
    let missing = trace("no-such-trace.csv");
    let e = Workload::read(&missing).unwrap_err().to_string();
    assert!(e.starts_with(&missing.display().to_string()) && e.contains("cannot read"), "{e}");
    let file = TempFile::new("mystery.csv", b"when,prompt,output\n1,2,3\n");
    let e = file.read().unwrap_err().to_string();
    assert!(e.starts_with(&file.path().display().to_string()) && e.contains("cannot tell the trace format"), "{e}");
    let file = TempFile::new("empty.csv", b"");
    assert!(file.read().is_err());
}

// ---------------------------------------------------------------------------------------------
// Agentic sessions.

#[test]
fn agentic_session_dependencies() {
    let file = TempFile::new(
        "agentic.jsonl",
        b"{\"session_id\": \"swe-1\", \"arrival_time_ns\": 1000, \"sub_requests\": [\
            {\"input_toks\": 100, \"output_toks\": 10, \"tool_duration_ns\": 500},\
            {\"input_toks\": 150, \"output_toks\": 20, \"tool_duration_ns\": 700},\
            {\"input_toks\": 230, \"output_toks\": 30, \"tool_duration_ns\": 0}]}\n\
          {\"input_toks\": 7, \"output_toks\": 3, \"arrival_time_ns\": 1200}\n\
          {\"session_id\": 2, \"arrival_time_ns\": 1300, \"sub_requests\": [\
            {\"input_toks\": 50, \"output_toks\": 5, \"tool_duration_ns\": 40},\
            {\"input_toks\": 60, \"output_toks\": 6, \"tool_duration_ns\": 0}]}\n",
    );
    let w = file.read().unwrap();
    let r = w.requests();
    assert_eq!(r.len(), 6);
    // Turn 0 arrives with its session; turn i waits for turn i - 1 plus turn i - 1's tool time.
    assert_eq!(r[0].session, Some(SessionLink { session: 0, turn: 0, after: None }));
    assert_eq!(r[0].arrival_ns, 1000);
    assert_eq!(r[1].after(), Some(After { request: 0, delay_ns: 500 }));
    assert_eq!(r[2].after(), Some(After { request: 1, delay_ns: 700 }));
    assert_eq!((r[1].session.unwrap().turn, r[2].session.unwrap().turn), (1, 2));
    assert_eq!((r[1].prompt_tokens, r[2].output_tokens), (150, 30));
    // Their arrival times are lower bounds: the predecessor's arrival plus the delay.
    assert_eq!((r[1].arrival_ns, r[2].arrival_ns), (1500, 2200));
    assert_eq!((r[3].session, r[3].arrival_ns), (None, 1200));
    assert_eq!(r[4].session, Some(SessionLink { session: 1, turn: 0, after: None }));
    assert_eq!(r[5].after(), Some(After { request: 4, delay_ns: 40 }));
    // Scaling speeds up the session starts, not the tools.
    let fast = w.clone().scale_rate(4.0).unwrap();
    let arrivals: Vec<u64> = fast.requests().iter().map(|r| r.arrival_ns).collect();
    assert_eq!(arrivals, [250, 750, 1450, 300, 325, 365]);
    // Round trip through the checked constructor.
    assert_eq!(Workload::new(w.requests().to_vec()).unwrap(), w);
}

// ---------------------------------------------------------------------------------------------
// Synthetic workloads.

fn poisson(rate_per_s: f64, requests: usize, seed: u64) -> SyntheticSpec {
    SyntheticSpec {
        requests,
        arrivals: ArrivalProcess::Poisson { rate_per_s },
        lengths: Lengths::Independent {
            prompt: LengthDist::Uniform { min: 10, max: 2000 },
            output: LengthDist::Zipf { min: 1, max: 500, exponent: 1.1 },
        },
        seed,
    }
}

#[test]
fn poisson_mean_inter_arrival_is_one_over_the_rate() {
    for rate in [0.5, 10.0, 250.0] {
        let n = 50_000;
        let w = poisson(rate, n, 42).generate().unwrap();
        let arrivals: Vec<u64> = w.requests().iter().map(|r| r.arrival_ns).collect();
        assert!(arrivals.windows(2).all(|p| p[0] <= p[1]));
        // The process starts at 0: the mean gap is the last arrival over the count.
        let mean_gap_s = *arrivals.last().unwrap() as f64 / 1e9 / n as f64;
        // Standard error 1/(r sqrt(n)) is 0.45% of the mean; allow 3%.
        assert!((mean_gap_s * rate - 1.0).abs() < 0.03, "rate {rate}: mean gap {mean_gap_s} s");
        // Exponential gaps: the standard deviation equals the mean.
        let mut previous = 0;
        let gaps: Vec<f64> = arrivals.iter().map(|&a| (a - std::mem::replace(&mut previous, a)) as f64).collect();
        let mean = gaps.iter().sum::<f64>() / n as f64;
        let sd = (gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / n as f64).sqrt();
        assert!((sd / mean - 1.0).abs() < 0.05, "rate {rate}: cv {}", sd / mean);
    }
}

#[test]
fn same_seed_same_workload_other_seed_other_workload() {
    let a = poisson(5.0, 1000, 7).generate().unwrap();
    assert_eq!(a, poisson(5.0, 1000, 7).generate().unwrap());
    let b = poisson(5.0, 1000, 8).generate().unwrap();
    assert_ne!(a, b);
    let differ = |f: fn(&pam::serve::workload::Request) -> u64| {
        a.requests().iter().zip(b.requests()).filter(|(x, y)| f(x) != f(y)).count()
    };
    assert!(differ(|r| r.arrival_ns) > 990 && differ(|r| r.prompt_tokens.into()) > 900);
    // Arrivals and lengths use separate streams of the seed: new lengths keep the arrivals.
    let mut fixed = poisson(5.0, 1000, 7);
    fixed.lengths =
        Lengths::Independent { prompt: LengthDist::Fixed { tokens: 128 }, output: LengthDist::Fixed { tokens: 16 } };
    let c = fixed.generate().unwrap();
    assert!(c.requests().iter().zip(a.requests()).all(|(x, y)| x.arrival_ns == y.arrival_ns));
    assert!(c.requests().iter().all(|r| (r.prompt_tokens, r.output_tokens) == (128, 16)));
    // The same seed gives a trace the same arrivals as a synthetic workload.
    let again = c.with_arrivals(&ArrivalProcess::Poisson { rate_per_s: 5.0 }, 7).unwrap();
    assert!(again.requests().iter().zip(a.requests()).all(|(x, y)| x.arrival_ns == y.arrival_ns));
}

#[test]
fn offline_and_empirical_lengths() {
    let w = SyntheticSpec::offline(256, 4096, 128).generate().unwrap();
    assert_eq!(w.len(), 256);
    assert!(w.requests().iter().all(|r| (r.arrival_ns, r.prompt_tokens, r.output_tokens) == (0, 4096, 128)));

    let conv = Workload::read(trace(CONV)).unwrap();
    let spec = SyntheticSpec {
        requests: 40_000,
        arrivals: ArrivalProcess::Gamma { rate_per_s: 5.0, cv: 2.0 },
        lengths: Lengths::from_trace(&conv).unwrap(),
        seed: 1,
    };
    let w = spec.generate().unwrap();
    // Drawn from the trace's pairs: every pair exists in the trace, and the means match.
    let pairs: std::collections::HashSet<(u32, u32)> =
        conv.requests().iter().map(|r| (r.prompt_tokens, r.output_tokens)).collect();
    assert!(w.requests().iter().all(|r| pairs.contains(&(r.prompt_tokens, r.output_tokens))));
    assert!((w.mean_prompt_tokens() / conv.mean_prompt_tokens() - 1.0).abs() < 0.03, "{}", w.mean_prompt_tokens());
    assert!((w.mean_output_tokens() / conv.mean_output_tokens() - 1.0).abs() < 0.03, "{}", w.mean_output_tokens());
    let span_s = w.last_arrival_ns().unwrap() as f64 / 1e9;
    assert!((span_s / (40_000.0 / 5.0) - 1.0).abs() < 0.05, "{span_s}");
    assert!(Lengths::from_trace(&Workload::default()).is_err());
}

#[test]
fn synthetic_parameters_are_checked() {
    let mut spec = poisson(0.0, 10, 1);
    assert!(spec.generate().unwrap_err().to_string().contains("Poisson arrival rate"));
    spec.arrivals = ArrivalProcess::Gamma { rate_per_s: 1.0, cv: -1.0 };
    assert!(spec.generate().is_err());
    spec.arrivals = ArrivalProcess::Offline;
    spec.lengths = Lengths::Independent {
        prompt: LengthDist::Uniform { min: 10, max: 5 },
        output: LengthDist::Fixed { tokens: 1 },
    };
    assert!(spec.generate().unwrap_err().to_string().contains("prompt lengths"));
}

// ---------------------------------------------------------------------------------------------
// Load scaling.

#[test]
fn scaling_divides_arrival_times() {
    let conv = Workload::read(trace(CONV)).unwrap();
    for k in [2.0, 0.5, 3.7] {
        let scaled = conv.clone().scale_rate(k).unwrap();
        assert_eq!(scaled.len(), conv.len());
        for (s, o) in scaled.requests().iter().zip(conv.requests()) {
            assert_eq!(s.arrival_ns, (o.arrival_ns as f64 / k).round() as u64);
            assert_eq!((s.prompt_tokens, s.output_tokens), (o.prompt_tokens, o.output_tokens));
        }
    }
    assert_eq!(conv.clone().scale_rate(1.0).unwrap(), conv);
    assert!(conv.clone().scale_rate(0.0).is_err());
}

#[test]
fn window_and_limit() {
    let conv = Workload::read(trace(CONV)).unwrap();
    let (start, end) = (600_000_000_000, 1_200_000_000_000);
    let inside = conv.requests().iter().filter(|r| (start..end).contains(&r.arrival_ns)).count();
    let w = conv.clone().window(start, end).unwrap();
    assert_eq!(w.len(), inside);
    assert!(inside > 1000);
    assert!(w.requests().iter().all(|r| r.arrival_ns < end - start));
    assert!(w.requests().iter().enumerate().all(|(i, r)| r.id == i as u64));
    assert_eq!(conv.clone().limit(100).len(), 100);
    assert_eq!(conv.clone().limit(1_000_000).len(), conv.len());

    // Window first (trace time), then rate, then count.
    let scaling = LoadScaling {
        window: Some(TimeWindow { start_ns: start, end_ns: end }),
        rate_factor: 2.0,
        max_requests: Some(500),
    };
    let s = scaling.apply(conv.clone()).unwrap();
    assert_eq!(s.len(), 500);
    let expected = w.scale_rate(2.0).unwrap().limit(500);
    assert_eq!(s, expected);
    assert_eq!(LoadScaling::default().apply(conv.clone()).unwrap(), conv);
}

// ---------------------------------------------------------------------------------------------
// No input makes a parser panic.

/// Valid inputs of every format, to mutate.
fn seeds() -> Vec<Vec<u8>> {
    let real = |name: &str, bytes: usize| {
        let all = std::fs::read(trace(name)).unwrap();
        all[..all.len().min(bytes)].to_vec()
    };
    vec![
        b"arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,374,44\n4.314579,396,109\n5,1,1\n".to_vec(),
        b"num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\n3772,54,3826,69.85\n2015,156,2171,12.9\n"
            .to_vec(),
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.1,3,1\n"
            .to_vec(),
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n0.5,374,44\n\"1.5\",3,1\n".to_vec(),
        b"{\"input_toks\": 3, \"output_toks\": 2, \"arrival_time_ns\": 5, \"input_tok_ids\": [1, 2, 3]}\n\
          {\"input_toks\": 4, \"output_toks\": 1, \"arrival_time_ns\": 6.0}\n"
            .to_vec(),
        b"{\"session_id\": \"a\", \"arrival_time_ns\": 1, \"sub_requests\": [{\"input_toks\": 1, \"output_toks\": 2, \
          \"tool_duration_ns\": 3}, {\"input_toks\": 4, \"output_toks\": 5, \"tool_duration_ns\": 6}]}\n"
            .to_vec(),
        real(CONV, 600),
        real(ARXIV, 600),
        real(SHAREGPT, 3000),
    ]
}

/// Bytes that matter to the parsers.
const INTERESTING: &[u8] = b"0123456789-+.,eE\"'\n\r \t{}[]:nulltrueinfNaNTZ\xef\xbb\xbf\xff\x00";

fn mutate(rng: &mut ChaCha8Rng, input: &mut Vec<u8>) {
    for _ in 0..rng.random_range(1..=8) {
        let len = input.len();
        let at = if len == 0 { 0 } else { rng.random_range(0..len) };
        match rng.random_range(0..7) {
            0 if len > 0 => input[at] = rng.random(),
            1 => input.insert(at, INTERESTING[rng.random_range(0..INTERESTING.len())]),
            2 if len > 0 => {
                let end = (at + rng.random_range(1..=16)).min(len);
                input.drain(at..end);
            }
            3 => input.truncate(at),
            4 if len > 0 => {
                // Copy a slice of the input somewhere else (duplicated lines, fields).
                let end = (at + rng.random_range(1..=64)).min(len);
                let piece = input[at..end].to_vec();
                let to = rng.random_range(0..=input.len());
                input.splice(to..to, piece);
            }
            5 => {
                let digits: Vec<u8> = (0..rng.random_range(1..=25)).map(|_| b'0' + rng.random_range(0..10u8)).collect();
                input.splice(at..at, digits);
            }
            _ => {
                let noise: Vec<u8> = (0..rng.random_range(1..=8)).map(|_| rng.random()).collect();
                input.splice(at..at, noise);
            }
        }
    }
}

#[test]
fn parsers_never_panic_on_random_or_mutated_bytes() {
    let seeds = seeds();
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    // Three seconds by default; PAM_FUZZ_SECS runs longer by hand.
    let seconds = std::env::var("PAM_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let names = ["t.csv", "t.jsonl", "t"];
    let (mut runs, mut accepted) = (0u64, 0u64);
    while Instant::now() < deadline && (runs < 200_000 || seconds > 3) {
        let mut input = if rng.random_range(0..10) == 0 {
            (0..rng.random_range(0..200)).map(|_| rng.random()).collect()
        } else {
            seeds[rng.random_range(0..seeds.len())].clone()
        };
        mutate(&mut rng, &mut input);
        let name = names[rng.random_range(0..names.len())];
        for format in [None].into_iter().chain(TraceFormat::ALL.map(Some)) {
            runs += 1;
            if let Ok(w) = Workload::parse(name, &input, format) {
                accepted += 1;
                // What a parser accepts keeps the invariants.
                assert_eq!(Workload::new(w.requests().to_vec()).unwrap(), w);
                let _ = w.clone().scale_rate(rng.random_range(0.01..100.0)).unwrap().window(0, rng.random()).unwrap();
            }
        }
    }
    eprintln!("{runs} parses of mutated input, {accepted} accepted");
    assert!(runs > 1000, "only {runs} runs");
    assert!(accepted > 0 && accepted < runs, "{accepted} of {runs} accepted");
}

#[test]
fn synthesis_never_panics_on_odd_parameters() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let odd_f64 = |rng: &mut ChaCha8Rng| -> f64 {
        [0.0, -1.0, f64::NAN, f64::INFINITY, f64::MIN_POSITIVE, 1e-300, 1e300, 1.0, 0.3, 7.0][rng.random_range(0..10)]
    };
    let odd_u32 = |rng: &mut ChaCha8Rng| -> u32 { [0, 1, 2, 1000, u32::MAX - 1, u32::MAX][rng.random_range(0..6)] };
    for _ in 0..3000 {
        let arrivals = match rng.random_range(0..3) {
            0 => ArrivalProcess::Offline,
            1 => ArrivalProcess::Poisson { rate_per_s: odd_f64(&mut rng) },
            _ => ArrivalProcess::Gamma { rate_per_s: odd_f64(&mut rng), cv: odd_f64(&mut rng) },
        };
        let dist = |rng: &mut ChaCha8Rng| match rng.random_range(0..4) {
            0 => LengthDist::Fixed { tokens: odd_u32(rng) },
            1 => LengthDist::Uniform { min: odd_u32(rng), max: odd_u32(rng) },
            2 => LengthDist::Zipf { min: odd_u32(rng), max: odd_u32(rng), exponent: odd_f64(rng) },
            _ => LengthDist::Empirical { values: (0..rng.random_range(0..3)).map(|_| odd_u32(rng)).collect() },
        };
        let lengths = Lengths::Independent { prompt: dist(&mut rng), output: dist(&mut rng) };
        let spec = SyntheticSpec { requests: rng.random_range(0..20), arrivals, lengths, seed: rng.random() };
        if let Ok(w) = spec.generate() {
            assert_eq!(w.len(), spec.requests);
            assert!(w.requests().iter().all(|r| r.prompt_tokens > 0 && r.output_tokens > 0));
            let _ = w.scale_rate(odd_f64(&mut rng));
        }
    }
}
