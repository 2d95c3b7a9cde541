//! Host driver for `pam_dram_lab` (`rtl/tb/pam_dram_lab.sv`): [`NB`] DRAM banks of a small
//! geometry behind one command bus, with `pam_dram_timing_check` watching the bus.
//!
//! One command (or NOP) per clock: [`DramLab::issue`] drives the bus, samples the checker's
//! combinational outputs between the falling and the rising edge (the cycle of the command),
//! and takes the rising edge, after which the read data of a RD is visible
//! ([`DramLab::read`], [`DramLab::bank_read`]). Every command issued is recorded in a
//! [`Cmd`] log with its cycle (cycle 0 = the first cycle out of reset), and every rule the RTL
//! flags as a [`Violation`] against that log, so the RTL's verdict compares directly with
//! [`crate::device::dram::timing::check`].

use super::model::{port_set, Top, VModel};
use crate::device::dram::timing::{Cmd, CmdKind, DramTiming, Rule, RuleSet, Violation, TIMING_MAX};
use crate::error::SimError;
use std::path::Path;

/// Bank groups of the lab (its NBG parameter).
pub const NBG: usize = 2;
/// Banks per bank group (NBANK).
pub const NBANK: usize = 2;
/// Banks in all.
pub const NB: usize = NBG * NBANK;
/// Rows per bank (ROWS).
pub const ROWS: usize = 8;
/// Columns per row (COLS).
pub const COLS: usize = 8;
/// Bits per column access (WIDTH).
pub const WIDTH: usize = 64;

/// A command with its address and write data. `bg` / `bank` are ignored with `all` and for REF;
/// `row` only matters for ACT, `col` for RD/WR, `wdata` for WR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LabCmd {
    pub kind: CmdKind,
    pub all: bool,
    pub bg: u16,
    pub bank: u16,
    pub row: u32,
    pub col: u32,
    pub wdata: u64,
}

impl LabCmd {
    pub fn act(bg: u16, bank: u16, row: u32) -> Self {
        LabCmd { kind: CmdKind::Act, bg, bank, row, ..Default::default() }
    }
    pub fn rd(bg: u16, bank: u16, col: u32) -> Self {
        LabCmd { kind: CmdKind::Rd, bg, bank, col, ..Default::default() }
    }
    pub fn wr(bg: u16, bank: u16, col: u32, wdata: u64) -> Self {
        LabCmd { kind: CmdKind::Wr, bg, bank, col, wdata, ..Default::default() }
    }
    pub fn pre(bg: u16, bank: u16) -> Self {
        LabCmd { kind: CmdKind::Pre, bg, bank, ..Default::default() }
    }
    /// All-bank ACT: the same row in every bank.
    pub fn act_all(row: u32) -> Self {
        LabCmd { kind: CmdKind::Act, all: true, row, ..Default::default() }
    }
    /// All-bank RD: the same column of every bank, each bank's data on its own output.
    pub fn rd_all(col: u32) -> Self {
        LabCmd { kind: CmdKind::Rd, all: true, col, ..Default::default() }
    }
    /// All-bank WR: the same data to the same column of every bank.
    pub fn wr_all(col: u32, wdata: u64) -> Self {
        LabCmd { kind: CmdKind::Wr, all: true, col, wdata, ..Default::default() }
    }
    /// Precharge every open bank.
    pub fn pre_all() -> Self {
        LabCmd { kind: CmdKind::Pre, all: true, ..Default::default() }
    }
    /// Refresh (every bank).
    pub fn refresh() -> Self {
        LabCmd { kind: CmdKind::Ref, all: true, ..Default::default() }
    }
}

/// What the checker said about one command, in its cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Cycle of the command.
    pub cycle: u64,
    /// `viol_o`.
    pub viol: bool,
    /// `viol_kind_o` (`None` for RULE_NONE; `Err(code)` for a code no rule has).
    pub kind: Result<Option<Rule>, u8>,
    /// `viol_rules_o`.
    pub rules: RuleSet,
}

