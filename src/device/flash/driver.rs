//! The host driver of the Verilated SSD-PIM device's memory side
//! (`rtl/dev/pam_ssd_pim_dev.sv`).
//!
//! Flash holds tokens at (channel, die, page, byte offset) as [`FlashPlacer`] places them
//! (`bank_group` = channel, `bank` = die, `row` = page, `col` = byte offset). A token is its K
//! beats then its V beats, `2 * ceil(dim / lanes)` beats of `2 * lanes` bytes, contiguous from
//! the offset; the offset is a whole number of beats.
//!
//! PU rule ([`super::order`]): the token in slot `s = col / token_bytes` of a page on channel
//! `c` goes to PU `c * pus_per_channel + s % pus_per_channel`, so that the tokens of one page are
//! spread over the channel's PUs (a channel's PUs share its bus; a PU sits in the controller).
//!
//! Writes are read-modify-write of whole pages, as flash requires: the first token written to
//! a die's page reads the page into the die's page register (when the page was programmed
//! before), beats go over the channel into the register, and the register is programmed when
//! the die moves to another page or before anything reads the die ([`SsdDevSim::flush`]).
//! Pages are never erased (a PROGRAM replaces the page); never-written bytes of a page are
//! undefined.
//!
//! Streaming issues, per channel, a READ_PAGE for the first page of every die at once (their
//! tR overlap), then STREAM ops page after page with the dies taking turns, and the next
//! READ_PAGE of a die right after its last STREAM, so that a die's tR overlaps the other dies'
//! transfers. Channels run in parallel.
//!
//! Rounding: a 32-byte beat on an 8-bit 2400 MT/s channel takes 13.33 ns; the bus gap is
//! rounded up to whole controller clocks (14 at 1 GHz), so the model never beats the channel
//! rate (it is 4.8% slower). The device compute cap (18 GFLOPS over 8 channels, 32 FLOP per
//! beat) would allow one beat per 14.2 ns per channel: [`FlashPreset::cap_xfer_gap`] gives the
//! gap that honours both (15); the driver starts with the channel rate, like the DRAM driver
//! starts without its cap.

use std::collections::VecDeque;

use super::preset::{FlashPreset, T_MAX};
use crate::device::memory::{Beat, CommandCounts, MemorySide};
use crate::device::order::{flash_pages, flash_pu_of, flash_schedule, PageTokens};
use crate::device::tier::{device_top, TierPreset};
use crate::error::SimError;
use crate::kv::location::PhysLoc;
use crate::rtl::beats::{beats, pack16};
use crate::rtl::model::{port_set, Top, VModel};
use crate::rtl::pu::DMAX;

const OP_WRITE_BEAT: u64 = 0;
const OP_READ_BEAT: u64 = 1;
const OP_READ_PAGE: u64 = 2;
const OP_PROGRAM: u64 = 3;
const OP_STREAM: u64 = 4;

port_set!(Ports {
    rst_ni,
    cfg_t_r_i,
    cfg_t_prog_i,
    cfg_xfer_gap_i,
    dbg_no_wait_i,
    hc_valid_i,
    hc_ready_o,
    hc_op_i,
    hc_ch_i,
    hc_die_i,
    hc_page_i,
    hc_beat_i,
    hc_count_i,
    hc_pu_i,
    hc_data_i,
    ch_room_o,
    hr_valid_o,
    hr_data_o,
    beat_valid_o,
    beat_data_o,
    pu_ready_i,
    mon_read_o,
    mon_prog_o,
    mon_xfer_o,
    mon_die_o,
    idle_o,
    viol_count_o,
    viol_kind_o,
    err_o,
});

/// One operation for a channel's queue.
#[derive(Clone, Debug)]
struct Op {
    op: u64,
    ch: usize,
    die: usize,
    page: usize,
    beat: usize,
    count: usize,
    pu: usize,
    data: Option<Vec<u32>>,
}

impl Op {
    fn new(op: u64, ch: usize, die: usize, page: usize) -> Self {
        Op { op, ch, die, page, beat: 0, count: 0, pu: 0, data: None }
    }
}

/// What the host knows of a die: the page its register holds unprogrammed writes for, and
/// which pages were ever programmed (those must be read before a partial rewrite).
#[derive(Clone, Debug)]
struct DieState {
    dirty: Option<usize>,
    programmed: Vec<bool>,
}

