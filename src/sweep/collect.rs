//! `pam sweep collect DIR`: every finished point's rows, in point order, into `results.json`
//! and `results.csv`. The table holds nothing that depends on the host or on how the points
//! were scheduled, so a sweep run locally and as a Slurm array collect to identical files.

use std::path::Path;

use super::point::{self, write_atomic};
use super::runner::Manifest;
use super::table::{self, Results};
use super::SweepError;

/// What `collect` found: the merged table and the points with no result yet.
pub struct Collected {
    pub results: Results,
    pub missing: Vec<String>,
}

/// Merges the points of the sweep in `out` and writes `results.json` and `results.csv` there
/// (with the rows of the finished points, even when some are missing).
pub fn collect(out: &Path) -> Result<Collected, SweepError> {
    let manifest = Manifest::read(out)?;
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for p in &manifest.points {
        if point::is_done(out, &p.id) {
            rows.extend(point::rows(out, &p.id)?);
        } else {
            missing.push(p.id.clone());
        }
    }
    let results =
        Results { sweep: manifest.name.clone(), file: manifest.file.clone(), points: manifest.points.len(), rows };
    write_atomic(&out.join("results.json"), &(serde_json::to_string_pretty(&results).unwrap_or_default() + "\n"))?;
    let csv = table::csv_text(&results.rows).map_err(|e| SweepError::Other(format!("results.csv: {e}")))?;
    write_atomic(&out.join("results.csv"), &csv)?;
    Ok(Collected { results, missing })
}
