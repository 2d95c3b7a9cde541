//! `pam fuzz`: a fuzzing campaign over the scenario parser and every trace reader.
//!
//! Each **target** is one parser fed from memory: the scenario YAML parser with its validator
//! ([`Scenario::parse`], no Verilated device is opened: validation only computes capacities),
//! and the four trace readers ([`Workload::parse`]: Vidur/Splitwise CSV, token-count CSV, Azure
//! CSV, LLMServingSim JSONL with flat requests and agentic sessions). An input is **accepted**
//! (parsed), **rejected** (an error, the expected answer to bad input) or **crashed** (the
//! parser panicked, or an oracle below failed): crashes are the bugs the campaign looks for.
//!
//! # Inputs
//!
//! Input `i` of a target is a function of the campaign seed, the target and `i` alone
//! ([`input`]): a ChaCha8 stream per target, positioned at `i << 32`. So any input is replayed
//! from the three numbers (`pam fuzz --target T --seed S --replay I`), without re-running the
//! inputs before it. An input is one of
//!
//! * a seed input as it is (the shipped scenarios, small valid traces of each format:
//!   `tests/fuzz-seeds/`), so the success path is reached;
//! * a grammar-aware one ([`grammar`]): a scenario or trace built field by field with values
//!   mostly in range, some not, in block or flow style;
//! * either of those mutated 1 to 8 times ([`mutate`]): bit flips, byte deletions and
//!   insertions, interesting tokens (huge, negative, NaN, inf, empty, Unicode, YAML anchors
//!   and alias bombs, deep nesting, tags, wrong types, duplicated keys and columns), line
//!   duplication, deletion and shuffles, arrivals going backwards, very long lines,
//!   truncation, splices with another seed.
//!
//! # Oracles
//!
//! Besides "does not panic": every error names the input's file name; an accepted trace keeps
//! the invariants of a [`Workload`] (checked by rebuilding it with [`Workload::new`]), also
//! after load scaling (a window, two rates, a limit, new arrivals); a scenario error with a
//! location has a line and column of at least 1.
//!
//! # Panics, hangs and memory
//!
//! During a campaign the panic hook is replaced by one that records the message and location
//! for the campaign's thread only (other threads keep the previous hook) and is restored after,
//! so output stays readable. An input that takes over [`SLOW`] counts as `slow`; a watchdog
//! thread prints the replay command of an input still running after [`HANG`], since an input
//! in an endless loop cannot be interrupted from inside the process. Memory is bounded by the
//! parsers themselves (the scenario parser's YAML budget; the trace readers stream line by
//! line); the campaign prints the process's peak resident memory.

pub mod grammar;
pub mod mutate;
pub mod seeds;

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::scenario::{Scenario, ScenarioError};
use crate::serve::workload::{ArrivalProcess, TraceFormat, Workload, WorkloadError};

/// An input that takes longer than this is counted as slow.
pub const SLOW: Duration = Duration::from_secs(1);
/// The watchdog reports an input still running after this long.
pub const HANG: Duration = Duration::from_secs(10);
/// Reproducers written per target (the count of crashes is always complete).
pub const MAX_REPRODUCERS: usize = 5;
/// Largest input the mutations make: bigger than any real scenario, and lines long enough to
/// cross the CSV reader's buffers many times.
pub const MAX_INPUT: usize = 256 * 1024;

/// Errors of the campaign itself (not of the inputs, which are counted).
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    #[error("cannot write the reproducer {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("no target given; allowed: {}", Target::NAMES.join(", "))]
    NoTarget,
}

/// A parser under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// The scenario YAML parser and validator.
    Scenario,
    /// Vidur / Splitwise CSV (`arrived_at,num_prefill_tokens,num_decode_tokens`).
    VidurCsv,
    /// Token counts only (`num_prefill_tokens,num_decode_tokens`).
    TokensCsv,
    /// The Azure LLM inference trace (`TIMESTAMP,ContextTokens,GeneratedTokens`).
    AzureCsv,
    /// LLMServingSim JSONL, flat requests and agentic sessions.
    Jsonl,
}

