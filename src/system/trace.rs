//! A transaction-level waveform of decode steps (VCD) and the GTKWave view that opens it: the
//! tiers' devices working in parallel on each query, the links, the final merge in the merging
//! tier, and the step's migrations overlapping them. The signals follow the system's tier
//! list (`<tier>_busy`, `<tier>_tokens` per tier, one `link_busy` bit per tier), so the view is
//! rendered with the trace ([`StepTrace::view`]) rather than shipped.
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

/// A signal of the trace that is not per tier.
#[derive(Clone, Copy)]
pub enum Sig {
    Step,
    Query,
    Merge,
    Migrating,
}

/// One decode step's events over `tiers` tiers. Signal indices: step, query, then per tier
/// its busy bit and its token count, then the links, the merge and migration.
pub struct StepTrace {
    /// Per tier: its key (`hbm`, `ddr`, ...) and its link's name.
    tiers: Vec<(String, String)>,
    /// The merging tier's key.
    merging: String,
    events: Vec<(Ps, usize, u64)>,
}

impl StepTrace {
    /// A trace of tiers named `tiers` (key, link name), fastest first, merging in `merging`.
    pub fn new(tiers: Vec<(String, String)>, merging: usize) -> Self {
        let merging = tiers.get(merging).map_or_else(String::new, |t| t.0.clone());
        StepTrace { tiers, merging, events: Vec::new() }
    }

    fn links(&self) -> usize {
        2 + 2 * self.tiers.len()
    }

    fn index(&self, sig: Sig) -> usize {
        match sig {
            Sig::Step => 0,
            Sig::Query => 1,
            Sig::Merge => self.links() + 1,
            Sig::Migrating => self.links() + 2,
        }
    }

    /// Every signal: (name, width), in index order.
    fn signals(&self) -> Vec<(String, u32)> {
        let mut s = vec![("step".to_string(), 32), ("query".to_string(), 32)];
        for (key, _) in &self.tiers {
            s.push((format!("{key}_busy"), 1));
            s.push((format!("{key}_tokens"), 32));
        }
        s.push(("link_busy".into(), self.tiers.len() as u32));
        s.push(("merge_busy".into(), 1));
        s.push(("migrating".into(), 1));
        s
    }