port_set!(Ports {
    rst_ni,
    cmd_valid_i,
    cmd_i,
    all_i,
    bg_i,
    bank_i,
    row_i,
    col_i,
    wdata_i,
    rvalid_o,
    rdata_o,
    bank_rvalid_o,
    bank_rdata_o,
    bank_open_o,
    bank_open_row_o,
    bank_err_o,
    t_rcd_i,
    t_rp_i,
    t_ras_i,
    t_rc_i,
    t_rrd_s_i,
    t_rrd_l_i,
    t_faw_i,
    t_ccd_s_i,
    t_ccd_l_i,
    t_wr_i,
    t_rtp_i,
    t_refi_i,
    t_rfc_i,
    viol_o,
    viol_kind_o,
    viol_rules_o,
    viol_count_o,
});

pub struct DramLab {
    m: VModel,
    p: Ports,
    start: u64,
    log: Vec<Cmd>,
    viols: Vec<Violation>,
}

impl DramLab {
    /// The lab with timing `t`, reset (all banks closed, nothing issued yet). `t` need not pass
    /// [`DramTiming::validate`] (the checkers must agree on any timing), but every value must
    /// fit the 16-bit timing inputs.
    pub fn new(t: &DramTiming) -> Result<Self, SimError> {
        let m = VModel::new(Top::named("dram_lab")?, 1000.0)?;
        let p = Ports::lookup(&m)?;
        let expect = [
            (p.bg_i, NBG.ilog2(), "bg_i"),
            (p.bank_i, NBANK.ilog2(), "bank_i"),
            (p.row_i, ROWS.ilog2(), "row_i"),
            (p.col_i, COLS.ilog2(), "col_i"),
            (p.rdata_o, WIDTH as u32, "rdata_o"),
            (p.bank_rdata_o, (NB * WIDTH) as u32, "bank_rdata_o"),
            (p.viol_rules_o, Rule::ALL.len() as u32, "viol_rules_o"),
        ];
        for (port, w, name) in expect {
            if m.width(port) != w {
                return Err(SimError::Input(format!(
                    "pam_dram_lab port {name} is {} bits, the driver expects {w}: RTL and driver geometry differ",
                    m.width(port)
                )));
            }
        }
        let mut lab = DramLab { m, p, start: 0, log: Vec::new(), viols: Vec::new() };
        lab.set_timing(t)?;
        lab.m.reset(lab.p.rst_ni);
        lab.start = lab.m.cycles();
        Ok(lab)
    }

    /// Changes the timing inputs (takes effect from the next command).
    pub fn set_timing(&mut self, t: &DramTiming) -> Result<(), SimError> {
        let p = &self.p;
        let ports = [
            p.t_rcd_i,
            p.t_rp_i,
            p.t_ras_i,
            p.t_rc_i,
            p.t_rrd_s_i,
            p.t_rrd_l_i,
            p.t_faw_i,
            p.t_ccd_s_i,
            p.t_ccd_l_i,
            p.t_wr_i,
            p.t_rtp_i,
            p.t_refi_i,
            p.t_rfc_i,
        ];
        for (port, (name, jedec, v)) in ports.into_iter().zip(t.fields()) {
            if v > TIMING_MAX {
                return Err(SimError::Input(format!(
                    "timing {name} ({jedec}) = {v} does not fit the lab's 16-bit timing inputs"
                )));
            }
            self.m.set(port, v as u64);
        }
        Ok(())
    }

    /// The cycle the next command will be issued in.
    pub fn cycle(&self) -> u64 {
        self.m.cycles() - self.start
    }

