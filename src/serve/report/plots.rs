//! SVG plots of serving runs (SERVING-SPEC §11), one line or bar per system: latency CDFs
//! (TTFT, TPOT, end-to-end), output throughput and running requests over time, per-tier
//! utilisation over time, and the mean time breakdown of an iteration.
//!
//! # API
//!
//! [`write_plots`]`(&[(name, &RunResult)], &[TierUtilisation], dir, &PlotOptions) -> Plots`
//! writes `latency_cdf.svg`, `throughput.svg`, `batch.svg`, `utilisation.svg` (only when tier
//! series are given) and `breakdown.svg` into `dir` and says what it wrote and what it skipped
//! and why. The plots read runs through [`RunSeries`] (what a plot needs of a run, made by
//! [`RunSeries::of`]), and each plot has its own function ([`latency_cdf`], [`throughput`],
//! [`batch`], [`utilisation`], [`breakdown`]) for a driver that wants one. A run without a
//! finished request, or without iterations, still gets its files: its legend entry says so,
//! and a plot with nothing at all to draw carries a note instead of lines.
//!
//! # The plotting library (decision)
//!
//! `plotters` 0.3.7 (the latest release on crates.io; MIT; the common pure-Rust plotting
//! crate) with its default features off and only `svg_backend` and `line_series`: it then compiles four small pure-Rust crates (`plotters`,
//! `plotters-backend`, `plotters-svg`, `num-traits`) and links no system library. Text
//! needs no font either: without its `ttf` feature (font-kit, which needs fontconfig and
//! freetype) or `ab_glyph`, plotters sizes labels with a fixed estimate (0.7 em per character,
//! its `naive` font module), and the SVG backend writes every label as a `<text>` element that
//! the viewer renders with its own fonts. So a fresh Debian CI machine with only
//! `scripts/setup.sh` builds it. Writing SVG by hand was the alternative; axes with sensible
//! ticks, legends and clipping are what plotters saves.
//!
//! # Sizes
//!
//! A run of hours has millions of iterations and tokens; every line is thinned to at most
//! [`PlotOptions::max_points`] points (a CDF by quantiles, a time series by means over equal
//! time bins), so a file stays below about a megabyte whatever the run.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::ReportError;
use crate::serve::engine::RunResult;

/// What a plot needs of one system's run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunSeries {
    /// The system's name, as the legends show it.
    pub name: String,
    /// Of the finished requests, seconds: TTFT; TPOT (outputs of two tokens or more);
    /// end-to-end latency.
    pub ttft_s: Vec<f64>,
    pub tpot_s: Vec<f64>,
    pub latency_s: Vec<f64>,
    /// When every output token came out, seconds.
    pub token_times_s: Vec<f64>,
    /// (start of the step on the first stage, requests running), seconds.
    pub running: Vec<(f64, f64)>,
    /// Mean time per iteration by component (summed over pipeline stages), microseconds, in
    /// the order the components first appear.
    pub breakdown_us: Vec<(String, f64)>,
    /// The run's end (last token or last iteration), seconds.
    pub end_s: f64,
}

impl RunSeries {
    /// The series of `run`, named `name`.
    pub fn of(name: &str, run: &RunResult) -> RunSeries {
        let s = |ns: u64| ns as f64 / 1e9;
        let done = run.requests.iter().filter(|r| r.finished());
        let mut series = RunSeries { name: name.to_string(), ..RunSeries::default() };
        for r in done {
            series.ttft_s.extend(r.ttft_ns().map(s));
            series.tpot_s.extend(r.tpot_ns().map(|t| t / 1e9));
            series.latency_s.extend(r.latency_ns().map(s));
        }
        series.token_times_s = run.requests.iter().flat_map(|r| r.token_times_ns.iter().map(|&t| s(t))).collect();
        series.running =
            run.iterations.iter().filter(|i| i.stage == 0).map(|i| (s(i.start_ns), f64::from(i.running))).collect();
        let mut sums: Vec<(String, f64)> = Vec::new();
        for it in &run.iterations {
            for (name, us) in it.components() {
                match sums.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, sum)) => *sum += us,
                    None => sums.push((name, us)),
                }
            }
        }
        // Per iteration (a step on every stage), not per record: with pipeline stages the
        // bar is the whole step's work.
        let steps = run.iterations.iter().map(|i| i.iteration + 1).max().unwrap_or(0);
        if steps > 0 {
            series.breakdown_us = sums.into_iter().map(|(n, sum)| (n, sum / steps as f64)).collect();
        }
        let last_token = series.token_times_s.iter().copied().fold(0.0, f64::max);
        let last_iteration = run.iterations.iter().map(|i| s(i.end_ns())).fold(0.0, f64::max);
        series.end_s = last_token.max(last_iteration);
        series
    }
}

