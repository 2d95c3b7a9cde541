//! The full-size time model of a tier's device: the features of a load at any geometry
//! (Verilated or reference), the RU merge trees, and the fitted coefficients applied to them.
//! Pure arithmetic, no RTL: [`super::calibrate`] measures what it needs.
//!
//! The derivation is in the parent module's documentation ([`super`]).

use serde::{Deserialize, Serialize};

use crate::device::calibrated::TERMS;
use crate::device::tier::TierPreset;
use crate::kernel::clock::Clock;

/// A device geometry as the time model sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Geometry {
    /// `channels` independent command buses, each streaming its bank groups in all-bank
    /// lockstep; a slot holds one token per PU of the channel, a row `slots_per_row` slots.
    Dram { channels: u64, bank_groups: u64, pus_per_group: u64, slots_per_row: u64 },
    /// `channels` flash channels of `dies` dies; a page holds `per_page` tokens; a channel's
    /// PUs take a page's tokens in turn; a token crosses the channel bus in `token_ns` (its
    /// beats at the compute cap's spacing), a page read takes `t_r_ns`.
    Flash { channels: u64, dies: u64, per_page: u64, pus_per_channel: u64, t_r_ns: f64, token_ns: f64 },
}

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}

impl Geometry {
    /// The geometry of `preset` for tokens of head dimension `dim`; the error says why the
    /// tokens do not fit.
    pub fn of(preset: &TierPreset, dim: usize) -> Result<Geometry, String> {
        preset.fits(dim)?;
        if let Some(d) = preset.as_dram() {
            let s = d.shape(dim);
            Ok(Geometry::Dram {
                channels: d.channels as u64,
                bank_groups: d.bank_groups as u64,
                pus_per_group: s.pus_per_group() as u64,
                slots_per_row: s.slots_per_row() as u64,
            })
        } else if let Some(f) = preset.as_flash() {
            Ok(Geometry::Flash {
                channels: f.channels as u64,
                dies: f.dies_per_channel as u64,
                per_page: (f.page_bytes / f.token_bytes(dim)) as u64,
                pus_per_channel: f.pus_per_channel as u64,
                t_r_ns: f.t_r_ns,
                token_ns: (f.token_beats(dim) as u64 * f.cap_xfer_gap() as u64) as f64 * f.tck_ps() / 1e3,
            })
        } else {
            Err(format!("preset {}: neither DRAM nor flash", preset.name()))
        }
    }

    /// PUs of the whole device.
    pub fn pus(&self) -> u64 {
        match *self {
            Geometry::Dram { channels, bank_groups, pus_per_group, .. } => channels * bank_groups * pus_per_group,
            Geometry::Flash { channels, pus_per_channel, .. } => channels * pus_per_channel,
        }
    }

    /// PUs per first-level RU (bank group, flash channel).
    pub fn pus_per_ru(&self) -> u64 {
        match *self {
            Geometry::Dram { pus_per_group, .. } => pus_per_group,
            Geometry::Flash { pus_per_channel, .. } => pus_per_channel,
        }
    }

    /// First-level RUs of the whole device: their partials are what the device level merges.
    pub fn first_level_rus(&self) -> u64 {
        match *self {
            Geometry::Dram { channels, bank_groups, .. } => channels * bank_groups,
            Geometry::Flash { channels, .. } => channels,
        }
    }

