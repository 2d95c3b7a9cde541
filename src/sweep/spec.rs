//! The sweep file and its expansion into points.
//!
//! ```yaml
//! sweep: eval-small                 # the sweep's name (default output: out/sweeps/<name>)
//! seed: 1                           # every point's seed unless an axis sets `seed`
//! base: ../serve_eval_small.yaml    # the base serving scenario, relative to this file
//! parts:                            # each: axes over a base, the report figures it feeds
//!   - name: slo
//!     figures: [slo]                # slo | offline | energy | ablation | scaling | drift
//!     peak: true                    # each point searches the peak load under its SLO
//!     axes:                         # scenario field (dotted) -> values
//!       serving.slo.tpot_ms: [100, 150, 200]
//!       serving.locality.drift: {from: 0.0, to: 0.1, step: 0.05}   # inclusive range
//!       serving.workload.rate_factor: {from: 1, to: 16, times: 2}  # geometric range
//!       serving.node: [{tp: 4, pp: 2}, {tp: 8, pp: 1}]             # mappings merge
//!   - name: offline
//!     base: ../serve_llama3_70b_arxiv.yaml                         # a part's own base
//!     figures: [offline, energy, ablation]
//! slurm: {cpus: 1, mem_gb: 4, time_min: 60, partition: null}       # the array's requests
//! ```
//!
//! Axes of a part multiply. A point is its part, its figures, whether it searches the peak,
//! and the base scenario with its axis values set; its id hashes all of that, so the same
//! point gets the same directory in every run and on every machine, and changing the base or
//! an axis value makes a new point instead of reusing a stale result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::table::Figure;
use crate::scenario::{Scenario, ScenarioError};
use crate::serve::pim::cache::fnv64;
use crate::serve::scenario::Serving;

/// The most points a sweep may expand to: beyond it a typo in a range is likelier than intent.
pub const MAX_POINTS: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{file}: cannot read: {err}")]
    Read { file: PathBuf, err: std::io::Error },
    #[error("{file}: {message}")]
    Parse { file: PathBuf, message: String },
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Invalid { file: PathBuf, line: u64, column: u64, field: String, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    sweep: Spanned<String>,
    seed: Option<u64>,
    base: Option<Spanned<String>>,
    parts: Spanned<Vec<RawPart>>,
    slurm: Option<SlurmRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    name: Spanned<String>,
    base: Option<Spanned<String>>,
    #[serde(default)]
    figures: Vec<Figure>,
    #[serde(default)]
    peak: bool,
    #[serde(default)]
    axes: BTreeMap<String, Spanned<Value>>,
}

/// What each array task of `--slurm` asks for.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlurmRequest {
    #[serde(default = "default_cpus")]
    pub cpus: u32,
    #[serde(default = "default_mem")]
    pub mem_gb: u32,
    #[serde(default = "default_time")]
    pub time_min: u32,
    #[serde(default)]
    pub partition: Option<String>,
    /// Most array tasks (shards); points are dealt round-robin over them. Default: one per point.
    #[serde(default)]
    pub max_tasks: Option<usize>,
}

fn default_cpus() -> u32 {
    1
}
fn default_mem() -> u32 {
    4
}
fn default_time() -> u32 {
    120
}

impl Default for SlurmRequest {
    fn default() -> Self {
        SlurmRequest {
            cpus: default_cpus(),
            mem_gb: default_mem(),
            time_min: default_time(),
            partition: None,
            max_tasks: None,
        }
    }
}

/// One part of a sweep.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Part {
    pub name: String,
    pub base: PathBuf,
    pub figures: Vec<Figure>,
    pub peak: bool,
    /// The axes' fields, in expansion order (the last varies fastest).
    pub axes: Vec<String>,
}

/// One point: a part's base with one value per axis.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Point {
    pub index: usize,
    pub id: String,
    pub part: String,
    pub figures: Vec<Figure>,
    pub peak: bool,
    /// The base scenario this point modifies (its relative paths resolve against it).
    pub base: PathBuf,
    pub seed: u64,
    /// Axis field to value, mappings flattened to their leaves (`serving.node.tp`).
    pub values: BTreeMap<String, Value>,
    /// The point's whole scenario (the base with the values set).
    pub scenario: Value,
}

impl Point {
    /// The point's serving section, validated as `pam serve` would validate the base file.
    pub fn serving(&self) -> Result<Serving, ScenarioError> {
        let text = serde_json::to_string_pretty(&self.scenario).unwrap_or_default();
        let sc = Scenario::parse_with_seed(&self.base, &text, Some(self.seed))?;
        sc.serving.ok_or_else(|| ScenarioError::Parse {
            file: self.base.clone(),
            message: "the scenario has no `serving` section (a sweep serves that section)".into(),
        })
    }

