//! Measuring the RTL for the full-size time model: the device fit on a tier's first Verilated
//! geometry, the RU's merge time, the check against the RTL at the tier's second Verilated
//! geometry, and the migration interface's throughput per pair of tiers.

use std::time::Instant;

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::model::{apply, device_levels, pipeline_ps, Geometry, RuLine};
use super::PimError;
use crate::device::calibrated::{CHECK_RUNS, FIT_RUNS, MAX_GROUP, TERMS};
use crate::device::order::flash_pages;
use crate::device::stimulus::write_random_tokens;
use crate::device::tier::TierPreset;
use crate::golden::fp::fp16_of;
use crate::kv::location::PhysLoc;
use crate::kv::placement::{DevicePlacer, DramPlacer, GroupPolicy};
use crate::migration::{self, BeatMemory, Descriptor, MigrationIf, RunConfig, MIG_CLOCK_MHZ};
use crate::partial::Partial;
use crate::rtl::ru::RuSim;

/// The fit of one tier's device time on its first Verilated geometry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceFit {
    /// The Verilated preset fitted.
    pub scaled: String,
    /// Reads at most every `gap` memory (flash: controller) clocks: the compute cap's spacing,
    /// the same at every geometry of the tier.
    pub gap: u32,
    /// Tokens the fitted device held.
    pub tokens: usize,
    /// Refresh-free stream time (ps) = coef . [1, a, b, c, 0] ([`Geometry::features`]; the
    /// merges are timed by the RU fit, so there is no group term: the last coefficient is
    /// the time a refresh costs, fitted on the refreshes each run met).
    pub coef: [f64; TERMS],
    /// Stream time with refreshes over without ([`refresh_factor`]).
    pub refresh: f64,
    /// The fitted device's RU share as its runs measured it: g = 1, each further query.
    pub reduce_ps: [f64; 2],
    /// Held-out RTL runs of the fitted device: largest, mean and summed |error|.
    pub max_rel_err: f64,
    pub mean_rel_err: f64,
    pub total_rel_err: f64,
    /// The RU's merge time, fitted on the RTL RU at the tier's lanes and PU clock.
    pub ru: RuLine,
}

impl DeviceFit {
    /// Predicted time (ps) of a device of geometry `target` (`rtl`: a Verilated one, merging
    /// as `PimDevice` does; else a full-size one with `device_rus` device-level RUs) over `n`
    /// token-vectors for `g` queries: the fitted stream at the target's features, refreshes in
    /// expectation, plus the target's merge pipeline.
    #[allow(clippy::too_many_arguments)]
    pub fn predict(
        &self,
        target: &Geometry,
        rtl: bool,
        device_rus: u64,
        n: u64,
        busiest_pu: u64,
        stored: Option<u64>,
        g: u32,
    ) -> f64 {
        if n == 0 {
            return 0.0;
        }
        let mut x = target.features(n, busiest_pu, stored, g);
        // The last slot holds the group size; its coefficient is the cost of a refresh, which
        // `refresh` applies in expectation.
        x[TERMS - 1] = 0.0;
        let stream = apply(&self.coef, &x).max(0.0) * self.refresh;
        stream + pipeline_ps(&device_levels(target, rtl, device_rus, &self.ru, g), &self.ru, g)
    }
}

/// One run of the second-geometry check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckPoint {
    pub tokens: u64,
    pub group: u32,
    /// `Some(s)`: the tokens were drawn at random among `s` stored (sparse); else packed.
    pub stored: Option<u64>,
    pub busiest_pu: u64,
    pub predicted_ps: f64,
    pub measured_ps: f64,
}

impl CheckPoint {
    pub fn ratio(&self) -> f64 {
        self.predicted_ps / self.measured_ps.max(1.0)
    }
}

/// The extrapolation check: the fit of the first geometry predicting the RTL of the second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeometryCheck {
    /// The Verilated preset measured.
    pub scaled: String,
    pub points: Vec<CheckPoint>,
    /// Mean of predicted / measured, and the ratio farthest from 1.
    pub mean_ratio: f64,
    pub worst_ratio: f64,
}

