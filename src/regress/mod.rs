//! The hardware regression: suites of seeded cases run against the RTL, each compared with the
//! golden model; one line per failure with its replay command, a `N passed, N failed` line,
//! JUnit XML, and a non-zero exit on any failure (the CLI's job).
//!
//! Suites:
//! * `fp`: every arithmetic unit of `rtl/fp` on random and edge-case vectors.
//! * `datapath`: random attention problems through the PU and RU ([`crate::datapath`]).
//! * `device`: random token sets placed in each tier's scaled device and local attention over
//!   them, for one query or a group sharing the K/V reads ([`crate::device::check`]).
//! * `system`: random decode runs over 1 to 4 tiers with every policy, then invariant
//!   checks on what is stored ([`crate::system::decode`]).
//! * `unreset-probe`: a test top with a register deliberately left out of reset
//!   (`rtl/tb/pam_unreset_probe.sv`); it passes on zero-initialised models and fails under
//!   `--xrand`, which is what it is for.
//!
//! With `--xrand` every case builds fresh models whose registers and memories start from values
//! drawn from the case's reset seed ([`reset_seed_of`], [`crate::rtl::xrand`]) instead of zeros,
//! so a register read before it is reset, or an output read before reset completes, shows up as
//! a mismatch; the seed follows from the case seed, so the replay line repeats it.

pub mod coverage_report;
mod device_case;
pub mod fp_vectors;
pub mod junit;
mod probe_case;
mod system_case;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::datapath::{self, Units};
use crate::error::SimError;
use crate::golden::fp as gf;
use crate::problem::{case_seed, label_of, Problem, ProblemSpace};
use crate::rtl::coverage;
use crate::rtl::fp_lab::FpLab;
use crate::rtl::{waves, xrand};

/// Vectors per `fp` case.
pub const FP_VECTORS_PER_CASE: usize = 20_000;
/// Reciprocals (through the sequential unit) per `fp` case.
pub const FP_RECIPS_PER_CASE: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    Fp,
    Datapath,
    Device,
    System,
    /// The deliberately unreset register of `rtl/tb/pam_unreset_probe.sv`: fails under
    /// `--xrand` by design.
    UnresetProbe,
}

