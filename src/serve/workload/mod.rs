//! Request workloads (SERVING-SPEC §4): what arrives at the serving loop, and when.
//!
//! A [`Workload`] is a list of [`Request`]s: an id, an arrival time in nanoseconds, a prompt
//! length and an output length in tokens, and for the sub-requests of agentic sessions a
//! [`SessionLink`]. It comes from a trace file ([`Workload::read`]), from a synthetic
//! specification ([`SyntheticSpec::generate`]), and is reshaped by [`LoadScaling`].
//!
//! # Trace formats ([`TraceFormat`])
//!
//! * **Vidur / Splitwise CSV** (`splitwise`): `arrived_at,num_prefill_tokens,num_decode_tokens`,
//!   `arrived_at` in seconds (a float) from the start of the trace. The Splitwise paper's
//!   processing of the Azure LLM inference trace 2023, as shipped in Vidur's
//!   `data/processed_traces/` (`../shared/traces/splitwise_conv.csv`, `splitwise_code.csv`).
//! * **Token counts** (`token-counts`): `num_prefill_tokens,num_decode_tokens` with any other
//!   columns (Vidur's arXiv summarisation file adds `num_total_tokens,pd_ratio`). No arrivals:
//!   every request arrives at t = 0 (offline); [`Workload::with_arrivals`] generates them.
//! * **Azure LLM inference trace** (`azure`): `TIMESTAMP,ContextTokens,GeneratedTokens`, as
//!   Microsoft publishes it (AzurePublicDataset). `TIMESTAMP` is a date-time like
//!   `2023-11-16 18:15:46.6805900` (a `T` separator and a final `Z` are accepted), taken as UTC
//!   and made relative to the first request, so the first arrives at 0; plain seconds are
//!   accepted too and kept as they are. The first row decides which of the two the file holds.
//!
//! Splitwise seconds and JSONL nanoseconds are kept as they are (not re-based to the first
//! request): they already count from the start of the trace.
//! * **LLMServingSim JSONL** (`llmservingsim`): one JSON object per line, from LLMServingSim's
//!   `workloads/` (`../shared/traces/sharegpt-llama-3.1-8b-300-sps10.jsonl`). Either a request
//!   `{"input_toks", "output_toks", "arrival_time_ns", "input_tok_ids"?, "output_tok_ids"?}`
//!   or an agentic session `{"session_id"?, "arrival_time_ns", "sub_requests": [{"input_toks",
//!   "output_toks", "tool_duration_ns"}, ...]}`. Token ids and unknown fields are skipped.
//!
//! [`TraceFormat::detect`] tells them apart: the extension `.jsonl`/`.ndjson`/`.json` or a first
//! byte `{` means JSONL; otherwise the CSV header decides (`arrived_at`: Splitwise, `TIMESTAMP`:
//! Azure, `num_prefill_tokens` alone: token counts). A format can also be named explicitly.
//!
//! # Agentic sessions
//!
//! A session's sub-requests cannot all be given an arrival time up front: sub-request `i + 1`
//! arrives when sub-request `i` has *finished*, plus a tool's run time, and only the serving
//! loop knows when that is. So each sub-request becomes a request whose [`SessionLink`] says
//! which session it belongs to, its turn, and, for every turn but the first, `after:
//! Some(After { request, delay_ns })`: it arrives `delay_ns` after request `request` has
//! produced its last token. **The serving loop resolves this**: it holds such a request back
//! until its predecessor finishes and then releases it at `finish + delay_ns`.
//! Its `arrival_ns` meanwhile is a lower bound (its predecessor's arrival plus the delay),
//! useful for sorting and windows, never the real arrival.
//!
//! **Decision:** the delay before sub-request `i + 1` is `tool_duration_ns` of sub-request `i`:
//! the tool a sub-request's output calls runs after it, and the next sub-request consumes the
//! tool's result. The last sub-request's tool duration is therefore unused. A missing or null
//! `tool_duration_ns` is 0 (no tool). `session_id` is optional and only checked (a string or a
//! whole number): sessions are numbered 0, 1, ... in file order. (This reading follows the
//! spec's wording and the shape of agent loops; no LLMServingSim session file was at hand to
//! confirm it. The other reading, each sub-request's own duration before it, is a one-line
//! change in `jsonl.rs`.)
//!
//! # Invariants of a [`Workload`]
//!
//! * `requests()[i].id == i`; a dependency points to an earlier request of the same session.
//! * Requests without a dependency come in non-decreasing arrival order (the readers refuse a
//!   trace whose arrivals go backwards; equal arrivals are allowed).
//! * Prompt and output lengths are at least 1. **Decision:** a zero prompt is refused like a
//!   zero output (none of the real traces has one, and a request without a prompt has no first
//!   token to compute); whole numbers written as floats (`374.0`, as pandas writes integer
//!   columns) are accepted, fractions are not.
//!
//! # Errors
//!
//! Every problem with a trace is a [`WorkloadError`] naming the file, the 1-based line as an
//! editor shows it, the CSV column (number and name) or JSON field (`sub_requests[1].output_toks`)
//! or, for malformed JSON, the column where parsing stopped; what was found and what is allowed.
//! No input makes a reader panic (tests feed them random and mutated bytes).
//!
//! # Synthetic workloads and randomness
//!
//! [`ArrivalProcess`]: offline (all at t = 0), Poisson at a rate, or Gamma inter-arrivals with a
//! rate and a coefficient of variation. [`LengthDist`]: fixed, uniform, Zipf, or empirical;
//! [`Lengths::from_trace`] takes a trace's joint (prompt, output) distribution. **Decision:**
//! every draw comes from one `u64` seed through `ChaCha8Rng`, a separate ChaCha stream per kind
//! of draw (arrivals, prompt lengths, output lengths), so that changing the lengths leaves the
//! arrivals unchanged and the other way round. The arrival process starts at t = 0: the first
//! request arrives one inter-arrival time later.
//!
//! # Load scaling
//!
//! [`Workload::scale_rate`] divides arrival times by `k` (k times the rate; tool delays within
//! sessions are not load and are kept), [`Workload::limit`] keeps the first `n` requests,
//! [`Workload::window`] the requests that arrive in a time window, re-based to its start (a
//! session goes with its first sub-request). [`LoadScaling`] applies the three in that order:
//! window (in the trace's own time), rate, count.
//!
//! # Dependencies
//!
//! CSV is read with the `csv` crate rather than by splitting lines: it handles quoted fields
//! (commas and line breaks inside them), CRLF and blank lines, refuses rows whose width differs
//! from the header's, streams large files, and tells where each record starts. Its line numbers
//! count from where it began reading a record, before the blank lines it skips, so the readers
//! correct them to the line an editor shows. JSON is read with `serde_json`, one line at a
//! time; Gamma, exponential and Zipf draws come from `rand_distr` (0.5, the release for
//! `rand` 0.9). Azure date-times are parsed by hand (a fixed layout; no date-time crate).

