//! Scenario files: YAML, strictly validated.
//!
//! Unknown keys are rejected by the parser; values out of range by [`Scenario::load`], with the
//! file, line, column and field in the message. A scenario holds one section per kind of
//! experiment; `pam run` runs every section present.
//!
//! ```yaml
//! name: pu_smoke
//! seed: 7                      # optional; --seed overrides it
//! datapath:                    # random problems through the PU and RU
//!   problems: 300
//!   pu_lanes: [16, 4]
//!   ru_lanes: [16, 4]
//!   head_dim: {min: 1, max: 256}
//!   tokens: {min: 0, max: 512}
//!   tiles: {min: 1, max: 4}     # PU tiles per problem, merged by the RU
//!   amplitude: {min: 0.05, max: 32}
//!   clock_mhz: 666             # optional
//!   waves: 2                   # problems dumped as FST with --waves (optional, default 1)
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::device::check::DIMS;
use crate::device::tier::TierPreset;
use crate::problem::ProblemSpace;
use crate::rtl::pu::DMAX;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read: {source}")]
    Read { file: PathBuf, source: std::io::Error },
    #[error("{file}: {message}")]
    Parse { file: PathBuf, message: String },
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Invalid { file: PathBuf, line: u64, column: u64, field: String, message: String },
    #[error("{file}: the scenario has no section to run (expected: datapath, tiers, system, serving)")]
    Empty { file: PathBuf },
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct IntRange {
    pub min: u64,
    pub max: u64,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct FloatRange {
    pub min: f64,
    pub max: f64,
}

impl fmt::Display for IntRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{min: {}, max: {}}}", self.min, self.max)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    datapath: Option<RawDatapath>,
    #[serde(default)]
    tiers: Option<Spanned<Vec<RawTier>>>,
    #[serde(default)]
    system: Option<Spanned<RawSystem>>,
    #[serde(default)]
    serving: Option<crate::serve::scenario::RawServing>,
}

/// The PAM system section: decode steps of a small model over a list of tiers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystem {
    model: Spanned<RawModel>,
    contexts: Spanned<Vec<u64>>,
    steps: Spanned<u64>,
    #[serde(default)]
    drift: Option<Spanned<f64>>,
    #[serde(default)]
    fraction: Option<Spanned<f64>>,
    tiers: Spanned<Vec<Spanned<RawSystemTier>>>,
    #[serde(default)]
    merge_tier: Option<Spanned<u64>>,
    policy: Spanned<String>,
    #[serde(default)]
    target: Option<Spanned<RawTarget>>,
    #[serde(default)]
    migration: Option<Spanned<String>>,
    #[serde(default)]
    scores: Option<Spanned<String>>,
}

/// One tier of a system, fastest first.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystemTier {
    preset: String,
    capacity: u64,
    #[serde(default)]
    devices: Option<u64>,
    /// `rtl` (default) or `calibrated`.
    #[serde(default)]
    model: Option<String>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RawModel {
    layers: u64,
    q_heads: u64,
    kv_heads: u64,
    head_dim: u64,
}

/// The target importance split: a weight per tier, or x : y : 1 for three tiers.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
enum RawTarget {
    Weights(Vec<f64>),
    Xy { x: f64, y: f64 },
}

/// One tier's device in a `tiers` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    preset: Spanned<String>,
    problems: Spanned<u64>,
    tokens: Spanned<IntRange>,
    #[serde(default)]
    head_dim: Option<Spanned<Vec<u64>>>,
    /// Must equal the preset's geometry: it is fixed by the Verilated top.
    #[serde(default)]
    geometry: Option<Spanned<RawGeometry>>,
    /// Timing overrides, in memory clocks, by field name (rcd, rp, ras, ...).
    #[serde(default)]
    timing: Option<Spanned<std::collections::BTreeMap<String, u64>>>,
    /// Minimum spacing of all-bank reads in clocks; `cap` derives it from the compute cap.
    #[serde(default)]
    rd_gap: Option<Spanned<RdGap>>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct RawGeometry {
    bank_groups: u64,
    banks_per_group: u64,
    banks_per_pu: u64,
    rows: u64,
    cols: u64,
    lanes: u64,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(untagged)]
