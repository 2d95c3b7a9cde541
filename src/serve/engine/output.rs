//! The run's files: `requests.csv` (LLMServingSim's columns, then ours), `iterations.csv`,
//! `summary.json`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use super::error::EngineError;
use super::record::Summary;
use super::sim::RunResult;

/// LLMServingSim's columns of `requests.csv`, in its order (times in ns, `ITL` a quoted list).
pub const LLMSERVINGSIM_COLUMNS: [&str; 12] = [
    "instance id",
    "request id",
    "model",
    "input",
    "output",
    "arrival",
    "end_time",
    "latency",
    "queuing_delay",
    "TTFT",
    "TPOT",
    "ITL",
];

/// Our columns after LLMServingSim's.
pub const OUR_COLUMNS: [&str; 7] =
    ["first_scheduled", "first_token", "preemptions", "recomputed_tokens", "session", "turn", "finished"];

/// The columns of `iterations.csv`.
pub const ITERATION_COLUMNS: [&str; 19] = [
    "iteration",
    "stage",
    "start_ns",
    "duration_ns",
    "end_ns",
    "decode_seqs",
    "prefill_seqs",
    "prefill_tokens",
    "running",
    "waiting",
    "preempted",
    "kv_blocks_used",
    "kv_blocks_total",
    "dense_us",
    "attention_us",
    "all_reduce_us",
    "pp_transfer_us",
    "lm_head_us",
    "total_us",
];

/// What `summary.json` holds.
#[derive(Serialize)]
struct SummaryFile<'a> {
    model: &'a str,
    backend: &'a str,
    config: &'a super::config::EngineConfig,
    num_blocks: u64,
    summary: Summary,
}

/// Writes one file into a buffered writer.
type WriteFn<'a> = dyn Fn(&mut BufWriter<File>) -> std::io::Result<()> + 'a;

fn csv_error(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

fn opt(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl RunResult {
    /// Writes `requests.csv`: one row per request in workload order. LLMServingSim's columns
    /// (`instance id` the node; `arrival`, `end_time` = last token, `latency` = end - arrival,
    /// `queuing_delay` = first scheduled - arrival, `TTFT`, `TPOT` rounded to whole ns and 0 for
    /// a single output token, `ITL` the list of gaps between tokens, all in ns), then ours.
    /// An unfinished request (none in a completed run) leaves its times empty.
    pub fn write_requests_csv(&self, out: impl Write) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let header = LLMSERVINGSIM_COLUMNS.iter().chain(OUR_COLUMNS.iter());
        w.write_record(header).map_err(csv_error)?;
        for r in &self.requests {
            let itl: Vec<String> = r.itl_ns().map(|v| v.to_string()).collect();
            let tpot = if r.finished() { Some(r.tpot_ns().map_or(0, |t| t.round() as u64)) } else { None };
            let end = if r.finished() { r.last_token_ns() } else { None };
            let (session, turn) =
                r.session.map_or((String::new(), String::new()), |(s, t)| (s.to_string(), t.to_string()));
            let row = [
                r.instance.to_string(),
                r.id.to_string(),
                self.model.clone(),
                r.prompt_tokens.to_string(),
                r.output_tokens.to_string(),
                r.arrival_ns.to_string(),
                opt(end),
                opt(end.and(r.latency_ns())),
                opt(r.queuing_delay_ns()),
                opt(r.ttft_ns()),
                opt(tpot),
                format!("[{}]", itl.join(", ")),
                opt(r.first_scheduled_ns),
                opt(r.first_token_ns()),
                r.preemptions.to_string(),
                r.recomputed_tokens.to_string(),
                session,
                turn,
                r.finished().to_string(),
            ];
            w.write_record(&row).map_err(csv_error)?;
        }
        w.flush()
    }

    /// Writes `iterations.csv`: one row per iteration and pipeline stage.
    pub fn write_iterations_csv(&self, out: impl Write) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let (fixed, total) = ITERATION_COLUMNS.split_at(ITERATION_COLUMNS.len() - 1);
        let parts = self.iterations.first().map(|i| i.extra.iter().map(|(n, _)| format!("{n}_us")).collect::<Vec<_>>());
        let header = fixed.iter().map(|c| c.to_string()).chain(parts.unwrap_or_default()).chain([total[0].to_string()]);
        w.write_record(header).map_err(csv_error)?;
        for i in &self.iterations {
            let total = i.duration_ns as f64 / 1e3;
            let row = [
                i.iteration.to_string(),
                i.stage.to_string(),
                i.start_ns.to_string(),
                i.duration_ns.to_string(),
                i.end_ns().to_string(),
                i.decode_seqs.to_string(),
                i.prefill_seqs.to_string(),
                i.prefill_tokens.to_string(),
                i.running.to_string(),
                i.waiting.to_string(),
                i.preempted.to_string(),
                i.kv_blocks_used.to_string(),
                self.num_blocks.to_string(),
                format!("{:.3}", i.dense_us),
                format!("{:.3}", i.attention_us),
                format!("{:.3}", i.all_reduce_us),
                format!("{:.3}", i.pp_transfer_us),
                format!("{:.3}", i.lm_head_us),
            ];
            let extra = i.extra.iter().map(|(_, us)| format!("{us:.3}"));
            let row = row.into_iter().chain(extra).chain([format!("{total:.3}")]);
            w.write_record(row).map_err(csv_error)?;
        }
        w.flush()
    }

    /// Writes `summary.json`.
    pub fn write_summary_json(&self, out: impl Write) -> std::io::Result<()> {
        let file = SummaryFile {
            model: &self.model,
            backend: &self.backend,
            config: &self.config,
            num_blocks: self.num_blocks,
            summary: self.summary(),
        };
        let mut out = out;
        serde_json::to_writer_pretty(&mut out, &file).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }

    /// Writes `requests.csv`, `iterations.csv` and `summary.json` into `dir` (created if
    /// missing).
    pub fn write_dir(&self, dir: &Path) -> Result<(), EngineError> {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::write(dir, e))?;
        let files: [(&str, &WriteFn<'_>); 3] = [
            ("requests.csv", &|w| self.write_requests_csv(w)),
            ("iterations.csv", &|w| self.write_iterations_csv(w)),
            ("summary.json", &|w| self.write_summary_json(w)),
        ];
        for (name, write) in files {
            let path = dir.join(name);
            let file = File::create(&path).map_err(|e| EngineError::write(&path, e))?;
            let mut w = BufWriter::new(file);
            write(&mut w).and_then(|()| w.flush()).map_err(|e| EngineError::write(&path, e))?;
        }
        Ok(())
    }
}
