//! The evaluation's six figures as data: which rows feed each, how they group into panels,
//! categories (the x axis) and series (systems), and what value each mark shows. Drawing
//! ([`super::draw`]), the tables ([`super::tables`]) and the page ([`super::html`]) all read
//! the [`Chart`]s made here, so a number on the page, in its SVG and in its CSV is the same.
//!
//! # Grouping
//!
//! A row's context is its model, trace, TP x PP, SLO, drift rate and offline batch. A figure
//! takes one of those as its x axis (the SLO, the batch, TP x PP, the drift; the energy figure
//! puts systems on x) and makes one panel per distinct value of the rest. A peak-search row's
//! batch is the load the search found, not a setting, so it does not split panels. Rows that
//! fall on the same panel, category and system (points differing only in an axis outside the
//! context, e.g. a seed) show their mean; the CSV lists the points behind each mark.
//!
//! # Normalisation
//!
//! The energy figure divides each system's energy per output token by vllm-offload's in the
//! same panel, and the ablation figure each system's throughput by lspim's at the same batch.
//! A system with a `-sparse` / `-dense` label suffix is compared with the reference of the
//! same suffix when there is one, else with the reference without suffix.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::sweep::table::{Figure, Results, Row};

/// How a chart draws its marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Bars side by side per category (one per series), stacked by component when a mark has
    /// segments.
    Bars,
    /// A line per series across the categories, a marker per point.
    Lines,
}

/// One bar or line point.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// Index into [`Panel::categories`].
    pub category: usize,
    /// Index into [`Chart::series`].
    pub series: usize,
    pub value: f64,
    /// Stacked parts (index into [`Chart::components`], value), summing to `value`; empty
    /// for a plain bar or point.
    pub segments: Vec<(usize, f64)>,
    /// Written next to the mark (e.g. the batch reached, `OOM`).
    pub note: String,
    /// Drawn differently, meaning [`Chart::flag_meaning`] (out of memory, SLO missed).
    pub flagged: bool,
    /// The points behind the mark (their ids), in table order.
    pub points: Vec<String>,
}

/// One panel: a fixed context, its categories and marks.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub categories: Vec<String>,
    pub marks: Vec<Mark>,
    /// Said on the panel when something kept a mark from being drawn.
    pub note: Option<String>,
}

/// A figure of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub figure: Figure,
    pub title: String,
    /// What the figure shows, for the caption.
    pub description: String,
    pub kind: Kind,
    pub x_label: String,
    pub y_label: String,
    /// The systems of the marks, with their colour index (the same system has the same colour
    /// in every figure).
    pub series: Vec<(String, usize)>,
    /// The stacked components (energy), in stacking order.
    pub components: Vec<String>,
    /// A horizontal reference line (value, legend).
    pub reference: Option<(f64, String)>,
    /// What a flagged mark means.
    pub flag_meaning: Option<String>,
    pub panels: Vec<Panel>,
    /// The context every panel shares (e.g. `TP8xPP1 · drift 0.01`), for the caption.
    pub shared: String,
    pub sweep: String,
    /// The commits and sweep parts of the figure's rows.
    pub commits: Vec<String>,
    pub parts: Vec<String>,
    /// The rows that feed the figure.
    pub rows: usize,
    /// Why there is nothing to draw, when there is nothing.
    pub empty: Option<String>,
}

impl Chart {
    /// The caption line naming where the figure came from.
    pub fn provenance(&self) -> String {
        let commits = match self.commits.as_slice() {
            [] => "no commit".to_string(),
            [c] => format!("commit {c}"),
            many => format!("commits {} (points ran from different commits)", many.join(", ")),
        };
        if self.parts.is_empty() {
            format!("sweep {}, {commits}", self.sweep)
        } else {
            let s = if self.parts.len() == 1 { "" } else { "s" };
            format!("sweep {} (part{s} {}), {commits}", self.sweep, self.parts.join(", "))
        }
    }
}

/// The six figures of `results`, in [`Figure::ALL`] order.
pub fn charts(results: &Results) -> Vec<Chart> {
    let colours = system_colours(results);
    Figure::ALL.iter().map(|&f| chart(results, f, &colours)).collect()
}

