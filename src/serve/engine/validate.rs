//! A measured serving run to validate against (SERVING-SPEC §12): vLLM's engine configuration
//! (`meta.json`) and per-request timestamps (`requests.jsonl`), as LLMServingSim's benchmark
//! publishes them, and the comparison of a simulated run with it.
//!
//! Measured latencies use the engine's monotonic timestamps only: `arrival_time` is wall-clock
//! time and `queued_ts` onwards monotonic, two clocks with an unknown offset, so a request's
//! arrival is taken as its `queued_ts` (when the engine received it). TTFT = `first_token_ts -
//! queued_ts`, TPOT = `(last_token_ts - first_token_ts) / (output - 1)`, end-to-end =
//! `last_token_ts - queued_ts`; these reproduce the published means (TTFT 65.46 s, TPOT
//! 32.4 ms, end-to-end 86.58 s).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::{EngineConfig, KvPool};
use super::error::EngineError;
use super::record::{Stats, Summary};
use crate::serve::workload::Workload;

/// One request of `requests.jsonl`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct MeasuredRequest {
    pub input_toks: u32,
    pub output_toks: u32,
    /// Monotonic seconds.
    pub queued_ts: f64,
    pub scheduled_ts: f64,
    pub first_token_ts: f64,
    pub last_token_ts: f64,
}

/// A measured run: its engine configuration and requests.
#[derive(Clone, Debug)]
pub struct MeasuredRun {
    pub dir: PathBuf,
    /// The model (Hugging Face name) of `meta.json`.
    pub model: String,
    /// The engine as `meta.json` describes it (the KV pool as the run's block count).
    pub config: EngineConfig,
    pub requests: Vec<MeasuredRequest>,
}

/// The measured figures, in seconds, with the simulated run's definitions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeasuredSummary {
    pub requests: usize,
    /// First `queued_ts` to last `last_token_ts`.
    pub elapsed_s: f64,
    pub output_tokens_per_s: f64,
    pub ttft_s: Stats,
    pub tpot_s: Stats,
    pub latency_s: Stats,
    pub queuing_delay_s: Stats,
}

fn field<'a>(v: &'a serde_json::Value, path: &[&str]) -> Option<&'a serde_json::Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

impl MeasuredRun {
    /// Reads `dir/meta.json` and `dir/requests.jsonl`.
    pub fn load(dir: impl AsRef<Path>) -> Result<MeasuredRun, EngineError> {
        let dir = dir.as_ref();
        let meta_path = dir.join("meta.json");
        let mp = meta_path.display().to_string();
        let read_err = |path: &Path| {
            let path = path.display().to_string();
            move |source| EngineError::Read { path, source }
        };
        let text = std::fs::read_to_string(&meta_path).map_err(read_err(&meta_path))?;
        let meta: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| EngineError::malformed(&mp, e.line() as u64, e.to_string()))?;
        let count = |path: &[&str], default: Option<u64>| -> Result<u64, EngineError> {
            match field(&meta, path) {
                Some(v) => v.as_u64().ok_or_else(|| {
                    EngineError::malformed(&mp, 0, format!("{}: {v}; allowed: a whole number", path.join(".")))
                }),
                None => default.ok_or_else(|| EngineError::malformed(&mp, 0, format!("no field {}", path.join(".")))),
            }
        };
        let narrow = |path: &[&str], v: u64| {
            u32::try_from(v)
                .map_err(|_| EngineError::malformed(&mp, 0, format!("{}: {v} is too large", path.join("."))))
        };
        let get = |path: &[&str], default: Option<u64>| count(path, default).and_then(|v| narrow(path, v));
        let config = EngineConfig {
            max_num_seqs: get(&["engine_kwargs", "max_num_seqs"], None)?,
            max_num_batched_tokens: get(&["engine_kwargs", "max_num_batched_tokens"], None)?,
            block_size: get(&["kv_cache", "block_size"], Some(16))?,
            kv_pool: KvPool::Blocks { blocks: count(&["kv_cache", "num_gpu_blocks"], None)? },
            tp: get(&["engine_kwargs", "tensor_parallel_size"], Some(1))?,
            pp: get(&["resolved_config", "parallel_config", "pipeline_parallel_size"], Some(1))?,
            prefix_caching: field(&meta, &["kv_cache", "enable_prefix_caching"])
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        };
        config.validate().map_err(|e| EngineError::malformed(&mp, 0, e.to_string()))?;
        let model = field(&meta, &["model"]).and_then(|v| v.as_str()).unwrap_or_default().to_string();