/// One tier's utilisation over time: (time in seconds, busy fraction in [0, 1]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TierUtilisation {
    /// The tier's name (with the system's when several systems are plotted).
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// How the plots are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlotOptions {
    /// Size of one plot (the latency CDF has three panels of this size), pixels.
    pub width: u32,
    pub height: u32,
    /// Time windows over the run for the throughput plot.
    pub throughput_bins: usize,
    /// Most points in one line.
    pub max_points: usize,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions { width: 800, height: 480, throughput_bins: 100, max_points: 1000 }
    }
}

/// What [`write_plots`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plots {
    /// The files written.
    pub written: Vec<PathBuf>,
    /// The files not written, and why.
    pub skipped: Vec<(String, String)>,
}

/// The axis labels, for the tests and for anyone who reads the files.
pub const TTFT_LABEL: &str = "TTFT (s)";
pub const TPOT_LABEL: &str = "TPOT (ms)";
pub const LATENCY_LABEL: &str = "end-to-end latency (s)";
pub const CDF_LABEL: &str = "fraction of requests";
pub const TIME_LABEL: &str = "time (s)";
pub const THROUGHPUT_LABEL: &str = "output tokens/s";
pub const RUNNING_LABEL: &str = "running requests";
pub const BUSY_LABEL: &str = "busy fraction";
pub const BREAKDOWN_LABEL: &str = "mean time per iteration (ms)";
/// What a panel with nothing to draw says.
pub const NO_DATA: &str = "no data";

/// Writes the plots of `runs` (one line or bar per system) into `dir` (created if missing):
/// `latency_cdf.svg`, `throughput.svg`, `batch.svg`, `utilisation.svg` (skipped when `tiers`
/// is empty) and `breakdown.svg`.
pub fn write_plots(
    runs: &[(&str, &RunResult)],
    tiers: &[TierUtilisation],
    dir: &Path,
    options: &PlotOptions,
) -> Result<Plots, ReportError> {
    let series: Vec<RunSeries> = runs.iter().map(|(name, run)| RunSeries::of(name, run)).collect();
    write_series_plots(&series, tiers, dir, options)
}

/// [`write_plots`] from series already made.
pub fn write_series_plots(
    runs: &[RunSeries],
    tiers: &[TierUtilisation],
    dir: &Path,
    options: &PlotOptions,
) -> Result<Plots, ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::write(dir, e))?;
    let mut plots = Plots::default();
    type PlotFn = fn(&[RunSeries], &Path, &PlotOptions) -> Result<(), ReportError>;
    let per_run: [(&str, PlotFn); 4] = [
        ("latency_cdf.svg", latency_cdf),
        ("throughput.svg", throughput),
        ("batch.svg", batch),
        ("breakdown.svg", breakdown),
    ];
    for (file, plot) in per_run {
        let path = dir.join(file);
        plot(runs, &path, options)?;
        plots.written.push(path);
    }
    if tiers.is_empty() {
        plots.skipped.push(("utilisation.svg".into(), "no tier utilisation given (the run has no tiers)".into()));
    } else {
        let path = dir.join("utilisation.svg");
        utilisation(tiers, &path, options)?;
        plots.written.push(path);
    }
    Ok(plots)
}