/// The timing rules again, in Rust, on the bus events the device reports (a second opinion
/// next to the RTL checker).
#[derive(Clone, Debug, Default)]
struct HostChecker {
    /// Per die: cycle of its last array command and its tR / tPROG.
    busy_until: Vec<(u64, u64)>,
    last_xfer: Vec<Option<u64>>,
    violations: u64,
}

/// Host driver of the Verilated SSD device (preset `ssd-s`).
pub struct SsdDevSim {
    m: VModel,
    p: Ports,
    preset: FlashPreset,
    dim: usize,
    t_r: u32,
    t_prog: u32,
    xfer_gap: u32,
    dies: Vec<DieState>,
    counts: CommandCounts,
    host: HostChecker,
    /// RTL violations since `reset_stats` are the RTL's count plus `rtl_carried` (counted before
    /// a `drop_caches` reset) minus `rtl_base` (the count at `reset_stats`, 0 after a reset).
    rtl_carried: u64,
    rtl_base: u64,
    data_words: Vec<u32>,
    beat_words: Vec<u32>,
    die_w: u32,
}

impl SsdDevSim {
    /// The Verilated device of the scaled preset (`ssd-s`), with the preset's timing.
    pub fn new(preset: &FlashPreset) -> Result<Self, SimError> {
        preset.validate().map_err(SimError::Input)?;
        let built = FlashPreset::named(preset.name)
            .filter(|_| TierPreset::by_name(preset.name).is_some_and(|p| p.verilated))
            .ok_or_else(|| {
                SimError::Input(format!(
                    "no Verilated device for preset {} (Verilated: {:?})",
                    preset.name,
                    TierPreset::verilated_names()
                ))
            })?;
        let same_geometry = preset.channels == built.channels
            && preset.dies_per_channel == built.dies_per_channel
            && preset.pages_per_die == built.pages_per_die
            && preset.page_bytes == built.page_bytes
            && preset.pus_per_channel == built.pus_per_channel
            && preset.pu_lanes == built.pu_lanes;
        if !same_geometry {
            return Err(SimError::Input(format!(
                "no Verilated SSD device with the geometry of preset {} (built: {} channels x {} dies x {} pages of {} bytes, {} PUs per channel)",
                preset.name, built.channels, built.dies_per_channel, built.pages_per_die, built.page_bytes, built.pus_per_channel
            )));
        }
        let m = VModel::new(Top::named(&device_top(preset.name))?, preset.clock_mhz)?;
        let p = Ports::lookup(&m)?;
        let data_words = vec![0; m.width(p.hc_data_i).div_ceil(32) as usize];
        let beat_words = vec![0; m.width(p.beat_data_o).div_ceil(32) as usize];
        let die_w = m.width(p.mon_die_o) / preset.channels as u32;
        let mut d = SsdDevSim {
            m,
            p,
            preset: preset.clone(),
            dim: 0,
            t_r: 0,
            t_prog: 0,
            xfer_gap: 0,
            dies: Vec::new(),
            counts: CommandCounts::default(),
            host: HostChecker::default(),
            rtl_carried: 0,
            rtl_base: 0,
            data_words,
            beat_words,
            die_w,
        };
        d.configure(preset.t_r_cycles(), preset.t_prog_cycles(), preset.xfer_gap())?;
        d.power_on()?;
        Ok(d)
    }

    /// Sets the flash timing in controller clocks: page read, program, bus gap per beat.
    /// (Tests use a short tR; the preset keeps 30 us.) Call while the device is idle.
    pub fn configure(&mut self, t_r: u32, t_prog: u32, xfer_gap: u32) -> Result<(), SimError> {
        for (field, v, max) in [("t_r", t_r, T_MAX), ("t_prog", t_prog, T_MAX), ("xfer_gap", xfer_gap, u16::MAX as u32)]
        {
            if v == 0 || v > max {
                return Err(SimError::Input(format!("{field} must be in 1..={max} clocks (got {v})")));
            }
        }
        (self.t_r, self.t_prog, self.xfer_gap) = (t_r, t_prog, xfer_gap);
        self.m.set(self.p.cfg_t_r_i, t_r as u64);
        self.m.set(self.p.cfg_t_prog_i, t_prog as u64);
        self.m.set(self.p.cfg_xfer_gap_i, xfer_gap as u64);
        Ok(())
    }

    /// (tR, tPROG, bus gap) in clocks.
    pub fn timing(&self) -> (u32, u32, u32) {
        (self.t_r, self.t_prog, self.xfer_gap)
    }