    /// Issues one command this cycle and takes the clock edge. NOP issues nothing (and is not
    /// logged).
    pub fn issue(&mut self, c: LabCmd) -> Result<Step, SimError> {
        let every = c.all || c.kind == CmdKind::Ref;
        if !every && (c.bg as usize >= NBG || c.bank as usize >= NBANK) {
            return Err(SimError::Input(format!(
                "bank group {} bank {} is outside the {NBG}x{NBANK} lab",
                c.bg, c.bank
            )));
        }
        if c.row as usize >= ROWS || c.col as usize >= COLS {
            return Err(SimError::Input(format!("row {} col {} is outside the {ROWS}x{COLS} banks", c.row, c.col)));
        }
        let cycle = self.cycle();
        let p = &self.p;
        let valid = c.kind != CmdKind::Nop;
        let (bg, bank) = if every { (0, 0) } else { (c.bg, c.bank) };
        let sets = [
            (p.cmd_valid_i, valid as u64),
            (p.cmd_i, c.kind.code() as u64),
            (p.all_i, c.all as u64),
            (p.bg_i, bg as u64),
            (p.bank_i, bank as u64),
            (p.row_i, c.row as u64),
            (p.col_i, c.col as u64),
            (p.wdata_i, c.wdata),
        ];
        for (port, v) in sets {
            self.m.set(port, v);
        }
        self.m.fall();
        let rules = RuleSet(self.m.get(self.p.viol_rules_o) as u32);
        let code = self.m.get(self.p.viol_kind_o) as u8;
        let kind = if code == 0 { Ok(None) } else { Rule::from_code(code).map(Some).ok_or(code) };
        let step = Step { cycle, viol: self.m.get(self.p.viol_o) != 0, kind, rules };
        self.m.rise();
        self.m.set(self.p.cmd_valid_i, 0);
        if valid {
            let index = self.log.len();
            self.log.push(Cmd { cycle, kind: c.kind, all: c.all, bg, bank });
            self.viols.extend(rules.iter().map(|rule| Violation { index, cycle, rule }));
        }
        Ok(step)
    }

    /// `n` cycles with no command.
    pub fn idle(&mut self, n: u64) {
        self.m.set(self.p.cmd_valid_i, 0);
        for _ in 0..n {
            self.m.tick();
        }
    }

    /// Idles until `cycle`, then issues `c` there.
    pub fn issue_at(&mut self, cycle: u64, c: LabCmd) -> Result<Step, SimError> {
        let now = self.cycle();
        if cycle < now {
            return Err(SimError::Input(format!("cannot issue at cycle {cycle}: the lab is at cycle {now}")));
        }
        self.idle(cycle - now);
        self.issue(c)
    }

    /// `rvalid_o` / `rdata_o` after the last edge: the data of a RD issued in the previous
    /// cycle, from the bank it named.
    pub fn read(&self) -> Option<u64> {
        (self.m.get(self.p.rvalid_o) != 0).then(|| self.m.get(self.p.rdata_o))
    }

    /// Bank `b`'s read data after the last edge (`b = bg * NBANK + bank`).
    pub fn bank_read(&self, b: usize) -> Option<u64> {
        if self.m.get(self.p.bank_rvalid_o) >> b & 1 == 0 {
            return None;
        }
        let mut w = [0u32; NB * WIDTH / 32];
        self.m.get_words(self.p.bank_rdata_o, &mut w);
        Some(w[2 * b] as u64 | (w[2 * b + 1] as u64) << 32)
    }

    /// Which banks are open (bit b for bank b).
    pub fn bank_open(&self) -> u32 {
        self.m.get(self.p.bank_open_o) as u32
    }

    /// The open (or last opened) row of bank `b`.
    pub fn bank_open_row(&self, b: usize) -> u32 {
        let bits = ROWS.ilog2();
        (self.m.get(self.p.bank_open_row_o) >> (b as u32 * bits)) as u32 & ((1 << bits) - 1)
    }

    /// The banks' sticky protocol errors (bit b for bank b).
    pub fn bank_err(&self) -> u32 {
        self.m.get(self.p.bank_err_o) as u32
    }

    /// `viol_count_o`: offending commands so far (saturating).
    pub fn viol_count(&self) -> u64 {
        self.m.get(self.p.viol_count_o)
    }

    /// Every command issued, with its cycle.
    pub fn log(&self) -> &[Cmd] {
        &self.log
    }

    /// Every rule the RTL checker flagged, against [`DramLab::log`], in the order of
    /// [`crate::device::dram::timing::check`].
    pub fn violations(&self) -> &[Violation] {
        &self.viols
    }

    /// Starts an FST dump.
    pub fn trace_open(&mut self, path: &Path) -> Result<(), SimError> {
        self.m.trace_open(path)
    }
}