impl GeometryCheck {
    fn new(scaled: &str, points: Vec<CheckPoint>) -> Self {
        let ratios: Vec<f64> = points.iter().map(CheckPoint::ratio).collect();
        let mean_ratio = ratios.iter().sum::<f64>() / ratios.len().max(1) as f64;
        let worst_ratio = ratios.iter().copied().max_by(|a, b| a.ln().abs().total_cmp(&b.ln().abs())).unwrap_or(1.0);
        GeometryCheck { scaled: scaled.to_string(), points, mean_ratio, worst_ratio }
    }
}

/// Everything measured for one tier (what the disk cache holds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierCalibration {
    pub reference: String,
    pub fit: DeviceFit,
    /// `None` when the tier has a single Verilated geometry.
    pub check: Option<GeometryCheck>,
    /// Host seconds the measurement took.
    pub measure_s: f64,
}

/// The migration interface between two tiers, measured (what the disk cache holds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MigCalibration {
    pub src: String,
    pub dst: String,
    /// The Verilated interface (`mig_<src beat bytes>_<dst beat bytes>`).
    pub top: String,
    /// Bytes of one token (one head's K and V) through the interface.
    pub token_bytes: usize,
    /// ps = fixed_ps + tokens x ps_per_token, fitted on (tokens, ps) `runs`.
    pub fixed_ps: f64,
    pub ps_per_token: f64,
    pub runs: Vec<(u64, f64)>,
    pub measure_s: f64,
}

impl MigCalibration {
    /// Steady-state throughput of the interface, bytes per ps.
    pub fn bytes_per_ps(&self) -> f64 {
        self.token_bytes as f64 / self.ps_per_token.max(1e-9)
    }
}

fn rtl(what: impl Into<String>) -> impl FnOnce(crate::error::SimError) -> PimError {
    let what = what.into();
    move |source| PimError::Rtl { what, source }
}

/// Group sizes of the check runs: the calibrated ones and LLaMA3-70B's g = 8, beyond them.
pub const CHECK_GROUPS: [u32; 3] = [1, MAX_GROUP as u32, 8];
/// Tokens a check device holds at most (fewer when the device is smaller).
pub const CHECK_TOKENS: usize = 1024;

/// The RU merge time: `pam_ru` at `lanes` and `mhz` merging 1..=64 random partials.
pub fn measure_ru(lanes: usize, mhz: f64, dim: usize, seed: u64) -> Result<RuLine, PimError> {
    let mut ru = RuSim::new(lanes, mhz).map_err(rtl(format!("opening the {lanes}-lane RU")))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pts = Vec::new();
    for n in [1usize, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64] {
        let parts: Vec<Partial> = (0..n)
            .map(|_| Partial {
                o: (0..dim).map(|_| rng.random_range(-4.0f32..4.0).to_bits()).collect(),
                m: rng.random_range(-2.0f32..2.0).to_bits(),
                l: rng.random_range(1.0f32..8.0).to_bits(),
            })
            .collect();
        let r = ru.reduce(dim, &parts, false).map_err(rtl(format!("merging {n} partials in the RU")))?;
        pts.push((n as f64, r.cycles as f64));
    }
    let k = pts.len() as f64;
    let (sx, sy) = (pts.iter().map(|p| p.0).sum::<f64>(), pts.iter().map(|p| p.1).sum::<f64>());
    let sxx = pts.iter().map(|p| p.0 * p.0).sum::<f64>();
    let sxy = pts.iter().map(|p| p.0 * p.1).sum::<f64>();
    let b = (k * sxy - sx * sy) / (k * sxx - sx * sx);
    let a = (sy - b * sx) / k;
    let resid = pts.iter().map(|p| (a + b * p.0 - p.1).abs()).fold(0.0, f64::max);
    Ok(RuLine { fixed_cycles: a, per_partial_cycles: b, period_ps: RuLine::period_of(mhz), max_resid_cycles: resid })
}