mod csv_trace;
mod datetime;
mod error;
mod format;
mod jsonl;
mod scale;
mod synth;
mod value;

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use error::WorkloadError;
pub use format::TraceFormat;
pub use scale::{LoadScaling, TimeWindow};
pub use synth::{ArrivalProcess, LengthDist, Lengths, SyntheticSpec};

/// One request of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    /// Its index in the workload.
    pub id: u64,
    /// When it arrives, in nanoseconds from the start of the workload. For a sub-request with a
    /// dependency ([`SessionLink::after`]), only a lower bound: see the module documentation.
    pub arrival_ns: u64,
    /// Prompt (prefill) tokens, at least 1.
    pub prompt_tokens: u32,
    /// Tokens to generate (decode), at least 1.
    pub output_tokens: u32,
    /// For the sub-requests of an agentic session: which session, and what it waits for.
    pub session: Option<SessionLink>,
}

impl Request {
    /// What this request waits for before it arrives, if anything.
    pub fn after(&self) -> Option<After> {
        self.session.and_then(|s| s.after)
    }
}

/// The place of a sub-request in its agentic session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionLink {
    /// The session, numbered from 0 in order of appearance.
    pub session: u64,
    /// The sub-request's position in its session, 0 for the first.
    pub turn: u32,
    /// `None` for the first sub-request, which arrives at its `arrival_ns`; for the others,
    /// the previous sub-request and the delay after it has finished.
    pub after: Option<After>,
}