    /// The fitted model's features `[1, a, b, c, g - 1]` (see `device::calibrated`) of a run
    /// over `n` token-vectors of one device for `g` queries, the busiest PU holding
    /// `busiest_pu` of them (at least the balanced share). `stored`: `None` when the tokens
    /// are packed (they fill slots / pages one after the other, spread evenly over channels
    /// and bank groups, as the KV mapping places consecutive tokens); `Some(s)` when they are
    /// `n` drawn at random among `s` so packed (sparse attention), in expectation.
    pub fn features(&self, n: u64, busiest_pu: u64, stored: Option<u64>, g: u32) -> [f64; TERMS] {
        let busiest = busiest_pu.max(ceil_div(n, self.pus())) as f64;
        let gm1 = g.saturating_sub(1) as f64;
        // Of `units` stored units of `per_unit` tokens each, those holding at least one of
        // the attended tokens: all of them when packed, else 1 - (1 - f)^per_unit of them.
        let touched = |packed_units: u64, stored_units: u64, per_unit: u64| -> f64 {
            match stored {
                None => packed_units as f64,
                Some(s) => {
                    let f = (n as f64 / s.max(1) as f64).min(1.0);
                    stored_units as f64 * (1.0 - (1.0 - f).powf(per_unit as f64))
                }
            }
        };
        match *self {
            Geometry::Dram { channels, bank_groups, pus_per_group, slots_per_row } => {
                let per_slot = bank_groups * pus_per_group;
                // Packed: the mapping spreads a channel's tokens over its bank groups, each
                // group filling slot after slot across its PUs; every group uses the same
                // (row, column) slots, so the channel streams the busiest group's slots.
                let packed_slots = ceil_div(ceil_div(ceil_div(n, channels), bank_groups), pus_per_group);
                let s_slots = stored.map_or(0, |s| ceil_div(ceil_div(s, channels), per_slot));
                // A slot feeds each PU one token: the busiest PU needs that many.
                let slots = touched(packed_slots, s_slots, per_slot).max(busiest);
                let rows = match stored {
                    None => (slots / slots_per_row as f64).ceil(),
                    Some(_) => touched(0, ceil_div(s_slots, slots_per_row), per_slot * slots_per_row)
                        .max(slots / slots_per_row as f64),
                };
                [1.0, rows, slots, busiest, gm1]
            }
            Geometry::Flash { channels, dies, per_page, t_r_ns, token_ns, .. } => {
                // The FTL deals a channel's tokens over its dies in turn, each die filling
                // page after page; every page is read cold (a tR: the other layers and heads
                // of a step have used the page registers since).
                let n_ch = ceil_div(n, channels);
                let pipeline = match stored {
                    None => {
                        let dies = dies.min(n_ch.max(1));
                        let pages = ceil_div(ceil_div(n_ch, dies), per_page).max(1);
                        let per_page_ns = n_ch as f64 / dies as f64 / pages as f64 * token_ns;
                        channel_pipeline_ns(dies, pages, per_page_ns, t_r_ns)
                    }
                    Some(s) => sparse_flash_ns(channels, dies, per_page, t_r_ns, token_ns, n, s),
                };
                // The PU folds a token in 16 clocks while the bus takes hundreds of ns to bring
                // it: flash time has no PU term (its feature is 0, its coefficient 0).
                let _ = busiest;
                [1.0, pipeline, n_ch as f64, 0.0, gm1]
            }
        }
    }
}

/// The expected time (ns) of the slowest flash channel when `n` token-vectors are drawn at
/// random among `s` packed ones (sparse attention). Random draws load the dies unevenly, and
/// the slowest channel is the one with the busiest die (it reads one page after another: a
/// tR and a transfer each) or the most tokens on its bus, so the expected pipeline of evenly
/// loaded dies (the mean pages per die) is a lower bound the unevenness lifts. The bounds,
/// each in expectation over the device's dies (channels):
/// * the busiest die's pages, each a tR and its share of the transfers, its last page
///   waiting for the other dies' transfers of that round;
/// * the die with the most tokens: the mean pages' tRs, its tokens on the bus;
/// * the channel with the most tokens: one tR, then its tokens back to back on the bus.
///
/// The maxima are the expected maxima of binomials over the dies ([`expected_max`]); `pam
/// serve --rtl-check` compares them with the Verilated SSD.
fn sparse_flash_ns(channels: u64, dies: u64, per_page: u64, t_r_ns: f64, token_ns: f64, n: u64, s: u64) -> f64 {
    let f = (n as f64 / s.max(1) as f64).min(1.0);
    let dies = dies.min(ceil_div(s, channels)).max(1);
    let per_die = s as f64 / (channels * dies) as f64;
    // A die's stored pages: `full` full ones and maybe one holding `rest` tokens; a page of k
    // tokens holds an attended one with probability 1 - (1 - f)^k.
    let full = (per_die / per_page as f64).floor();
    let rest = per_die - full * per_page as f64;
    let touched = |k: f64| 1.0 - (1.0 - f).powf(k);
    let (q, q_rest) = (touched(per_page as f64), touched(rest));
    let mean_pages = (full * q + q_rest).max(1e-9);
    let page_ns = ceil_div(n, channels) as f64 / dies as f64 / mean_pages * token_ns;
    let even = {
        let lo = mean_pages.floor();
        let at = |r: f64| channel_pipeline_ns(dies, r as u64, page_ns, t_r_ns);
        at(lo) + (mean_pages - lo) * (at(lo + 1.0) - at(lo))
    };
    let count = channels * dies;
    let busiest_die_pages = expected_max(full as u64, q, q_rest, count).max(1.0);
    let by_pages = busiest_die_pages * (t_r_ns + page_ns) + (dies - 1) as f64 * page_ns;
    let busiest_die_tokens = expected_max(per_die.floor() as u64, f, 0.0, count);
    let by_die_tokens = mean_pages * t_r_ns + busiest_die_tokens * token_ns + (dies - 1) as f64 * page_ns;
    let busiest_channel_tokens = expected_max((s as f64 / channels as f64).floor() as u64, f, 0.0, channels);
    let by_bus = t_r_ns + busiest_channel_tokens * token_ns;
    even.max(by_pages).max(by_die_tokens).max(by_bus)
}