/// A float ordered by [`f64::total_cmp`], so contexts can key maps.
#[derive(Clone, Copy, Debug)]
struct OrdF(f64);

impl PartialEq for OrdF {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for OrdF {}
impl PartialOrd for OrdF {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// What a figure groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dim {
    Model,
    Trace,
    Parallel,
    Slo,
    Drift,
    Batch,
}

const DIMS: [Dim; 6] = [Dim::Model, Dim::Trace, Dim::Parallel, Dim::Slo, Dim::Drift, Dim::Batch];

/// A row's context; a cleared dimension holds its default.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Ctx {
    model: String,
    trace: String,
    parallel: (u32, u32),
    slo: Option<OrdF>,
    drift: Option<OrdF>,
    batch: Option<u32>,
}

impl Ctx {
    fn of(row: &Row) -> Ctx {
        Ctx {
            model: row.model.clone(),
            trace: row.trace.clone(),
            parallel: (row.tp, row.pp),
            slo: Some(OrdF(row.slo_tpot_ms)),
            drift: Some(OrdF(row.drift)),
            // A peak search's batch is its result, not a setting.
            batch: if row.peak.is_some() { None } else { row.batch },
        }
    }

    fn without(mut self, dims: &[Dim]) -> Ctx {
        for d in dims {
            match d {
                Dim::Model => self.model.clear(),
                Dim::Trace => self.trace.clear(),
                Dim::Parallel => self.parallel = (0, 0),
                Dim::Slo => self.slo = None,
                Dim::Drift => self.drift = None,
                Dim::Batch => self.batch = None,
            }
        }
        self
    }

    /// The dimension's text, or None when cleared.
    fn show(&self, d: Dim) -> Option<String> {
        match d {
            Dim::Model => (!self.model.is_empty()).then(|| self.model.clone()),
            Dim::Trace => (!self.trace.is_empty()).then(|| self.trace.clone()),
            Dim::Parallel => (self.parallel != (0, 0)).then(|| parallel(self.parallel.0, self.parallel.1)),
            Dim::Slo => self.slo.map(|s| format!("SLO {} ms", num(s.0))),
            Dim::Drift => self.drift.map(|s| format!("drift {}", num(s.0))),
            Dim::Batch => self.batch.map(|b| format!("batch {b}")),
        }
    }

    fn describe(&self, dims: &[Dim]) -> String {
        dims.iter().filter_map(|&d| self.show(d)).collect::<Vec<_>>().join(" · ")
    }
}

fn parallel(tp: u32, pp: u32) -> String {
    format!("TP{tp}×PP{pp}")
}