impl Target {
    pub const ALL: [Target; 5] =
        [Target::Scenario, Target::VidurCsv, Target::TokensCsv, Target::AzureCsv, Target::Jsonl];
    pub const NAMES: [&'static str; 5] = ["scenario", "vidur-csv", "tokens-csv", "azure-csv", "jsonl"];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The trace format, `None` for the scenario parser.
    pub fn format(self) -> Option<TraceFormat> {
        match self {
            Target::Scenario => None,
            Target::VidurCsv => Some(TraceFormat::Splitwise),
            Target::TokensCsv => Some(TraceFormat::TokenCounts),
            Target::AzureCsv => Some(TraceFormat::Azure),
            Target::Jsonl => Some(TraceFormat::LlmServingSim),
        }
    }

    /// The file name inputs carry in messages, with the extension a user's file would have.
    pub fn file_name(self) -> &'static str {
        match self {
            Target::Scenario => "fuzz.yaml",
            Target::Jsonl => "fuzz.jsonl",
            _ => "fuzz.csv",
        }
    }

    fn extension(self) -> &'static str {
        self.file_name().rsplit_once('.').map_or("txt", |(_, e)| e)
    }
}

/// What a parser made of an input (when it did not panic).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// The error message.
    Rejected(String),
}

/// A campaign: `inputs` spread evenly over `targets`, all drawn from `seed`.
#[derive(Clone, Debug)]
pub struct Campaign {
    pub inputs: u64,
    pub seed: u64,
    pub targets: Vec<Target>,
    /// Where crash reproducers go (`crash-<target>-<n>.txt`); `None` writes none.
    pub out: Option<PathBuf>,
    /// Print a line per target as it finishes.
    pub verbose: bool,
    /// Make every N-th input's check panic: checks that crashes are caught, counted and
    /// written (as `pam regress --inject-faults` checks the checker).
    pub inject_crash: Option<u64>,
}

/// One crash: the input, how to replay it, and what the panic said.
#[derive(Clone, Debug)]
pub struct Crash {
    pub index: u64,
    pub message: String,
    pub input: Vec<u8>,
    /// The reproducer file, when written.
    pub file: Option<PathBuf>,
}

/// The counts of one target.
#[derive(Clone, Debug)]
pub struct TargetReport {
    pub target: Target,
    pub inputs: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub crashed: u64,
    pub slow: u64,
    pub seconds: f64,
    /// The slowest input: its index and time.
    pub slowest: (u64, Duration),
    /// The first [`MAX_REPRODUCERS`] crashes.
    pub crashes: Vec<Crash>,
}

/// The deterministic random stream of input `index` of `target`.
pub fn rng_for(seed: u64, target: Target, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(target as u64 + 1);
    // 2^32 words per input: far more than an input draws, so inputs never share words.
    rng.set_word_pos(u128::from(index) << 32);
    rng
}

/// Input `index` of `target` in the campaign of `seed`.
pub fn input(seed: u64, target: Target, index: u64) -> Vec<u8> {
    let mut rng = rng_for(seed, target, index);
    mutate::make_input(&mut rng, target)
}

/// Feeds `bytes` to the parser of `target` and checks the oracles; panics on a bug.
pub fn check(target: Target, bytes: &[u8]) -> Outcome {
    let name = target.file_name();
    let outcome = match target.format() {
        None => check_scenario(name, bytes),
        Some(format) => {
            let explicit = check_trace(name, bytes, Some(format));
            // Detection picks the parser from the name and first bytes: run that path too, on a
            // name without the extension so the first bytes decide.
            let _ = check_trace("fuzz", bytes, None);
            explicit
        }
    };
    if let Outcome::Rejected(message) = &outcome {
        assert!(message.contains(name), "oracle: the error does not name the file {name}: {message}");
    }
    outcome
}