    pub fn preset(&self) -> &FlashPreset {
        &self.preset
    }

    /// Test only: the sequencers stop waiting for tR and for the bus slot, so that the timing
    /// checkers can be seen to flag what they must.
    pub fn debug_no_wait(&mut self, on: bool) {
        self.m.set(self.p.dbg_no_wait_i, on as u64);
    }

    /// The kinds of violation the RTL checker saw since reset (bit 0: tR/tPROG, bit 1: slot).
    pub fn rtl_violation_kinds(&self) -> u64 {
        self.m.get(self.p.viol_kind_o)
    }

    /// Resets the RTL (the host's checker forgets the dies' timing with it, and keeps its count).
    fn reset_model(&mut self) {
        self.m.set(self.p.hc_valid_i, 0);
        self.m.reset(self.p.rst_ni);
        let n = self.preset.channels * self.preset.dies_per_channel;
        self.host = HostChecker {
            busy_until: vec![(0, 0); n],
            last_xfer: vec![None; self.preset.channels],
            violations: self.host.violations,
        };
    }

    /// The geometry and timing of a head dimension: checks it and makes it current.
    pub fn set_dim(&mut self, dim: usize) -> Result<(), SimError> {
        if dim == 0 || dim > DMAX {
            return Err(SimError::Dim { dim, max: DMAX, unit: "SSD device" });
        }
        if self.preset.token_bytes(dim) > self.preset.page_bytes {
            return Err(SimError::Input(format!(
                "a token of head dimension {dim} does not fit in a page of {}",
                self.preset.name
            )));
        }
        self.dim = dim;
        Ok(())
    }

    fn token_bytes(&self) -> usize {
        self.preset.token_bytes(self.dim.max(1))
    }

    fn check_loc(&self, loc: &PhysLoc) -> Result<(), SimError> {
        let p = &self.preset;
        let bb = p.beat_bytes();
        if loc.bank_group as usize >= p.channels
            || loc.bank as usize >= p.dies_per_channel
            || loc.row as usize >= p.pages_per_die
            || !(loc.col as usize).is_multiple_of(bb)
            || loc.col as usize + self.token_bytes() > p.page_bytes
        {
            return Err(SimError::Input(format!(
                "location {loc:?} is outside the device {} (or not beat-aligned)",
                p.name
            )));
        }
        Ok(())
    }

    fn die_index(&self, loc: &PhysLoc) -> usize {
        loc.bank_group as usize * self.preset.dies_per_channel + loc.bank as usize
    }

    /// One clock. Between the edges the bus events feed the counts and the host checker, and
    /// `sample` reads the outputs.
    fn clock<T>(&mut self, sample: impl FnOnce(&VModel, &Ports) -> T) -> T {
        self.m.fall();
        let (rd, pg, xf) =
            (self.m.get(self.p.mon_read_o), self.m.get(self.p.mon_prog_o), self.m.get(self.p.mon_xfer_o));
        if rd | pg | xf != 0 {
            self.bus_events(rd, pg, xf);
        }
        let r = sample(&self.m, &self.p);
        self.m.rise();
        r
    }

    fn bus_events(&mut self, rd: u64, pg: u64, xf: u64) {
        let now = self.m.cycles();
        let dies = self.m.get(self.p.mon_die_o);
        let mask = (1u64 << self.die_w) - 1;
        for c in 0..self.preset.channels {
            let die = c * self.preset.dies_per_channel + ((dies >> (c as u32 * self.die_w)) & mask) as usize;
            if (rd | pg) >> c & 1 != 0 {
                let prog = pg >> c & 1 != 0;
                self.host.busy_until[die] = (now, if prog { self.t_prog } else { self.t_r } as u64);
                if prog {
                    self.counts.wr += 1;
                } else {
                    self.counts.act += 1;
                }
            }
            if xf >> c & 1 != 0 {
                self.counts.rd += 1;
                let (at, t) = self.host.busy_until[die];
                if at != 0 && now - at <= t {
                    self.host.violations += 1;
                }
                if let Some(last) = self.host.last_xfer[c] {
                    if now - last < self.xfer_gap as u64 {
                        self.host.violations += 1;
                    }
                }
                self.host.last_xfer[c] = Some(now);
            }
        }
    }

