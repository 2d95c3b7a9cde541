//! A fast model of a tier's device, calibrated from its RTL: the arithmetic of the golden
//! model (bit for bit what the RTL computes, the tokens taken in the RTL's stream order,
//! [`super::order`]) and the time of a linear model fitted to measured RTL runs.
//!
//! Calibration ([`Calibration::measure`]) fills a Verilated device of the preset with random
//! tokens, runs local attention over random subsets of them for query groups of every size up
//! to [`MAX_GROUP`], and fits by least squares
//!
//! `ps = c0 + c1 a + c2 b + c3 c + c4 (g - 1)`
//!
//! where, for DRAM, a = distinct rows, b = distinct (row, column) slots (the all-bank stream
//! reads one slot of every bank per step), c = tokens of the busiest PU; for flash, a = array
//! time of the busiest die in ns (tPROG of writes its page register holds, tR per page read
//! unless the register holds the page), b = tokens of the busiest channel (its transfers), c =
//! tokens of the busiest PU; g is the query-group size (each further query adds a stage of the
//! RUs' pipeline). The RUs' own time is fitted on its own, per group size.
//!
//! The runs start from every state a decode run meets: cold caches, page registers left by the
//! last run, and registers holding fresh writes. Held-out runs measure how well the fit
//! predicts the RTL. A DRAM run that meets a refresh takes about tRFC longer; the fit spreads
//! that over all runs, so single runs can be off by that much while their sum is not.

use std::collections::{HashMap, HashSet};

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::attention::{AttentionDevice, KvOf};
use super::flash::FlashPreset;
use super::memory::CommandCounts;
use super::order::flash_pages;
use super::pim::{DeviceRun, RunBreakdown};
use super::stimulus::write_random_tokens;
use super::tier::TierPreset;
use crate::error::SimError;
use crate::golden::device::dram_device_attention;
use crate::golden::fp::fp16_of;
use crate::kernel::Ps;
use crate::kv::location::PhysLoc;
use crate::partial::Partial;

/// Terms of the fitted time model.
pub const TERMS: usize = 5;
/// RTL runs fitted, and runs held out to validate the fit.
pub const FIT_RUNS: usize = 48;
pub const CHECK_RUNS: usize = 16;
/// Largest query group calibrated.
pub const MAX_GROUP: usize = 4;

/// The fitted time model of one preset at one head dimension.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Calibration {
    pub preset: &'static str,
    pub dim: usize,
    pub own_pu_clock: bool,
    /// Tokens the calibration device held.
    pub tokens: usize,
    /// ps = coef . [1, a, b, c, g - 1] (see the module doc).
    pub coef: [f64; TERMS],
    /// The RUs' share of a run, which depends only on the group size g at one head dimension:
    /// `reduce_ps[0] + (g - 1) reduce_ps[1]` (the reduction pipeline's fill, then one query
    /// per slowest stage).
    pub reduce_ps: [f64; 2],
    /// Largest and mean |predicted - RTL| / RTL over the held-out runs ...
    pub max_rel_err: f64,
    pub mean_rel_err: f64,
    /// ... and |sum predicted - sum RTL| / sum RTL over them (what a serving run adds up).
    pub total_rel_err: f64,
}

/// One flash die as the time model sees it.
#[derive(Clone, Copy, Debug, Default)]
struct Die {
    /// The page its register holds (or will hold once programmed).
    page: Option<u32>,
    /// The register holds writes not yet programmed.
    dirty: bool,
    /// Array time (ns) left of a program started by an earlier run.
    busy_ns: f64,
}

/// The timing state a flash device keeps between runs (`rtl/mem/pam_flash_die.sv`,
/// `pam_flash_channel.sv`, `SsdDevSim`): each die's page register and array. A run starts
/// a program on every die whose register holds writes and does not wait for dies it does not
/// read, so a program can still hold its die in the next run; a die's first page read is
/// skipped when its register holds that page; a write waits until its die is idle.
#[derive(Clone, Debug, Default)]
struct FlashDies {
    dies: HashMap<(u16, u16), Die>,
}

impl FlashDies {
    fn elapse(&mut self, ns: f64) {
        self.dies.values_mut().for_each(|d| d.busy_ns = (d.busy_ns - ns).max(0.0));
    }

    /// A token was written at `loc` of a device of `preset` (DRAM: nothing to track).
    fn write(&mut self, preset: &TierPreset, loc: &PhysLoc) {
        let Some(p) = preset.as_flash() else { return };
        let d = self.dies.entry((loc.bank_group, loc.bank)).or_default();
        // A write to another page first programs the register's writes, waiting for both.
        let wait = d.busy_ns + if d.dirty && d.page != Some(loc.row) { p.t_prog_ns } else { 0.0 };
        *d = Die { page: Some(loc.row), dirty: true, busy_ns: 0.0 };
        self.elapse(wait);
    }

