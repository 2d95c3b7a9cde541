//! The evaluation report of a sweep (`pam report DIR`): from the merged table
//! ([`Results`], `DIR/results.json`) one self-contained HTML page with the evaluation's six
//! figures, and beside it each figure as an SVG and as a CSV table, and a table of every point.
//!
//! * [`figures`]: the rows each figure takes, how they group into panels, categories and
//!   systems, and the values (normalisations included) — the [`Chart`]s.
//! * [`draw`]: a chart as an SVG (plotters, with the per-run plots' setup from
//!   [`crate::serve::report::plots`]).
//! * [`tables`]: the CSV files.
//! * [`html`]: the page.
//!
//! ```text
//! OUT/index.html               the page (SVGs and CSS inline; nothing fetched)
//! OUT/figures/<figure>.svg     slo, offline, energy, ablation, scaling, drift
//! OUT/tables/<figure>.csv      the value behind every mark of the figure
//! OUT/tables/points.csv        every row of results.json
//! ```
//!
//! Every figure is on the page even when no sweep part feeds it: its panel then says which
//! `figures:` entry would. Every figure names the sweep, the part(s) and the commit(s) of its
//! rows, in its SVG's footer and in its caption.

pub mod draw;
pub mod figures;
pub mod html;
pub mod tables;

use std::path::{Path, PathBuf};

pub use crate::serve::report::ReportError;
pub use figures::{charts, Chart, Kind, Mark, Panel};

use crate::sweep::table::{Figure, Results};

/// What [`write_report`] wrote for one figure.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureFiles {
    pub figure: Figure,
    pub title: String,
    pub svg: PathBuf,
    pub csv: PathBuf,
    /// Rows feeding the figure, panels and marks drawn.
    pub rows: usize,
    pub panels: usize,
    pub marks: usize,
    /// Why nothing is drawn, when nothing is.
    pub empty: Option<String>,
    /// The figure's caption line (sweep, parts, commits).
    pub provenance: String,
}

/// What [`write_report`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportSummary {
    /// `OUT/index.html`.
    pub index: PathBuf,
    /// The six figures, in [`Figure::ALL`] order.
    pub figures: Vec<FigureFiles>,
    /// `OUT/tables/points.csv` and its rows.
    pub points: PathBuf,
    pub rows: usize,
}

/// Writes the report of `results` into `out` (created if missing; files already there are
/// replaced).
pub fn write_report(results: &Results, out: &Path) -> Result<ReportSummary, ReportError> {
    let figures_dir = out.join("figures");
    let tables_dir = out.join("tables");
    for dir in [out, &figures_dir, &tables_dir] {
        std::fs::create_dir_all(dir).map_err(|e| ReportError::write(dir, e))?;
    }
    let charts = figures::charts(results);
    let mut svgs = Vec::with_capacity(charts.len());
    let mut files = Vec::with_capacity(charts.len());
    for chart in &charts {
        let name = chart.figure.name();
        let svg = figures_dir.join(format!("{name}.svg"));
        let csv = tables_dir.join(format!("{name}.csv"));
        svgs.push(draw::draw(chart, &svg)?);
        tables::write_figure(chart, &csv)?;
        files.push(FigureFiles {
            figure: chart.figure,
            title: chart.title.clone(),
            svg,
            csv,
            rows: chart.rows,
            panels: chart.panels.len(),
            marks: chart.panels.iter().map(|p| p.marks.len()).sum(),
            empty: chart.empty.clone(),
            provenance: chart.provenance(),
        });
    }
    let points = tables_dir.join("points.csv");
    let rows = tables::write_points(results, &points)?;
    let index = out.join("index.html");
    std::fs::write(&index, html::page(results, &charts, &svgs)).map_err(|e| ReportError::write(&index, e))?;
    Ok(ReportSummary { index, figures: files, points, rows })
}
