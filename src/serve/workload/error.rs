//! The one error type of the workload module.

use thiserror::Error;

/// Everything that can go wrong while reading, generating or reshaping a workload.
///
/// Trace errors name the file, the 1-based line an editor shows, the column or JSON field, what
/// was found and what is allowed, as `path:line: field: problem`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WorkloadError {
    /// The trace could not be opened or read.
    #[error("{path}: cannot read the trace: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Neither the extension nor the first line tells which format the trace is in.
    #[error("{path}: cannot tell the trace format: {reason}; name the format explicitly (one of: {formats})")]
    UnknownFormat { path: String, reason: String, formats: &'static str },
    /// A value in the trace is wrong: a column of a CSV row or a field of a JSON line.
    #[error("{path}:{line}: {field}: {problem}")]
    Field {
        path: String,
        /// 1-based line number, as an editor shows it.
        line: u64,
        /// The CSV column (`column 2 (num_prefill_tokens)`) or the JSON field
        /// (`field sub_requests[1].output_toks`), or `column N` of a JSON syntax error.
        field: String,
        /// What was found and what is allowed.
        problem: String,
    },
    /// A whole line is wrong (wrong number of CSV fields, bytes that are not UTF-8).
    #[error("{path}:{line}: {problem}")]
    Line { path: String, line: u64, problem: String },
    /// The trace holds no request.
    #[error("{path}: the trace holds no request: {detail}")]
    Empty { path: String, detail: String },
    /// A parameter of a synthetic workload, of load scaling, or a hand-built request list is
    /// out of range.
    #[error("invalid {what}: {problem}")]
    Invalid { what: String, problem: String },
}

impl WorkloadError {
    pub(crate) fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        WorkloadError::Invalid { what: what.into(), problem: problem.into() }
    }
}