/// The compute cap's read spacing of `preset`, checked to be that of its reference: the cap
/// is a per-bank (per-channel) share, so a scaled device streams as fast per bank as the
/// full-size one.
pub fn cap_gap(preset: &TierPreset, reference: &TierPreset) -> Result<u32, PimError> {
    let (gap, want) = (preset.cap_gap(), reference.cap_gap());
    if gap != want {
        return Err(PimError::Geometry {
            preset: preset.name().to_string(),
            message: format!(
                "its compute cap spaces reads {gap} clocks apart but its reference {} spaces them {want}: \
                 the cap must be the same share per bank (cap_banks / cap_channels)",
                reference.name()
            ),
        });
    }
    Ok(gap)
}

/// A placer spreading consecutive tokens evenly over the device: DRAM bank groups in turn
/// (the least-activated rule with a uniform history), flash channels in turn (the FTL).
pub fn balanced_placer(preset: &TierPreset, dim: usize) -> Result<DevicePlacer, PimError> {
    let err = |e: crate::kv::placement::PlacementError| PimError::Geometry {
        preset: preset.name().to_string(),
        message: format!("head dimension {dim}: {e}"),
    };
    match preset.as_dram() {
        Some(d) => Ok(DevicePlacer::Dram(DramPlacer::new(d.shape(dim), GroupPolicy::RoundRobin, 0, 0).map_err(err)?)),
        None => preset.device_placer(dim, 0, 0).map_err(err),
    }
}

/// Fits `reference`'s time model on `scaled[0]` and checks it against the RTL of `scaled[1]`.
pub fn calibrate_tier(
    reference: &TierPreset,
    scaled: &[TierPreset],
    dim: usize,
    seed: u64,
) -> Result<TierCalibration, PimError> {
    let started = Instant::now();
    let first = scaled.first().ok_or_else(|| PimError::NoScaled { tier: reference.name().to_string() })?;
    let gap = cap_gap(first, reference)?;
    let ru = measure_ru(first.pu_lanes(), first.pu_clock_mhz(), dim, seed ^ 0x52_55)?;
    let fit = fit_device(first, dim, gap, ru, seed)?;
    let check = match scaled.get(1) {
        Some(second) => Some(check_geometry(&fit, second, reference, dim, seed ^ 0xC4EC)?),
        None => None,
    };
    Ok(TierCalibration {
        reference: reference.name().to_string(),
        fit,
        check,
        measure_s: started.elapsed().as_secs_f64(),
    })
}

