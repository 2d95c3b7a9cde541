//! Host driver of the memory side of a Verilated DRAM-PIM device
//! (`rtl/dev/pam_dram_pim_dev.sv`): banks, command sequencer and timing checker.
//!
//! The host writes tokens' K and V to physical locations and streams them to the PUs in
//! all-bank lockstep (SLOT ops), through the device's operation port. Every DRAM command on the
//! device's bus is logged, checked by the host-side timing checker and counted by kind.
//!
//! The RTL is reset only at power-on ([`MemorySide::power_on`], which configuring the device
//! includes): a reset drops an op the controller has taken but not finished, closes every row
//! without a PRE and restarts refresh, so statistics are kept on the host side, relative to the
//! last [`MemorySide::reset_stats`].

use std::collections::BTreeMap;

use super::preset::DramPreset;
use super::timing::{Checker, Cmd, CmdKind, DramTiming};
use crate::device::memory::{Beat, CommandCounts, MemorySide};
use crate::device::order::{dram_pu_of, dram_schedule};
use crate::device::tier::{device_top, TierPreset};
use crate::error::SimError;
use crate::kv::location::PhysLoc;
use crate::rtl::beats::{beats, pack16};
use crate::rtl::model::{port_set, Top, VModel};
use crate::rtl::pu::DMAX;

const OP_WRITE: u64 = 0;
const OP_READ: u64 = 1;
const OP_SLOT: u64 = 2;
/// Longest wait for the device to take an op (a refresh takes tRFC, a slot a few hundred).
const OP_WAIT: u64 = 100_000;

port_set!(Ports {
    rst_ni,
    cfg_timing_i,
    cfg_rd_gap_i,
    cfg_dim_i,
    hc_valid_i,
    hc_ready_o,
    hc_op_i,
    hc_bg_i,
    hc_bank_i,
    hc_row_i,
    hc_col_i,
    hc_mask_i,
    hc_data_i,
    hr_valid_o,
    hr_data_o,
    beat_valid_o,
    beat_data_o,
    pu_ready_i,
    bus_valid_o,
    bus_cmd_o,
    bus_all_o,
    bus_bg_o,
    bus_bank_o,
    viol_count_o,
    err_o,
});

fn add(c: &mut CommandCounts, k: CmdKind) {
    match k {
        CmdKind::Act => c.act += 1,
        CmdKind::Rd => c.rd += 1,
        CmdKind::Wr => c.wr += 1,
        CmdKind::Pre => c.pre += 1,
        CmdKind::Ref => c.refresh += 1,
        CmdKind::Nop => {}
    }
}

pub struct DramDevSim {
    m: VModel,
    p: Ports,
    preset: DramPreset,
    dim: usize,
    /// Commands since `reset_stats`, their cycles counted from the RTL reset.
    log: Vec<Cmd>,
    /// Model cycle at the RTL reset.
    cycle0: u64,
    counts: CommandCounts,
    /// The host's checker sees every command since the RTL reset, as the RTL checker does: the
    /// rows a measurement starts with were opened before it.
    checker: Checker,
    host_violations: u64,
    /// The RTL checker's count (since the RTL reset) at `reset_stats`.
    rtl_violations0: u64,
    data_words: Vec<u32>,
    beat_words: Vec<u32>,
}

impl DramDevSim {
    /// The Verilated memory side of a scaled preset (`hbm-s` or `ddr-s`).
    pub fn new(preset: &DramPreset) -> Result<Self, SimError> {
        let built = TierPreset::by_name(preset.name).filter(|p| p.verilated).and_then(|p| p.as_dram().cloned());
        let same_geometry = built.is_some_and(|b| {
            (b.channels, b.bank_groups, b.banks_per_group, b.banks_per_pu, b.rows, b.cols, b.pu_lanes)
                == (
                    preset.channels,
                    preset.bank_groups,
                    preset.banks_per_group,
                    preset.banks_per_pu,
                    preset.rows,
                    preset.cols,
                    preset.pu_lanes,
                )
        });
        if !same_geometry {
            return Err(SimError::Input(format!(
                "no Verilated device with the geometry of preset {} (Verilated: {:?})",
                preset.name,
                TierPreset::verilated_names()
            )));
        }
        let top = Top::named(&device_top(preset.name))?;
        let m = VModel::new(top, 1e6 / preset.tck_ps)?;
        let p = Ports::lookup(&m)?;
        let data_words = vec![0; m.width(p.hc_data_i).div_ceil(32) as usize];
        let beat_words = vec![0; m.width(p.beat_data_o).div_ceil(32) as usize];
        let mut d = DramDevSim {
            m,
            p,
            preset: preset.clone(),
            dim: 0,
            log: Vec::new(),
            cycle0: 0,
            counts: CommandCounts::default(),
            checker: Checker::new(&preset.timing, preset.bank_groups, preset.banks_per_group),
            host_violations: 0,
            rtl_violations0: 0,
            data_words,
            beat_words,
        };
        d.configure(&preset.timing, preset.timing.ccd_l)?;
        Ok(d)
    }