    /// The trace's file stem, or `synthetic`.
    pub fn trace_name(&self) -> String {
        self.scenario
            .pointer("/serving/workload/trace")
            .and_then(Value::as_str)
            .and_then(|t| Path::new(t).file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "synthetic".into())
    }
}

/// A sweep file, expanded.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Sweep {
    pub name: String,
    pub file: PathBuf,
    pub parts: Vec<Part>,
    pub points: Vec<Point>,
    pub slurm: SlurmRequest,
}

struct At<'a> {
    file: &'a Path,
}

impl At<'_> {
    fn fail<T>(&self, s: &Spanned<T>, field: &str, message: impl Into<String>) -> SpecError {
        SpecError::Invalid {
            file: self.file.into(),
            line: s.referenced.line(),
            column: s.referenced.column(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Sweep {
    pub fn load(file: &Path) -> Result<Sweep, SpecError> {
        let text = std::fs::read_to_string(file).map_err(|err| SpecError::Read { file: file.into(), err })?;
        Self::parse(file, &text)
    }

    pub fn parse(file: &Path, text: &str) -> Result<Sweep, SpecError> {
        let raw: RawSweep = serde_saphyr::from_str_with_options(text, crate::scenario::yaml_options())
            .map_err(|e| SpecError::Parse { file: file.into(), message: e.to_string() })?;
        let at = At { file };
        let name = raw.sweep.value.trim().to_string();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(at.fail(&raw.sweep, "sweep", "a name of letters, digits, '-', '_' and '.'"));
        }
        if raw.parts.value.is_empty() {
            return Err(at.fail(&raw.parts, "parts", "at least one part"));
        }
        let dir = file.parent().unwrap_or(Path::new("."));
        let mut parts = Vec::new();
        let mut points = Vec::new();
        for (i, p) in raw.parts.value.iter().enumerate() {
            let field = |f: &str| format!("parts[{i}].{f}");
            if parts.iter().any(|q: &Part| q.name == p.name.value) {
                return Err(at.fail(&p.name, &field("name"), format!("`{}` names two parts", p.name.value)));
            }
            let base = p.base.as_ref().or(raw.base.as_ref()).ok_or_else(|| {
                at.fail(&p.name, &field("base"), "no base scenario: give `base` at the top or in the part")
            })?;
            let base_path = dir.join(&base.value);
            let base_text = std::fs::read_to_string(&base_path)
                .map_err(|e| at.fail(base, &field("base"), format!("cannot read {}: {e}", base_path.display())))?;
            let base_value: Value = serde_saphyr::from_str_with_options(&base_text, crate::scenario::yaml_options())
                .map_err(|e| at.fail(base, &field("base"), format!("{}: {e}", base_path.display())))?;
            let mut axes: Vec<(String, Vec<Value>)> = Vec::new();
            for (name, v) in &p.axes {
                let f = field(&format!("axes.{name}"));
                if name.is_empty() || name.split('.').any(str::is_empty) {
                    return Err(at.fail(v, &f, "a dotted scenario field, e.g. serving.slo.tpot_ms"));
                }
                let values = axis_values(&v.value).map_err(|m| at.fail(v, &f, m))?;
                axes.push((name.clone(), values));
            }
            let count = axes.iter().try_fold(1usize, |n, (_, v)| n.checked_mul(v.len())).unwrap_or(usize::MAX);
            if points.len().saturating_add(count) > MAX_POINTS {
                return Err(at.fail(
                    &p.name,
                    &field("axes"),
                    format!("{count} points; a sweep has at most {MAX_POINTS}"),
                ));
            }
            for combo in 0..count {
                let mut scenario = base_value.clone();
                let mut values = BTreeMap::new();
                let mut rest = combo;
                let mut chosen = Vec::new();
                for (name, vs) in axes.iter().rev() {
                    chosen.push((name, &vs[rest % vs.len()]));
                    rest /= vs.len();
                }
                for (name, v) in chosen.into_iter().rev() {
                    set_field(&mut scenario, name, v)
                        .map_err(|m| at.fail(&p.axes[name], &field(&format!("axes.{name}")), m))?;
                    flatten(name, v, &mut values);
                }
                // An axis over `seed` wins, then the sweep's seed, then the base's.
                let base_seed = scenario.get("seed").and_then(Value::as_u64);
                let point_seed = if p.axes.contains_key("seed") { base_seed } else { raw.seed.or(base_seed) }
                    .unwrap_or(crate::serve::DEFAULT_SEED);
                if let Some(obj) = scenario.as_object_mut() {
                    obj.insert("seed".into(), Value::from(point_seed));
                }
                let id_text = serde_json::to_string(&serde_json::json!({
                    "part": p.name.value, "figures": p.figures, "peak": p.peak, "scenario": scenario,
                }))
                .unwrap_or_default();
                let point = Point {
                    index: points.len(),
                    id: format!("{}-{:012x}", p.name.value, fnv64(id_text.as_bytes()) >> 16),
                    part: p.name.value.clone(),
                    figures: p.figures.clone(),
                    peak: p.peak,
                    base: base_path.clone(),
                    seed: point_seed,
                    values,
                    scenario,
                };
                // Every point validates now, so a bad value fails the sweep before any runs.
                point.serving().map_err(|e| {
                    let target = p.axes.values().next().map_or(&p.name.referenced, |v| &v.referenced);
                    SpecError::Invalid {
                        file: file.into(),
                        line: target.line(),
                        column: target.column(),
                        field: field("axes"),
                        message: format!(
                            "point {} ({}) is not a valid scenario: {e}",
                            point.index,
                            describe(&point.values)
                        ),
                    }
                })?;
                points.push(point);
            }
            parts.push(Part {
                name: p.name.value.clone(),
                base: base_path,
                figures: p.figures.clone(),
                peak: p.peak,
                axes: axes.iter().map(|(n, _)| n.clone()).collect(),
            });
        }
        Ok(Sweep { name, file: file.into(), parts, points, slurm: raw.slurm.unwrap_or_default() })
    }

    /// The points of shard `i` of `n` (dealt round-robin by index).
    pub fn shard(&self, i: usize, n: usize) -> impl Iterator<Item = &Point> {
        self.points.iter().filter(move |p| p.index % n == i)
    }
}

/// A point's values as `field=value, ...`.
pub fn describe(values: &BTreeMap<String, Value>) -> String {
    if values.is_empty() {
        return "the base as is".into();
    }
    values.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// An axis's values: a list, `{from, to, step}` (inclusive) or `{from, to, times}` (geometric).
fn axis_values(v: &Value) -> Result<Vec<Value>, String> {
    const ALLOWED: &str = "allowed: a list of values, {from, to, step} or {from, to, times}";
    let values = match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) if o.contains_key("from") => {
            let num = |k: &str| o.get(k).and_then(Value::as_f64);
            let (Some(from), Some(to)) = (num("from"), num("to")) else {
                return Err(format!("a range needs numeric `from` and `to`; {ALLOWED}"));
            };
            if let Some(k) = o.keys().find(|k| !["from", "to", "step", "times"].contains(&k.as_str())) {
                return Err(format!("unknown range key `{k}`; {ALLOWED}"));
            }
            let ints =
                ["from", "to", "step", "times"].iter().all(|k| o.get(*k).is_none_or(|x| x.is_i64() || x.is_u64()));
            let mut out = Vec::new();
            match (num("step"), num("times")) {
                (Some(step), None) if step > 0.0 && from <= to => {
                    let n = ((to - from) / step + 1e-9).floor() as usize + 1;
                    if n > MAX_POINTS {
                        return Err(format!("{n} values; at most {MAX_POINTS}"));
                    }
                    out.extend((0..n).map(|i| from + step * i as f64));
                }
                (None, Some(times)) if times > 1.0 && from > 0.0 && from <= to => {
                    let mut x = from;
                    while x <= to * (1.0 + 1e-9) && out.len() <= MAX_POINTS {
                        out.push(x);
                        x *= times;
                    }
                }
                _ => {
                    return Err(format!(
                        "a range needs from <= to and either step > 0 or times > 1 (from > 0); {ALLOWED}"
                    ))
                }
            }
            out.into_iter()
                .map(|x| if ints { Value::from(x.round() as i64) } else { Value::from((x * 1e12).round() / 1e12) })
                .collect()
        }
        _ => return Err(ALLOWED.into()),
    };
    if values.is_empty() {
        return Err(format!("no values; {ALLOWED}"));
    }
    Ok(values)
}

/// Sets dotted `field` of `scenario` to `v`; a mapping merges into a mapping field.
fn set_field(scenario: &mut Value, field: &str, v: &Value) -> Result<(), String> {
    let mut at = scenario;
    for key in field.split('.') {
        if at.is_null() {
            *at = Value::Object(Default::default());
        }
        let Some(obj) = at.as_object_mut() else {
            return Err(format!("`{key}` is below a value that is not a mapping"));
        };
        at = obj.entry(key.to_string()).or_insert(Value::Null);
    }
    merge(at, v);
    Ok(())
}

fn merge(into: &mut Value, v: &Value) {
    match (into, v) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, x) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), x);
            }
        }
        (slot, _) => *slot = v.clone(),
    }
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, x) in o {
                flatten(&format!("{prefix}.{k}"), x, out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}