/// The device fit on `first`: [`FIT_RUNS`] fitted and [`CHECK_RUNS`] held-out RTL runs
/// (g = 1..=4 in turn, sizes log-uniform up to the device's tokens, half packed and half a
/// random subset, cold), each with the features of its tokens as placed (what
/// [`Geometry::features`] gives in expectation at any geometry). The time the RUs take is
/// known from the RU fit and taken out of every run before fitting, so the group size needs
/// no fitted term (the fitted `(g - 1)` coefficient is 0): the check at g = 8 tests that.
/// A DRAM run's refreshes are a fitted term (ps per refresh, in the fourth slot of the
/// coefficients, whose feature is 0 at prediction); a prediction applies refreshes in
/// expectation, one every tREFI ([`DeviceFit::refresh`]).
///
/// Why not [`Calibration::measure`]'s fit: its flash terms add the busiest die's array time
/// to the busiest channel's transfers, which fits a device whose channels wait for page reads
/// (`ssd-s`, 2 dies a channel) but not one whose bus is the bound (4 dies, as the reference):
/// the check put `ssd-s2` at up to 1.36x its RTL time. Its DRAM `(g - 1)` term, fitted
/// among refresh spikes of tRFC on runs of a microsecond, came out near 0 or negative at
/// d = 64 and the check at g = 8 read 0.55x the RTL.
fn fit_device(first: &TierPreset, dim: usize, gap: u32, ru: RuLine, seed: u64) -> Result<DeviceFit, PimError> {
    let what = |s: &str| format!("calibrating {} at head dimension {dim}: {s}", first.name());
    let geo =
        Geometry::of(first, dim).map_err(|message| PimError::Geometry { preset: first.name().to_string(), message })?;
    let mut dev = first.open_with_pu_clock(Some(gap)).map_err(rtl(what("opening the device")))?;
    let m = first.capacity(dim).map_err(rtl(what("its capacity")))?.min(first.calibration_tokens());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut placer = balanced_placer(first, dim)?;
    let stored = place_and_write(&mut dev, &mut rng, &mut placer, m, dim).map_err(rtl(what("writing tokens")))?;
    let (mut xs, mut ys, mut reduce) = (Vec::new(), Vec::new(), [Vec::new(), Vec::new()]);
    let mut held_out = Vec::new();
    for i in 0..FIT_RUNS + CHECK_RUNS {
        let g = 1 + (i % MAX_GROUP) as u32;
        let n = (((m as f64).ln() * rng.random::<f64>()).exp().round() as usize).clamp(1, m);
        let tokens: Vec<PhysLoc> = if rng.random_bool(0.5) {
            stored[..n].to_vec()
        } else {
            sample(&mut rng, m, n).into_iter().map(|j| stored[j]).collect()
        };
        let before = dev.counts().refresh;
        let run = run_cold(&mut dev, &mut rng, &tokens, g, dim).map_err(rtl(what("a run")))?;
        let refreshes = (dev.counts().refresh - before) as f64;
        if g <= 2 {
            reduce[g as usize - 1].push(run.reduce_ps as f64);
        }
        let merges = pipeline_ps(&device_levels(&geo, true, 1, &ru, g), &ru, g);
        let x = placed_features(first, &geo, &tokens, dim);
        if i < FIT_RUNS {
            xs.push([x[0], x[1], x[2], x[3], refreshes]);
            ys.push(run.ps as f64 - merges);
        } else {
            held_out.push((x, merges, run.ps as f64));
        }
    }
    let coef = crate::device::calibrated::fit(&xs, &ys);
    let refresh = refresh_factor(first, coef[4]);
    // Held out as a serving run sees them: refreshes in expectation.
    let pred: Vec<f64> = held_out.iter().map(|(x, merges, _)| apply(&coef, x) * refresh + merges).collect();
    let meas: Vec<f64> = held_out.iter().map(|h| h.2).collect();
    let errs: Vec<f64> = pred.iter().zip(&meas).map(|(p, y)| (p - y).abs() / y.max(1.0)).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (sp, sy) = (pred.iter().sum::<f64>(), meas.iter().sum::<f64>());
    Ok(DeviceFit {
        scaled: first.name().to_string(),
        gap,
        tokens: m,
        coef,
        refresh,
        reduce_ps: [mean(&reduce[0]), mean(&reduce[1]) - mean(&reduce[0])],
        max_rel_err: errs.iter().copied().fold(0.0, f64::max),
        mean_rel_err: mean(&errs),
        total_rel_err: (sp - sy).abs() / sy.max(1.0),
        ru,
    })
}

/// Wall time over refresh-free time of a DRAM stream that loses `per_refresh_ps` (fitted: tRFC
/// and the precharge before it) every tREFI (flash: 1).
pub fn refresh_factor(p: &TierPreset, per_refresh_ps: f64) -> f64 {
    p.as_dram().map_or(1.0, |d| {
        let lost = (per_refresh_ps / (d.timing.refi as f64 * d.tck_ps)).clamp(0.0, 0.5);
        1.0 / (1.0 - lost)
    })
}

/// The features of a run over `tokens` as placed: DRAM rows opened, (row, column) slots
/// streamed and the busiest PU's tokens; flash as [`flash_features`].
fn placed_features(p: &TierPreset, geo: &Geometry, tokens: &[PhysLoc], dim: usize) -> [f64; TERMS] {
    if p.as_flash().is_some() {
        return flash_features(p, geo, tokens);
    }
    let rows: std::collections::HashSet<u32> = tokens.iter().map(|l| l.row).collect();
    let slots: std::collections::HashSet<(u32, u32)> = tokens.iter().map(|l| (l.row, l.col)).collect();
    let busiest = p.stream_order(tokens, dim).iter().map(Vec::len).max().unwrap_or(0);
    [1.0, rows.len() as f64, slots.len() as f64, busiest as f64, 0.0]
}