enum RdGap {
    Clocks(u32),
    Named(GapName),
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum GapName {
    Cap,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatapath {
    problems: Spanned<u64>,
    pu_lanes: Spanned<Vec<u64>>,
    ru_lanes: Spanned<Vec<u64>>,
    head_dim: Spanned<IntRange>,
    tokens: Spanned<IntRange>,
    tiles: Spanned<IntRange>,
    amplitude: Spanned<FloatRange>,
    #[serde(default)]
    clock_mhz: Option<Spanned<f64>>,
    #[serde(default)]
    waves: Option<Spanned<u64>>,
}

/// Validated entry of the `tiers` section: local-attention problems in one device.
#[derive(Clone, Debug)]
pub struct TierCheck {
    pub preset: TierPreset,
    pub problems: u64,
    pub tokens: (usize, usize),
    pub head_dims: Vec<usize>,
    /// Minimum read spacing (DRAM all-bank RDs, flash channel transfers) in clocks.
    pub gap: u32,
}

/// Validated `system` section.
#[derive(Clone, Debug)]
pub struct SystemSpec {
    pub model: crate::system::decode::ModelShape,
    pub contexts: Vec<usize>,
    pub steps: usize,
    pub drift: f64,
    pub fraction: f64,
    /// The tiers, fastest first: preset, devices, capacity, device model.
    pub tiers: Vec<crate::system::pamattention::TierConfig>,
    /// The tier whose RUs merge the partials.
    pub merge_tier: usize,
    /// `pam`, `none`, `lpim` or `lru`.
    pub policy: String,
    /// Importance weight per tier (x, y, 1 for three tiers).
    pub target: Vec<f64>,
    pub migration: crate::migration::MigrationPath,
    pub scores: crate::system::scores::ScoreKind,
}

/// Most devices of one tier in a system scenario (each is a Verilated device of its own).
pub const MAX_DEVICES: u64 = 8;

/// The target of a three-tier system when the scenario names none (x : y : 1 = 6 : 3 : 1).
pub const DEFAULT_TARGET_3: [f64; 3] = [6.0, 3.0, 1.0];

/// Policies a `system` section may name.
pub const POLICIES: [&str; 4] = ["pam", "none", "lpim", "lru"];

/// Validated `datapath` section.
#[derive(Clone, Debug)]
pub struct DatapathSpec {
    pub problems: u64,
    pub space: ProblemSpace,
    pub clock_mhz: f64,
    pub waves: u64,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub file: PathBuf,
    pub name: String,
    pub description: Option<String>,
    pub seed: Option<u64>,
    pub datapath: Option<DatapathSpec>,
    pub tiers: Vec<TierCheck>,
    pub system: Option<SystemSpec>,
    /// The serving section (`pam serve`), validated with the run's seed.
    pub serving: Option<crate::serve::scenario::Serving>,
}

pub const MAX_PROBLEMS: u64 = 1_000_000;
pub const MAX_TOKENS: u64 = 1 << 20;
pub const MAX_TILES: u64 = 256;
pub const MAX_AMPLITUDE: f64 = 256.0;
const LANES_BUILT: [u64; 2] = [16, 4];

/// Largest scenario file: a scenario is a page of YAML; a file far bigger is a wrong file.
pub const MAX_SCENARIO_BYTES: usize = 1 << 20;

/// The YAML parser's options for scenarios: YAML 1.2 booleans, and limits. A scenario has a
/// few hundred nodes, so the limits are far below serde-saphyr's defaults (a million events)
/// and refuse in milliseconds what would cost time or memory: alias bombs (aliases expand into
/// events, all counted), deep nesting (a stack per level), huge scalars. `!include` stays off
/// (the default: a scenario reads no other file).
pub(crate) fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 20_000;
    budget.max_nodes = 10_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_recorded_anchor_events = 20_000;
    budget.max_recorded_anchor_bytes = 1 << 20;
    budget.max_total_scalar_bytes = 1 << 20;
    budget.max_depth = 16;
    budget.flow_nesting_limit = 16;
    budget.max_documents = 1;
    budget.max_merge_keys = 100;
    budget.max_inclusion_depth = 0;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 20_000;
    options.alias_limits.max_replay_stack_depth = 16;
    // A scenario has no boolean field, and YAML 1.1's booleans break its untagged forms: in
    // `target: {x: 4, y: 2}` the key `y` became `true`, so the {x, y} form never parsed.
    options.strict_booleans = true;
    options
}

/// Validates the raw scenario; every error names the file, line, column and field.
struct Validator<'a> {
    file: &'a Path,
}