/// Tableau's ten colours: distinct, and readable by most colour-blind readers.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// The colour of the `i`-th system (or component).
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The SVG colour attribute of the `i`-th system (`#RRGGBB`), as plotters writes it.
pub fn colour_hex(i: usize) -> String {
    let RGBColor(r, g, b) = colour(i);
    format!("#{r:02X}{g:02X}{b:02X}")
}

pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

pub(crate) fn plot_error(path: &Path, what: &str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Plot { path: path.display().to_string(), what: what.to_string(), problem: e.to_string() }
}

/// Draws into an SVG in memory with `draw`, then writes it to `path`.
fn render(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    render_string(path, size, draw).map(|_| ())
}

/// [`render`], returning the SVG written (a page that inlines it need not read it back).
pub(crate) fn render_string(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), ReportError>,
) -> Result<String, ReportError> {
    // Below this the label areas and margins leave no room, and plotters' layout arithmetic
    // is not meant for it.
    const MIN: (u32, u32) = (200, 150);
    if size.0 < MIN.0 || size.1 < MIN.1 {
        return Err(ReportError::invalid(
            format!("plot size of {}", path.display()),
            format!("{}x{} pixels; allowed: at least {}x{}", size.0, size.1, MIN.0, MIN.1),
        ));
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(path, "the background", e))?;
        draw(&root)?;
        root.present().map_err(|e| plot_error(path, "the file", e))?;
    }
    std::fs::write(path, &svg).map_err(|e| ReportError::write(path, e))?;
    Ok(svg)
}

/// A line of a chart: its legend and its points.
struct Line {
    label: String,
    colour: RGBColor,
    points: Vec<(f64, f64)>,
}

/// A range around finite `values` (`fallback` when there are none), never empty: plotters
/// needs `lo < hi` to place ticks.
fn range(values: impl Iterator<Item = f64>, fallback: (f64, f64)) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return fallback;
    }
    if hi - lo > 1e-12 * hi.abs().max(1e-300) {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        (lo - pad, hi + pad)
    }
}

/// A chart of `lines` in `area`; the panel with nothing to draw carries [`NO_DATA`].
fn line_chart(
    area: &Area<'_>,
    path: &Path,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    lines: &[Line],
    y_fixed: Option<(f64, f64)>,
    legend: SeriesLabelPosition,
) -> Result<(), ReportError> {
    let err = |what: &'static str| move |e| plot_error(path, &format!("{what} of {title:?}"), e);
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let all = || lines.iter().flat_map(|l| l.points.iter().filter(finite));
    let (x0, x1) = range(all().map(|p| p.0), (0.0, 1.0));
    let (y0, y1) = y_fixed.unwrap_or_else(|| {
        let (lo, hi) = range(all().map(|p| p.1).chain([0.0]), (0.0, 1.0));
        (lo, hi * 1.05)
    });
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err("the axes"))?;
    chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).draw().map_err(err("the grid"))?;
    for line in lines {
        let style = line.colour.stroke_width(2);
        let points: Vec<(f64, f64)> = line.points.iter().filter(finite).copied().collect();
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(err("a line"))?
            .label(line.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    if all().next().is_none() {
        let note = Text::new(NO_DATA, (x0 + 0.4 * (x1 - x0), y0 + 0.5 * (y1 - y0)), ("sans-serif", 18));
        chart.plotting_area().draw(&note).map_err(err("the note"))?;
    }
    if !lines.is_empty() {
        chart
            .configure_series_labels()
            .position(legend)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err("the legend"))?;
    }
    Ok(())
}

