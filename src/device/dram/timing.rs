//! DRAM timing and protocol rules over a command log, the software twin of
//! `rtl/mem/pam_dram_timing_check.sv`: [`check`] and the RTL checker report the same
//! violations (command and rule) bit for bit (`tests/dram_timing.rs`).
//!
//! # Model
//!
//! The PIM devices run in *all-bank lockstep* mode (like Samsung HBM-PIM's all-bank mode): a
//! command goes to one bank `(bg, bank)` or, with `all`, to every bank of the device at once
//! (one ACT opens the same row in every bank; one RD reads the same column in every bank, each
//! bank's data going to its own PU). A device channel has one command bus: at most one command
//! per clock. Timing values are in memory clocks; a rule "X -> Y >= tZ" requires
//! `cycle(Y) - cycle(X) >= tZ`.
//!
//! # Rules
//!
//! Per bank, for every bank a command addresses ([`Rule`] names the code):
//! * ACT: bank open -> [`Rule::ProtOpen`], else PRE -> ACT < tRP -> [`Rule::Rp`];
//!   ACT -> ACT < tRC -> [`Rule::Rc`].
//! * RD/WR: bank closed -> [`Rule::ProtClosed`], else ACT -> RD/WR < tRCD -> [`Rule::Rcd`].
//! * PRE, only on an open bank (PRE of a closed bank is a legal no-op): ACT -> PRE < tRAS ->
//!   [`Rule::Ras`], WR -> PRE < tWR -> [`Rule::Wr`], RD -> PRE < tRTP -> [`Rule::Rtp`]. All
//!   are command to command (tWR here includes the write latency and burst).
//! * REF (always every bank): bank open -> [`Rule::ProtRef`], else PRE -> REF < tRP ->
//!   [`Rule::Rp`].
//!
//! Per bus:
//! * any command but NOP within tRFC after a REF -> [`Rule::Rfc`];
//! * refresh: REF may be postponed by up to [`REF_POSTPONE`] intervals (as DDR4 and HBM3
//!   allow), so at most `(REF_POSTPONE + 1) * tREFI` clocks may pass between consecutive REFs,
//!   and between reset (cycle 0) and the first REF. Any command issued while that is exceeded
//!   (the late REF included) -> [`Rule::Refi`];
//! * ACT against the last ACT of each bank group: same group < tRRD_L -> [`Rule::RrdL`],
//!   other group < tRRD_S -> [`Rule::RrdS`]; a fifth ACT within tFAW -> [`Rule::Faw`];
//! * RD/WR against the last RD/WR of each bank group: same group < tCCD_L -> [`Rule::CcdL`],
//!   other group < tCCD_S -> [`Rule::CcdS`].
//!
//! All-bank commands: an all-bank ACT counts as **one** activation for tRRD and tFAW (in PIM
//! all-bank mode the power limit is enforced by the device compute cap, not by tFAW). An
//! all-bank ACT or RD/WR shares a bank group with every other command, so it is checked, and
//! later commands are checked against it, with the `_L` times.
//!
//! A violating command still takes effect as if it were legal (an ACT opens, a PRE closes the
//! open banks, every command updates its timestamps), so one mistake is reported once.

use std::collections::VecDeque;
use std::fmt;

/// Refresh postponement allowance, in refresh intervals (DDR4: up to 8 REFs postponed).
pub const REF_POSTPONE: u64 = 8;

/// Largest timing value the RTL takes (its timing inputs are 16 bits wide).
pub const TIMING_MAX: u32 = u16::MAX as u32;

/// DRAM timing in memory clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramTiming {
    /// tRCD: ACT -> RD/WR, same bank.
    pub rcd: u32,
    /// tRP: PRE -> ACT (and PRE -> REF), same bank.
    pub rp: u32,
    /// tRAS: ACT -> PRE, same bank.
    pub ras: u32,
    /// tRC: ACT -> ACT, same bank.
    pub rc: u32,
    /// tRRD_S: ACT -> ACT, different bank group.
    pub rrd_s: u32,
    /// tRRD_L: ACT -> ACT, same bank group.
    pub rrd_l: u32,
    /// tFAW: a window holding at most four ACTs.
    pub faw: u32,
    /// tCCD_S: RD/WR -> RD/WR, different bank group.
    pub ccd_s: u32,
    /// tCCD_L: RD/WR -> RD/WR, same bank group.
    pub ccd_l: u32,
    /// tWR: WR -> PRE, same bank (command to command).
    pub wr: u32,
    /// tRTP: RD -> PRE, same bank.
    pub rtp: u32,
    /// tREFI: average refresh interval.
    pub refi: u32,
    /// tRFC: REF -> any command.
    pub rfc: u32,
}