/// A sub-request arrives `delay_ns` after request `request` has finished (produced its last
/// token).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct After {
    pub request: u64,
    pub delay_ns: u64,
}

/// A list of requests keeping the invariants of the module documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Workload {
    requests: Vec<Request>,
}

impl Workload {
    /// A workload from requests built by hand, checked against the invariants; the arrivals of
    /// dependent sub-requests are set to their lower bounds.
    pub fn new(requests: Vec<Request>) -> Result<Workload, WorkloadError> {
        let bad = |i: usize, problem: String| Err(WorkloadError::invalid(format!("request {i}"), problem));
        let mut last_independent = 0;
        for (i, r) in requests.iter().enumerate() {
            if r.id != i as u64 {
                return bad(i, format!("id {}; allowed: ids 0, 1, 2, ... in order", r.id));
            }
            if r.prompt_tokens == 0 || r.output_tokens == 0 {
                return bad(i, "a length of 0 tokens; allowed: at least 1".into());
            }
            match r.session {
                None => {}
                Some(SessionLink { turn: 0, after: None, .. }) => {}
                Some(SessionLink { session, turn, after: Some(after) }) => {
                    let before = requests.get(after.request as usize).filter(|_| after.request < r.id);
                    let linked =
                        before.and_then(|b| b.session).is_some_and(|b| b.session == session && b.turn + 1 == turn);
                    if !linked {
                        return bad(
                            i,
                            format!(
                                "waits for request {}; allowed: the earlier request of turn {} in session {session}",
                                after.request,
                                turn.wrapping_sub(1)
                            ),
                        );
                    }
                }
                Some(SessionLink { turn, .. }) => {
                    return bad(i, format!("turn {turn} of a session without `after`; allowed: only turn 0"));
                }
            }
            if r.after().is_none() {
                if r.arrival_ns < last_independent {
                    return bad(i, "arrives before the request ahead of it; allowed: non-decreasing arrivals".into());
                }
                last_independent = r.arrival_ns;
            }
        }
        let mut requests = requests;
        scale::reflow(&mut requests, |a| a);
        Ok(Workload { requests })
    }

    /// A workload from requests known to keep the invariants.
    pub(crate) fn from_trusted(requests: Vec<Request>) -> Workload {
        Workload { requests }
    }

    /// Reads a trace, its format detected ([`TraceFormat::detect`]).
    pub fn read(path: impl AsRef<Path>) -> Result<Workload, WorkloadError> {
        read_trace(path.as_ref(), None)
    }

    /// Reads a trace in the given format.
    pub fn read_as(path: impl AsRef<Path>, format: TraceFormat) -> Result<Workload, WorkloadError> {
        read_trace(path.as_ref(), Some(format))
    }

    /// Parses a trace held in memory; `name` stands for the file in messages and detection.
    pub fn parse(name: &str, bytes: &[u8], format: Option<TraceFormat>) -> Result<Workload, WorkloadError> {
        let format = match format {
            Some(format) => format,
            None => TraceFormat::detect(name, bytes)?,
        };
        parse_reader(name, bytes, format)
    }

    /// The requests, in order.
    pub fn requests(&self) -> &[Request] {
        &self.requests
    }

    /// The requests, given up.
    pub fn into_requests(self) -> Vec<Request> {
        self.requests
    }

