//! The one error type of the GPU time module.

use thiserror::Error;

/// Everything that can go wrong while loading presets or profiles, or timing a batch.
///
/// A malformed profile or preset file is named with the 1-based line and column an editor
/// shows (`path:line:column: problem`); for a CSV file the column is the 1-based field
/// number, and the problem names the column's header.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GpuError {
    /// A profile file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A value, a row or the header of a profile or preset file is wrong.
    #[error("{path}:{line}:{column}: {problem}")]
    Malformed { path: String, line: u64, column: u64, problem: String },
    /// A well-formed profile does not serve the request: it measured another model shape, or
    /// lacks the tensor-parallel degree, GPU count or operator asked for.
    #[error("{path}: {problem}")]
    Mismatch { path: String, problem: String },
    /// A parameter is out of range (a model shape, a parallelism, a stage, a batch).
    #[error("invalid {what}: {problem}")]
    Invalid { what: String, problem: String },
}

impl GpuError {
    pub(crate) fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        GpuError::Invalid { what: what.into(), problem: problem.into() }
    }

    pub(crate) fn mismatch(path: impl Into<String>, problem: impl Into<String>) -> Self {
        GpuError::Mismatch { path: path.into(), problem: problem.into() }
    }

    pub(crate) fn malformed(path: impl Into<String>, line: u64, column: u64, problem: impl Into<String>) -> Self {
        GpuError::Malformed { path: path.into(), line, column, problem: problem.into() }
    }
}
