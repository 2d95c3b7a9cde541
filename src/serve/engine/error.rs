//! The one error type of the serving loop.

use thiserror::Error;

use crate::serve::gpu::GpuError;

/// Everything that can go wrong while configuring or running the serving loop, writing its
/// outputs, or reading a measured run to validate against.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A parameter of the engine is out of range.
    #[error("invalid {what}: {problem}")]
    Invalid { what: String, problem: String },
    /// The KV block pool cannot hold one of the requests on its own (prompt plus every output
    /// token but the last, which is sampled and never written to the cache): serving it would
    /// preempt it forever, so the run is refused before it starts.
    #[error(
        "the KV pool of {blocks} blocks of {block_size} tokens ({} tokens) cannot hold request {request}: \
         prompt {prompt} + output {output} - 1 = {tokens} tokens need {needed} blocks",
        blocks * u64::from(*block_size)
    )]
    PoolTooSmall { request: u64, prompt: u32, output: u32, tokens: u64, needed: u64, blocks: u64, block_size: u32 },
    /// The GPU time backend failed (a batch outside its tables, a model it did not profile).
    #[error("GPU time: {0}")]
    Gpu(#[from] GpuError),
    /// The GPU time backend returned a time that is not a finite number >= 0.
    #[error("GPU time of iteration {iteration} (stage {stage}) is {us} us; allowed: a finite number >= 0")]
    BadTime { iteration: u64, stage: u32, us: f64 },
    /// The loop ran out of events with requests unfinished (a bug: the module documentation
    /// proves this cannot happen; reported instead of looping).
    #[error("the serving loop stalled at t = {now_ns} ns with {unfinished} requests unfinished ({waiting} waiting, {running} running)")]
    Stalled { now_ns: u64, unfinished: usize, waiting: usize, running: usize },
    /// An output file could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file of a measured run could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file of a measured run is malformed (`line` 0: the file as a whole).
    #[error("{path}:{line}: {problem}")]
    Malformed { path: String, line: u64, problem: String },
}

impl EngineError {
    pub(crate) fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        EngineError::Invalid { what: what.into(), problem: problem.into() }
    }

    pub(crate) fn write(path: &std::path::Path, source: impl Into<std::io::Error>) -> Self {
        EngineError::Write { path: path.display().to_string(), source: source.into() }
    }

    pub(crate) fn malformed(path: impl Into<String>, line: u64, problem: impl Into<String>) -> Self {
        EngineError::Malformed { path: path.into(), line, problem: problem.into() }
    }
}