    fn set_op_inputs(&mut self, op: &Op) {
        let (m, p) = (&mut self.m, &self.p);
        m.set(p.hc_op_i, op.op);
        m.set(p.hc_ch_i, op.ch as u64);
        m.set(p.hc_die_i, op.die as u64);
        m.set(p.hc_page_i, op.page as u64);
        m.set(p.hc_beat_i, op.beat as u64);
        m.set(p.hc_count_i, op.count as u64);
        m.set(p.hc_pu_i, op.pu as u64);
        if let Some(w) = &op.data {
            m.set_words(p.hc_data_i, w);
        }
    }

    /// Before a clock: presents the next op of a channel whose queue has room (channels taken
    /// round robin from `rr`). Returns the channel presented.
    fn present(&mut self, queues: &[VecDeque<Op>], rr: &mut usize) -> Option<usize> {
        let room = self.m.get(self.p.ch_room_o);
        let n = queues.len();
        let ch = (0..n).map(|i| (*rr + i) % n).find(|&c| !queues[c].is_empty() && room >> c & 1 != 0)?;
        *rr = (ch + 1) % n;
        let op = queues[ch].front().expect("non-empty").clone();
        self.set_op_inputs(&op);
        self.m.set(self.p.hc_valid_i, 1);
        Some(ch)
    }

    fn empty_queues(&self) -> Vec<VecDeque<Op>> {
        vec![VecDeque::new(); self.preset.channels]
    }

    /// Issues `ops` (in order per channel) and clocks until the device has taken all of them.
    fn issue(&mut self, ops: Vec<Op>) -> Result<(), SimError> {
        let mut queues = self.empty_queues();
        for o in ops {
            queues[o.ch].push_back(o);
        }
        let mut rr = 0;
        let limit = self.wait_limit(queues.iter().map(VecDeque::len).sum());
        for _ in 0..limit {
            if queues.iter().all(VecDeque::is_empty) {
                return Ok(());
            }
            let ch = self.present(&queues, &mut rr);
            let fired = self.clock(|m, p| m.get(p.hc_ready_o) != 0);
            self.m.set(self.p.hc_valid_i, 0);
            if let (Some(c), true) = (ch, fired) {
                queues[c].pop_front();
            }
        }
        Err(SimError::Hang { unit: "SSD device", cycles: limit })
    }

    /// Clocks a generous bound for `n` ops (each may wait a program and a read).
    fn wait_limit(&self, n: usize) -> u64 {
        let per_op = self.t_r as u64 + self.t_prog as u64 + self.xfer_gap as u64 * self.preset.beats_per_page() as u64;
        (n as u64 + 4) * per_op + 10_000
    }

    /// Clocks until every queue, sequencer and die is idle.
    pub fn wait_idle(&mut self) -> Result<(), SimError> {
        let limit = self.wait_limit(self.preset.channels * 8);
        for _ in 0..limit {
            if self.clock(|m, p| m.get(p.idle_o) != 0) {
                return Ok(());
            }
        }
        Err(SimError::Hang { unit: "SSD device (idle)", cycles: limit })
    }

    /// PROGRAM ops for every page register holding unprogrammed writes (marks them clean).
    fn flush_ops(&mut self) -> Vec<Op> {
        let dpc = self.preset.dies_per_channel;
        let mut ops = Vec::new();
        for (i, d) in self.dies.iter_mut().enumerate() {
            if let Some(page) = d.dirty.take() {
                d.programmed[page] = true;
                ops.push(Op::new(OP_PROGRAM, i / dpc, i % dpc, page));
            }
        }
        ops
    }

    /// Programs every page register with unprogrammed writes and waits until the device is
    /// idle.
    pub fn flush(&mut self) -> Result<(), SimError> {
        let ops = self.flush_ops();
        self.issue(ops)?;
        self.wait_idle()
    }

    /// The ops of a stream, per channel: the first READ_PAGE of every die, then the STREAMs of
    /// each page, each die's next READ_PAGE right after its last STREAM.
    fn stream_ops(&self, plan: &[Vec<PageTokens>]) -> Vec<VecDeque<Op>> {
        let p = &self.preset;
        let tb = p.token_beats(self.dim);
        let bb = p.beat_bytes();
        let mut queues = self.empty_queues();
        for (ch, pages) in plan.iter().enumerate() {
            let q = &mut queues[ch];
            let mut first_seen = vec![false; p.dies_per_channel];
            for &((die, page), _) in pages {
                if !first_seen[die] {
                    first_seen[die] = true;
                    q.push_back(Op::new(OP_READ_PAGE, ch, die, page));
                }
            }
            for (i, ((die, page), toks)) in pages.iter().enumerate() {
                for t in toks {
                    q.push_back(Op {
                        beat: t.col as usize / bb,
                        count: tb,
                        pu: flash_pu_of(p, t, self.dim) % p.pus_per_channel,
                        ..Op::new(OP_STREAM, ch, *die, *page)
                    });
                }
                if let Some(&((_, next), _)) = pages[i + 1..].iter().find(|((d, _), _)| d == die) {
                    q.push_back(Op::new(OP_READ_PAGE, ch, *die, next));
                }
            }
        }
        queues
    }
}