    pub fn set(&mut self, at: Ps, sig: Sig, value: u64) {
        let i = self.index(sig);
        self.events.push((at, i, value));
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

    /// Tier `t` busy from `from` to `to` on `tokens` tokens.
    fn tier(&mut self, t: usize, from: Ps, to: Ps, tokens: u64) {
        self.events.push((from, 2 + 2 * t, 1));
        self.events.push((from, 3 + 2 * t, tokens));
        self.events.push((to, 2 + 2 * t, 0));
    }

    /// Tier `t`'s link carrying data from `from` to `to` (one bit per tier): the event's value
    /// is the tier's bit, plus one when the link goes idle.
    fn link(&mut self, t: usize, from: Ps, to: Ps) {
        let links = self.links();
        self.events.push((from, links, (1u64 << t) << 1));
        self.events.push((to, links, ((1u64 << t) << 1) | 1));
    }

    /// The VCD text. Link bits are combined from their set/clear events.
    pub fn render(&self) -> String {
        let signals = self.signals();
        let links = self.links();
        let mut ev = self.events.clone();
        ev.sort_by_key(|e| e.0);
        let mut o = String::new();
        let _ = writeln!(o, "$timescale 1ps $end\n$scope module pam $end");
        for (i, (name, w)) in signals.iter().enumerate() {
            let _ = writeln!(o, "$var wire {w} s{i} {name} $end");
        }
        let _ = writeln!(o, "$upscope $end\n$enddefinitions $end");
        let value = |w: u32, v: u64| if w == 1 { format!("{v}") } else { format!("b{v:b} ") };
        let _ = writeln!(o, "#0");
        for (i, (_, w)) in signals.iter().enumerate() {
            let _ = writeln!(o, "{}s{i}", value(*w, 0));
        }
        let mut busy = 0u64;
        let mut last = 0;
        for (t, i, v) in ev {
            if t != last {
                let _ = writeln!(o, "#{t}");
                last = t;
            }
            let v = if i == links {
                let bit = v >> 1;
                busy = if v & 1 == 1 { busy & !bit } else { busy | bit };
                busy
            } else {
                v
            };
            let _ = writeln!(o, "{}s{i}", value(signals[i].1, v));
        }
        o
    }

    /// The GTKWave view of this trace, for the dump at `vcd` (named in its header).
    pub fn view(&self, vcd: &Path) -> String {
        let n = self.tiers.len();
        let range = |w: u32| if w == 1 { String::new() } else { format!("[{}:0]", w - 1) };
        let links: Vec<String> = self.tiers.iter().enumerate().map(|(i, (_, l))| format!("bit {i} {l}")).collect();
        let mut o = String::new();
        let _ = writeln!(
            o,
            "[*] pam: one decode step of the PAM system over {n} tiers (pam run --waves writes {}): every\n\
             [*] query group's tiers working in parallel (a tier of several devices shows its slowest), their\n\
             [*] links, the final merges in the {} tier's RU, and the step's migrations overlapping attention.\n\
             [*] query: index of the group's first query. open with: gtkwave {} {}\n\
             [*] link_busy: {} (queries out, partials back).",
            vcd.display(),
            self.merging,
            vcd.display(),
            vcd.with_extension("gtkw").display(),
            links.join(", ")
        );
        o.push_str(
            "[timestart] 0\n[size] 1600 900\n[pos] -1 -1\n*-29.000000 0 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1\n\
             [treeopen] pam.\n[sst_width] 220\n[signals_width] 240\n[sst_expanded] 1\n[sst_vpaned_height] 300\n",
        );
        let group = |o: &mut String, name: &str, body: &str| {
            let _ = write!(o, "@800200\n-{name}\n{body}@1000200\n-{name}\n");
        };
        group(&mut o, "Step", "@24\npam.step[31:0]\npam.query[31:0]\n@28\npam.migrating\n");
        let tiers: String =
            self.tiers.iter().map(|(k, _)| format!("@28\npam.{k}_busy\n@24\npam.{k}_tokens[31:0]\n")).collect();
        group(
            &mut o,
            "Tiers in parallel (busy: local attention in the device; tokens: attended by this query group)",
            &tiers,
        );
        group(
            &mut o,
            &format!("Links and the final merge ({} tier RU)", self.merging),
            &format!("@28\npam.link_busy{}\npam.merge_busy\n", range(n as u32)),
        );
        o.push_str("[pattern_trace] 1\n[pattern_trace] 0\n");
        o
    }

    /// Writes the VCD at `path` and its view beside it (`.gtkw`); returns the view's path.
    pub fn write(&self, path: &Path) -> std::io::Result<std::path::PathBuf> {
        std::fs::write(path, self.render())?;
        let view = path.with_extension("gtkw");
        std::fs::write(&view, self.view(path))?;
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_tiers_have_their_own_signals_and_link_bits() {
        let keys = ["hbm", "ddr", "cxl", "ssd"];
        let mut tr = StepTrace::new(keys.iter().map(|k| (k.to_string(), format!("{k} link"))).collect(), 0);
        tr.link(3, 10, 20);
        tr.link(0, 15, 30);
        tr.tier(3, 20, 40, 7);
        tr.set(40, Sig::Merge, 1);
        let vcd = tr.render();
        assert!(
            vcd.contains("$var wire 1 s8 ssd_busy $end") && vcd.contains("$var wire 4 s10 link_busy $end"),
            "{vcd}"
        );
        // ssd's link bit (8) at 10, hbm's joins at 15, ssd's leaves at 20, hbm's at 30.
        for (at, v) in [(10, "b1000 s10"), (15, "b1001 s10"), (20, "b1 s10"), (30, "b0 s10")] {
            let after = vcd.split(&format!("#{at}\n")).nth(1).unwrap_or_else(|| panic!("no #{at}: {vcd}"));
            assert!(after.lines().take_while(|l| !l.starts_with('#')).any(|l| l == v), "#{at}: {v} in {vcd}");
        }
        assert!(vcd.contains("1s11"), "merge is signal 11: {vcd}");
        let view = tr.view(Path::new("out/step.vcd"));
        for k in keys {
            assert!(view.contains(&format!("pam.{k}_busy\n")) && view.contains(&format!("pam.{k}_tokens[31:0]\n")));
        }
        assert!(view.contains("pam.link_busy[3:0]") && view.contains("bit 2 cxl link"), "{view}");
    }
}