    fn clear(&mut self) {
        self.dies.clear();
    }

    /// Array time (ns) of the busiest die the run over `tokens` reads. Starts the programs;
    /// [`Self::finish`] completes the run.
    fn start(&mut self, p: &FlashPreset, tokens: &[PhysLoc]) -> f64 {
        for d in self.dies.values_mut().filter(|d| d.dirty) {
            d.busy_ns += p.t_prog_ns;
            d.dirty = false;
        }
        let mut busy: HashMap<(u16, u16), f64> = HashMap::new();
        for ch in flash_pages(p, tokens) {
            for ((die, page), toks) in ch {
                let key = (toks[0].bank_group, die as u16);
                let d = self.dies.entry(key).or_default();
                let first = !busy.contains_key(&key);
                let t = busy.entry(key).or_insert(d.busy_ns);
                if !(first && d.page == Some(page as u32)) {
                    *t += p.t_r_ns;
                }
                d.page = Some(page as u32);
            }
        }
        for key in busy.keys() {
            if let Some(d) = self.dies.get_mut(key) {
                d.busy_ns = 0.0;
            }
        }
        busy.values().copied().fold(0.0, f64::max)
    }

    /// The run took `ns`: programs of dies it did not read went on meanwhile.
    fn finish(&mut self, ns: f64) {
        self.elapse(ns);
    }
}

/// The features of a run of `tokens` (in `per_pu` stream order) for `g` queries; `dies` is
/// the device's timing state, which the run starts.
fn features(
    preset: &TierPreset,
    dies: &mut FlashDies,
    tokens: &[PhysLoc],
    per_pu: &[Vec<PhysLoc>],
    g: usize,
) -> [f64; TERMS] {
    let busiest_pu = per_pu.iter().map(Vec::len).max().unwrap_or(0) as f64;
    // DRAM: rows opened and column slots read; flash: the busiest die's array time and the
    // busiest channel's tokens.
    let (a, b) = match preset.as_flash() {
        None => {
            let rows: HashSet<u32> = tokens.iter().map(|l| l.row).collect();
            let slots: HashSet<(u32, u32)> = tokens.iter().map(|l| (l.row, l.col)).collect();
            (rows.len() as f64, slots.len() as f64)
        }
        Some(p) => {
            let mut per_channel = vec![0usize; p.channels];
            for l in tokens {
                per_channel[l.bank_group as usize] += 1;
            }
            (dies.start(p, tokens), per_channel.iter().copied().max().unwrap_or(0) as f64)
        }
    };
    [1.0, a, b, busiest_pu, g.saturating_sub(1) as f64]
}

/// Least squares with a tiny ridge (the DRAM features can be nearly collinear); also the
/// full-size model's fit (`crate::serve::pim`).
pub fn fit(rows: &[[f64; TERMS]], ys: &[f64]) -> [f64; TERMS] {
    let mut a = [[0.0; TERMS + 1]; TERMS];
    for (x, y) in rows.iter().zip(ys) {
        for i in 0..TERMS {
            for j in 0..TERMS {
                a[i][j] += x[i] * x[j];
            }
            a[i][TERMS] += x[i] * y;
        }
    }
    // Each term's own scale: a feature that is always 0 (a DRAM-only term on flash) gets a
    // coefficient of 0 instead of a singular system.
    for (i, row) in a.iter_mut().enumerate() {
        row[i] = row[i] * (1.0 + 1e-9) + 1e-12;
    }
    // Gauss-Jordan with partial pivoting.
    for c in 0..TERMS {
        let p = (c..TERMS).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap_or(c);
        a.swap(c, p);
        let d = a[c][c];
        if d.abs() < f64::MIN_POSITIVE {
            continue;
        }
        a[c].iter_mut().for_each(|x| *x /= d);
        let pivot = a[c];
        for (_, row) in a.iter_mut().enumerate().filter(|(r, _)| *r != c) {
            let f = row[c];
            row.iter_mut().zip(&pivot).for_each(|(x, p)| *x -= f * p);
        }
    }
    std::array::from_fn(|i| a[i][TERMS])
}