fn check_scenario(name: &str, bytes: &[u8]) -> Outcome {
    // `Scenario::load` reads the file as UTF-8 text: other bytes are refused before parsing.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Outcome::Rejected(format!("{name}: not UTF-8"));
    };
    match Scenario::parse(Path::new(name), text) {
        Ok(_) => Outcome::Accepted,
        Err(e) => {
            if let ScenarioError::Invalid { line, column, .. } = &e {
                assert!(*line >= 1 && *column >= 1, "oracle: an error at line {line}, column {column}: {e}");
            }
            Outcome::Rejected(e.to_string())
        }
    }
}

fn check_trace(name: &str, bytes: &[u8], format: Option<TraceFormat>) -> Outcome {
    match Workload::parse(name, bytes, format) {
        Ok(w) => {
            check_workload(&w);
            Outcome::Accepted
        }
        Err(e) => {
            assert!(
                !matches!(e, WorkloadError::Invalid { .. }),
                "oracle: a reader error that names no file or line: {e}"
            );
            Outcome::Rejected(e.to_string())
        }
    }
}

/// The invariants of an accepted workload, and of what load scaling makes of it.
fn check_workload(w: &Workload) {
    let invariants = |what: &str, w: &Workload| match Workload::new(w.requests().to_vec()) {
        Ok(again) => assert!(again == *w, "oracle: {what}: the arrivals of dependent requests are not their bounds"),
        Err(e) => panic!("oracle: {what} breaks the invariants of a workload: {e}"),
    };
    invariants("an accepted trace", w);
    assert!(!w.is_empty(), "oracle: an accepted trace holds no request");
    let last = w.last_arrival_ns().unwrap_or(0);
    let window = w.clone().window(last / 3, last / 3 * 2 + 1).expect("a window with start <= end");
    invariants("a window", &window);
    for k in [2.5, 0.37] {
        invariants("a rate scaling", &w.clone().scale_rate(k).expect("a positive finite rate"));
    }
    invariants("a limit", &w.clone().limit(w.len() / 2));
    let poisson = ArrivalProcess::Poisson { rate_per_s: 10.0 };
    invariants("new arrivals", &w.clone().with_arrivals(&poisson, 1).expect("a valid arrival process"));
}

thread_local! {
    /// The last panic on the campaign's thread: location and message, from the silent hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Replaces the panic hook while alive: panics on the campaign's thread are recorded in
/// [`LAST_PANIC`] instead of printed; other threads' go to the previous hook. Dropping it puts
/// the previous hook back.
struct QuietPanics {
    previous: Arc<Hook>,
}

impl QuietPanics {
    fn install() -> QuietPanics {
        let previous: Arc<Hook> = Arc::new(panic::take_hook());
        let forward = Arc::clone(&previous);
        let campaign = std::thread::current().id();
        panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == campaign {
                LAST_PANIC.with(|l| *l.borrow_mut() = Some(info.to_string()));
            } else {
                forward(info);
            }
        }));
        QuietPanics { previous }
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        // set_hook panics on a panicking thread; then the quiet hook stays (the process is
        // going down with that panic anyway).
        if !std::thread::panicking() {
            let previous = Arc::clone(&self.previous);
            panic::set_hook(Box::new(move |info| previous(info)));
        }
    }
}

/// Runs `check` on one input, catching a panic: `Err(message)` for a crash.
fn run_one(target: Target, bytes: &[u8], inject: bool) -> Result<Outcome, String> {
    panic::catch_unwind(AssertUnwindSafe(|| {
        assert!(!inject, "an injected crash (--inject-crash)");
        check(target, bytes)
    }))
    .map_err(panic_message)
}

