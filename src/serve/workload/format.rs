//! The trace formats and how one is recognised.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::WorkloadError;
use super::value::shorten;

/// A request-trace file format (SERVING-SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceFormat {
    /// Vidur / Splitwise CSV: `arrived_at,num_prefill_tokens,num_decode_tokens`, arrivals in
    /// seconds (a float) from the start of the trace.
    Splitwise,
    /// CSV of token counts without arrivals: `num_prefill_tokens,num_decode_tokens` (other
    /// columns ignored). Every request arrives at t = 0 (offline); generate arrivals with
    /// [`Workload::with_arrivals`](super::Workload::with_arrivals).
    TokenCounts,
    /// Azure LLM inference trace CSV: `TIMESTAMP,ContextTokens,GeneratedTokens`, TIMESTAMP a
    /// date-time (made relative to the first request) or plain seconds.
    Azure,
    /// LLMServingSim JSONL: one request (`input_toks`, `output_toks`, `arrival_time_ns`) or one
    /// agentic session (`arrival_time_ns`, `sub_requests`) per line.
    LlmServingSim,
}

/// The names [`TraceFormat::from_str`] accepts, for messages.
pub(crate) const FORMAT_NAMES: &str = "splitwise (alias vidur), token-counts, azure, llmservingsim (alias jsonl)";

impl TraceFormat {
    /// Every format.
    pub const ALL: [TraceFormat; 4] =
        [TraceFormat::Splitwise, TraceFormat::TokenCounts, TraceFormat::Azure, TraceFormat::LlmServingSim];

    /// The name used in configuration and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Splitwise => "splitwise",
            TraceFormat::TokenCounts => "token-counts",
            TraceFormat::Azure => "azure",
            TraceFormat::LlmServingSim => "llmservingsim",
        }
    }

    /// Tells the format of a trace from its file name and its first bytes.
    ///
    /// `.jsonl`, `.ndjson` and `.json` files, and files whose first non-blank byte is `{`, are
    /// LLMServingSim JSONL. Otherwise the first line is a CSV header: one with `arrived_at` is
    /// Splitwise, one with `TIMESTAMP` Azure, one with `num_prefill_tokens` (and no arrival
    /// column) token counts. Detection only picks the parser; the parser then checks every
    /// column it needs.
    pub fn detect(path: &str, head: &[u8]) -> Result<TraceFormat, WorkloadError> {
        let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        if matches!(extension.as_deref(), Some("jsonl" | "ndjson" | "json")) {
            return Ok(TraceFormat::LlmServingSim);
        }
        let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
        let unknown =
            |reason: String| WorkloadError::UnknownFormat { path: path.to_string(), reason, formats: FORMAT_NAMES };
        match head.iter().find(|b| !b.is_ascii_whitespace()) {
            None => return Err(unknown("the file is empty".into())),
            Some(b'{') => return Ok(TraceFormat::LlmServingSim),
            Some(_) => {}
        }
        let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let first_line = String::from_utf8_lossy(first_line);
        let columns: Vec<&str> = first_line.split(',').map(|c| c.trim().trim_matches('"').trim()).collect();
        let has = |name: &str| columns.contains(&name);
        if has("arrived_at") {
            Ok(TraceFormat::Splitwise)
        } else if has("TIMESTAMP") {
            Ok(TraceFormat::Azure)
        } else if has("num_prefill_tokens") {
            Ok(TraceFormat::TokenCounts)
        } else {
            Err(unknown(format!(
                "the first line `{}` is not a known CSV header (with `arrived_at`, `TIMESTAMP` or \
                 `num_prefill_tokens`) nor a JSON object",
                shorten(first_line.trim())
            )))
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TraceFormat {
    type Err = WorkloadError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "splitwise" | "vidur" => Ok(TraceFormat::Splitwise),
            "token-counts" | "token_counts" => Ok(TraceFormat::TokenCounts),
            "azure" => Ok(TraceFormat::Azure),
            "llmservingsim" | "jsonl" => Ok(TraceFormat::LlmServingSim),
            other => {
                Err(WorkloadError::invalid("trace format", format!("`{}`; allowed: {FORMAT_NAMES}", shorten(other))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_every_format() {
        let detect = |path, head: &str| TraceFormat::detect(path, head.as_bytes()).unwrap();
        assert_eq!(detect("a.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,1\n"), TraceFormat::Splitwise);
        assert_eq!(
            detect("a.csv", "\u{feff}num_prefill_tokens,num_decode_tokens,pd_ratio\n"),
            TraceFormat::TokenCounts
        );
        assert_eq!(detect("a.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"), TraceFormat::Azure);
        assert_eq!(detect("a.txt", "\n  {\"input_toks\": 1}"), TraceFormat::LlmServingSim);
        assert_eq!(detect("a.JSONL", "whatever"), TraceFormat::LlmServingSim);
        assert!(TraceFormat::detect("a.csv", b"").is_err());
        let err = TraceFormat::detect("x.csv", b"a,b,c\n").unwrap_err().to_string();
        assert!(err.contains("x.csv") && err.contains("a,b,c") && err.contains("token-counts"), "{err}");
    }

    #[test]
    fn names_round_trip() {
        for format in TraceFormat::ALL {
            assert_eq!(format.name().parse::<TraceFormat>().unwrap(), format);
        }
        assert_eq!("vidur".parse::<TraceFormat>().unwrap(), TraceFormat::Splitwise);
        assert!("csv".parse::<TraceFormat>().is_err());
    }
}
