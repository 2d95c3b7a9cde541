//! The report's CSV tables: per figure, the value behind every mark (`tables/<figure>.csv`),
//! and every row of the sweep (`tables/points.csv`): fixed columns, then one column per axis
//! value (`value:<field>`), energy component (`J:<component>`) and tier (`util:<tier>`) that
//! any row has.

use std::path::Path;

use super::figures::{num, Chart};
use crate::serve::report::ReportError;
use crate::sweep::table::{self, opt, Column, Results};

/// The columns of a figure's table.
pub const FIGURE_COLUMNS: [&str; 11] =
    ["figure", "panel", "x", "system", "component", "value", "unit", "note", "flagged", "points", "commits"];

fn writer(path: &Path) -> Result<csv::Writer<std::fs::File>, ReportError> {
    csv::Writer::from_path(path).map_err(|e| ReportError::write(path, e.into()))
}

fn row_err(path: &Path) -> impl Fn(csv::Error) -> ReportError + '_ {
    move |e| ReportError::write(path, e.into())
}

/// Writes the table of `chart`: a line per mark (and per stacked component of it).
pub fn write_figure(chart: &Chart, path: &Path) -> Result<usize, ReportError> {
    let mut w = writer(path)?;
    w.write_record(FIGURE_COLUMNS).map_err(row_err(path))?;
    let mut lines = 0;
    for panel in &chart.panels {
        for m in &panel.marks {
            let system = chart.series.get(m.series).map_or("", |s| s.0.as_str());
            let x = panel.categories.get(m.category).map_or("", String::as_str);
            let points = m.points.join(";");
            let commits = chart.commits.join(";");
            let mut parts: Vec<(String, f64)> = vec![(String::new(), m.value)];
            parts.extend(m.segments.iter().map(|&(c, v)| (chart.components.get(c).cloned().unwrap_or_default(), v)));
            for (component, value) in parts {
                w.write_record([
                    chart.figure.name(),
                    &panel.title,
                    x,
                    system,
                    &component,
                    &value.to_string(),
                    &chart.y_label,
                    &m.note,
                    if m.flagged { "true" } else { "false" },
                    &points,
                    &commits,
                ])
                .map_err(row_err(path))?;
                lines += 1;
            }
        }
    }
    w.flush().map_err(|e| ReportError::write(path, e))?;
    Ok(lines)
}

/// The columns of the page's table of every point: fewer, rounded for reading.
pub const PAGE_COLUMNS: [Column; 18] = [
    ("point", |r| r.point.clone()),
    ("part", |r| r.part.clone()),
    ("system", |r| r.system.clone()),
    ("model", |r| r.model.clone()),
    ("trace", |r| r.trace.clone()),
    ("TP×PP", |r| format!("{}×{}", r.tp, r.pp)),
    ("SLO ms", |r| num(r.slo_tpot_ms)),
    ("drift", |r| num(r.drift)),
    ("batch", |r| opt(r.batch)),
    ("peak", |r| {
        opt(r.peak.as_ref().map(|p| format!("{} {}{}", p.load_kind, num(p.load), if p.met { "" } else { " (missed)" })))
    }),
    ("tokens/s", |r| format!("{:.1}", r.output_tokens_per_s)),
    ("TTFT p90 s", |r| format!("{:.3}", r.ttft_p90_s)),
    ("TPOT p90 ms", |r| format!("{:.1}", r.tpot_p90_s * 1e3)),
    ("SLO met", |r| format!("{:.0}%", r.slo_attainment * 100.0)),
    ("max running", |r| r.max_running.to_string()),
    ("OOM", |r| if r.out_of_memory { "yes".into() } else { String::new() }),
    ("J/token", |r| format!("{:.3}", r.joules_per_output_token)),
    ("commit", |r| r.commit.clone()),
];

/// Writes every row of the sweep, flattened as `results.csv` is ([`table::csv_text`]).
pub fn write_points(results: &Results, path: &Path) -> Result<usize, ReportError> {
    let text = table::csv_text(&results.rows).map_err(row_err(path))?;
    std::fs::write(path, text).map_err(|e| ReportError::write(path, e))?;
    Ok(results.rows.len())
}