impl MemorySide for SsdDevSim {
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

    /// One RU per channel (the reference has 8 RUs per controller, one per channel).
    fn pus_per_ru(&self) -> usize {
        self.preset.pus_per_channel
    }

    fn tck_ps(&self) -> f64 {
        self.preset.tck_ps()
    }

    fn pu_of(&self, loc: &PhysLoc, dim: usize) -> usize {
        flash_pu_of(&self.preset, loc, dim)
    }

    fn schedule(&self, tokens: &[PhysLoc], dim: usize) -> Vec<Vec<PhysLoc>> {
        flash_schedule(&self.preset, tokens, dim)
    }

    fn write_token(&mut self, loc: &PhysLoc, k: &[u16], v: &[u16]) -> Result<(), SimError> {
        if k.len() != v.len() {
            return Err(SimError::Input("k and v of a token differ in length".into()));
        }
        self.set_dim(k.len())?;
        self.check_loc(loc)?;
        let (ch, die, page) = (loc.bank_group as usize, loc.bank as usize, loc.row as usize);
        let di = self.die_index(loc);
        let mut ops = Vec::new();
        if self.dies[di].dirty != Some(page) {
            if let Some(old) = self.dies[di].dirty.take() {
                self.dies[di].programmed[old] = true;
                ops.push(Op::new(OP_PROGRAM, ch, die, old));
            }
            if self.dies[di].programmed[page] {
                ops.push(Op::new(OP_READ_PAGE, ch, die, page));
            }
            self.dies[di].dirty = Some(page);
        }
        let lanes = self.preset.pu_lanes;
        let nb = beats(self.dim, lanes);
        let first = loc.col as usize / self.preset.beat_bytes();
        for j in 0..2 * nb {
            let (src, b) = if j < nb { (k, j) } else { (v, j - nb) };
            pack16(src, lanes, b, &mut self.data_words);
            ops.push(Op {
                beat: first + j,
                data: Some(self.data_words.clone()),
                ..Op::new(OP_WRITE_BEAT, ch, die, page)
            });
        }
        self.issue(ops)
    }