impl Validator<'_> {
    fn fail<T>(&self, s: &Spanned<T>, field: &str, message: String) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.to_path_buf(),
            line: s.referenced.line(),
            column: s.referenced.column(),
            field: field.into(),
            message,
        }
    }

    fn int_range(&self, r: &Spanned<IntRange>, field: &str, lo: u64, hi: u64) -> Result<(usize, usize), ScenarioError> {
        let v = r.value;
        if v.min > v.max || v.min < lo || v.max > hi {
            return Err(self.fail(r, field, format!("{v} is not a range inside {lo}..={hi} with min <= max")));
        }
        Ok((v.min as usize, v.max as usize))
    }

    fn lanes(&self, l: &Spanned<Vec<u64>>, field: &str) -> Result<Vec<usize>, ScenarioError> {
        if l.value.is_empty() || l.value.iter().any(|x| !LANES_BUILT.contains(x)) {
            return Err(self.fail(
                l,
                field,
                format!(
                    "{:?} must be a non-empty list of lane counts from {LANES_BUILT:?} (the PU/RU widths built)",
                    l.value
                ),
            ));
        }
        Ok(l.value.iter().map(|&x| x as usize).collect())
    }
}

impl Validator<'_> {
    fn system(&self, s: &RawSystem) -> Result<SystemSpec, ScenarioError> {
        let m = s.model.value;
        if m.layers == 0
            || m.kv_heads == 0
            || m.q_heads == 0
            || !m.q_heads.is_multiple_of(m.kv_heads)
            || !(1..=DMAX as u64).contains(&m.head_dim)
        {
            return Err(self.fail(
                &s.model,
                "system.model",
                format!("{m:?}: layers, heads >= 1, q_heads a multiple of kv_heads, head_dim in 1..={DMAX}"),
            ));
        }
        if s.contexts.value.is_empty() || s.contexts.value.iter().any(|&c| c == 0 || c > MAX_TOKENS) {
            return Err(self.fail(
                &s.contexts,
                "system.contexts",
                format!("{:?} must be a non-empty list of 1..={MAX_TOKENS} tokens", s.contexts.value),
            ));
        }
        if !(1..=100_000).contains(&s.steps.value) {
            return Err(self.fail(&s.steps, "system.steps", format!("{} is outside 1..=100000", s.steps.value)));
        }
        let unit = |v: &Option<Spanned<f64>>, name: &str, default: f64, lo_open: bool| -> Result<f64, ScenarioError> {
            match v {
                None => Ok(default),
                Some(x) if (if lo_open { x.value > 0.0 } else { x.value >= 0.0 }) && x.value <= 1.0 => Ok(x.value),
                Some(x) => {
                    Err(self.fail(x, name, format!("{} must be in {}0, 1]", x.value, if lo_open { "(" } else { "[" })))
                }
            }
        };
        let drift = unit(&s.drift, "system.drift", 0.05, false)?;
        let fraction = unit(&s.fraction, "system.fraction", crate::sched::DEFAULT_FRACTION, true)?;
        let tiers = self.system_tiers(s, m.head_dim as usize)?;
        // In u128, saturating: layers and heads are any u64 and their product with the contexts
        // overflows u64 (wrapped, a huge model would need "0" tokens and be accepted).
        let per_token = u128::from(m.layers) * u128::from(m.kv_heads);
        let contexts: u128 = s.contexts.value.iter().map(|&c| u128::from(c)).sum();
        let decoded = u128::from(s.steps.value) * s.contexts.value.len() as u128;
        let need = contexts.saturating_add(decoded).saturating_mul(per_token);
        let total: u128 = tiers.iter().map(|t| t.capacity as u128).sum();
        if total < need {
            return Err(self.fail(
                &s.tiers,
                "system.tiers",
                format!("{total} tokens of capacity in all cannot hold the {need} tokens the run stores"),
            ));
        }
        let merge_tier = match &s.merge_tier {
            None => 0,
            Some(t) if (t.value as usize) < tiers.len() => t.value as usize,
            Some(t) => {
                return Err(self.fail(
                    t,
                    "system.merge_tier",
                    format!("{} is not a tier: the system has tiers 0..={}", t.value, tiers.len() - 1),
                ))
            }
        };
        if !POLICIES.contains(&s.policy.value.as_str()) {
            return Err(self.fail(
                &s.policy,
                "system.policy",
                format!("'{}' is not a policy; allowed: {POLICIES:?}", s.policy.value),
            ));
        }
        let n = tiers.len();
        let target = match &s.target {
            None if n == 3 => DEFAULT_TARGET_3.to_vec(),
            None => vec![1.0; n],
            Some(t) => {
                let w = match &t.value {
                    RawTarget::Weights(w) => w.clone(),
                    RawTarget::Xy { x, y } if n == 3 => vec![*x, *y, 1.0],
                    RawTarget::Xy { .. } => {
                        return Err(self.fail(
                            t,
                            "system.target",
                            format!("{{x, y}} is the three-tier form; give a list of {n} weights, one per tier"),
                        ))
                    }
                };
                if w.len() != n || w.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                    return Err(self.fail(
                        t,
                        "system.target",
                        format!("{w:?} must be {n} positive weights, one per tier, fastest first"),
                    ));
                }
                w
            }
        };
        use crate::system::scores::ScoreKind;
        let scores = match &s.scores {
            None => ScoreKind::Synthetic,
            Some(x) => ScoreKind::by_name(&x.value).ok_or_else(|| {
                self.fail(
                    x,
                    "system.scores",
                    format!("'{}' is not a score source; allowed: {:?}", x.value, ScoreKind::NAMES),
                )
            })?,
        };
        use crate::migration::MigrationPath;
        let migration = match &s.migration {
            None if m.head_dim.is_multiple_of(16) => MigrationPath::Interface,
            None => MigrationPath::Host,
            Some(p) => match MigrationPath::by_name(&p.value) {
                Some(MigrationPath::Interface) if !m.head_dim.is_multiple_of(16) => {
                    return Err(self.fail(
                        p,
                        "system.migration",
                        format!(
                        "the interface moves whole 32-byte beats: head_dim {} must be a multiple of 16, or use 'host'",
                        m.head_dim
                    ),
                    ))
                }
                Some(x) => x,
                None => {
                    return Err(self.fail(
                        p,
                        "system.migration",
                        format!("'{}' is not a migration path; allowed: {:?}", p.value, MigrationPath::NAMES),
                    ))
                }
            },
        };
        Ok(SystemSpec {
            model: crate::system::decode::ModelShape {
                layers: m.layers as usize,
                q_heads: m.q_heads as usize,
                kv_heads: m.kv_heads as usize,
                head_dim: m.head_dim as usize,
            },
            contexts: s.contexts.value.iter().map(|&c| c as usize).collect(),
            steps: s.steps.value as usize,
            drift,
            fraction,
            tiers,
            merge_tier,
            policy: s.policy.value.clone(),
            target,
            migration,
            scores,
        })
    }

    /// The system's tiers: Verilated presets, 1..=8 devices each, a capacity the devices hold.
    fn system_tiers(
        &self,
        s: &RawSystem,
        dim: usize,
    ) -> Result<Vec<crate::system::pamattention::TierConfig>, ScenarioError> {
        use crate::device::attention::DeviceModel;
        let list = &s.tiers.value;
        if list.is_empty() || list.len() > crate::sched::MAX_TIERS {
            return Err(self.fail(
                &s.tiers,
                "system.tiers",
                format!("{} tiers: a system has 1..={} tiers, fastest first", list.len(), crate::sched::MAX_TIERS),
            ));
        }
        let mut out = Vec::with_capacity(list.len());
        for (i, t) in list.iter().enumerate() {
            let f = |name: &str| format!("system.tiers[{i}].{name}");
            let v = &t.value;
            let preset = TierPreset::verilated_named(&v.preset).map_err(|e| self.fail(t, &f("preset"), e))?;
            let devices = v.devices.unwrap_or(1);
            if !(1..=MAX_DEVICES).contains(&devices) {
                return Err(self.fail(t, &f("devices"), format!("{devices}: a tier has 1..={MAX_DEVICES} devices")));
            }
            let placer = preset
                .tier_placer(i, devices as usize, dim)
                .map_err(|e| self.fail(&s.model, "system.model.head_dim", format!("{}: {e}", preset.name())))?;
            if v.capacity as usize > placer.capacity() {
                return Err(self.fail(
                    t,
                    &f("capacity"),
                    format!(
                        "{} tokens, but {devices} {} device(s) hold at most {} tokens of head dimension {dim}",
                        v.capacity,
                        preset.name(),
                        placer.capacity()
                    ),
                ));
            }
            let model = match &v.model {
                None => DeviceModel::Rtl,
                Some(n) => DeviceModel::by_name(n).ok_or_else(|| {
                    self.fail(t, &f("model"), format!("'{n}' is not a device model; allowed: {:?}", DeviceModel::NAMES))
                })?,
            };
            out.push(crate::system::pamattention::TierConfig {
                preset,
                devices: devices as usize,
                capacity: v.capacity as usize,
                model,
            });
        }
        Ok(out)
    }

    fn tier(&self, i: usize, t: &RawTier) -> Result<TierCheck, ScenarioError> {
        let f = |name: &str| format!("tiers[{i}].{name}");
        let mut preset =
            TierPreset::verilated_named(&t.preset.value).map_err(|e| self.fail(&t.preset, &f("preset"), e))?;
        if !(1..=MAX_PROBLEMS).contains(&t.problems.value) {
            return Err(self.fail(
                &t.problems,
                &f("problems"),
                format!("{} is outside 1..={MAX_PROBLEMS}", t.problems.value),
            ));
        }
        let not_dram = |what: &str| format!("{what} overrides apply to DRAM presets, not {}", t.preset.value);
        if let Some(g) = &t.geometry {
            let Some(preset) = preset.as_dram() else {
                return Err(self.fail(g, &f("geometry"), not_dram("geometry")));
            };
            let v = g.value;
            for (name, x) in [
                ("bank_groups", v.bank_groups),
                ("banks_per_group", v.banks_per_group),
                ("banks_per_pu", v.banks_per_pu),
                ("rows", v.rows),
                ("cols", v.cols),
                ("lanes", v.lanes),
            ] {
                if x == 0 {
                    return Err(self.fail(
                        g,
                        &f(&format!("geometry.{name}")),
                        "0 is impossible: must be at least 1".into(),
                    ));
                }
            }
            let built = RawGeometry {
                bank_groups: preset.bank_groups as u64,
                banks_per_group: preset.banks_per_group as u64,
                banks_per_pu: preset.banks_per_pu as u64,
                rows: preset.rows as u64,
                cols: preset.cols as u64,
                lanes: preset.pu_lanes as u64,
            };
            if v != built {
                return Err(self.fail(g, &f("geometry"), format!("{v:?} differs from the geometry Verilated for {}: {built:?} (geometry is an RTL parameter; timing is configuration)", preset.name)));
            }
        }
        let dims: Vec<usize> = match &t.head_dim {
            None => DIMS.to_vec(),
            Some(d) => {
                if d.value.is_empty() || d.value.iter().any(|&x| x == 0 || x > DMAX as u64) {
                    return Err(self.fail(
                        d,
                        &f("head_dim"),
                        format!("{:?} must be a non-empty list of values in 1..={DMAX}", d.value),
                    ));
                }
                if let Some(&bad) = d.value.iter().find(|&&x| preset.fits(x as usize).is_err()) {
                    let e = preset.fits(bad as usize).unwrap_err();
                    return Err(self.fail(
                        d,
                        &f("head_dim"),
                        format!("a token of head dimension {bad} does not fit {}: {e}", preset.name()),
                    ));
                }
                d.value.iter().map(|&x| x as usize).collect()
            }
        };
        if let Some(map) = &t.timing {
            let Some(dram) = preset.as_dram() else {
                return Err(self.fail(map, &f("timing"), not_dram("timing")));
            };
            let mut dram = dram.clone();
            let mut timing = dram.timing;
            for (k, &v) in &map.value {
                let v = u32::try_from(v).unwrap_or(u32::MAX);
                let slot = match k.as_str() {
                    "rcd" => &mut timing.rcd,
                    "rp" => &mut timing.rp,
                    "ras" => &mut timing.ras,
                    "rc" => &mut timing.rc,
                    "rrd_s" => &mut timing.rrd_s,
                    "rrd_l" => &mut timing.rrd_l,
                    "faw" => &mut timing.faw,
                    "ccd_s" => &mut timing.ccd_s,
                    "ccd_l" => &mut timing.ccd_l,
                    "wr" => &mut timing.wr,
                    "rtp" => &mut timing.rtp,
                    "refi" => &mut timing.refi,
                    "rfc" => &mut timing.rfc,
                    _ => {
                        let names: Vec<&str> = dram.timing.fields().iter().map(|f| f.0).collect();
                        return Err(self.fail(
                            map,
                            &f(&format!("timing.{k}")),
                            format!("unknown timing; allowed: {names:?}"),
                        ));
                    }
                };
                *slot = v;
            }
            timing.validate().map_err(|e| self.fail(map, &f("timing"), e))?;
            dram.timing = timing;
            preset = preset.with_kind(dram);
        }
        let gap = match &t.rd_gap {
            None => preset.min_gap(),
            Some(g) => match g.value {
                RdGap::Named(GapName::Cap) => preset.cap_gap(),
                RdGap::Clocks(c) if c >= preset.min_gap() && c <= u16::MAX as u32 => c,
                RdGap::Clocks(c) => {
                    return Err(self.fail(
                        g,
                        &f("rd_gap"),
                        format!(
                            "{c} must be within {}..=65535 clocks (the memory's own read spacing), or 'cap'",
                            preset.min_gap()
                        ),
                    ))
                }
            },
        };
        let tokens = self.int_range(&t.tokens, &f("tokens"), 1, MAX_TOKENS)?;
        // A problem's tokens all live in the one device: no more than it holds at the entry's
        // largest head dimension (the fewest tokens).
        let mut tightest = None;
        for &dim in &dims {
            let capacity = preset.capacity(dim).map_err(|e| self.fail(&t.tokens, &f("tokens"), e.to_string()))?;
            if tightest.is_none_or(|(c, _)| capacity < c) {
                tightest = Some((capacity, dim));
            }
        }
        if let Some((capacity, dim)) = tightest.filter(|&(c, _)| tokens.1 > c) {
            return Err(self.fail(
                &t.tokens,
                &f("tokens.max"),
                format!(
                    "{} tokens, but one {} device holds at most {capacity} tokens of head dimension {dim}",
                    tokens.1,
                    preset.name()
                ),
            ));
        }
        Ok(TierCheck { preset, problems: t.problems.value, tokens, head_dims: dims, gap })
    }
}

