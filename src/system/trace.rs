//! A transaction-level waveform of decode steps (VCD, which GTKWave opens with
//! `waveforms/step.gtkw`): the tiers' devices working in parallel on each query, the links,
//! the final merge in the HBM tier, and the step's migrations overlapping them.
//!
//! The devices are separate models simulated one after the other; this trace puts each run
//! where it happens in the system's time: every tier starts when the query group has crossed
//! its link, and the merge starts when the slowest tier's partials are back. A tier of several
//! devices shows its slowest one.

use std::fmt::Write as _;
use std::path::Path;

use super::pamattention::GroupStep;
use crate::kernel::Ps;
use crate::kv::location::PhysLoc;

/// Signals of the trace: (name, width).
const SIGNALS: [(&str, u32); 11] = [
    ("step", 32),
    ("query", 32),
    ("hbm_busy", 1),
    ("hbm_tokens", 32),
    ("ddr_busy", 1),
    ("ddr_tokens", 32),
    ("ssd_busy", 1),
    ("ssd_tokens", 32),
    ("link_busy", 3),
    ("merge_busy", 1),
    ("migrating", 1),
];

/// Index of a signal in [`SIGNALS`].
#[derive(Clone, Copy)]
pub enum Sig {
    Step = 0,
    Query = 1,
    Merge = 9,
    Migrating = 10,
}

#[derive(Default)]
pub struct StepTrace {
    events: Vec<(Ps, usize, u64)>,
}

impl StepTrace {
    pub fn set(&mut self, at: Ps, sig: Sig, value: u64) {
        self.events.push((at, sig as usize, value));
    }

    /// Query group `query` (the index of its first query) attending from `at`: per tier, its
    /// slowest device's queries out, run and partials back; then the merge.
    pub fn group(&mut self, at: Ps, query: u64, r: &GroupStep, per_tier: &[Vec<PhysLoc>]) {
        self.set(at, Sig::Query, query);
        let mut slowest = 0;
        for (t, locs) in per_tier.iter().enumerate() {
            let Some(w) = r.slowest_in(t) else { continue };
            let (go, run) = (at + w.link_ps[0], at + w.link_ps[0] + w.run.ps);
            self.link(t, at, go);
            self.tier(t, go, run, locs.len() as u64);
            self.link(t, run, at + w.span_ps());
            slowest = slowest.max(w.span_ps());
        }
        self.set(at + slowest, Sig::Merge, 1);
        self.set(at + r.ps, Sig::Merge, 0);
    }

    /// Tier `t` (0 HBM, 1 DDR, 2 SSD) busy from `from` to `to` on `tokens` tokens.
    fn tier(&mut self, t: usize, from: Ps, to: Ps, tokens: u64) {
        self.events.push((from, 2 + 2 * t, 1));
        self.events.push((from, 3 + 2 * t, tokens));
        self.events.push((to, 2 + 2 * t, 0));
    }

    /// Tier `t`'s link carrying data from `from` to `to` (one bit per tier).
    fn link(&mut self, t: usize, from: Ps, to: Ps) {
        self.events.push((from, 8, 1 << (16 + t)));
        self.events.push((to, 8, 1 << (32 + t)));
    }

    /// The VCD text. Link bits are combined from their set/clear events.
    pub fn render(&self) -> String {
        let mut ev = self.events.clone();
        ev.sort_by_key(|e| e.0);
        let mut o = String::new();
        let _ = writeln!(o, "$timescale 1ps $end\n$scope module pam $end");
        for (i, (name, w)) in SIGNALS.iter().enumerate() {
            let _ = writeln!(o, "$var wire {w} s{i} {name} $end");
        }
        let _ = writeln!(o, "$upscope $end\n$enddefinitions $end");
        let value = |w: u32, v: u64| if w == 1 { format!("{v}") } else { format!("b{v:b} ") };
        let _ = writeln!(o, "#0");
        for (i, (_, w)) in SIGNALS.iter().enumerate() {
            let _ = writeln!(o, "{}s{i}", value(*w, 0));
        }
        let mut links = 0u64;
        let mut last = 0;
        for (t, i, v) in ev {
            if t != last {
                let _ = writeln!(o, "#{t}");
                last = t;
            }
            let v = if i == 8 {
                links = (links | (v >> 16) & 7) & !((v >> 32) & 7);
                links
            } else {
                v
            };
            let _ = writeln!(o, "{}s{i}", value(SIGNALS[i].1, v));
        }
        o
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.render())
    }
}