    fn read_token(&mut self, loc: &PhysLoc, dim: usize) -> Result<(Vec<u16>, Vec<u16>), SimError> {
        self.set_dim(dim)?;
        self.check_loc(loc)?;
        let ops = self.flush_ops();
        self.issue(ops)?;
        let lanes = self.preset.pu_lanes;
        let nb = beats(dim, lanes);
        let first = loc.col as usize / self.preset.beat_bytes();
        let (ch, die, page) = (loc.bank_group as usize, loc.bank as usize, loc.row as usize);
        let mut kv = vec![0u16; 2 * nb * lanes];
        let mut buf = vec![0u32; self.data_words.len()];
        for j in 0..2 * nb {
            self.issue(vec![Op { beat: first + j, ..Op::new(OP_READ_BEAT, ch, die, page) }])?;
            let limit = self.wait_limit(1);
            let got = (0..limit).any(|_| {
                self.clock(|m, p| {
                    let v = m.get(p.hr_valid_o) != 0;
                    if v {
                        m.get_words(p.hr_data_o, &mut buf);
                    }
                    v
                })
            });
            if !got {
                return Err(SimError::Hang { unit: "SSD device read", cycles: limit });
            }
            for (i, e) in kv[j * lanes..(j + 1) * lanes].iter_mut().enumerate() {
                *e = (buf[i / 2] >> (16 * (i % 2))) as u16;
            }
        }
        let k = kv[..nb * lanes].iter().copied().take(dim).collect();
        let v = kv[nb * lanes..].iter().copied().take(dim).collect();
        Ok((k, v))
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
        let plan = flash_pages(&self.preset, tokens);
        let mut queues = self.stream_ops(&plan);
        // Unprogrammed writes go first, each ahead of its die's reads in the channel's queue.
        for o in self.flush_ops().into_iter().rev() {
            queues[o.ch].push_front(o);
        }
        let expected = (tokens.len() * self.preset.token_beats(dim)) as u64;
        let nops: usize = queues.iter().map(VecDeque::len).sum();
        let limit = self.wait_limit(nops);
        let wpb = self.preset.pu_lanes / 2;
        let npu = self.preset.pus();
        let start = self.m.cycles();
        let (mut delivered, mut rr) = (0u64, 0usize);
        let mut words = std::mem::take(&mut self.beat_words);
        let mut valid_pus: Vec<usize> = Vec::with_capacity(npu);
        while delivered < expected || queues.iter().any(|q| !q.is_empty()) {
            if self.m.cycles() - start > limit {
                self.m.set(self.p.hc_valid_i, 0);
                self.beat_words = words;
                return Err(SimError::Hang { unit: "SSD device stream", cycles: limit });
            }
            let ch = self.present(&queues, &mut rr);
            self.m.fall();
            let (rd, pg, xf) =
                (self.m.get(self.p.mon_read_o), self.m.get(self.p.mon_prog_o), self.m.get(self.p.mon_xfer_o));
            if rd | pg | xf != 0 {
                self.bus_events(rd, pg, xf);
            }
            let fired = ch.is_some() && self.m.get(self.p.hc_ready_o) != 0;
            let valid = self.m.get(self.p.beat_valid_o);
            valid_pus.clear();
            if valid != 0 {
                self.m.get_words(self.p.beat_data_o, &mut words);
                valid_pus.extend((0..npu).filter(|&pu| valid >> pu & 1 != 0));
            }
            let out: Vec<Beat> =
                valid_pus.iter().map(|&pu| Beat { pu, words: &words[pu * wpb..(pu + 1) * wpb] }).collect();
            delivered += out.len() as u64;
            let ready = clock(&out);
            self.m.rise();
            self.m.set(self.p.hc_valid_i, 0);
            self.m.set(self.p.pu_ready_i, ready as u64);
            if let (Some(c), true) = (ch, fired) {
                queues[c].pop_front();
            }
        }
        self.beat_words = words;
        self.m.set(self.p.pu_ready_i, 1);
        Ok(self.m.cycles() - start)
    }

    /// Host-side only: programming the page registers or resetting the RTL here would move
    /// tPROG and page reads out of the next measurement. Ops still queued in the device go on
    /// and are counted in the next measurement.
    fn reset_stats(&mut self) {
        self.counts = CommandCounts::default();
        self.host.violations = 0;
        self.rtl_carried = 0;
        self.rtl_base = self.m.get(self.p.viol_count_o);
    }

    /// The dies' arrays are not reset in the RTL (nor would flash lose them): every page whose
    /// PROGRAM had finished still reads back. Lost are the writes a page register held
    /// unprogrammed (the registers count as empty) and, as the host forgets which pages were
    /// programmed, the rest of a page written again afterwards: that write replaces the page
    /// whole instead of reading it first. The timing inputs keep their values through the
    /// reset; the test-only no-wait mode is switched off.
    fn power_on(&mut self) -> Result<(), SimError> {
        let p = &self.preset;
        self.dies =
            vec![DieState { dirty: None, programmed: vec![false; p.pages_per_die] }; p.channels * p.dies_per_channel];
        self.dim = 0;
        self.counts = CommandCounts::default();
        self.host.violations = 0;
        (self.rtl_carried, self.rtl_base) = (0, 0);
        self.m.set(self.p.pu_ready_i, 1);
        self.m.set(self.p.dbg_no_wait_i, 0);
        self.reset_model();
        Ok(())
    }

    fn drop_caches(&mut self) -> Result<(), SimError> {
        self.flush()?;
        // Resetting the device empties its page registers, and its violation count with them.
        self.rtl_carried = self.timing_violations().0;
        self.rtl_base = 0;
        self.reset_model();
        Ok(())
    }

    fn counts(&self) -> CommandCounts {
        self.counts.clone()
    }

    fn timing_violations(&self) -> (u64, u64) {
        (self.rtl_carried + self.m.get(self.p.viol_count_o) - self.rtl_base, self.host.violations)
    }

    fn error_flag(&self) -> bool {
        self.m.get(self.p.err_o) != 0
    }
}