impl Calibration {
    /// Measures the RTL of `preset` at head dimension `dim` (PUs on their own clock when
    /// `own_pu_clock`, as the system runs them) and fits the time model. `seed` draws the
    /// tokens, subsets and groups.
    pub fn measure(preset: &TierPreset, dim: usize, own_pu_clock: bool, seed: u64) -> Result<Self, SimError> {
        let mut dev = if own_pu_clock { preset.open_with_pu_clock(None)? } else { preset.open(None)? };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut placer = preset.placer(dim)?;
        // Tokens over as many rows and pages as a decode run's churn spreads them, at most
        // what the device holds.
        let n = preset.calibration_tokens().min(preset.capacity(dim)?);
        let stored = write_random_tokens(&mut dev, &mut rng, n, dim, |rng| placer.place(rng))?;
        let mut dies = FlashDies::default();
        for (loc, _) in &stored {
            dies.write(preset, loc);
        }
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        let mut reduces = Vec::new();
        for i in 0..FIT_RUNS + CHECK_RUNS {
            // From a cold cache, from the registers the last run left, or after fresh writes.
            match rng.random_range(0..3) {
                0 => {
                    dev.memory().drop_caches()?;
                    dies.clear();
                }
                1 => {}
                _ => {
                    for _ in 0..rng.random_range(1..=4) {
                        let (loc, k) = &stored[rng.random_range(0..n)];
                        dev.write_token(loc, k, k)?;
                        dies.write(preset, loc);
                    }
                }
            }
            // Sizes log-uniform from one token to all of them.
            let count = ((n as f64).ln() * rng.random::<f64>()).exp().round() as usize;
            let subset: Vec<PhysLoc> =
                sample(&mut rng, n, count.clamp(1, n)).into_iter().map(|j| stored[j].0).collect();
            // Every group size in turn, fitted and held out alike.
            let g = 1 + i % MAX_GROUP;
            let qs: Vec<Vec<u16>> =
                (0..g).map(|_| (0..dim).map(|_| fp16_of(rng.random_range(-0.2..0.2))).collect()).collect();
            dev.load_queries(&qs)?;
            let run = dev.run(&subset)?;
            xs.push(features(preset, &mut dies, &subset, &preset.stream_order(&subset, dim), g));
            ys.push(run.ps as f64);
            reduces.push((g, run.reduce_ps as f64));
            dies.finish(run.ps as f64 / 1e3);
        }
        let coef = fit(&xs[..FIT_RUNS], &ys[..FIT_RUNS]);
        let predicted: Vec<f64> = xs[FIT_RUNS..].iter().map(|x| predict(&coef, x)).collect();
        let measured = &ys[FIT_RUNS..];
        let errs: Vec<f64> = predicted.iter().zip(measured).map(|(p, y)| (p - y).abs() / y.max(1.0)).collect();
        let (sum_p, sum_y) = (predicted.iter().sum::<f64>(), measured.iter().sum::<f64>());
        Ok(Calibration {
            preset: preset.name(),
            dim,
            own_pu_clock,
            tokens: n,
            coef,
            reduce_ps: reduce_fit(&reduces),
            max_rel_err: errs.iter().copied().fold(0.0, f64::max),
            mean_rel_err: errs.iter().sum::<f64>() / errs.len() as f64,
            total_rel_err: (sum_p - sum_y).abs() / sum_y.max(1.0),
        })
    }
}