impl Suite {
    pub fn name(self) -> &'static str {
        match self {
            Suite::Fp => "fp",
            Suite::Datapath => "datapath",
            Suite::Device => "device",
            Suite::System => "system",
            Suite::UnresetProbe => "unreset-probe",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub suite: Suite,
    /// Number of cases.
    pub seeds: u64,
    /// The run seed every case seed derives from.
    pub run_seed: u64,
    /// Run exactly one case with this seed instead.
    pub replay: Option<u64>,
    pub filter: Option<String>,
    pub junit: Option<PathBuf>,
    pub jobs: usize,
    /// Corrupt the golden model's result in the first N cases (one flipped bit), to show that
    /// the checker and the failure report work.
    pub inject_faults: u64,
    /// X-randomised: every case's models start from values drawn from its reset seed.
    pub xrand: bool,
    /// Write the cover point counts of every model the run used here ([`crate::rtl::coverage`]).
    pub coverage: Option<PathBuf>,
    /// Re-run every failing case with its models' waveforms dumped into `DIR/<case>/`.
    pub fail_waves: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct CaseResult {
    pub name: String,
    pub seed: u64,
    pub passed: bool,
    pub message: String,
    pub replay: String,
    pub seconds: f64,
    pub properties: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Report {
    pub cases: Vec<CaseResult>,
    pub passed: usize,
    pub failed: usize,
    pub max_rel_err_f64: f64,
    pub seconds: f64,
    /// What the coverage database holds, when one was asked for (an error fails the run).
    pub coverage: Option<Result<coverage::Written, SimError>>,
}

/// `*` matches any run, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

struct Case {
    index: u64,
    name: String,
    seed: u64,
}

fn list_cases(opts: &Options) -> Vec<Case> {
    let space = ProblemSpace::regression();
    let name = |i: Option<u64>, seed: u64| {
        let id = i.map_or("replay".to_string(), |i| format!("{i:04}"));
        match opts.suite {
            Suite::Fp => format!("fp/{id}"),
            Suite::Datapath => format!("datapath/{id}_{}", label_of(&space, seed)),
            Suite::Device => {
                format!("device/{id}_{}_g{}", device_case::preset_of(seed).name(), device_case::group_of(seed))
            }
            Suite::System => {
                let (policy, tiers) = system_case::shape_of(seed);
                format!("system/{id}_T{tiers}_{policy}")
            }
            Suite::UnresetProbe => format!("unreset-probe/{id}"),
        }
    };
    let all: Vec<Case> = match opts.replay {
        Some(seed) => vec![Case { index: 0, name: name(None, seed), seed }],
        None => (0..opts.seeds)
            .map(|i| {
                let seed = case_seed(opts.run_seed, i);
                Case { index: i, name: name(Some(i), seed), seed }
            })
            .collect(),
    };
    all.into_iter().filter(|c| opts.filter.as_deref().is_none_or(|f| glob_match(f, &c.name))).collect()
}

/// Per-thread simulation state, created on first use.
#[derive(Default)]
struct Worker {
    lab: Option<FpLab>,
    units: Option<Units>,
    devices: device_case::Devices,
}

pub(crate) struct Verdict {
    pub(crate) problems: Vec<String>,
    pub(crate) rel_err: Option<f64>,
    pub(crate) properties: Vec<(String, String)>,
}

fn run_fp_case(lab: &mut FpLab, seed: u64, inject_fault: bool) -> Verdict {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut problems = Vec::new();
    let note = |problems: &mut Vec<String>, what: &str, a: u32, b: u32, got: u32, want: u32| {
        if got != want && problems.len() < 10 {
            problems.push(format!("{what}({a:#010x}, {b:#010x}): RTL {got:#010x} vs model {want:#010x}"));
        }
    };
    for _ in 0..FP_VECTORS_PER_CASE {
        let a = fp_vectors::f32_bits(&mut rng);
        let b = fp_vectors::f32_partner(&mut rng, a);
        let h = fp_vectors::f16_bits(&mut rng);
        let o = lab.eval(a, b, h);
        note(&mut problems, "fp16_to_fp32", h as u32, 0, o.h2f, gf::fp16_to_fp32(h));
        let fault = if inject_fault && problems.is_empty() { 1 } else { 0 };
        note(&mut problems, "mul", a, b, o.mul, gf::fp32_mul(a, b) ^ fault);
        note(&mut problems, "add", a, b, o.add, gf::fp32_add(a, b));
        note(&mut problems, "max", a, b, o.max, gf::fp32_max(a, b));
        note(&mut problems, "exp", a, 0, o.exp, gf::fp32_exp(a));
        note(&mut problems, "ln", a, 0, o.ln, gf::fp32_ln(a));
        note(&mut problems, "fp32_to_fp16", a, 0, o.f2h as u32, gf::fp32_to_fp16(a) as u32);
    }
    let mut recip_cycles = 0;
    for _ in 0..FP_RECIPS_PER_CASE {
        let a = fp_vectors::f32_bits(&mut rng);
        match lab.recip(a) {
            Ok((y, c)) => {
                recip_cycles = c;
                note(&mut problems, "recip", a, 0, y, gf::fp32_recip(a));
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    Verdict { problems, rel_err: None, properties: vec![("recip_cycles".into(), recip_cycles.to_string())] }
}

fn run_datapath_case(units: &mut Units, seed: u64, inject_fault: bool) -> Result<Verdict, SimError> {
    let p = Problem::generate(&ProblemSpace::regression(), seed);
    let o = datapath::check_with(&p, units, inject_fault)?;
    let mut problems = o.mismatches.clone();
    if !o.err_flag && !o.within_bound {
        let e = o.rel_err_f64.unwrap_or(f64::NAN);
        problems.push(format!("output outside the accuracy bound against float64 (normwise relative error {e:.3e})"));
    }
    let properties = vec![
        ("label".into(), p.label()),
        ("pu_cycles".into(), o.pu_cycles.to_string()),
        ("ru_cycles".into(), o.ru_cycles.to_string()),
        ("max_rel_err_f64".into(), o.rel_err_f64.map_or("n/a".into(), |e| format!("{e:.3e}"))),
    ];
    Ok(Verdict { problems, rel_err: o.rel_err_f64, properties })
}

/// Runs one case on `w`'s models (built on first use).
fn run_case(w: &mut Worker, suite: Suite, seed: u64, inject: bool) -> Result<Verdict, SimError> {
    match suite {
        Suite::Fp => match w.lab.as_mut() {
            Some(lab) => Ok(run_fp_case(lab, seed, inject)),
            None => FpLab::new().map(|lab| run_fp_case(w.lab.insert(lab), seed, inject)),
        },
        Suite::Datapath => {
            let units = w.units.get_or_insert_with(|| Units::new(datapath::DEFAULT_CLOCK_MHZ));
            run_datapath_case(units, seed, inject)
        }
        Suite::Device => device_case::run(&mut w.devices, seed, inject),
        Suite::System => system_case::run(seed, inject),
        Suite::UnresetProbe => probe_case::run(seed, inject),
    }
}

/// The reset seed of an X-randomised case: a function of the case seed alone, so that
/// `--replay SEED --xrand` starts every model from the same values again.
pub fn reset_seed_of(case_seed: u64) -> u64 {
    case_seed ^ 0x58_5241_4E44 // "XRAND": keeps it apart from the stimulus drawn from the seed
}

fn replay_command(suite: Suite, seed: u64, xrand: bool) -> String {
    format!("pam regress --suite {} --replay {seed:#x}{}", suite.name(), if xrand { " --xrand" } else { "" })
}

/// Runs the suite on `opts.jobs` threads. Failures are printed as they happen.
pub fn run(opts: &Options) -> Report {
    let started = Instant::now();
    let cases = list_cases(opts);
    let collecting = opts.coverage.as_ref().map(|_| coverage::start());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; cases.len()]);
    let max_err = Mutex::new(0.0f64);
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| {
                let mut w = Worker::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let t0 = Instant::now();
                    let inject = case.index < opts.inject_faults;
                    let reset_seed = opts.xrand.then(|| reset_seed_of(case.seed));
                    if opts.xrand {
                        // Initial values are drawn when a model is built: every case builds its own.
                        w = Worker::default();
                    }
                    let verdict =
                        xrand::with_reset_seed(reset_seed, || run_case(&mut w, opts.suite, case.seed, inject));
                    let (passed, message, mut properties) = match verdict {
                        Ok(v) => {
                            if let Some(e) = v.rel_err {
                                let mut m = max_err.lock().unwrap();
                                *m = m.max(e);
                            }
                            (v.problems.is_empty(), v.problems.join("\n"), v.properties)
                        }
                        // A hung or unbuildable unit fails this case; the others still run.
                        Err(e) => {
                            w = Worker::default();
                            (false, format!("simulation error: {e}"), vec![])
                        }
                    };
                    let replay = replay_command(opts.suite, case.seed, opts.xrand);
                    let reset_note = reset_seed.map_or(String::new(), |r| format!(" reset_seed={r:#x}"));
                    if let Some(r) = reset_seed {
                        properties.push(("reset_seed".into(), format!("{r:#x}")));
                    }
                    if !passed {
                        // The same case again, on fresh models that dump their waveforms.
                        let waves = opts.fail_waves.as_ref().map(|d| {
                            let dir = d.join(case.name.replace('/', "_"));
                            // Its verdict is the one above; only its waveforms are wanted.
                            let _ = waves::with_waves(&dir, || {
                                xrand::with_reset_seed(reset_seed, || {
                                    run_case(&mut Worker::default(), opts.suite, case.seed, inject)
                                })
                            });
                            properties.push(("waves".into(), dir.display().to_string()));
                            format!("\n     waves: {}", dir.display())
                        });
                        let first = message.lines().next().unwrap_or("");
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(
                            out,
                            "FAIL {} seed={:#x}{reset_note}: {first}\n     replay: {replay}{}",
                            case.name,
                            case.seed,
                            waves.unwrap_or_default()
                        );
                    }
                    let r = CaseResult {
                        name: case.name.clone(),
                        seed: case.seed,
                        passed,
                        message,
                        replay,
                        seconds: t0.elapsed().as_secs_f64(),
                        properties,
                    };
                    results.lock().unwrap()[i] = Some(r);
                }
            });
        }
    });
    // Every worker, and so every model, has been dropped: the counts are all in.
    let coverage = match (collecting, &opts.coverage) {
        (Some(Ok(())), Some(path)) => Some(coverage::finish(path)),
        (Some(Err(e)), _) => Some(Err(e)),
        _ => None,
    };
    let cases: Vec<CaseResult> =
        results.into_inner().unwrap().into_iter().map(|r| r.expect("every case ran")).collect();
    let failed = cases.iter().filter(|c| !c.passed).count();
    Report {
        coverage,
        passed: cases.len() - failed,
        failed,
        max_rel_err_f64: max_err.into_inner().unwrap(),
        seconds: started.elapsed().as_secs_f64(),
        cases,
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn glob() {
        assert!(glob_match("datapath/*_L4_*", "datapath/0001_d64_L4_R16_n3_t1_Random"));
        assert!(!glob_match("datapath/*_L4_*", "datapath/0001_d64_L16_R4_n3_t1_Random"));
        assert!(glob_match("fp/00?1", "fp/0011"));
        assert!(glob_match("*", ""));
    }
}