/// What the quiet hook recorded of the last panic (location and message), else the payload.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let recorded = LAST_PANIC.with(|l| l.borrow_mut().take());
    recorded.unwrap_or_else(|| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// Replays input `index` of `target`: the input and what the parser made of it. The panic hook
/// is left alone, so a panic prints as usual with its backtrace (and propagates).
pub fn replay(seed: u64, target: Target, index: u64) -> (Vec<u8>, Outcome) {
    let bytes = input(seed, target, index);
    let outcome = check(target, &bytes);
    (bytes, outcome)
}

/// What the watchdog sees: the input being run and since when.
struct Watch {
    /// Target index and input index of the running input (`u64::MAX` between inputs).
    current: AtomicU64,
    target: AtomicU64,
    /// Milliseconds from the campaign's start at which the current input began.
    started_ms: AtomicU64,
    done: AtomicBool,
}

/// Runs the campaign; counts per target, in the order given.
pub fn run(c: &Campaign) -> Result<Vec<TargetReport>, FuzzError> {
    if c.targets.is_empty() {
        return Err(FuzzError::NoTarget);
    }
    // The panic hook is process-wide: one campaign at a time (tests run several in parallel).
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _campaign = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let start = Instant::now();
    let watch = Arc::new(Watch {
        current: AtomicU64::new(u64::MAX),
        target: AtomicU64::new(0),
        started_ms: AtomicU64::new(0),
        done: AtomicBool::new(false),
    });
    let watchdog = {
        let watch = Arc::clone(&watch);
        let seed = c.seed;
        std::thread::spawn(move || watchdog(&watch, start, seed))
    };
    let quiet = QuietPanics::install();
    let mut reports = Vec::new();
    let per_target = c.inputs / c.targets.len() as u64;
    let extra = c.inputs % c.targets.len() as u64;
    let mut result = Ok(());
    for (t, &target) in c.targets.iter().enumerate() {
        let n = per_target + u64::from((t as u64) < extra);
        let report = run_target(c, target, n, &watch, start);
        if c.verbose {
            print_report(&report);
        }
        reports.push(report);
    }
    drop(quiet);
    watch.done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    if let Some(dir) = &c.out {
        for report in &mut reports {
            for (n, crash) in report.crashes.iter_mut().enumerate() {
                match write_reproducer(dir, c.seed, report.target, n, crash) {
                    Ok(path) => crash.file = Some(path),
                    Err(e) => result = Err(e),
                }
            }
        }
    }
    result.map(|()| reports)
}

fn run_target(c: &Campaign, target: Target, n: u64, watch: &Watch, start: Instant) -> TargetReport {
    let mut r = TargetReport {
        target,
        inputs: n,
        accepted: 0,
        rejected: 0,
        crashed: 0,
        slow: 0,
        seconds: 0.0,
        slowest: (0, Duration::ZERO),
        crashes: Vec::new(),
    };
    let began = Instant::now();
    watch.target.store(target as u64, Ordering::Relaxed);
    for index in 0..n {
        // A panic of the generator is a bug of the campaign, not of a parser, but it must not
        // end the campaign silently under the quiet hook: it counts as a crash of its own.
        let bytes = match panic::catch_unwind(|| input(c.seed, target, index)) {
            Ok(bytes) => bytes,
            Err(payload) => {
                r.crashed += 1;
                let message = format!("the input generator panicked: {}", panic_message(payload));
                if r.crashes.len() < MAX_REPRODUCERS {
                    r.crashes.push(Crash { index, message, input: Vec::new(), file: None });
                }
                continue;
            }
        };
        let t0 = Instant::now();
        watch.started_ms.store(t0.duration_since(start).as_millis() as u64, Ordering::Relaxed);
        watch.current.store(index, Ordering::Relaxed);
        let inject = c.inject_crash.is_some_and(|every| every > 0 && index % every == every - 1);
        let outcome = run_one(target, &bytes, inject);
        watch.current.store(u64::MAX, Ordering::Relaxed);
        let took = t0.elapsed();
        if took > SLOW {
            r.slow += 1;
        }
        if took > r.slowest.1 {
            r.slowest = (index, took);
        }
        match outcome {
            Ok(Outcome::Accepted) => r.accepted += 1,
            Ok(Outcome::Rejected(_)) => r.rejected += 1,
            Err(message) => {
                r.crashed += 1;
                if r.crashes.len() < MAX_REPRODUCERS {
                    r.crashes.push(Crash { index, message, input: bytes, file: None });
                }
            }
        }
    }
    r.seconds = began.elapsed().as_secs_f64();
    r
}

fn watchdog(watch: &Watch, start: Instant, seed: u64) {
    let mut reported = u64::MAX;
    while !watch.done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        let index = watch.current.load(Ordering::Relaxed);
        if index == u64::MAX || index == reported {
            continue;
        }
        let running = start.elapsed().saturating_sub(Duration::from_millis(watch.started_ms.load(Ordering::Relaxed)));
        if running > HANG {
            let target = Target::ALL[watch.target.load(Ordering::Relaxed) as usize % Target::ALL.len()];
            eprintln!(
                "pam fuzz: input {index} of {} has run for {:.0} s (a hang?); replay: pam fuzz --target {} --seed {seed} \
                 --replay {index}",
                target.name(),
                running.as_secs_f64(),
                target.name()
            );
            reported = index;
        }
    }
}