/// A number as short as it reads: `150`, `0.01`, `2.5`.
pub fn num(v: f64) -> String {
    if v.is_finite() && v == v.round() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// A measured value to three significant digits: `28.4`, `0.842`, `1230`.
pub fn significant(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The known systems in the order the figures show them (baselines first).
const ORDER: [&str; 8] =
    ["vllm-offload", "attacc", "lpim", "lspim", "pam", "pam-no-pamattention", "pam-no-mapping", "pam-no-scheduler"];

/// A system label's known base and its suffix (`pam-sparse` is `pam` + `-sparse`).
fn split_label(label: &str) -> (&str, &str) {
    for suffix in ["-sparse", "-dense"] {
        if let Some(base) = label.strip_suffix(suffix) {
            return (base, suffix);
        }
    }
    (label, "")
}

fn system_rank(label: &str) -> (usize, String, String) {
    let (base, suffix) = split_label(label);
    let known = ORDER.iter().position(|&k| k == base).unwrap_or(ORDER.len());
    (known, base.to_string(), suffix.to_string())
}

fn sort_systems(systems: &mut [String]) {
    systems.sort_by_key(|s| system_rank(s));
}

/// Every system of the sweep and its colour index.
fn system_colours(results: &Results) -> BTreeMap<String, usize> {
    let mut all: Vec<String> =
        results.rows.iter().map(|r| r.system.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    sort_systems(&mut all);
    all.into_iter().enumerate().map(|(i, s)| (s, i)).collect()
}

/// The reference system for `label` among `present`: same base and suffix, else the base.
fn reference<'a>(present: impl Iterator<Item = &'a String> + Clone, base: &str, label: &str) -> Option<&'a String> {
    let (_, suffix) = split_label(label);
    let want = format!("{base}{suffix}");
    present.clone().find(|s| **s == want).or_else(|| present.clone().find(|s| *s == base))
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// Rows on one panel, category and system.
type Cells<'a, X> = BTreeMap<Ctx, BTreeMap<X, BTreeMap<String, Vec<&'a Row>>>>;

fn chart(results: &Results, figure: Figure, colours: &BTreeMap<String, usize>) -> Chart {
    let rows: Vec<&Row> = results.rows.iter().filter(|r| r.figures.contains(&figure)).collect();
    let commits: BTreeSet<String> = rows.iter().map(|r| r.commit.clone()).collect();
    let parts: BTreeSet<String> = rows.iter().map(|r| r.part.clone()).collect();
    let mut chart = Chart {
        figure,
        title: String::new(),
        description: String::new(),
        kind: Kind::Bars,
        x_label: String::new(),
        y_label: String::new(),
        series: Vec::new(),
        components: Vec::new(),
        reference: None,
        flag_meaning: None,
        panels: Vec::new(),
        shared: String::new(),
        sweep: results.sweep.clone(),
        commits: commits.into_iter().collect(),
        parts: parts.into_iter().collect(),
        rows: rows.len(),
        empty: None,
    };
    let throughput = |r: &Row| r.output_tokens_per_s;
    let panels = match figure {
        Figure::Slo => {
            chart.title = "Peak throughput under each SLO".into();
            chart.description = "The highest output throughput each system sustains while meeting the TPOT SLO \
                (peak search over load), per model and trace; each bar is labelled with the largest batch \
                the system reached (B = most requests running in one step)."
                .into();
            chart.x_label = "TPOT SLO (ms)".into();
            chart.y_label = "peak output tokens/s".into();
            chart.flag_meaning = Some("pale bar: SLO not met even at the lowest load probed".into());
            let cells = group(&rows, &[Dim::Slo], |r| Some((OrdF(r.slo_tpot_ms), OrdF(0.0), num(r.slo_tpot_ms))));
            marks(&mut chart, cells, colours, throughput, |rs| {
                let most = rs.iter().map(|r| r.max_running).max().unwrap_or(0);
                let missed = rs.iter().any(|r| r.peak.as_ref().is_some_and(|p| !p.met));
                (format!("B={most}"), missed)
            })
        }
        Figure::Offline => {
            chart.kind = Kind::Lines;
            chart.title = "Offline throughput against batch size".into();
            chart.description = "Output throughput of each system serving the whole trace at a fixed offline \
                batch size; a red cross marks a batch the system could not hold at once (out of memory: it \
                ran fewer requests than the batch, or preempted)."
                .into();
            chart.x_label = "offline batch size".into();
            chart.y_label = "output tokens/s".into();
            chart.flag_meaning = Some("red cross: out of memory".into());
            let cells = group(&rows, &[Dim::Batch], |r| {
                let b =
                    r.batch.or_else(|| r.peak.as_ref().filter(|p| p.load_kind == "batch").map(|p| p.load as u32))?;
                Some((OrdF(f64::from(b)), OrdF(0.0), b.to_string()))
            });
            marks(&mut chart, cells, colours, throughput, |rs| {
                let oom = rs.iter().any(|r| r.out_of_memory);
                (if oom { "OOM".into() } else { String::new() }, oom)
            })
        }
        Figure::Energy => energy(&mut chart, &rows, colours),
        Figure::Ablation => ablation(&mut chart, &rows, colours),
        Figure::Scaling => {
            chart.title = "Scaling over TP × PP".into();
            chart.description = "Output throughput of each system on nodes of different tensor- and \
                pipeline-parallel sizes (peak under the SLO for peak-search points)."
                .into();
            chart.x_label = "GPUs (TP × PP)".into();
            chart.y_label = "output tokens/s".into();
            let cells = group(&rows, &[Dim::Parallel], |r| {
                Some((OrdF(f64::from(r.tp) * f64::from(r.pp)), OrdF(f64::from(r.pp)), parallel(r.tp, r.pp)))
            });
            marks(&mut chart, cells, colours, throughput, |rs| {
                let oom = rs.iter().any(|r| r.out_of_memory);
                (if oom { "OOM".into() } else { String::new() }, oom)
            })
        }
        Figure::Drift => {
            chart.kind = Kind::Lines;
            chart.title = "Dependence on the locality drift rate".into();
            chart.description = "Output throughput against the rate at which each request's important token set \
                drifts per step (SERVING-SPEC §9): how much each system depends on context locality."
                .into();
            chart.x_label = "drift rate (fraction of the important set per step)".into();
            chart.y_label = "output tokens/s".into();
            let cells = group(&rows, &[Dim::Drift], |r| Some((OrdF(r.drift), OrdF(0.0), num(r.drift))));
            marks(&mut chart, cells, colours, throughput, |_| (String::new(), false))
        }
    };
    chart.shared = shared_context(&panels.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>());
    chart.panels = panels.into_iter().map(|(_, p)| p).collect();
    if chart.rows == 0 {
        chart.empty = Some(format!(
            "no rows: this figure is fed by a sweep part with `figures: [{}]`, and the sweep has none",
            figure.name()
        ));
    } else if chart.panels.iter().all(|p| p.marks.is_empty()) {
        chart.empty = Some(format!("{} rows, none with what this figure plots", chart.rows));
    }
    chart
}

/// Groups `rows` by panel (context without `x_dims`), category (`x`: sort keys and label) and
/// system; rows with no category are left out.
fn group<'a>(
    rows: &[&'a Row],
    x_dims: &[Dim],
    x: impl Fn(&Row) -> Option<(OrdF, OrdF, String)>,
) -> Cells<'a, (OrdF, OrdF, String)> {
    let mut cells: Cells<'a, (OrdF, OrdF, String)> = BTreeMap::new();
    for &r in rows {
        if let Some(key) = x(r) {
            let panel = Ctx::of(r).without(x_dims);
            cells.entry(panel).or_default().entry(key).or_default().entry(r.system.clone()).or_default().push(r);
        }
    }
    cells
}

/// Titles of panels: model and trace always, then what differs between panels.
fn panel_titles(ctxs: &[Ctx]) -> Vec<String> {
    let varies = |d: Dim| ctxs.iter().any(|c| c.show(d) != ctxs[0].show(d));
    let dims: Vec<Dim> = DIMS.iter().copied().filter(|&d| matches!(d, Dim::Model | Dim::Trace) || varies(d)).collect();
    ctxs.iter().map(|c| c.describe(&dims)).collect()
}

/// What every panel shares beyond model and trace.
fn shared_context(ctxs: &[Ctx]) -> String {
    let Some(first) = ctxs.first() else { return String::new() };
    let dims: Vec<Dim> = DIMS
        .iter()
        .copied()
        .filter(|&d| !matches!(d, Dim::Model | Dim::Trace) && ctxs.iter().all(|c| c.show(d) == first.show(d)))
        .collect();
    first.describe(&dims)
}

fn series_index(chart: &mut Chart, system: &str, colours: &BTreeMap<String, usize>) -> usize {
    if let Some(i) = chart.series.iter().position(|(s, _)| s == system) {
        return i;
    }
    chart.series.push((system.to_string(), colours.get(system).copied().unwrap_or(0)));
    chart.series.len() - 1
}

/// Marks of the plain figures: the mean of `value` over a cell's rows, with `note` of them.
fn marks(
    chart: &mut Chart,
    cells: Cells<'_, (OrdF, OrdF, String)>,
    colours: &BTreeMap<String, usize>,
    value: impl Fn(&Row) -> f64,
    note: impl Fn(&[&Row]) -> (String, bool),
) -> Vec<(Ctx, Panel)> {
    let ctxs: Vec<Ctx> = cells.keys().cloned().collect();
    let titles = panel_titles(&ctxs);
    let mut panels = Vec::new();
    for ((ctx, by_x), title) in cells.into_iter().zip(titles) {
        let mut panel = Panel { title, categories: Vec::new(), marks: Vec::new(), note: None };
        for ((_, _, label), by_system) in by_x {
            let category = panel.categories.len();
            panel.categories.push(label);
            let mut systems: Vec<String> = by_system.keys().cloned().collect();
            sort_systems(&mut systems);
            for system in systems {
                let rs = &by_system[&system];
                let (text, flagged) = note(rs);
                panel.marks.push(Mark {
                    category,
                    series: series_index(chart, &system, colours),
                    value: mean(rs.iter().map(|r| value(r))),
                    segments: Vec::new(),
                    note: text,
                    flagged,
                    points: rs.iter().map(|r| r.point.clone()).collect(),
                });
            }
        }
        panels.push((ctx, panel));
    }
    sort_series(chart, &mut panels);
    panels
}

/// Orders the chart's series as the systems are ordered, renumbering the marks.
fn sort_series(chart: &mut Chart, panels: &mut [(Ctx, Panel)]) {
    let mut order: Vec<usize> = (0..chart.series.len()).collect();
    order.sort_by_key(|&i| system_rank(&chart.series[i].0));
    let mut new_index = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    chart.series = order.iter().map(|&i| chart.series[i].clone()).collect();
    for (_, p) in panels.iter_mut() {
        for m in &mut p.marks {
            m.series = new_index[m.series];
        }
    }
}

/// The energy components in stacking order: GPU, the PIM tiers, then data movement and idle.
fn component_rank(name: &str) -> (usize, String) {
    let rank = match name {
        "gpu" => 0,
        n if n.starts_with("pim_") => 1,
        "migration" => 2,
        "offload" => 3,
        "links" => 4,
        "static" => 5,
        _ => 6,
    };
    (rank, name.to_string())
}

/// pam or one of its ablations.
fn is_pam(label: &str) -> bool {
    let base = split_label(label).0;
    base == "pam" || base.starts_with("pam-no-")
}

const VLLM: &str = "vllm-offload";
const LSPIM: &str = "lspim";

fn energy(chart: &mut Chart, rows: &[&Row], colours: &BTreeMap<String, usize>) -> Vec<(Ctx, Panel)> {
    chart.title = "Energy per output token by component".into();
    chart.description = "Each system's energy per output token, split by component (GPU, PIM per tier, \
        migration, offload, links, static), divided by vllm-offload's total in the same panel."
        .into();
    chart.x_label = "system".into();
    chart.y_label = "J per output token / vllm-offload's".into();
    chart.reference = Some((1.0, "vllm-offload = 1".into()));
    // Components that spent something somewhere (a legend of zeros says nothing).
    let mut components: Vec<String> = rows
        .iter()
        .flat_map(|r| r.joules_by_component.iter().filter(|(_, j)| j.is_finite() && **j > 0.0).map(|(k, _)| k.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    components.sort_by_key(|c| component_rank(c));
    chart.components = components;
    let mut cells: BTreeMap<Ctx, BTreeMap<String, Vec<&Row>>> = BTreeMap::new();
    for &r in rows {
        cells.entry(Ctx::of(r)).or_default().entry(r.system.clone()).or_default().push(r);
    }
    let ctxs: Vec<Ctx> = cells.keys().cloned().collect();
    let titles = panel_titles(&ctxs);
    let mut panels = Vec::new();
    for ((ctx, by_system), title) in cells.into_iter().zip(titles) {
        let mut panel = Panel { title, categories: Vec::new(), marks: Vec::new(), note: None };
        let mut systems: Vec<String> = by_system.keys().cloned().collect();
        sort_systems(&mut systems);
        let jpt = |s: &String| mean(by_system[s].iter().map(|r| r.joules_per_output_token));
        let mut unnormalised = Vec::new();
        for system in &systems {
            let rs = &by_system[system];
            let own = jpt(system);
            let reference = reference(systems.iter(), VLLM, system).map(jpt).filter(|j| j.is_finite() && *j > 0.0);
            if !own.is_finite() {
                let why = format!("{system}: no energy per token (no output token)");
                panel.note = Some(panel.note.map_or(why.clone(), |n| format!("{n}; {why}")));
                continue;
            }
            let scale = reference.map_or(1.0, |j| 1.0 / j);
            if reference.is_none() {
                unnormalised.push(system.clone());
            }
            // Components as shares of the row's total, so the stack sums to the total whatever
            // unit the components were recorded in.
            let parts: Vec<(usize, f64)> = chart
                .components
                .iter()
                .enumerate()
                .map(|(c, name)| (c, mean(rs.iter().map(|r| r.joules_by_component.get(name).copied().unwrap_or(0.0)))))
                .collect();
            let sum: f64 = parts.iter().map(|p| p.1).filter(|v| v.is_finite()).sum();
            let value = own * scale;
            let segments = if sum > 0.0 {
                parts.into_iter().filter(|p| p.1.is_finite() && p.1 > 0.0).map(|(c, v)| (c, v / sum * value)).collect()
            } else {
                Vec::new()
            };
            let category = panel.categories.len();
            panel.categories.push(system.clone());
            panel.marks.push(Mark {
                category,
                series: series_index(chart, system, colours),
                value,
                segments,
                note: format!("{} J", significant(own)),
                flagged: false,
                points: rs.iter().map(|r| r.point.clone()).collect(),
            });
        }
        if !unnormalised.is_empty() {
            let why = format!("no {VLLM} run here: {} in absolute J per token", unnormalised.join(", "));
            panel.note = Some(panel.note.map_or(why.clone(), |n| format!("{n}; {why}")));
        }
        panels.push((ctx, panel));
    }
    sort_series(chart, &mut panels);
    panels
}

fn ablation(chart: &mut Chart, rows: &[&Row], colours: &BTreeMap<String, usize>) -> Vec<(Ctx, Panel)> {
    chart.title = "Ablation: PAM without each of its parts".into();
    chart.description = "Output throughput of pam and of pam without PAMattention, without its mapping and \
        without its scheduler, divided by lspim's at the same batch; at the smallest and the largest batch \
        of the sweep part."
        .into();
    // pam and its ablations; the part's other systems have figures of their own (all of them
    // when the part has no pam at all).
    let has_pam = rows.iter().any(|r| is_pam(&r.system));
    let rows: Vec<&Row> =
        rows.iter().copied().filter(|r| !has_pam || is_pam(&r.system) || split_label(&r.system).0 == LSPIM).collect();
    let rows = rows.as_slice();
    chart.x_label = "batch".into();
    chart.y_label = "output tokens/s / lspim's".into();
    chart.reference = Some((1.0, "lspim = 1".into()));
    chart.flag_meaning = Some("pale bar: out of memory at this batch".into());
    let cells = group(rows, &[Dim::Batch], |r| {
        let b = r.batch.or_else(|| r.peak.as_ref().filter(|p| p.load_kind == "batch").map(|p| p.load as u32))?;
        Some((OrdF(f64::from(b)), OrdF(0.0), b.to_string()))
    });
    let ctxs: Vec<Ctx> = cells.keys().cloned().collect();
    let titles = panel_titles(&ctxs);
    let mut panels = Vec::new();
    for ((ctx, by_x), title) in cells.into_iter().zip(titles) {
        let mut panel = Panel { title, categories: Vec::new(), marks: Vec::new(), note: None };
        let n = by_x.len();
        // The smallest and the largest batch (one category when there is one batch).
        let ends: Vec<_> =
            by_x.into_iter().enumerate().filter(|(i, _)| *i == 0 || *i + 1 == n).map(|(_, c)| c).collect();
        let many = ends.len() > 1;
        let mut missing = Vec::new();
        for (k, ((_, _, batch), by_system)) in ends.into_iter().enumerate() {
            let category = panel.categories.len();
            let size = if !many {
                "batch"
            } else if k == 0 {
                "small batch"
            } else {
                "large batch"
            };
            panel.categories.push(format!("{size} {batch}"));
            let mut systems: Vec<String> = by_system.keys().cloned().collect();
            sort_systems(&mut systems);
            let tput = |s: &String| mean(by_system[s].iter().map(|r| r.output_tokens_per_s));
            for system in systems.iter().filter(|s| split_label(s).0 != LSPIM) {
                let Some(reference) = reference(systems.iter(), LSPIM, system).map(tput).filter(|t| *t > 0.0) else {
                    missing.push(format!("{system} at batch {batch}"));
                    continue;
                };
                let rs = &by_system[system];
                let value = tput(system) / reference;
                let oom = rs.iter().any(|r| r.out_of_memory);
                panel.marks.push(Mark {
                    category,
                    series: series_index(chart, system, colours),
                    value,
                    segments: Vec::new(),
                    note: format!("{}×", num((value * 100.0).round() / 100.0)),
                    flagged: oom,
                    points: rs.iter().map(|r| r.point.clone()).collect(),
                });
            }
        }
        if !missing.is_empty() {
            panel.note = Some(format!("no {LSPIM} run (with throughput) to normalise {}", missing.join(", ")));
        }
        panels.push((ctx, panel));
    }
    sort_series(chart, &mut panels);
    panels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::table::PeakResult;

    fn row(part: &str, figures: &[Figure], system: &str, batch: Option<u32>) -> Row {
        Row {
            sweep: "t".into(),
            part: part.into(),
            figures: figures.to_vec(),
            point: format!("{part}-{system}-{batch:?}"),
            index: 0,
            values: BTreeMap::new(),
            commit: "abc123".into(),
            seed: 1,
            model: "llama3-70b".into(),
            trace: "arxiv".into(),
            tp: 8,
            pp: 1,
            nodes: 1,
            slo_tpot_ms: 150.0,
            drift: 0.01,
            system: system.into(),
            batch,
            peak: None,
            requests: 100,
            finished: 100,
            output_tokens_per_s: 1000.0,
            requests_per_s: 1.0,
            ttft_mean_s: 1.0,
            ttft_p50_s: 1.0,
            ttft_p90_s: 1.0,
            ttft_p99_s: 1.0,
            tpot_mean_s: 0.1,
            tpot_p50_s: 0.1,
            tpot_p90_s: 0.1,
            tpot_p99_s: 0.1,
            latency_mean_s: 10.0,
            latency_p90_s: 10.0,
            slo_attainment: 1.0,
            goodput_tokens_per_s: 1000.0,
            preemptions: 0,
            max_running: batch.unwrap_or(32),
            out_of_memory: false,
            migrated_per_step: 0.0,
            joules_per_output_token: 2.0,
            joules_by_component: BTreeMap::from([("gpu".into(), 1.5), ("static".into(), 0.5)]),
            util: BTreeMap::new(),
        }
    }

    fn results(rows: Vec<Row>) -> Results {
        Results { sweep: "t".into(), file: "t.yaml".into(), points: rows.len(), rows }
    }

    #[test]
    fn energy_is_normalised_to_vllm_offload_and_stacks_to_the_total() {
        let mut v = row("off", &[Figure::Energy], "vllm-offload", Some(16));
        v.joules_per_output_token = 4.0;
        let mut p = row("off", &[Figure::Energy], "pam", Some(16));
        p.joules_per_output_token = 1.0;
        p.joules_by_component = BTreeMap::from([("gpu".into(), 3.0), ("pim_DDR5".into(), 1.0), ("links".into(), 0.0)]);
        let c = &charts(&results(vec![p, v]))[2];
        assert_eq!(c.figure, Figure::Energy);
        assert_eq!(c.series.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["vllm-offload", "pam"]);
        assert_eq!(c.components, ["gpu", "pim_DDR5", "static"], "no zero-only component");
        let marks = &c.panels[0].marks;
        let pam = marks.iter().find(|m| c.series[m.series].0 == "pam").expect("pam");
        assert!((pam.value - 0.25).abs() < 1e-12, "{pam:?}");
        assert_eq!(pam.segments, vec![(0, 0.1875), (1, 0.0625)]);
        let vllm = marks.iter().find(|m| c.series[m.series].0 == "vllm-offload").expect("vllm");
        assert!((vllm.value - 1.0).abs() < 1e-12);
        assert!(c.panels[0].note.is_none());
        assert_eq!((vllm.note.as_str(), pam.note.as_str()), ("4.00 J", "1.00 J"));
        assert_eq!([significant(28.3786), significant(0.84217), significant(1234.5)], ["28.4", "0.842", "1234"]);
    }

    #[test]
    fn ablation_keeps_the_smallest_and_largest_batch_over_lspim() {
        let mut rows = Vec::new();
        for b in [16, 64, 256] {
            for (s, t) in [("lspim", 100.0), ("pam", 300.0), ("pam-no-mapping", 150.0), ("vllm-offload", 50.0)] {
                let mut r = row("off", &[Figure::Ablation], s, Some(b));
                r.output_tokens_per_s = t * f64::from(b);
                r.out_of_memory = s == "lspim" && b == 256;
                rows.push(r);
            }
        }
        let c = &charts(&results(rows))[3];
        let p = &c.panels[0];
        assert_eq!(p.categories, ["small batch 16", "large batch 256"]);
        // pam's ablations only: the other systems have figures of their own.
        assert_eq!(c.series.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["pam", "pam-no-mapping"]);
        let values: Vec<f64> = p.marks.iter().map(|m| m.value).collect();
        assert_eq!(values, [3.0, 1.5, 3.0, 1.5]);
        assert!(p.marks.iter().all(|m| !m.flagged), "only lspim ran out of memory");
    }

    #[test]
    fn slo_bars_carry_the_batch_reached_and_a_missed_slo() {
        let mut rows = Vec::new();
        for slo in [200.0, 100.0] {
            let mut r = row("slo", &[Figure::Slo], "pam", None);
            r.slo_tpot_ms = slo;
            r.max_running = if slo > 150.0 { 48 } else { 12 };
            r.peak =
                Some(PeakResult { load_kind: "rate".into(), load: 1.0, met: slo > 150.0, saturated: false, probes: 4 });
            rows.push(r);
        }
        let c = &charts(&results(rows))[0];
        assert_eq!(c.panels.len(), 1, "SLO is the x axis, not a panel");
        let p = &c.panels[0];
        assert_eq!(p.categories, ["100", "200"]);
        assert_eq!((p.marks[0].note.as_str(), p.marks[0].flagged), ("B=12", true));
        assert_eq!((p.marks[1].note.as_str(), p.marks[1].flagged), ("B=48", false));
        assert_eq!(c.provenance(), "sweep t (part slo), commit abc123");
    }

    #[test]
    fn offline_marks_out_of_memory_and_panels_split_by_what_varies() {
        let mut rows = Vec::new();
        for model in ["llama3-70b", "opt-175b"] {
            for b in [16, 64] {
                let mut r = row("off", &[Figure::Offline], "vllm-offload", Some(b));
                r.model = model.into();
                r.out_of_memory = b == 64;
                rows.push(r);
            }
        }
        let c = &charts(&results(rows))[1];
        assert_eq!(c.panels.len(), 2);
        assert_eq!(c.panels[0].title, "llama3-70b · arxiv");
        assert_eq!(c.shared, "TP8×PP1 · SLO 150 ms · drift 0.01");
        let flags: Vec<(&str, bool)> = c.panels[1].marks.iter().map(|m| (m.note.as_str(), m.flagged)).collect();
        assert_eq!(flags, [("", false), ("OOM", true)]);
    }

    #[test]
    fn a_figure_without_rows_says_which_part_would_feed_it() {
        let c = charts(&results(vec![row("slo", &[Figure::Slo], "pam", None)]));
        assert_eq!(c.len(), 6);
        assert!(c[0].empty.is_none());
        let drift = &c[5];
        assert!(drift.panels.is_empty());
        assert!(drift.empty.as_deref().is_some_and(|e| e.contains("figures: [drift]")), "{:?}", drift.empty);
    }
}
