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
                let packed_pages = ceil_div(ceil_div(n_ch, dies), per_page);
                let s_pages = stored.map_or(0, |s| ceil_div(ceil_div(ceil_div(s, channels), dies), per_page));
                let pages = touched(packed_pages, s_pages, per_page).max(1.0);
                let per_page_ns = (n_ch as f64 / dies.min(n_ch.max(1)) as f64 / pages) * token_ns;
                // The PU folds a token in 16 clocks while the bus takes hundreds of ns to bring
                // it: flash time has no PU term (its feature is 0, its coefficient 0).
                let _ = busiest;
                [
                    1.0,
                    channel_pipeline_ns(dies.min(n_ch.max(1)), pages.ceil() as u64, per_page_ns, t_r_ns),
                    n_ch as f64,
                    0.0,
                    gm1,
                ]
            }
        }
    }
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
