//! Evaluations beyond one run (SERVING-SPEC §13): a sweep file ([`spec`]) expands base serving
//! scenarios over axes into points; each point ([`point`]) is served into its own directory;
//! points run locally in parallel or shard by shard as a Slurm job array ([`runner`],
//! [`slurm`]), and merge into one table ([`collect`], [`table`]), which [`report`] draws.
//!
//! ```text
//! DIR/sweep.json                the expansion: parts, and every point's index, id and values
//! DIR/points/<id>/point.json    the point, the commit that ran it, `done` once finished
//! DIR/points/<id>/rows.json     its rows of the merged table
//! DIR/points/<id>/...           each run's summary.json (peak.json: the probes of a peak search)
//! DIR/results.{json,csv}        `pam sweep collect DIR`
//! DIR/slurm/sweep.sbatch        `pam sweep --slurm`, with the array's logs beside it
//! DIR/report/                   `pam report DIR`: index.html, figures/*.svg, tables/*.csv
//! ```

pub mod collect;
pub mod point;
pub mod report;
pub mod runner;
pub mod slurm;
pub mod spec;
pub mod table;

use std::path::PathBuf;

use crate::serve::run::ServeError;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Spec(#[from] spec::SpecError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{0}")]
    Other(String),
}

/// The commit of the checkout `pam` was built from, `-dirty` when tracked files differ from it;
/// `unknown` outside a git checkout. Every point and figure names it.
pub fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(head) if !head.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{head}-dirty")
            } else {
                head
            }
        }
        _ => "unknown".into(),
    }
}