impl Scenario {
    pub fn load(file: &Path) -> Result<Scenario, ScenarioError> {
        Self::load_with_seed(file, None)
    }

    /// [`Self::load`] with the run's seed given on the command line (it seeds what the
    /// serving section generates: synthetic workloads and arrivals).
    pub fn load_with_seed(file: &Path, seed: Option<u64>) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(file).map_err(|source| ScenarioError::Read { file: file.into(), source })?;
        Self::parse_with_seed(file, &text, seed)
    }

    pub fn parse(file: &Path, text: &str) -> Result<Scenario, ScenarioError> {
        Self::parse_with_seed(file, text, None)
    }

    pub fn parse_with_seed(file: &Path, text: &str, seed: Option<u64>) -> Result<Scenario, ScenarioError> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(ScenarioError::Parse {
                file: file.into(),
                message: format!(
                    "{} bytes; a scenario is at most {MAX_SCENARIO_BYTES} bytes (is this the right file?)",
                    text.len()
                ),
            });
        }
        let raw: RawScenario = serde_saphyr::from_str_with_options(text, yaml_options())
            .map_err(|e| ScenarioError::Parse { file: file.into(), message: e.to_string() })?;
        let c = Validator { file };
        let datapath = match raw.datapath {
            None => None,
            Some(d) => {
                if !(1..=MAX_PROBLEMS).contains(&d.problems.value) {
                    return Err(c.fail(
                        &d.problems,
                        "datapath.problems",
                        format!("{} is outside 1..={MAX_PROBLEMS}", d.problems.value),
                    ));
                }
                let a = d.amplitude.value;
                if !(a.min > 0.0 && a.min <= a.max && a.max <= MAX_AMPLITUDE) {
                    return Err(c.fail(
                        &d.amplitude,
                        "datapath.amplitude",
                        format!("{{min: {}, max: {}}} must satisfy 0 < min <= max <= {MAX_AMPLITUDE}", a.min, a.max),
                    ));
                }
                let clock_mhz = match &d.clock_mhz {
                    Some(s) if !(s.value > 0.0 && s.value <= 10_000.0) => {
                        return Err(c.fail(s, "datapath.clock_mhz", format!("{} is outside (0, 10000] MHz", s.value)))
                    }
                    Some(s) => s.value,
                    None => crate::datapath::DEFAULT_CLOCK_MHZ,
                };
                let waves = match &d.waves {
                    Some(s) if s.value > d.problems.value => {
                        return Err(c.fail(
                            s,
                            "datapath.waves",
                            format!("{} is more than the {} problems", s.value, d.problems.value),
                        ))
                    }
                    Some(s) => s.value,
                    None => 1,
                };
                let space = ProblemSpace {
                    pu_lanes: c.lanes(&d.pu_lanes, "datapath.pu_lanes")?,
                    ru_lanes: c.lanes(&d.ru_lanes, "datapath.ru_lanes")?,
                    head_dim: c.int_range(&d.head_dim, "datapath.head_dim", 1, DMAX as u64)?,
                    tokens: c.int_range(&d.tokens, "datapath.tokens", 0, MAX_TOKENS)?,
                    tiles: c.int_range(&d.tiles, "datapath.tiles", 1, MAX_TILES)?,
                    amplitude: (a.min, a.max),
                };
                Some(DatapathSpec { problems: d.problems.value, space, clock_mhz, waves })
            }
        };
        let tiers = match &raw.tiers {
            None => Vec::new(),
            Some(list) => list.value.iter().enumerate().map(|(i, t)| c.tier(i, t)).collect::<Result<_, _>>()?,
        };
        let system = match &raw.system {
            None => None,
            Some(sys) => Some(c.system(&sys.value)?),
        };
        let serving = match raw.serving {
            None => None,
            Some(s) => Some(s.validate(file, seed.or(raw.seed).unwrap_or(crate::serve::DEFAULT_SEED))?),
        };
        if datapath.is_none() && tiers.is_empty() && system.is_none() && serving.is_none() {
            return Err(ScenarioError::Empty { file: file.into() });
        }
        Ok(Scenario {
            file: file.into(),
            name: raw.name,
            description: raw.description,
            seed: raw.seed,
            datapath,
            tiers,
            system,
            serving,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name: t\ndatapath:\n  problems: 3\n  pu_lanes: [16]\n  ru_lanes: [4]\n  head_dim: {min: 1, max: 256}\n  tokens: {min: 0, max: 8}\n  tiles: {min: 1, max: 2}\n  amplitude: {min: 0.5, max: 2}\n";

    fn err(text: &str) -> String {
        Scenario::parse(Path::new("s.yaml"), text).unwrap_err().to_string()
    }

    #[test]
    fn good_scenario_parses() {
        let s = Scenario::parse(Path::new("s.yaml"), GOOD).unwrap();
        let d = s.datapath.unwrap();
        assert_eq!((d.problems, d.space.head_dim, d.waves), (3, (1, 256), 1));
    }

    #[test]
    fn out_of_range_value_names_file_line_and_field() {
        let e = err(&GOOD.replace("max: 256", "max: 300"));
        assert!(e.starts_with("s.yaml:6:"), "{e}");
        assert!(e.contains("datapath.head_dim") && e.contains("1..=256"), "{e}");
        let e = err(&GOOD.replace("[16]", "[8]"));
        assert!(e.starts_with("s.yaml:4:") && e.contains("datapath.pu_lanes"), "{e}");
    }

    #[test]
    fn unknown_key_is_rejected_with_its_location() {
        let e = err(&GOOD.replace("  problems: 3\n", "  problems: 3\n  problms: 4\n"));
        assert!(e.contains("s.yaml") && e.contains("problms"), "{e}");
        assert!(e.contains("line 4") || e.contains(":4:"), "{e}");
    }

    #[test]
    fn wrong_type_and_missing_section() {
        let e = err(&GOOD.replace("problems: 3", "problems: lots"));
        assert!(e.contains("s.yaml") && e.contains("line 3"), "{e}");
        assert!(err("name: t\n").contains("no section"));
    }
}
