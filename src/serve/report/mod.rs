//! The run's pictures (SERVING-SPEC §11): a Chrome/Perfetto trace of a window of iterations
//! and SVG plots of the whole run.
//!
//! * [`perfetto`]: a generic trace builder ([`Trace`]: tracks, strictly nested slices,
//!   counters, track names) and [`trace_from_run`], which lays a [`RunResult`]'s iterations on
//!   it.
//! * [`plots`]: latency CDFs, throughput, batch size, per-tier utilisation and the time
//!   breakdown as SVG files, one line (or bar) per system.
//!
//! # Component names (the contract with the engine)
//!
//! Both writers read an iteration's time breakdown only through
//! [`IterationRecord::components`](crate::serve::engine::IterationRecord::components), so that
//! the engine can grow parts without touching this module. A component's name says where the
//! trace puts it:
//! * `tier/<tier>/<part>` (e.g. `tier/DDR5/attention`, `tier/DDR5/merge`, `tier/DDR5/link`):
//!   on the track of tier `<tier>`, under a slice of the iteration, parts back to back;
//! * `migration/<part>`: on the migrations track, the same way;
//! * anything else (`dense`, `attention`, `all_reduce`, `pp_transfer`, `lm_head`): on the
//!   track of the GPU pipeline stage.
//!
//! The breakdown plot stacks every component under its full name.

pub mod perfetto;
pub mod plots;

pub use perfetto::{trace_from_run, SliceId, Trace, TrackId, Window};
pub use plots::{write_plots, write_series_plots, PlotOptions, Plots, RunSeries, TierUtilisation};

use thiserror::Error;

#[cfg(doc)]
use crate::serve::engine::RunResult;

/// Everything that can go wrong while building or writing a trace or a plot.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A time or value handed to a writer is not usable (not finite, negative, overlapping).
    #[error("invalid {what}: {problem}")]
    Invalid { what: String, problem: String },
    /// An output file could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The plotting library refused to draw (its message, with the plot's file).
    #[error("{path}: cannot draw {what}: {problem}")]
    Plot { path: String, what: String, problem: String },
}

impl ReportError {
    pub(crate) fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        ReportError::Invalid { what: what.into(), problem: problem.into() }
    }

    pub(crate) fn write(path: &std::path::Path, source: std::io::Error) -> Self {
        ReportError::Write { path: path.display().to_string(), source }
    }
}