impl DramTiming {
    /// Every field with its Rust name and its JEDEC name, in the RTL's port order.
    pub fn fields(&self) -> [(&'static str, &'static str, u32); 13] {
        [
            ("rcd", "tRCD", self.rcd),
            ("rp", "tRP", self.rp),
            ("ras", "tRAS", self.ras),
            ("rc", "tRC", self.rc),
            ("rrd_s", "tRRD_S", self.rrd_s),
            ("rrd_l", "tRRD_L", self.rrd_l),
            ("faw", "tFAW", self.faw),
            ("ccd_s", "tCCD_S", self.ccd_s),
            ("ccd_l", "tCCD_L", self.ccd_l),
            ("wr", "tWR", self.wr),
            ("rtp", "tRTP", self.rtp),
            ("refi", "tREFI", self.refi),
            ("rfc", "tRFC", self.rfc),
        ]
    }

    /// Largest number of clocks allowed between consecutive REFs (and from reset to the first).
    pub fn refresh_deadline(&self) -> u64 {
        (REF_POSTPONE + 1) * self.refi as u64
    }

    /// Rejects timing that contradicts itself or that the RTL cannot take: every value must be
    /// in `1..=65535` clocks, and `tRC >= tRAS + tRP`, `tRAS >= tRCD`, `tCCD_L >= tCCD_S`,
    /// `tRRD_L >= tRRD_S`, `tREFI > tRFC`. The message names the field and what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        for (name, jedec, v) in self.fields() {
            if v == 0 {
                return Err(format!("timing {name} ({jedec}) = 0: must be at least 1 clock"));
            }
            if v > TIMING_MAX {
                return Err(format!(
                    "timing {name} ({jedec}) = {v}: must be at most {TIMING_MAX} clocks (16-bit RTL input)"
                ));
            }
        }
        let t = self;
        if (t.rc as u64) < t.ras as u64 + t.rp as u64 {
            return Err(format!(
                "timing rc (tRC) = {}: must be at least ras + rp = {} + {} = {} (a row cycle holds an \
                 activation and a precharge)",
                t.rc,
                t.ras,
                t.rp,
                t.ras as u64 + t.rp as u64
            ));
        }
        if t.ras < t.rcd {
            return Err(format!(
                "timing ras (tRAS) = {}: must be at least rcd (tRCD) = {} (a row stays open at least until \
                 it can be read)",
                t.ras, t.rcd
            ));
        }
        if t.ccd_l < t.ccd_s {
            return Err(format!(
                "timing ccd_l (tCCD_L) = {}: must be at least ccd_s (tCCD_S) = {} (same bank group is \
                 never faster than different groups)",
                t.ccd_l, t.ccd_s
            ));
        }
        if t.rrd_l < t.rrd_s {
            return Err(format!(
                "timing rrd_l (tRRD_L) = {}: must be at least rrd_s (tRRD_S) = {} (same bank group is \
                 never faster than different groups)",
                t.rrd_l, t.rrd_s
            ));
        }
        if t.refi <= t.rfc {
            return Err(format!(
                "timing refi (tREFI) = {}: must be greater than rfc (tRFC) = {} (a refresh must finish \
                 before the next is due)",
                t.refi, t.rfc
            ));
        }
        Ok(())
    }
}

/// A bus command (`dram_cmd_e` in `pam_mem_pkg`; the discriminant is the RTL code).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CmdKind {
    #[default]
    Nop = 0,
    Act = 1,
    Rd = 2,
    Wr = 3,
    /// Precharge one bank, or every open bank with `all`.
    Pre = 4,
    /// Refresh; always every bank.
    Ref = 5,
}

impl CmdKind {
    /// The RTL encoding.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// One command of a log. `bg` and `bank` are ignored when `all` is set and for REF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cmd {
    /// Clock of the command, counted from the first cycle out of reset (cycle 0).
    pub cycle: u64,
    pub kind: CmdKind,
    pub all: bool,
    pub bg: u16,
    pub bank: u16,
}