/// E[max of `count` independent X + Y], X ~ Binomial(m, q), Y ~ Bernoulli(extra): exactly,
/// over the binomial's range of +-12 standard deviations; past 20 of them (the full-size
/// devices) by the normal approximation, which is then within a fraction of one.
pub fn expected_max(m: u64, q: f64, extra: f64, count: u64) -> f64 {
    let (q, extra) = (q.clamp(0.0, 1.0), extra.clamp(0.0, 1.0));
    let (mean, sd) = (m as f64 * q, (m as f64 * q * (1.0 - q)).sqrt());
    if count <= 1 {
        return mean + extra;
    }
    if sd > 20.0 {
        let sd_all = (sd * sd + extra * (1.0 - extra)).sqrt();
        return mean + extra + sd_all * expected_max_normal(count);
    }
    // The binomial's pmf over [lo, hi], beyond which it holds less than 1e-30.
    let lo = (mean - 12.0 * sd - 1.0).floor().max(0.0) as u64;
    let hi = ((mean + 12.0 * sd + 1.0).ceil() as u64).min(m);
    let mut pmf = Vec::with_capacity((hi - lo + 1) as usize);
    if q <= 0.0 || q >= 1.0 {
        pmf.extend((lo..=hi).map(|k| f64::from(u8::from(k == if q <= 0.0 { 0 } else { m }))));
    } else {
        let (lq, lp) = (q.ln(), (1.0 - q).ln());
        pmf.extend((lo..=hi).map(|k| (ln_choose(m, k) + k as f64 * lq + (m - k) as f64 * lp).exp()));
    }
    let mut cdf = Vec::with_capacity(pmf.len());
    let mut acc = 0.0;
    for p in pmf {
        acc += p;
        cdf.push(acc.min(1.0));
    }
    // F of X + Y at k, for k in lo..=hi + 1.
    let at = |k: u64| -> f64 {
        let fx = |j: u64| if j < lo { 0.0 } else { cdf.get((j - lo) as usize).copied().unwrap_or(1.0) };
        extra * if k == 0 { 0.0 } else { fx(k - 1) } + (1.0 - extra) * fx(k)
    };
    // E[max] = sum over k >= 0 of P(max > k); every k below lo has P = 1.
    lo as f64 + (lo..=hi + 1).map(|k| 1.0 - at(k).powf(count as f64)).sum::<f64>()
}

/// E[max of `count` independent standard normals], by the trapezoid rule over [-9, 9]; a
/// serving run asks for the same few counts (the dies and channels of its SSDs) every step.
fn expected_max_normal(count: u64) -> f64 {
    thread_local! {
        static KNOWN: std::cell::RefCell<std::collections::HashMap<u64, f64>> = Default::default();
    }
    if let Some(e) = KNOWN.with(|k| k.borrow().get(&count).copied()) {
        return e;
    }
    let e = integrate_max_normal(count);
    KNOWN.with(|k| k.borrow_mut().insert(count, e));
    e
}