/// The reduction time of one query and of each further one, from (g, ps) pairs: the mean at
/// g = 1, and the mean slope above it (the calibration draws g from 1..=MAX_GROUP).
fn reduce_fit(runs: &[(usize, f64)]) -> [f64; 2] {
    let mean = |it: &mut dyn Iterator<Item = f64>| {
        let v: Vec<f64> = it.collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let one = mean(&mut runs.iter().filter(|r| r.0 == 1).map(|r| r.1));
    let next = mean(&mut runs.iter().filter(|r| r.0 > 1).map(|r| (r.1 - one) / (r.0 - 1) as f64));
    [one, next]
}

fn predict(coef: &[f64; TERMS], x: &[f64; TERMS]) -> f64 {
    coef.iter().zip(x).map(|(c, v)| c * v).sum()
}

/// A device of the calibrated model: stores tokens, computes partials with the golden model
/// in the RTL's stream order, and times runs with its [`Calibration`].
pub struct CalibratedDevice {
    preset: TierPreset,
    cal: std::sync::Arc<Calibration>,
    store: HashMap<PhysLoc, (Vec<u16>, Vec<u16>)>,
    dies: FlashDies,
    qs: Vec<Vec<u16>>,
}

impl CalibratedDevice {
    pub fn new(preset: TierPreset, cal: std::sync::Arc<Calibration>) -> Self {
        CalibratedDevice { preset, cal, store: HashMap::new(), dies: FlashDies::default(), qs: Vec::new() }
    }

    fn lanes_and_pus_per_ru(&self) -> (usize, usize) {
        (self.preset.pu_lanes(), self.preset.pus_per_ru())
    }
}

impl AttentionDevice for CalibratedDevice {
    fn write_token(&mut self, loc: &PhysLoc, k: &[u16], v: &[u16]) -> Result<(), SimError> {
        if k.len() != self.cal.dim || v.len() != self.cal.dim {
            return Err(SimError::Input(format!(
                "{}: a token of dimension {}/{} in a model calibrated at {}",
                self.cal.preset,
                k.len(),
                v.len(),
                self.cal.dim
            )));
        }
        self.store.insert(*loc, (k.to_vec(), v.to_vec()));
        self.dies.write(&self.preset, loc);
        Ok(())
    }

    fn read_token(&mut self, loc: &PhysLoc, dim: usize) -> Result<(Vec<u16>, Vec<u16>), SimError> {
        match self.store.get(loc) {
            Some((k, v)) if k.len() == dim => Ok((k.clone(), v.clone())),
            _ => Err(SimError::Input(format!("{}: no token of dimension {dim} at {loc:?}", self.cal.preset))),
        }
    }

    fn load_queries(&mut self, qs: &[Vec<u16>]) -> Result<(), SimError> {
        if qs.is_empty() || qs.iter().any(|q| q.len() != self.cal.dim) {
            return Err(SimError::Input(format!(
                "{}: a query group must be one or more queries of dimension {}",
                self.cal.preset, self.cal.dim
            )));
        }
        self.qs = qs.to_vec();
        Ok(())
    }

    fn run(&mut self, tokens: &[PhysLoc]) -> Result<DeviceRun, SimError> {
        if self.qs.is_empty() {
            return Err(SimError::Input("device run before any query was loaded".into()));
        }
        if let Some(l) = tokens.iter().find(|l| !self.store.contains_key(l)) {
            return Err(SimError::Input(format!("{}: no token at {l:?}", self.cal.preset)));
        }
        let per_pu = self.preset.stream_order(tokens, self.cal.dim);
        let (lanes, per_ru) = self.lanes_and_pus_per_ru();
        let store = &self.store;
        let per_pu_kv: Vec<Vec<(&[u16], &[u16])>> = per_pu
            .iter()
            .map(|ls| {
                ls.iter()
                    .map(|l| {
                        let (k, v) = &store[l];
                        (k.as_slice(), v.as_slice())
                    })
                    .collect()
            })
            .collect();
        let mut partials = Vec::with_capacity(self.qs.len());
        let mut err = false;
        for q in &self.qs {
            let (p, e) = dram_device_attention(q, lanes, per_ru, &per_pu_kv);
            err |= e;
            partials.push(p);
        }
        let x = features(&self.preset, &mut self.dies, tokens, &per_pu, self.qs.len());
        let ps = predict(&self.cal.coef, &x).max(0.0);
        self.dies.finish(ps / 1e3);
        Ok(DeviceRun {
            partials,
            cycles: RunBreakdown::default(),
            ps: ps.round() as Ps,
            reduce_ps: (self.cal.reduce_ps[0] + (self.qs.len() - 1) as f64 * self.cal.reduce_ps[1]).round() as Ps,
            tokens_per_pu: per_pu.iter().map(Vec::len).collect(),
            err,
        })
    }

    fn golden(&self, q: &[u16], tokens: &[PhysLoc], kv: KvOf) -> Partial {
        let per_pu: Vec<Vec<(&[u16], &[u16])>> =
            self.preset.stream_order(tokens, q.len()).iter().map(|ls| ls.iter().map(kv).collect()).collect();
        let (lanes, per_ru) = self.lanes_and_pus_per_ru();
        dram_device_attention(q, lanes, per_ru, &per_pu).0
    }

    fn drop_caches(&mut self) -> Result<(), SimError> {
        self.dies.clear();
        Ok(())
    }

    fn counts(&self) -> Option<CommandCounts> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_recovers_a_linear_model() {
        let truth = [100.0, 3.0, 0.5, 7.0, 20.0];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let xs: Vec<[f64; TERMS]> = (0..30)
            .map(|_| [1.0, rng.random_range(0.0..50.0), rng.random_range(0.0..400.0), rng.random_range(0.0..90.0), 3.0])
            .map(|mut x| {
                x[4] = (x[1] as usize % 4) as f64;
                x
            })
            .collect();
        let ys: Vec<f64> = xs.iter().map(|x| predict(&truth, x)).collect();
        let c = fit(&xs, &ys);
        for (a, b) in c.iter().zip(&truth) {
            assert!((a - b).abs() < 1e-4 * b.abs().max(1.0), "{c:?} vs {truth:?}");
        }
    }
}