/// A rule of the checker (`dram_rule_e` in `pam_mem_pkg`). The discriminant is the RTL code,
/// and also the priority when one command breaks several rules (lowest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Rule {
    /// RD/WR to a closed bank.
    ProtClosed = 1,
    /// ACT to an open bank.
    ProtOpen = 2,
    /// REF while a bank is open.
    ProtRef = 3,
    /// Any command within tRFC after REF.
    Rfc = 4,
    /// ACT -> RD/WR < tRCD.
    Rcd = 5,
    /// ACT -> PRE < tRAS.
    Ras = 6,
    /// PRE -> ACT or PRE -> REF < tRP.
    Rp = 7,
    /// ACT -> ACT, same bank, < tRC.
    Rc = 8,
    /// WR -> PRE < tWR.
    Wr = 9,
    /// RD -> PRE < tRTP.
    Rtp = 10,
    /// ACT -> ACT, different bank group, < tRRD_S.
    RrdS = 11,
    /// ACT -> ACT, same bank group, < tRRD_L.
    RrdL = 12,
    /// A fifth ACT within tFAW.
    Faw = 13,
    /// RD/WR -> RD/WR, different bank group, < tCCD_S.
    CcdS = 14,
    /// RD/WR -> RD/WR, same bank group, < tCCD_L.
    CcdL = 15,
    /// A command while refresh is overdue (more than (REF_POSTPONE + 1) x tREFI since the last
    /// REF or reset).
    Refi = 16,
}

impl Rule {
    /// Every rule, in code order.
    pub const ALL: [Rule; 16] = [
        Rule::ProtClosed,
        Rule::ProtOpen,
        Rule::ProtRef,
        Rule::Rfc,
        Rule::Rcd,
        Rule::Ras,
        Rule::Rp,
        Rule::Rc,
        Rule::Wr,
        Rule::Rtp,
        Rule::RrdS,
        Rule::RrdL,
        Rule::Faw,
        Rule::CcdS,
        Rule::CcdL,
        Rule::Refi,
    ];