fn integrate_max_normal(count: u64) -> f64 {
    const STEP: f64 = 0.005;
    let nf = count as f64;
    let cdf_n = |x: f64| (0.5 * erfc(-x / std::f64::consts::SQRT_2)).powf(nf);
    // E[max] = integral over x > 0 of (1 - F^n) - integral over x < 0 of F^n.
    let steps = (9.0 / STEP) as usize;
    let mut sum = 0.0;
    for i in 0..=steps {
        let x = i as f64 * STEP;
        let w = if i == 0 || i == steps { 0.5 } else { 1.0 };
        sum += w * ((1.0 - cdf_n(x)) - cdf_n(-x));
    }
    sum * STEP
}

/// The complementary error function (Numerical Recipes' Chebyshev fit, relative error below
/// 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// ln(m choose k).
fn ln_choose(m: u64, k: u64) -> f64 {
    ln_factorial(m) - ln_factorial(k) - ln_factorial(m - k)
}

/// ln(n!): summed up to 256, Stirling's series beyond (error below 1e-12 there).
fn ln_factorial(n: u64) -> f64 {
    if n < 256 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let x = n as f64;
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x) - 1.0 / (360.0 * x * x * x)
}

/// Time (ns) a flash channel takes to stream `rounds` pages from each of `dies` dies, each
/// page `page_ns` on the bus, as the device's sequencer orders it (`SsdDevSim::stream_ops`):
/// every die's first page read starts at once; pages go round robin over the dies, a page's
/// transfer waiting for its die's read and for the bus; a die starts its next page read when
/// its page has been transferred (one page register). Exact for the first rounds, then the
/// last round's period repeats (the pipeline is periodic once every die has read a page).
pub fn channel_pipeline_ns(dies: u64, rounds: u64, page_ns: f64, t_r_ns: f64) -> f64 {
    const EXACT: u64 = 8;
    let mut ready = vec![t_r_ns; dies.max(1) as usize];
    let (mut bus, mut last_round) = (0.0f64, 0.0f64);
    let mut round_end = 0.0;
    for _ in 0..rounds.min(EXACT) {
        last_round = round_end;
        for r in ready.iter_mut() {
            bus = bus.max(*r) + page_ns;
            *r = bus + t_r_ns;
        }
        round_end = bus;
    }
    let period = round_end - last_round;
    round_end + rounds.saturating_sub(EXACT) as f64 * period
}

/// The RU's time to merge `n` partials (`pam_ru`, one head dimension), fitted on the RTL:
/// `fixed + n per_partial` cycles of the PU clock, `period_ps` each.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuLine {
    pub fixed_cycles: f64,
    pub per_partial_cycles: f64,
    /// The RU's clock (the tier's PU clock) as [`Clock`] rounds it.
    pub period_ps: f64,
    /// Largest |fit - RTL| over the measured merges, in cycles.
    pub max_resid_cycles: f64,
}

impl RuLine {
    /// One merge of `n` partials.
    pub fn merge_ps(&self, n: u64) -> f64 {
        (self.fixed_cycles + self.per_partial_cycles * n as f64) * self.period_ps
    }

    pub fn period_of(mhz: f64) -> f64 {
        Clock::from_mhz("pu", mhz).period_ps as f64
    }
}

/// One level of a merge tree: each of its RUs does `serial` merges of `fanin` partials, the
/// level's RUs working in parallel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Level {
    pub serial: u64,
    pub fanin: u64,
}

/// Time of a pipeline of merge levels for `g` queries: the first query passes every level,
/// each further one leaves a level's slowest stage later (the levels overlap, as
/// [`crate::device::pim::PimDevice`]'s first level reduces query i + 1 while its device RU
/// reduces query i).
pub fn pipeline_ps(levels: &[Level], ru: &RuLine, g: u32) -> f64 {
    let times: Vec<f64> = levels.iter().map(|l| l.serial as f64 * ru.merge_ps(l.fanin)).collect();
    let sum: f64 = times.iter().sum();
    let slowest = times.iter().copied().fold(0.0, f64::max);
    sum + g.saturating_sub(1) as f64 * slowest
}