        let req_path = dir.join("requests.jsonl");
        let rp = req_path.display().to_string();
        let file = std::fs::File::open(&req_path).map_err(read_err(&req_path))?;
        let mut requests = Vec::new();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(read_err(&req_path))?;
            let n = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let r: MeasuredRequest =
                serde_json::from_str(&line).map_err(|e| EngineError::malformed(&rp, n, e.to_string()))?;
            let times = [r.queued_ts, r.scheduled_ts, r.first_token_ts, r.last_token_ts];
            if times.iter().any(|t| !t.is_finite()) || times.windows(2).any(|w| w[1] < w[0]) || r.output_toks == 0 {
                return Err(EngineError::malformed(
                    &rp,
                    n,
                    "timestamps must be finite and queued <= scheduled <= first token <= last token, output >= 1",
                ));
            }
            requests.push(r);
        }
        if requests.is_empty() {
            return Err(EngineError::malformed(&rp, 0, "no request"));
        }
        Ok(MeasuredRun { dir: dir.to_path_buf(), model, config, requests })
    }

    /// The measured figures.
    pub fn summary(&self) -> MeasuredSummary {
        let r = &self.requests;
        let start = r.iter().map(|r| r.queued_ts).fold(f64::INFINITY, f64::min);
        let end = r.iter().map(|r| r.last_token_ts).fold(f64::NEG_INFINITY, f64::max);
        let elapsed_s = end - start;
        let out: u64 = r.iter().map(|r| u64::from(r.output_toks)).sum();
        let stat = |f: &dyn Fn(&MeasuredRequest) -> Option<f64>| Stats::of(&r.iter().filter_map(f).collect::<Vec<_>>());
        MeasuredSummary {
            requests: r.len(),
            elapsed_s,
            output_tokens_per_s: if elapsed_s > 0.0 { out as f64 / elapsed_s } else { 0.0 },
            ttft_s: stat(&|r| Some(r.first_token_ts - r.queued_ts)),
            tpot_s: stat(&|r| {
                (r.output_toks > 1).then(|| (r.last_token_ts - r.first_token_ts) / f64::from(r.output_toks - 1))
            }),
            latency_s: stat(&|r| Some(r.last_token_ts - r.queued_ts)),
            queuing_delay_s: stat(&|r| Some(r.scheduled_ts - r.queued_ts)),
        }
    }

    /// Checks that `workload` is the measured run's requests (same count, same prompt and
    /// output lengths in the same order); the error names the first difference.
    pub fn check_workload(&self, workload: &Workload, trace: &str) -> Result<(), EngineError> {
        let rp = self.dir.join("requests.jsonl").display().to_string();
        if workload.len() != self.requests.len() {
            return Err(EngineError::invalid(
                "validation trace",
                format!("{trace} has {} requests, {rp} {}", workload.len(), self.requests.len()),
            ));
        }
        for (i, (w, m)) in workload.requests().iter().zip(&self.requests).enumerate() {
            if (w.prompt_tokens, w.output_tokens) != (m.input_toks, m.output_toks) {
                return Err(EngineError::invalid(
                    "validation trace",
                    format!(
                        "request {i}: {trace} has {} + {} tokens, {rp} line {} has {} + {}",
                        w.prompt_tokens,
                        w.output_tokens,
                        i + 1,
                        m.input_toks,
                        m.output_toks
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// One figure of the comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparisonRow {
    pub metric: String,
    pub simulated: f64,
    pub measured: f64,
}

impl ComparisonRow {
    /// Simulated over measured.
    pub fn ratio(&self) -> f64 {
        self.simulated / self.measured
    }
}

/// Mean and p90 of TTFT, TPOT and end-to-end latency, then throughput and duration, simulated
/// next to measured (seconds, except TPOT in milliseconds).
pub fn compare(sim: &Summary, measured: &MeasuredSummary) -> Vec<ComparisonRow> {
    let row =
        |metric: &str, simulated: f64, measured: f64| ComparisonRow { metric: metric.into(), simulated, measured };
    vec![
        row("TTFT mean (s)", sim.ttft_s.mean, measured.ttft_s.mean),
        row("TTFT p90 (s)", sim.ttft_s.p90, measured.ttft_s.p90),
        row("TPOT mean (ms)", sim.tpot_s.mean * 1e3, measured.tpot_s.mean * 1e3),
        row("TPOT p90 (ms)", sim.tpot_s.p90 * 1e3, measured.tpot_s.p90 * 1e3),
        row("end-to-end mean (s)", sim.latency_s.mean, measured.latency_s.mean),
        row("end-to-end p90 (s)", sim.latency_s.p90, measured.latency_s.p90),
        row("queueing mean (s)", sim.queuing_delay_s.mean, measured.queuing_delay_s.mean),
        row("duration (s)", sim.elapsed_s, measured.elapsed_s),
        row("output tokens/s", sim.output_tokens_per_s, measured.output_tokens_per_s),
    ]
}