    /// The RTL code (`viol_kind_o`), 1..=16.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Rule> {
        Rule::ALL.get((code as usize).wrapping_sub(1)).copied()
    }

    /// Bit of the rule in a [`RuleSet`] (`viol_rules_o[code]`, so bit `code - 1`).
    pub fn bit(self) -> u32 {
        1 << (self.code() - 1)
    }

    /// The RTL name (`RULE_...` without the prefix).
    pub fn name(self) -> &'static str {
        match self {
            Rule::ProtClosed => "PROT_CLOSED",
            Rule::ProtOpen => "PROT_OPEN",
            Rule::ProtRef => "PROT_REF",
            Rule::Rfc => "RFC",
            Rule::Rcd => "RCD",
            Rule::Ras => "RAS",
            Rule::Rp => "RP",
            Rule::Rc => "RC",
            Rule::Wr => "WR",
            Rule::Rtp => "RTP",
            Rule::RrdS => "RRD_S",
            Rule::RrdL => "RRD_L",
            Rule::Faw => "FAW",
            Rule::CcdS => "CCD_S",
            Rule::CcdL => "CCD_L",
            Rule::Refi => "REFI",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The rules one command breaks: bit `code - 1` per rule, as the RTL's `viol_rules_o`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(pub u32);

impl RuleSet {
    pub fn insert(&mut self, r: Rule) {
        self.0 |= r.bit();
    }

    pub fn contains(self, r: Rule) -> bool {
        self.0 & r.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The rule the RTL's `viol_kind_o` names: the lowest code.
    pub fn first(self) -> Option<Rule> {
        self.iter().next()
    }

    /// The rules in code order.
    pub fn iter(self) -> impl Iterator<Item = Rule> {
        Rule::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

/// One broken rule: `log[index]` (at `cycle`) breaks `rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Violation {
    pub index: usize,
    pub cycle: u64,
    pub rule: Rule,
}

/// The checker's state, one command at a time (what [`check`] runs over a log). Timestamps are
/// cycles of the last event, `None` for never.
#[derive(Clone, Debug)]
pub struct Checker {
    t: DramTiming,
    nbg: usize,
    nbank: usize,
    open: Vec<bool>,
    act: Vec<Option<u64>>,
    pre: Vec<Option<u64>>,
    rd: Vec<Option<u64>>,
    wr: Vec<Option<u64>>,
    /// Last single-bank ACT and RD/WR per bank group, and the last all-bank ones.
    act_bg: Vec<Option<u64>>,
    act_all: Option<u64>,
    cas_bg: Vec<Option<u64>>,
    cas_all: Option<u64>,
    /// The last four ACTs, oldest first.
    faw: VecDeque<u64>,
    last_ref: Option<u64>,
    last_cycle: Option<u64>,
}

/// `now - last < t`: the event was too recent (never is long enough ago).
fn too_soon(last: Option<u64>, now: u64, t: u32) -> bool {
    last.is_some_and(|c| now - c < t as u64)
}

impl Checker {
    /// A checker for a device of `nbg` bank groups of `nbank` banks, just out of reset.
    pub fn new(t: &DramTiming, nbg: usize, nbank: usize) -> Self {
        assert!(nbg >= 1 && nbank >= 1, "a device needs at least one bank group and one bank");
        let nb = nbg * nbank;
        Checker {
            t: *t,
            nbg,
            nbank,
            open: vec![false; nb],
            act: vec![None; nb],
            pre: vec![None; nb],
            rd: vec![None; nb],
            wr: vec![None; nb],
            act_bg: vec![None; nbg],
            act_all: None,
            cas_bg: vec![None; nbg],
            cas_all: None,
            faw: VecDeque::with_capacity(5),
            last_ref: None,
            last_cycle: None,
        }
    }

    /// Which banks are open.
    pub fn open(&self) -> &[bool] {
        &self.open
    }

    /// Checks one command against the state and applies it (legal or not).
    ///
    /// # Panics
    /// When the command is not later than the previous one (one command per clock), or when a
    /// single-bank command's `bg` / `bank` is outside the device.
    pub fn step(&mut self, c: &Cmd) -> RuleSet {
        if let Some(prev) = self.last_cycle {
            assert!(c.cycle > prev, "command at cycle {} is not after the previous one ({prev})", c.cycle);
        }
        self.last_cycle = Some(c.cycle);
        let mut rules = RuleSet::default();
        if c.kind == CmdKind::Nop {
            return rules;
        }
        let every = c.all || c.kind == CmdKind::Ref;
        if !every {
            assert!(
                (c.bg as usize) < self.nbg && (c.bank as usize) < self.nbank,
                "command at cycle {} addresses bank group {} bank {} of a {}x{} device",
                c.cycle,
                c.bg,
                c.bank,
                self.nbg,
                self.nbank
            );
        }
        let (now, t) = (c.cycle, self.t);
        let banks: Vec<usize> = if every {
            (0..self.nbg * self.nbank).collect()
        } else {
            vec![c.bg as usize * self.nbank + c.bank as usize]
        };

        // Per bus.
        if too_soon(self.last_ref, now, t.rfc) {
            rules.insert(Rule::Rfc);
        }
        if now - self.last_ref.unwrap_or(0) > t.refresh_deadline() {
            rules.insert(Rule::Refi);
        }
        // Per bank.
        for &b in &banks {
            match c.kind {
                CmdKind::Act => {
                    if self.open[b] {
                        rules.insert(Rule::ProtOpen);
                    } else if too_soon(self.pre[b], now, t.rp) {
                        rules.insert(Rule::Rp);
                    }
                    if too_soon(self.act[b], now, t.rc) {
                        rules.insert(Rule::Rc);
                    }
                }
                CmdKind::Rd | CmdKind::Wr => {
                    if !self.open[b] {
                        rules.insert(Rule::ProtClosed);
                    } else if too_soon(self.act[b], now, t.rcd) {
                        rules.insert(Rule::Rcd);
                    }
                }
                CmdKind::Pre => {
                    if self.open[b] {
                        if too_soon(self.act[b], now, t.ras) {
                            rules.insert(Rule::Ras);
                        }
                        if too_soon(self.wr[b], now, t.wr) {
                            rules.insert(Rule::Wr);
                        }
                        if too_soon(self.rd[b], now, t.rtp) {
                            rules.insert(Rule::Rtp);
                        }
                    }
                }
                CmdKind::Ref => {
                    if self.open[b] {
                        rules.insert(Rule::ProtRef);
                    } else if too_soon(self.pre[b], now, t.rp) {
                        rules.insert(Rule::Rp);
                    }
                }
                CmdKind::Nop => {}
            }
        }
        // Bank-group spacing: an all-bank command shares a group with everything.
        let same_group = |g: usize| c.all || g == c.bg as usize;
        match c.kind {
            CmdKind::Act => {
                if too_soon(self.act_all, now, t.rrd_l) {
                    rules.insert(Rule::RrdL);
                }
                for g in 0..self.nbg {
                    if same_group(g) {
                        if too_soon(self.act_bg[g], now, t.rrd_l) {
                            rules.insert(Rule::RrdL);
                        }
                    } else if too_soon(self.act_bg[g], now, t.rrd_s) {
                        rules.insert(Rule::RrdS);
                    }
                }
                if self.faw.len() == 4 && now - self.faw[0] < t.faw as u64 {
                    rules.insert(Rule::Faw);
                }
            }
            CmdKind::Rd | CmdKind::Wr => {
                if too_soon(self.cas_all, now, t.ccd_l) {
                    rules.insert(Rule::CcdL);
                }
                for g in 0..self.nbg {
                    if same_group(g) {
                        if too_soon(self.cas_bg[g], now, t.ccd_l) {
                            rules.insert(Rule::CcdL);
                        }
                    } else if too_soon(self.cas_bg[g], now, t.ccd_s) {
                        rules.insert(Rule::CcdS);
                    }
                }
            }
            _ => {}
        }

        // Effects.
        for &b in &banks {
            match c.kind {
                CmdKind::Act => {
                    self.open[b] = true;
                    self.act[b] = Some(now);
                }
                CmdKind::Rd => self.rd[b] = Some(now),
                CmdKind::Wr => self.wr[b] = Some(now),
                CmdKind::Pre => {
                    if self.open[b] {
                        self.open[b] = false;
                        self.pre[b] = Some(now);
                    }
                }
                CmdKind::Ref | CmdKind::Nop => {}
            }
        }
        match c.kind {
            CmdKind::Act => {
                if c.all {
                    self.act_all = Some(now);
                } else {
                    self.act_bg[c.bg as usize] = Some(now);
                }
                if self.faw.len() == 4 {
                    self.faw.pop_front();
                }
                self.faw.push_back(now);
            }
            CmdKind::Rd | CmdKind::Wr => {
                if c.all {
                    self.cas_all = Some(now);
                } else {
                    self.cas_bg[c.bg as usize] = Some(now);
                }
            }
            CmdKind::Ref => self.last_ref = Some(now),
            _ => {}
        }
        rules
    }
}

/// Every violation in `log` on a device of `nbg` bank groups of `nbank` banks: one entry per
/// broken rule per command, ordered by command and then by rule code. The log starts right
/// after reset (its cycles count from the first cycle out of reset).
///
/// # Panics
/// As [`Checker::step`]: cycles not strictly increasing, or a bank outside the device.
pub fn check(t: &DramTiming, nbg: usize, nbank: usize, log: &[Cmd]) -> Vec<Violation> {
    let mut ck = Checker::new(t, nbg, nbank);
    let mut out = Vec::new();
    for (index, c) in log.iter().enumerate() {
        for rule in ck.step(c).iter() {
            out.push(Violation { index, cycle: c.cycle, rule });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_consistent() {
        crate::device::dram::preset::DramPreset::named("hbm3-5.2").unwrap().timing.validate().unwrap();
        crate::device::dram::preset::DramPreset::named("ddr4-3200").unwrap().timing.validate().unwrap();
    }

    #[test]
    fn rule_codes_round_trip() {
        for (i, r) in Rule::ALL.iter().enumerate() {
            assert_eq!(r.code() as usize, i + 1);
            assert_eq!(Rule::from_code(r.code()), Some(*r));
        }
        assert_eq!(Rule::from_code(0), None);
        assert_eq!(Rule::from_code(17), None);
    }

    #[test]
    fn rcd_boundary() {
        let t = crate::device::dram::preset::DramPreset::named("hbm3-5.2").unwrap().timing;
        let act = Cmd { cycle: 0, kind: CmdKind::Act, all: false, bg: 1, bank: 2 };
        for (gap, bad) in [(t.rcd as u64 - 1, true), (t.rcd as u64, false)] {
            let rd = Cmd { cycle: gap, kind: CmdKind::Rd, ..act };
            let v = check(&t, 4, 4, &[act, rd]);
            assert_eq!(v.iter().any(|v| v.rule == Rule::Rcd && v.index == 1), bad, "gap {gap}: {v:?}");
        }
    }
}