/// The levels of a tree merging `n` partials with `rus` RUs at fan-in `f`.
fn tree_levels(n: u64, rus: u64, f: u64) -> Vec<Level> {
    let mut levels = Vec::new();
    let mut m = n;
    while m > 1 {
        let nodes = ceil_div(m, f);
        levels.push(Level { serial: ceil_div(nodes, rus), fanin: f.min(m) });
        m = nodes;
    }
    levels
}

/// The fastest tree merging `n` partials with `rus` RUs for `g` queries (fan-in chosen for
/// the least time: wide merges pay per partial, deep trees pay each level's fixed time).
pub fn best_tree(n: u64, rus: u64, ru: &RuLine, g: u32) -> (Vec<Level>, f64) {
    if n <= 1 {
        return (Vec::new(), 0.0);
    }
    (2..=n.min(256))
        .map(|f| {
            let l = tree_levels(n, rus, f);
            let t = pipeline_ps(&l, ru, g);
            (l, t)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or_default()
}

/// The merge structure of a device of geometry `geo` down to one partial per query.
/// `rtl`: the Verilated device's (every first-level RU merges its PUs, then one device RU
/// merges the first level, as `PimDevice` does); otherwise the full-size device's: the
/// first-level RUs, then the fastest tree of the device's `device_rus` RUs over their partials.
pub fn device_levels(geo: &Geometry, rtl: bool, device_rus: u64, ru: &RuLine, g: u32) -> Vec<Level> {
    let mut levels = vec![Level { serial: 1, fanin: geo.pus_per_ru() }];
    if rtl {
        levels.push(Level { serial: 1, fanin: geo.first_level_rus() });
    } else {
        levels.extend(best_tree(geo.first_level_rus(), device_rus, ru, g).0);
    }
    levels
}

/// ps = coef . x.
pub fn apply(coef: &[f64; TERMS], x: &[f64; TERMS]) -> f64 {
    coef.iter().zip(x).map(|(c, v)| c * v).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ru() -> RuLine {
        RuLine { fixed_cycles: 20.0, per_partial_cycles: 8.0, period_ps: 1000.0, max_resid_cycles: 0.0 }
    }

    #[test]
    fn packed_dram_features_follow_the_mapping() {
        // hbm3 at d = 128: 64 channels x 4 bank groups x 2 PUs, 4 slots a row.
        let g = Geometry::Dram { channels: 64, bank_groups: 4, pus_per_group: 2, slots_per_row: 4 };
        assert_eq!(g.pus(), 512);
        let x = g.features(512 * 10, 0, None, 1);
        assert_eq!(x, [1.0, 3.0, 10.0, 10.0, 0.0]);
        // An imbalanced busiest PU needs its own slots.
        let x = g.features(512 * 10, 25, None, 8);
        assert_eq!(x, [1.0, 7.0, 25.0, 25.0, 7.0]);
        // Sparse: 1/8 of a full store touches most slots of 8 tokens.
        let x = g.features(512 * 10, 0, Some(512 * 80), 1);
        let want = 80.0 * (1.0 - (7.0f64 / 8.0).powi(8));
        assert!((x[2] - want).abs() < 1e-9, "{x:?}");
        assert!(x[1] <= 20.0 && x[1] > 19.0, "{x:?}");
    }

    #[test]
    fn packed_flash_features_follow_the_ftl() {
        let g = Geometry::Flash {
            channels: 8,
            dies: 4,
            per_page: 32,
            pus_per_channel: 8,
            t_r_ns: 30_000.0,
            token_ns: 240.0,
        };
        let x = g.features(8 * 4 * 32 * 3, 0, None, 2);
        assert_eq!(x[2..], [384.0, 0.0, 1.0]);
        assert_eq!(x[1], channel_pipeline_ns(4, 3, 32.0 * 240.0, 30_000.0));
    }

    #[test]
    fn the_channel_pipeline_is_bus_or_read_bound() {
        // Bus-bound (4 dies x 10 us of transfers per 30 us read): one read, then the bus.
        assert_eq!(channel_pipeline_ns(4, 20, 10_000.0, 30_000.0), 30_000.0 + 80.0 * 10_000.0);
        // Read-bound (2 dies): each die alternates its read and its transfer.
        let t = channel_pipeline_ns(2, 20, 1_000.0, 30_000.0);
        assert_eq!(t, 20.0 * 31_000.0 + 1_000.0);
        // Long runs extrapolate the steady state exactly.
        assert_eq!(channel_pipeline_ns(2, 1000, 1_000.0, 30_000.0), 1000.0 * 31_000.0 + 1_000.0);
    }

    #[test]
    fn expected_maxima_of_binomials() {
        let close = |a: f64, b: f64, tol: f64| assert!((a - b).abs() <= tol, "{a} vs {b}");
        // One draw: the mean; a Bernoulli over n draws: 1 - (1 - q)^n.
        close(expected_max(40, 0.3, 0.5, 1), 12.5, 1e-12);
        close(expected_max(1, 0.5, 0.0, 3), 1.0 - 0.125, 1e-12);
        close(expected_max(0, 0.5, 0.25, 2), 1.0 - 0.75 * 0.75, 1e-12);
        // Two standard normals: 1 / sqrt(pi).
        close(expected_max_normal(2), 1.0 / std::f64::consts::PI.sqrt(), 1e-6);
        // Degenerate binomials have no spread.
        close(expected_max(30, 1.0, 0.0, 8), 30.0, 1e-12);
        close(expected_max(30, 0.0, 0.0, 8), 0.0, 1e-12);
        // The exact sum and the normal approximation meet where they switch (sd 20).
        let (m, q) = (1600, 0.5);
        let exact = expected_max(m, q, 0.0, 32);
        close(exact, 800.0 + 20.0 * expected_max_normal(32), 0.3);
        // Against counting: 4 dies of Binomial(3, 0.5), every outcome enumerated.
        let mut brute = 0.0;
        for bits in 0u32..1 << 12 {
            let dies = (0..4).map(|d| (bits >> (3 * d) & 7).count_ones()).max().unwrap_or(0);
            brute += f64::from(dies) / 4096.0;
        }
        close(expected_max(3, 0.5, 0.0, 4), brute, 1e-12);
    }

    #[test]
    fn sparse_flash_is_lifted_by_the_busiest_die() {
        // ssd-s: 4 channels x 2 dies, 32 tokens a page, read-bound.
        let g = Geometry::Flash {
            channels: 4,
            dies: 2,
            per_page: 32,
            pus_per_channel: 4,
            t_r_ns: 30_000.0,
            token_ns: 240.0,
        };
        // Every stored token attended: the packed pipeline.
        assert_eq!(g.features(2048, 0, Some(2048), 1)[1], g.features(2048, 0, None, 1)[1]);
        // 80 of 2000 touch about 5.8 of a die's 8 pages; the busiest of the 8 dies reads 7 or 8
        // (what the Verilated ssd-s measured: 183 to 244 us).
        let t = g.features(80, 0, Some(2000), 1)[1];
        assert!(t > 7.0 * 30_000.0 && t < 8.0 * 31_000.0, "{t}");
    }

    #[test]
    fn merge_trees() {
        let r = ru();
        assert_eq!(best_tree(1, 4, &r, 1).1, 0.0);
        // Two partials: one merge.
        assert_eq!(best_tree(2, 4, &r, 1).1, r.merge_ps(2));
        // 256 partials over 128 RUs: a deep tree beats one wide merge.
        let (levels, t) = best_tree(256, 128, &r, 1);
        assert!(t < r.merge_ps(256) && levels.len() > 1, "{levels:?}");
        // g queries pipeline through the slowest level.
        let l = [Level { serial: 1, fanin: 2 }, Level { serial: 1, fanin: 8 }];
        assert_eq!(pipeline_ps(&l, &r, 3), r.merge_ps(2) + r.merge_ps(8) + 2.0 * r.merge_ps(8));
    }
}