    /// Sets the timing and the minimum all-bank read spacing (the compute-cap mechanism), and
    /// powers the device on under them ([`MemorySide::power_on`]): the checkers' histories only
    /// hold under one timing.
    pub fn configure(&mut self, t: &DramTiming, rd_gap: u32) -> Result<(), SimError> {
        t.validate().map_err(SimError::Input)?;
        // The packed struct's first field is its most significant 16 bits.
        let fields = t.fields();
        let mut words = vec![0u32; (16 * fields.len()).div_ceil(32)];
        for (i, (_, _, v)) in fields.iter().enumerate() {
            let lsb = 16 * (fields.len() - 1 - i);
            words[lsb / 32] |= v << (lsb % 32);
        }
        self.m.set_words(self.p.cfg_timing_i, &words);
        self.m.set(self.p.cfg_rd_gap_i, rd_gap.clamp(t.ccd_l, u16::MAX as u32) as u64);
        self.preset.timing = *t;
        self.power_on()
    }

    pub fn preset(&self) -> &DramPreset {
        &self.preset
    }

    pub fn log(&self) -> &[Cmd] {
        &self.log
    }

    /// Logs, checks and counts the command on the bus (sampled between the edges: what the
    /// banks take at the rising edge); returns its kind.
    fn log_bus(&mut self) -> Option<CmdKind> {
        if self.m.get(self.p.bus_valid_o) == 0 {
            return None;
        }
        let kind = match self.m.get(self.p.bus_cmd_o) {
            1 => CmdKind::Act,
            2 => CmdKind::Rd,
            3 => CmdKind::Wr,
            4 => CmdKind::Pre,
            5 => CmdKind::Ref,
            _ => CmdKind::Nop,
        };
        add(&mut self.counts, kind);
        let cmd = Cmd {
            cycle: self.m.cycles() - self.cycle0,
            kind,
            all: self.m.get(self.p.bus_all_o) != 0,
            bg: self.m.get(self.p.bus_bg_o) as u16,
            bank: self.m.get(self.p.bus_bank_o) as u16,
        };
        self.host_violations += self.checker.step(&cmd).iter().count() as u64;
        self.log.push(cmd);
        Some(kind)
    }

    /// Presents one op and clocks until the device takes it.
    fn op(&mut self, op: u64, f: impl FnOnce(&mut VModel, &Ports)) -> Result<(), SimError> {
        f(&mut self.m, &self.p);
        self.m.set(self.p.hc_op_i, op);
        self.m.set(self.p.hc_valid_i, 1);
        for _ in 0..OP_WAIT {
            self.m.fall();
            let ready = self.m.get(self.p.hc_ready_o) != 0;
            self.log_bus();
            self.m.rise();
            if ready {
                self.m.set(self.p.hc_valid_i, 0);
                return Ok(());
            }
        }
        self.m.set(self.p.hc_valid_i, 0);
        Err(SimError::Hang { unit: "DRAM device", cycles: OP_WAIT })
    }

    fn check_loc(&self, loc: &PhysLoc) -> Result<(), SimError> {
        let p = &self.preset;
        let cols = p.shape(self.dim.max(1)).cols_per_token() as u32;
        if loc.bank_group as usize >= p.bank_groups
            || loc.bank as usize >= p.banks_per_group
            || loc.row as usize >= p.rows
            || (loc.col + cols) as usize > p.cols
        {
            return Err(SimError::Input(format!("location {loc:?} is outside the device {}", p.name)));
        }
        Ok(())
    }

    /// Beat `j` of a token at `loc`: (bank, column). A PU's bank pair holds even beats in the
    /// even bank and odd beats in the odd bank.
    fn beat_addr(&self, loc: &PhysLoc, j: usize) -> (u64, u64) {
        let bpp = self.preset.banks_per_pu;
        ((loc.bank as usize + j % bpp) as u64, (loc.col as usize + j / bpp) as u64)
    }