/// The replay command of input `index`.
pub fn replay_command(seed: u64, target: Target, index: u64) -> String {
    format!("pam fuzz --target {} --seed {seed} --replay {index}", target.name())
}

/// Writes `crash-<target>-<n>.txt` (how to replay, the panic, the input) and the bare input
/// beside it as `crash-<target>-<n>.<ext>` (to hand to `pam run` or a trace reader).
fn write_reproducer(dir: &Path, seed: u64, target: Target, n: usize, crash: &Crash) -> Result<PathBuf, FuzzError> {
    let write = |path: PathBuf, bytes: &[u8]| {
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, bytes))
            .map_err(|source| FuzzError::Write { path: path.clone(), source })
            .map(|()| path)
    };
    let bare = dir.join(format!("crash-{}-{n}.{}", target.name(), target.extension()));
    let mut text = format!(
        "pam fuzz crash: target {}, seed {seed}, input {}\nreplay: {}\ninput file: {}\npanic: {}\n\
         --- input ({} bytes) ---\n",
        target.name(),
        crash.index,
        replay_command(seed, target, crash.index),
        bare.display(),
        crash.message,
        crash.input.len()
    )
    .into_bytes();
    text.extend_from_slice(&crash.input);
    write(bare, &crash.input)?;
    write(dir.join(format!("crash-{}-{n}.txt", target.name())), &text)
}

/// One line of counts.
pub fn print_report(r: &TargetReport) {
    println!(
        "  {:<10} inputs {:>8}  accepted {:>8}  rejected {:>8}  crashed {:>5}  slow {:>3}  {:>7.1} s  \
         ({:.1} us/input, slowest #{} {:.1} ms)",
        r.target.name(),
        r.inputs,
        r.accepted,
        r.rejected,
        r.crashed,
        r.slow,
        r.seconds,
        r.seconds * 1e6 / r.inputs.max(1) as f64,
        r.slowest.0,
        r.slowest.1.as_secs_f64() * 1e3
    );
}

/// Peak resident memory of this process in kB (Linux `VmHWM`), if known.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The command line of `pam fuzz`.
#[derive(Clone, Debug, clap::Args)]
pub struct FuzzArgs {
    /// Inputs in all, spread evenly over the targets.
    #[arg(long, default_value_t = 1_000_000)]
    pub inputs: u64,
    /// Campaign seed (default: from the clock; printed either way).
    #[arg(long, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Parser to fuzz.
    #[arg(long, default_value = "all", value_parser = parse_target)]
    pub target: TargetArg,
    /// Directory of the crash reproducers.
    #[arg(long, default_value = "out/fuzz")]
    pub out: PathBuf,
    /// Run only input INDEX of the target (as printed next to a crash), with the usual panic
    /// output; prints the input.
    #[arg(long)]
    pub replay: Option<u64>,
    /// Make every N-th input crash (checks the crash reporting).
    #[arg(long, hide = true)]
    pub inject_crash: Option<u64>,
}