/// At most `max` points of a time series: the means over equal time bins (the series as it
/// is when short enough).
fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = points.iter().filter(|p| p.0.is_finite() && p.1.is_finite()).copied().collect();
    let max = max.max(2);
    if points.len() <= max {
        return points;
    }
    let (t0, t1) = range(points.iter().map(|p| p.0), (0.0, 1.0));
    let mut bins = vec![(0.0, 0.0, 0usize); max];
    for &(t, v) in &points {
        let i = (((t - t0) / (t1 - t0)) * max as f64) as usize;
        let b = &mut bins[i.min(max - 1)];
        *b = (b.0 + t, b.1 + v, b.2 + 1);
    }
    bins.into_iter().filter(|b| b.2 > 0).map(|(t, v, n)| (t / n as f64, v / n as f64)).collect()
}

/// The empirical CDF of `values` scaled by `scale`, at most `max` points (by quantiles).
fn cdf(values: &[f64], scale: f64, max: usize) -> Vec<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().map(|x| x * scale).filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let max = max.max(2);
    let ranks: Vec<usize> =
        if n <= max { (0..n).collect() } else { (0..max).map(|k| k * (n - 1) / (max - 1)).collect() };
    let mut points = vec![(v[0], 0.0)];
    points.extend(ranks.into_iter().map(|i| (v[i], (i + 1) as f64 / n as f64)));
    points
}

fn label(run: &RunSeries, empty: bool, why: &str) -> String {
    if empty {
        format!("{} ({why})", run.name)
    } else {
        run.name.clone()
    }
}

/// A latency panel: title, axis label, scale from seconds, the values of a run.
type Metric = (&'static str, &'static str, f64, fn(&RunSeries) -> &Vec<f64>);

/// `latency_cdf.svg`: the CDFs of TTFT, TPOT and end-to-end latency, three panels, one line per
/// system.
pub fn latency_cdf(runs: &[RunSeries], path: &Path, options: &PlotOptions) -> Result<(), ReportError> {
    let size = (options.width.saturating_mul(3), options.height);
    render(path, size, |root| {
        let panels = root.split_evenly((1, 3));
        let metrics: [Metric; 3] = [
            ("Time to first token", TTFT_LABEL, 1.0, |r| &r.ttft_s),
            ("Time per output token", TPOT_LABEL, 1e3, |r| &r.tpot_s),
            ("End-to-end latency", LATENCY_LABEL, 1.0, |r| &r.latency_s),
        ];
        for (panel, (title, x_desc, scale, values)) in panels.iter().zip(metrics) {
            let lines: Vec<Line> = runs
                .iter()
                .enumerate()
                .map(|(i, r)| Line {
                    label: label(r, values(r).is_empty(), "no finished request"),
                    colour: colour(i),
                    points: cdf(values(r), scale, options.max_points),
                })
                .collect();
            line_chart(
                panel,
                path,
                title,
                (x_desc, CDF_LABEL),
                &lines,
                Some((0.0, 1.0)),
                SeriesLabelPosition::LowerRight,
            )?;
        }
        Ok(())
    })
}

/// `throughput.svg`: output tokens per second over [`PlotOptions::throughput_bins`] equal
/// windows of the longest run, one line per system (each point at its window's middle).
pub fn throughput(runs: &[RunSeries], path: &Path, options: &PlotOptions) -> Result<(), ReportError> {
    let end = runs.iter().map(|r| r.end_s).filter(|e| e.is_finite()).fold(0.0, f64::max);
    let bins = options.throughput_bins.max(1);
    let width = end / bins as f64;
    let lines: Vec<Line> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut counts = vec![0u64; bins];
            for &t in r.token_times_s.iter().filter(|t| t.is_finite() && **t >= 0.0) {
                let b = if width > 0.0 { (t / width) as usize } else { 0 };
                counts[b.min(bins - 1)] += 1;
            }
            let points = if r.token_times_s.is_empty() || width <= 0.0 {
                Vec::new()
            } else {
                counts.iter().enumerate().map(|(b, &c)| ((b as f64 + 0.5) * width, c as f64 / width)).collect()
            };
            Line { label: label(r, points.is_empty(), "no output token"), colour: colour(i), points }
        })
        .collect();
    render(path, (options.width, options.height), |root| {
        line_chart(
            root,
            path,
            "Output throughput",
            (TIME_LABEL, THROUGHPUT_LABEL),
            &lines,
            None,
            SeriesLabelPosition::UpperRight,
        )
    })
}