    fn set_dim(&mut self, dim: usize) -> Result<(), SimError> {
        if dim == 0 || dim > DMAX {
            return Err(SimError::Dim { dim, max: DMAX, unit: "DRAM device" });
        }
        self.preset.shape(dim).validate().map_err(|e| SimError::Input(format!("{}: {e}", self.preset.name)))?;
        self.dim = dim;
        self.m.set(self.p.cfg_dim_i, dim as u64);
        Ok(())
    }

    fn address(m: &mut VModel, p: &Ports, loc: &PhysLoc, bank: u64, col: u64) {
        m.set(p.hc_bg_i, loc.bank_group as u64);
        m.set(p.hc_bank_i, bank);
        m.set(p.hc_row_i, loc.row as u64);
        m.set(p.hc_col_i, col);
    }
}

impl MemorySide for DramDevSim {
    fn model(&mut self) -> &mut VModel {
        &mut self.m
    }

    fn name(&self) -> &str {
        self.preset.name
    }

    fn pus(&self) -> usize {
        self.preset.pus()
    }

    fn lanes(&self) -> usize {
        self.preset.pu_lanes
    }

    fn pus_per_ru(&self) -> usize {
        self.preset.banks_per_group / self.preset.banks_per_pu
    }

    fn tck_ps(&self) -> f64 {
        self.preset.tck_ps
    }

    fn pu_of(&self, loc: &PhysLoc, _dim: usize) -> usize {
        dram_pu_of(&self.preset, loc)
    }

    fn schedule(&self, tokens: &[PhysLoc], _dim: usize) -> Vec<Vec<PhysLoc>> {
        dram_schedule(&self.preset, tokens)
    }

    fn write_token(&mut self, loc: &PhysLoc, k: &[u16], v: &[u16]) -> Result<(), SimError> {
        if k.len() != v.len() {
            return Err(SimError::Input("k and v of a token differ in length".into()));
        }
        self.set_dim(k.len())?;
        self.check_loc(loc)?;
        let lanes = self.preset.pu_lanes;
        let nb = beats(self.dim, lanes);
        for j in 0..2 * nb {
            let (src, b) = if j < nb { (k, j) } else { (v, j - nb) };
            pack16(src, lanes, b, &mut self.data_words);
            let (bank, col) = self.beat_addr(loc, j);
            let words = std::mem::take(&mut self.data_words);
            let r = self.op(OP_WRITE, |m, p| {
                Self::address(m, p, loc, bank, col);
                m.set_words(p.hc_data_i, &words);
            });
            self.data_words = words;
            r?;
        }
        // The controller took the last beat's WRITE but has not issued its WR yet: wait for it,
        // so that the token is in the banks whatever the host does next.
        for _ in 0..OP_WAIT {
            self.m.fall();
            let wr = self.log_bus() == Some(CmdKind::Wr);
            self.m.rise();
            if wr {
                return Ok(());
            }
        }
        Err(SimError::Hang { unit: "DRAM device write", cycles: OP_WAIT })
    }

    fn read_token(&mut self, loc: &PhysLoc, dim: usize) -> Result<(Vec<u16>, Vec<u16>), SimError> {
        self.set_dim(dim)?;
        self.check_loc(loc)?;
        let lanes = self.preset.pu_lanes;
        let nb = beats(dim, lanes);
        let mut kv = vec![0u16; 2 * nb * lanes];
        for j in 0..2 * nb {
            let (bank, col) = self.beat_addr(loc, j);
            self.op(OP_READ, |m, p| Self::address(m, p, loc, bank, col))?;
            let mut got = false;
            for _ in 0..OP_WAIT {
                self.m.fall();
                if self.m.get(self.p.hr_valid_o) != 0 {
                    self.m.get_words(self.p.hr_data_o, &mut self.data_words);
                    got = true;
                }
                self.log_bus();
                self.m.rise();
                if got {
                    break;
                }
            }
            if !got {
                return Err(SimError::Hang { unit: "DRAM device read", cycles: OP_WAIT });
            }
            for (i, e) in kv[j * lanes..(j + 1) * lanes].iter_mut().enumerate() {
                *e = (self.data_words[i / 2] >> (16 * (i % 2))) as u16;
            }
        }
        let pick = |r: std::ops::Range<usize>| -> Vec<u16> {
            r.flat_map(|b| kv[b * lanes..(b + 1) * lanes].iter().copied()).take(dim).collect()
        };
        Ok((pick(0..nb), pick(nb..2 * nb)))
    }