/// The flash features of a run over `tokens` as placed (what [`Geometry::features`] takes
/// in expectation): the busiest channel's pipeline over its actual pages, its tokens.
fn flash_features(p: &TierPreset, geo: &Geometry, tokens: &[PhysLoc]) -> [f64; TERMS] {
    let (Some(f), Geometry::Flash { t_r_ns, token_ns, .. }) = (p.as_flash(), geo) else {
        return [0.0; TERMS];
    };
    let (mut worst, mut busiest) = (0.0f64, 0usize);
    for pages in flash_pages(f, tokens) {
        // As the sequencer: every die's first read at once, pages in order on the bus, a
        // die's next read once its page has crossed.
        let mut ready = vec![*t_r_ns; f.dies_per_channel];
        let mut bus = 0.0f64;
        for ((die, _), toks) in &pages {
            bus = bus.max(ready[*die]) + toks.len() as f64 * token_ns;
            ready[*die] = bus + t_r_ns;
        }
        worst = worst.max(bus);
        busiest = busiest.max(pages.iter().map(|(_, t)| t.len()).sum());
    }
    [1.0, worst, busiest as f64, 0.0, 0.0]
}

/// Writes `m` random tokens where `placer` puts them; returns their places in order.
pub(super) fn place_and_write(
    dev: &mut crate::device::pim::PimDevice,
    rng: &mut ChaCha8Rng,
    placer: &mut DevicePlacer,
    m: usize,
    dim: usize,
) -> Result<Vec<PhysLoc>, crate::error::SimError> {
    let placed = write_random_tokens(dev, rng, m, dim, |_| {
        placer.place().map_err(|e| crate::error::SimError::Input(e.to_string()))
    })?;
    Ok(placed.into_iter().map(|(l, _)| l).collect())
}

/// One run of `g` random queries over `tokens`, from cold rows and page registers (the
/// layers and heads before it have used them).
pub(super) fn run_cold(
    dev: &mut crate::device::pim::PimDevice,
    rng: &mut ChaCha8Rng,
    tokens: &[PhysLoc],
    g: u32,
    dim: usize,
) -> Result<crate::device::pim::DeviceRun, crate::error::SimError> {
    let qs: Vec<Vec<u16>> = (0..g).map(|_| (0..dim).map(|_| fp16_of(rng.random_range(-0.2..0.2))).collect()).collect();
    dev.load_queries(&qs)?;
    dev.memory().drop_caches()?;
    dev.run(tokens)
}

/// Runs the RTL of `second` at several token counts and group sizes, packed and sparse, next
/// to what the fit (on the tier's first geometry) predicts for that geometry.
fn check_geometry(
    fit: &DeviceFit,
    second: &TierPreset,
    reference: &TierPreset,
    dim: usize,
    seed: u64,
) -> Result<GeometryCheck, PimError> {
    let target = Geometry::of(second, dim)
        .map_err(|message| PimError::Geometry { preset: second.name().to_string(), message })?;
    let gap = cap_gap(second, reference)?;
    let what = |s: &str| format!("checking {} at head dimension {dim}: {s}", second.name());
    let mut dev = second.open_with_pu_clock(Some(gap)).map_err(rtl(what("opening the device")))?;
    let capacity = second.capacity(dim).map_err(rtl(what("its capacity")))?;
    let m = capacity.min(CHECK_TOKENS);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut placer = balanced_placer(second, dim)?;
    let stored = place_and_write(&mut dev, &mut rng, &mut placer, m, dim).map_err(rtl(what("writing tokens")))?;
    // Packed runs: the first n tokens placed (spread evenly, slot after slot); sparse runs: an
    // eighth of them at random, as Double Sparsity selects.
    let mut runs: Vec<(Vec<PhysLoc>, Option<u64>, u32)> = Vec::new();
    for n in [m / 16, m / 4, m] {
        for g in CHECK_GROUPS {
            runs.push((stored[..n.max(1)].to_vec(), None, g));
        }
    }
    for g in [1, 8] {
        let pick = sample(&mut rng, m, (m / 8).max(1)).into_vec();
        runs.push((pick.into_iter().map(|i| stored[i]).collect(), Some(m as u64), g));
    }
    let mut points = Vec::new();
    for (tokens, sparse, g) in runs {
        let run = run_cold(&mut dev, &mut rng, &tokens, g, dim).map_err(rtl(what("a run")))?;
        let n = tokens.len() as u64;
        // What a caller knows from its placement: the busiest PU's tokens.
        let busiest = second.stream_order(&tokens, dim).iter().map(Vec::len).max().unwrap_or(0) as u64;
        let predicted = fit.predict(&target, true, 1, n, busiest, sparse, g);
        points.push(CheckPoint {
            tokens: n,
            group: g,
            stored: sparse,
            busiest_pu: busiest,
            predicted_ps: predicted,
            measured_ps: run.ps as f64,
        });
    }
    Ok(GeometryCheck::new(second.name(), points))
}