/// `batch.svg`: requests running at each step over time, one line per system.
pub fn batch(runs: &[RunSeries], path: &Path, options: &PlotOptions) -> Result<(), ReportError> {
    let lines: Vec<Line> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| Line {
            label: label(r, r.running.is_empty(), "no iteration"),
            colour: colour(i),
            points: thin(&r.running, options.max_points),
        })
        .collect();
    render(path, (options.width, options.height), |root| {
        line_chart(root, path, "Batch size", (TIME_LABEL, RUNNING_LABEL), &lines, None, SeriesLabelPosition::UpperRight)
    })
}

/// `utilisation.svg`: each tier's busy fraction over time, one line per tier.
pub fn utilisation(tiers: &[TierUtilisation], path: &Path, options: &PlotOptions) -> Result<(), ReportError> {
    let lines: Vec<Line> = tiers
        .iter()
        .enumerate()
        .map(|(i, t)| Line {
            label: if t.points.is_empty() { format!("{} (no sample)", t.name) } else { t.name.clone() },
            colour: colour(i),
            points: thin(&t.points, options.max_points),
        })
        .collect();
    // Busy fractions live in [0, 1]; a series above 1 (a caller's overlap) still shows.
    let top = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(1.0, f64::max) * 1.05;
    render(path, (options.width, options.height), |root| {
        line_chart(
            root,
            path,
            "Tier utilisation",
            (TIME_LABEL, BUSY_LABEL),
            &lines,
            Some((0.0, top)),
            SeriesLabelPosition::UpperRight,
        )
    })
}

