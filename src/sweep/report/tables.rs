//! The report's CSV tables: per figure, the value behind every mark (`tables/<figure>.csv`),
//! and every row of the sweep (`tables/points.csv`): fixed columns, then one column per axis
//! value (`value:<field>`), energy component (`J:<component>`) and tier (`util:<tier>`) that
//! any row has.

use std::collections::BTreeSet;
use std::path::Path;

use super::figures::{num, Chart};
use crate::serve::report::ReportError;
use crate::sweep::table::{Results, Row};

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

/// A column of the points table: its header and how a row shows in it.
type Column = (&'static str, fn(&Row) -> String);

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The fixed columns of `points.csv`, in order.
pub const POINT_COLUMNS: [Column; 41] = [
    ("sweep", |r| r.sweep.clone()),
    ("part", |r| r.part.clone()),
    ("point", |r| r.point.clone()),
    ("index", |r| r.index.to_string()),
    ("commit", |r| r.commit.clone()),
    ("seed", |r| r.seed.to_string()),
    ("figures", |r| r.figures.iter().map(|f| f.name()).collect::<Vec<_>>().join(";")),
    ("model", |r| r.model.clone()),
    ("trace", |r| r.trace.clone()),
    ("tp", |r| r.tp.to_string()),
    ("pp", |r| r.pp.to_string()),
    ("nodes", |r| r.nodes.to_string()),
    ("slo_tpot_ms", |r| r.slo_tpot_ms.to_string()),
    ("drift", |r| r.drift.to_string()),
    ("system", |r| r.system.clone()),
    ("batch", |r| opt(r.batch)),
    ("peak_load_kind", |r| opt(r.peak.as_ref().map(|p| p.load_kind.clone()))),
    ("peak_load", |r| opt(r.peak.as_ref().map(|p| p.load))),
    ("peak_met", |r| opt(r.peak.as_ref().map(|p| p.met))),
    ("peak_probes", |r| opt(r.peak.as_ref().map(|p| p.probes))),
    ("requests", |r| r.requests.to_string()),
    ("finished", |r| r.finished.to_string()),
    ("output_tokens_per_s", |r| r.output_tokens_per_s.to_string()),
    ("requests_per_s", |r| r.requests_per_s.to_string()),
    ("ttft_mean_s", |r| r.ttft_mean_s.to_string()),
    ("ttft_p50_s", |r| r.ttft_p50_s.to_string()),
    ("ttft_p90_s", |r| r.ttft_p90_s.to_string()),
    ("ttft_p99_s", |r| r.ttft_p99_s.to_string()),
    ("tpot_mean_s", |r| r.tpot_mean_s.to_string()),
    ("tpot_p50_s", |r| r.tpot_p50_s.to_string()),
    ("tpot_p90_s", |r| r.tpot_p90_s.to_string()),
    ("tpot_p99_s", |r| r.tpot_p99_s.to_string()),
    ("latency_mean_s", |r| r.latency_mean_s.to_string()),
    ("latency_p90_s", |r| r.latency_p90_s.to_string()),
    ("slo_attainment", |r| r.slo_attainment.to_string()),
    ("goodput_tokens_per_s", |r| r.goodput_tokens_per_s.to_string()),
    ("preemptions", |r| r.preemptions.to_string()),
    ("max_running", |r| r.max_running.to_string()),
    ("out_of_memory", |r| r.out_of_memory.to_string()),
    ("migrated_per_step", |r| r.migrated_per_step.to_string()),
    ("joules_per_output_token", |r| r.joules_per_output_token.to_string()),
];

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

/// Writes every row of `results`; returns how many.
pub fn write_points(results: &Results, path: &Path) -> Result<usize, ReportError> {
    let values: BTreeSet<&String> = results.rows.iter().flat_map(|r| r.values.keys()).collect();
    let joules: BTreeSet<&String> = results.rows.iter().flat_map(|r| r.joules_by_component.keys()).collect();
    let util: BTreeSet<&String> = results.rows.iter().flat_map(|r| r.util.keys()).collect();
    let mut w = writer(path)?;
    let header: Vec<String> = POINT_COLUMNS
        .iter()
        .map(|c| c.0.to_string())
        .chain(values.iter().map(|v| format!("value:{v}")))
        .chain(joules.iter().map(|j| format!("J:{j}")))
        .chain(util.iter().map(|u| format!("util:{u}")))
        .collect();
    w.write_record(&header).map_err(row_err(path))?;
    for r in &results.rows {
        let cells: Vec<String> = POINT_COLUMNS
            .iter()
            .map(|c| (c.1)(r))
            .chain(values.iter().map(|v| match r.values.get(*v) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            }))
            .chain(joules.iter().map(|j| opt(r.joules_by_component.get(*j))))
            .chain(util.iter().map(|u| opt(r.util.get(*u))))
            .collect();
        w.write_record(&cells).map_err(row_err(path))?;
    }
    w.flush().map_err(|e| ReportError::write(path, e))?;
    Ok(results.rows.len())
}