/// Token counts of the migration runs (the fit's two points).
pub const MIG_RUNS: [usize; 2] = [16, 128];

/// The migration interface from `src` to `dst` (Verilated presets standing for their tiers):
/// tokens at spread-out places of the source moved to consecutive places of the target, the
/// source answering at its read latency. The source's row switches and page reads are left
/// out: they are the source device's array time, which [`super::PimTiming::migrate_ps`]
/// bounds separately; here the interface's own rate for the pair of beat widths is measured.
pub fn measure_migration(
    src: &TierPreset,
    dst: &TierPreset,
    dim: usize,
    seed: u64,
) -> Result<MigCalibration, PimError> {
    let started = Instant::now();
    let (sb, db) = (src.beat_bytes(), dst.beat_bytes());
    let top = format!("mig_{sb}_{db}");
    let what = |s: &str| format!("migration {} -> {} ({top}): {s}", src.name(), dst.name());
    let tb = migration::token_bytes(dim);
    // The interface moves whole 32-byte beats of K and V: place tokens as wide as that.
    let pad_dim = tb / 4;
    let mut mig = MigrationIf::new(sb, db).map_err(rtl(what("opening the interface")))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cfg = RunConfig { src_row_miss: 0, seed, ..src.migration_source() };
    let mut runs = Vec::new();
    for n in MIG_RUNS {
        let mut sp = balanced_placer(src, pad_dim)?;
        let mut dp = balanced_placer(dst, pad_dim)?;
        let place = |p: &mut DevicePlacer, who: &TierPreset| {
            p.place().map_err(|e| PimError::Geometry { preset: who.name().to_string(), message: e.to_string() })
        };
        // Sources: n of 4n tokens stored; targets: the next free places.
        let pool: Vec<PhysLoc> = (0..4 * n).map(|_| place(&mut sp, src)).collect::<Result<_, _>>()?;
        let pick = sample(&mut rng, pool.len(), n).into_vec();
        let mut src_mem = BeatMemory::new();
        let mut moves = Vec::with_capacity(n);
        let mut data = Vec::with_capacity(n);
        for i in pick {
            let bytes: Vec<u8> = (0..tb).map(|_| rng.random()).collect();
            migration::store_token(&mut src_mem, src.migration_layout(), &pool[i], sb, &bytes);
            moves.push(Descriptor {
                src: pool[i],
                src_layout: src.migration_layout(),
                dst: place(&mut dp, dst)?,
                dst_layout: dst.migration_layout(),
                token_bytes: tb,
            });
            data.push(bytes);
        }
        let mut dst_mem = BeatMemory::new();
        let st = mig.run(&moves, &src_mem, &mut dst_mem, &cfg).map_err(rtl(what("a run")))?;
        for (mv, d) in moves.iter().zip(&data) {
            if migration::load_token(&dst_mem, mv.dst_layout, &mv.dst, db, tb).as_ref() != Some(d) {
                return Err(PimError::Rtl {
                    what: what("checking the moved bytes"),
                    source: crate::error::SimError::Input(format!("the token moved to {:?} arrived wrong", mv.dst)),
                });
            }
        }
        runs.push((n as u64, st.cycles as f64 * 1e6 / MIG_CLOCK_MHZ));
    }
    let ((n1, t1), (n2, t2)) = (runs[0], runs[1]);
    let ps_per_token = (t2 - t1) / (n2 - n1) as f64;
    Ok(MigCalibration {
        src: src.name().to_string(),
        dst: dst.name().to_string(),
        top,
        token_bytes: tb,
        fixed_ps: (t1 - ps_per_token * n1 as f64).max(0.0),
        ps_per_token,
        runs,
        measure_s: started.elapsed().as_secs_f64(),
    })
}