/// `breakdown.svg`: a stacked bar per system, the mean time of an iteration by component (in
/// the order of [`IterationRecord::components`](crate::serve::engine::IterationRecord::components)).
pub fn breakdown(runs: &[RunSeries], path: &Path, options: &PlotOptions) -> Result<(), ReportError> {
    let mut components: Vec<&str> = Vec::new();
    for r in runs {
        for (name, _) in &r.breakdown_us {
            if !components.contains(&name.as_str()) {
                components.push(name);
            }
        }
    }
    let ms = |us: f64| if us.is_finite() && us > 0.0 { us / 1e3 } else { 0.0 };
    let totals: Vec<f64> = runs.iter().map(|r| r.breakdown_us.iter().map(|c| ms(c.1)).sum()).collect();
    let top = totals.iter().copied().fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let names: Vec<String> = runs.iter().map(|r| label(r, r.breakdown_us.is_empty(), "no iteration")).collect();
    // One segment per system (plotters' integer ranges are inclusive); a lone system gets an
    // empty segment on each side, since plotters maps a one-value range to a single point.
    let n = i32::try_from(runs.len()).unwrap_or(i32::MAX);
    let segments = if n <= 1 { -1..1 } else { 0..n - 1 };
    render(path, (options.width, options.height), |root| {
        let err = |what: &'static str| move |e| plot_error(path, what, e);
        // The legend beside the bars, not over them: a stack can reach any height.
        let (bars_area, legend_area) = root.split_horizontally(options.width.saturating_mul(3) / 4);
        let mut chart = ChartBuilder::on(&bars_area)
            .caption("Time per iteration", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(segments.into_segmented(), 0.0..top)
            .map_err(err("the axes of the breakdown"))?;
        let system = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => {
                usize::try_from(*i).ok().and_then(|i| names.get(i)).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(runs.len().max(1) + 2)
            .x_label_formatter(&system)
            .x_desc("system")
            .y_desc(BREAKDOWN_LABEL)
            .draw()
            .map_err(err("the grid of the breakdown"))?;
        let mut base = vec![0.0; runs.len()];
        for (c, component) in components.iter().enumerate() {
            let fill = colour(c).filled();
            let mut bars = Vec::new();
            for (i, r) in runs.iter().enumerate() {
                let v = r.breakdown_us.iter().find(|(n, _)| n == component).map_or(0.0, |x| ms(x.1));
                if v > 0.0 {
                    let x = i32::try_from(i).unwrap_or(i32::MAX);
                    let mut bar = Rectangle::new(
                        [(SegmentValue::Exact(x), base[i]), (SegmentValue::Exact(x.saturating_add(1)), base[i] + v)],
                        fill,
                    );
                    bar.set_margin(0, 0, 15, 15);
                    bars.push(bar);
                    base[i] += v;
                }
            }
            chart.draw_series(bars).map_err(err("the bars of the breakdown"))?;
            let y = 50 + 22 * i32::try_from(c).unwrap_or(i32::MAX / 44);
            legend_area.draw(&Rectangle::new([(10, y), (24, y + 12)], fill)).map_err(err("the legend"))?;
            legend_area.draw(&Text::new(*component, (32, y), ("sans-serif", 15))).map_err(err("the legend"))?;
        }
        if components.is_empty() {
            let note = Text::new(NO_DATA, (SegmentValue::CenterOf(0), top / 2.0), ("sans-serif", 18));
            chart.plotting_area().draw(&note).map_err(err("the note of the breakdown"))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pam-plots-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn cdf_and_thinning_keep_shape_and_bound_points() {
        let v: Vec<f64> = (0..10_000).map(f64::from).collect();
        let c = cdf(&v, 1e-3, 100);
        assert_eq!(c.len(), 101);
        assert_eq!(c[0], (0.0, 0.0));
        assert_eq!(c.last().copied(), Some((9.999, 1.0)));
        assert!(c.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1), "monotone");
        assert!(cdf(&[f64::NAN], 1.0, 10).is_empty());
        let series: Vec<(f64, f64)> = (0..5000).map(|i| (f64::from(i), 2.0)).collect();
        let t = thin(&series, 50);
        assert!(t.len() <= 50 && t.iter().all(|p| p.1 == 2.0), "{t:?}");
        assert!(range([3.0, 3.0].into_iter(), (0.0, 1.0)).0 < 3.0, "a one-value range is widened");
        assert_eq!(range(std::iter::empty(), (0.0, 1.0)), (0.0, 1.0));
    }

    #[test]
    fn empty_and_degenerate_series_draw_a_note() {
        let dir = tmp("empty");
        let empty = RunSeries { name: "idle".into(), ..RunSeries::default() };
        let plots = write_series_plots(&[empty], &[], &dir, &PlotOptions::default()).expect("plots");
        assert_eq!(plots.written.len(), 4);
        assert_eq!(plots.skipped.len(), 1);
        for p in &plots.written {
            let svg = std::fs::read_to_string(p).expect("svg");
            assert!(svg.starts_with("<svg") && svg.contains(NO_DATA), "{}", p.display());
        }
        // One point, all values equal, non-finite values: still a plot.
        let odd = RunSeries {
            name: "odd".into(),
            ttft_s: vec![1.0],
            tpot_s: vec![f64::NAN],
            latency_s: vec![2.0, 2.0],
            token_times_s: vec![0.0],
            running: vec![(0.0, 1.0), (f64::INFINITY, 3.0)],
            breakdown_us: vec![("dense".into(), f64::NAN)],
            end_s: 0.0,
        };
        let tiers = [TierUtilisation { name: "DDR5".into(), points: vec![(0.0, 0.5)] }];
        let plots = write_series_plots(&[odd], &tiers, &dir, &PlotOptions::default()).expect("plots");
        assert_eq!(plots.written.len(), 5);
        // A size with no room for a chart is refused, not drawn.
        let tiny = PlotOptions { width: 0, height: 10, ..PlotOptions::default() };
        let err = write_series_plots(&[], &[], &dir, &tiny).expect_err("too small");
        assert!(err.to_string().contains("0x10 pixels"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