    pub fn len(&self) -> usize {
        self.requests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// Mean prompt length in tokens (0 for an empty workload).
    pub fn mean_prompt_tokens(&self) -> f64 {
        self.mean(|r| r.prompt_tokens)
    }

    /// Mean output length in tokens (0 for an empty workload).
    pub fn mean_output_tokens(&self) -> f64 {
        self.mean(|r| r.output_tokens)
    }

    /// The latest arrival (a lower bound for dependent sub-requests), `None` when empty.
    pub fn last_arrival_ns(&self) -> Option<u64> {
        self.requests.iter().map(|r| r.arrival_ns).max()
    }

    fn mean(&self, of: impl Fn(&Request) -> u32) -> f64 {
        if self.requests.is_empty() {
            return 0.0;
        }
        self.requests.iter().map(|r| f64::from(of(r))).sum::<f64>() / self.requests.len() as f64
    }
}

fn read_trace(path: &Path, format: Option<TraceFormat>) -> Result<Workload, WorkloadError> {
    let name = path.display().to_string();
    let io = |source| WorkloadError::Io { path: name.clone(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let format = match format {
        Some(format) => format,
        None => TraceFormat::detect(&name, reader.fill_buf().map_err(io)?)?,
    };
    parse_reader(&name, reader, format)
}

fn parse_reader<R: BufRead>(name: &str, reader: R, format: TraceFormat) -> Result<Workload, WorkloadError> {
    let requests = match format {
        TraceFormat::LlmServingSim => jsonl::read_jsonl(name, reader)?,
        TraceFormat::Splitwise | TraceFormat::TokenCounts | TraceFormat::Azure => {
            csv_trace::read_csv(name, reader, format)?
        }
    };
    Ok(Workload::from_trusted(requests))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session_workload() -> Workload {
        let text = "{\"arrival_time_ns\": 10, \"sub_requests\": [{\"input_toks\": 1, \"output_toks\": 1, \
                    \"tool_duration_ns\": 5}, {\"input_toks\": 2, \"output_toks\": 2}]}\n\
                    {\"input_toks\": 3, \"output_toks\": 3, \"arrival_time_ns\": 20}\n\
                    {\"arrival_time_ns\": 30, \"sub_requests\": [{\"input_toks\": 4, \"output_toks\": 4, \
                    \"tool_duration_ns\": 7}, {\"input_toks\": 5, \"output_toks\": 5}]}\n";
        Workload::parse("s.jsonl", text.as_bytes(), None).unwrap()
    }

    #[test]
    fn new_checks_the_invariants() {
        let w = session_workload();
        assert_eq!(Workload::new(w.requests().to_vec()).unwrap(), w);
        let mut bad = w.requests().to_vec();
        bad[1].session.as_mut().unwrap().after.as_mut().unwrap().request = 2;
        assert!(Workload::new(bad).is_err());
        let mut bad = w.requests().to_vec();
        bad[2].arrival_ns = 0;
        assert!(Workload::new(bad).is_err());
        let mut bad = w.requests().to_vec();
        bad[0].id = 7;
        assert!(Workload::new(bad).is_err());
        let mut bad = w.requests().to_vec();
        bad[2].output_tokens = 0;
        assert!(Workload::new(bad).is_err());
    }

    #[test]
    fn window_keeps_sessions_whole_and_renumbers() {
        let w = session_workload().window(15, 100).unwrap();
        let r = w.requests();
        assert_eq!(r.len(), 3);
        assert_eq!(r.iter().map(|r| r.id).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!((r[0].prompt_tokens, r[0].arrival_ns), (3, 5));
        assert_eq!(r[1].session, Some(SessionLink { session: 0, turn: 0, after: None }));
        assert_eq!(
            r[2].session,
            Some(SessionLink { session: 0, turn: 1, after: Some(After { request: 1, delay_ns: 7 }) })
        );
        assert_eq!((r[1].arrival_ns, r[2].arrival_ns), (15, 22));
        assert!(session_workload().window(5, 1).is_err());
        assert!(session_workload().window(1000, 2000).unwrap().is_empty());
    }

    #[test]
    fn scaling_keeps_tool_delays() {
        let w = session_workload().scale_rate(2.0).unwrap();
        let arrivals: Vec<u64> = w.requests().iter().map(|r| r.arrival_ns).collect();
        assert_eq!(arrivals, [5, 10, 10, 15, 22]);
        for k in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(session_workload().scale_rate(k).is_err());
        }
        let limited =
            LoadScaling { max_requests: Some(2), ..LoadScaling::default() }.apply(session_workload()).unwrap();
        assert_eq!(limited.len(), 2);
    }

    #[test]
    fn new_arrivals_leave_dependencies() {
        let w = session_workload().with_arrivals(&ArrivalProcess::Offline, 1).unwrap();
        let arrivals: Vec<u64> = w.requests().iter().map(|r| r.arrival_ns).collect();
        assert_eq!(arrivals, [0, 5, 0, 0, 7]);
    }
}