    fn stream(
        &mut self,
        dim: usize,
        tokens: &[PhysLoc],
        clock: &mut dyn FnMut(&[Beat]) -> bool,
    ) -> Result<u64, SimError> {
        self.set_dim(dim)?;
        for t in tokens {
            self.check_loc(t)?;
        }
        // One SLOT op per distinct (row, column), with the PUs holding a selected token there.
        let mut slots: BTreeMap<(u32, u32), u64> = BTreeMap::new();
        for t in tokens {
            *slots.entry((t.row, t.col)).or_default() |= 1 << dram_pu_of(&self.preset, t);
        }
        let slots: Vec<((u32, u32), u64)> = slots.into_iter().collect();
        let (npu, wpb) = (self.pus(), self.data_words.len());
        let start = self.m.cycles();
        let mut next = 0;
        let mut quiet = 0;
        let mut beats_out: Vec<(usize, usize)> = Vec::with_capacity(npu);
        let mut waited = 0;
        // Run until every op was taken and the device has been idle (no beat, ready for ops)
        // for two clocks: the last RD's beats (and a pair's odd beat) have left by then.
        while next < slots.len() || quiet < 2 {
            if let Some(&((row, col), mask)) = slots.get(next) {
                self.m.set(self.p.hc_op_i, OP_SLOT);
                self.m.set(self.p.hc_row_i, row as u64);
                self.m.set(self.p.hc_col_i, col as u64);
                self.m.set(self.p.hc_mask_i, mask);
                self.m.set(self.p.hc_valid_i, 1);
            }
            self.m.fall();
            let took = next < slots.len() && self.m.get(self.p.hc_ready_o) != 0;
            let idle = next >= slots.len() && self.m.get(self.p.hc_ready_o) != 0;
            let valid = self.m.get(self.p.beat_valid_o);
            beats_out.clear();
            if valid != 0 {
                self.m.get_words(self.p.beat_data_o, &mut self.beat_words);
                beats_out.extend((0..npu).filter(|p| valid >> p & 1 != 0).map(|p| (p, p * wpb)));
            }
            self.log_bus();
            let list: Vec<Beat> =
                beats_out.iter().map(|&(pu, off)| Beat { pu, words: &self.beat_words[off..off + wpb] }).collect();
            let ready = clock(&list);
            self.m.rise();
            self.m.set(self.p.pu_ready_i, ready as u64);
            if took {
                next += 1;
                self.m.set(self.p.hc_valid_i, 0);
                waited = 0;
            }
            quiet = if idle && valid == 0 { quiet + 1 } else { 0 };
            waited += 1;
            if waited > OP_WAIT {
                self.m.set(self.p.hc_valid_i, 0);
                return Err(SimError::Hang { unit: "DRAM device stream", cycles: OP_WAIT });
            }
        }
        Ok(self.m.cycles() - start)
    }

    /// The configuration inputs keep their values through the reset. The banks' cells are not
    /// reset in the RTL and every op has finished when a method returns, so every token written
    /// before still reads back (a real DRAM would have lost it); nothing relies on that.
    fn power_on(&mut self) -> Result<(), SimError> {
        self.m.set(self.p.hc_valid_i, 0);
        self.m.set(self.p.pu_ready_i, 1);
        self.m.reset(self.p.rst_ni);
        self.dim = 0;
        self.cycle0 = self.m.cycles();
        let p = &self.preset;
        self.checker = Checker::new(&p.timing, p.bank_groups, p.banks_per_group);
        self.reset_stats();
        Ok(())
    }

    /// Host-side only: every op has finished by now, and the RTL keeps its rows, refresh
    /// schedule and checker history (its count is taken relative to this point).
    fn reset_stats(&mut self) {
        self.log.clear();
        self.counts = CommandCounts::default();
        self.host_violations = 0;
        self.rtl_violations0 = self.m.get(self.p.viol_count_o);
    }

    fn counts(&self) -> CommandCounts {
        self.counts.clone()
    }

    /// The RTL count saturates at 2^16 - 1 since the RTL reset: past that, new violations no
    /// longer show in the difference (the host's count still has them).
    fn timing_violations(&self) -> (u64, u64) {
        (self.m.get(self.p.viol_count_o) - self.rtl_violations0, self.host_violations)
    }

    fn error_flag(&self) -> bool {
        self.m.get(self.p.err_o) != 0
    }
}