/// `--target`: one target or all.
#[derive(Clone, Copy, Debug)]
pub enum TargetArg {
    One(Target),
    All,
}

fn parse_target(s: &str) -> Result<TargetArg, String> {
    if s == "all" {
        return Ok(TargetArg::All);
    }
    Target::ALL
        .into_iter()
        .find(|t| t.name() == s)
        .map(TargetArg::One)
        .ok_or_else(|| format!("'{s}' is not a target; allowed: {}, all", Target::NAMES.join(", ")))
}

fn parse_seed(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("'{s}' is not a seed (a decimal or 0x-prefixed hexadecimal u64)"))
}

/// `pam fuzz`: runs the campaign (or one replay) and prints the counts; `Ok(false)` when an
/// input crashed.
pub fn cli(args: &FuzzArgs) -> Result<bool, FuzzError> {
    let seed = args.seed.unwrap_or_else(|| {
        // A new seed per run finds new inputs; it is printed so that the run can be repeated.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        now.as_secs() ^ u64::from(now.subsec_nanos()) << 20
    });
    let targets = match args.target {
        TargetArg::One(t) => vec![t],
        TargetArg::All => Target::ALL.to_vec(),
    };
    if let Some(index) = args.replay {
        let target = match args.target {
            TargetArg::One(t) => t,
            TargetArg::All => return Err(FuzzError::NoTarget),
        };
        let bytes = input(seed, target, index);
        println!("pam fuzz replay: target {}, seed {seed}, input {index} ({} bytes):", target.name(), bytes.len());
        println!("{}", String::from_utf8_lossy(&bytes));
        println!("--- end of input ---");
        let outcome = check(target, &bytes);
        println!("{outcome:?}");
        return Ok(true);
    }
    println!(
        "pam fuzz: {} inputs over {} (seed {seed}; replay an input with {})",
        args.inputs,
        targets.iter().map(|t| t.name()).collect::<Vec<_>>().join(", "),
        replay_command(seed, targets[0], 0).replace(" 0", " INDEX").replace(targets[0].name(), "TARGET")
    );
    let started = Instant::now();
    let reports = run(&Campaign {
        inputs: args.inputs,
        seed,
        targets,
        out: Some(args.out.clone()),
        verbose: true,
        inject_crash: args.inject_crash,
    })?;
    let crashed: u64 = reports.iter().map(|r| r.crashed).sum();
    let total: u64 = reports.iter().map(|r| r.inputs).sum();
    println!(
        "  {:<10} inputs {:>8}  accepted {:>8}  rejected {:>8}  crashed {:>5}  slow {:>3}  {:>7.1} s wall, peak memory \
         {} MB",
        "all",
        total,
        reports.iter().map(|r| r.accepted).sum::<u64>(),
        reports.iter().map(|r| r.rejected).sum::<u64>(),
        crashed,
        reports.iter().map(|r| r.slow).sum::<u64>(),
        started.elapsed().as_secs_f64(),
        peak_rss_kb().map_or("?".into(), |kb| (kb / 1024).to_string())
    );
    for r in &reports {
        for c in &r.crashes {
            let first = c.message.lines().take(2).collect::<Vec<_>>().join(" ");
            println!("  crash: {} input {}: {first}", r.target.name(), c.index);
            println!("    replay: {}", replay_command(seed, r.target, c.index));
            if let Some(f) = &c.file {
                println!("    reproducer: {}", f.display());
            }
        }
    }
    Ok(crashed == 0)
}
