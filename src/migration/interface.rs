//! The migration interface ("PAM interface", spec section 8): the Verilated `pam_mig_if`
//! (`rtl/mig/`), its driver, the host-CPU path it replaces, and their benchmark.
//!
//! A token is a byte string (K beats then V beats) stored as beats of its device's width: 32
//! bytes in HBM and SSD, 8 bytes in DDR. A move names the token's source and target
//! [`PhysLoc`] and [`Layout`]; the interface reads the source beats (reordered, open row
//! first), collects the token in its re-layout buffer, and writes the target beats at their
//! addresses in the target layout. [`MigrationIf::run`] serves the source read requests from
//! a [`BeatMemory`] (address to beat) with a configurable latency, one request and one
//! response per clock, and collects the target writes into another [`BeatMemory`].
//!
//! Address fields as the interface sees them ([`Addr`]): `unit` = bank group or channel
//! (8 bits), `bank` = bank or die (8 bits), `row` = row or page (24 bits), `col` = column or
//! byte offset (16 bits); they are [`PhysLoc`]'s `bank_group`, `bank`, `row`, `col`.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::SimError;
use crate::kv::location::PhysLoc;
use crate::rtl::beats::beats;
use crate::rtl::model::{port_set, Top, VModel};

/// Token slots of the interface's re-layout buffer (the RTL's SLOTS).
pub const SLOTS: usize = 8;
/// Bytes of one buffer slot: the largest token (the RTL's BUF_BYTES; head dimension 256).
pub const BUF_BYTES: usize = 1024;
/// Interface clock of the benchmark (MHz): the SSD controller's clock, above the HBM PU clock.
pub const MIG_CLOCK_MHZ: f64 = 1000.0;

/// Where the beats of a token lie (`rtl/mig/pam_mig_pkg.sv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// DRAM, one bank: beat j at (bank, row, col + j) (DDR: one PU per bank).
    DramSingle,
    /// DRAM, a bank pair: beat j at (bank + j % 2, row, col + j / 2) (HBM: one PU per pair).
    DramPair,
    /// Flash: beat j at (channel, die, page, byte offset + j * beat bytes).
    Flash,
}

impl Layout {
    fn code(self) -> u64 {
        match self {
            Layout::DramSingle => 0,
            Layout::DramPair => 1,
            Layout::Flash => 2,
        }
    }

    /// Address of beat `j` of a token whose beat 0 is at `loc`, for beats of `beat_bytes`.
    pub fn beat_addr(self, loc: &PhysLoc, j: usize, beat_bytes: usize) -> Addr {
        let base = Addr::of(loc);
        let j = j as u32;
        match self {
            Layout::DramSingle => Addr { col: base.col + j, ..base },
            Layout::DramPair => Addr { bank: base.bank + j % 2, col: base.col + j / 2, ..base },
            Layout::Flash => Addr { col: base.col + j * beat_bytes as u32, ..base },
        }
    }
}

/// An address on the interface's source or target port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Addr {
    pub unit: u32,
    pub bank: u32,
    pub row: u32,
    pub col: u32,
}

impl Addr {
    pub fn of(loc: &PhysLoc) -> Self {
        Addr { unit: loc.bank_group as u32, bank: loc.bank as u32, row: loc.row, col: loc.col }
    }

    fn fits(&self) -> bool {
        self.unit < 1 << 8 && self.bank < 1 << 8 && self.row < 1 << 24 && self.col < 1 << 16
    }
}

/// A memory model: one beat (its bytes) per address.
pub type BeatMemory = HashMap<Addr, Vec<u8>>;

/// Stores `data` as a token at `loc` in `layout` (beats of `beat_bytes`).
pub fn store_token(mem: &mut BeatMemory, layout: Layout, loc: &PhysLoc, beat_bytes: usize, data: &[u8]) {
    for (j, beat) in data.chunks(beat_bytes).enumerate() {
        let mut b = beat.to_vec();
        b.resize(beat_bytes, 0);
        mem.insert(layout.beat_addr(loc, j, beat_bytes), b);
    }
}

/// The `len` bytes of the token at `loc` in `layout`, or `None` if a beat was never written.
pub fn load_token(mem: &BeatMemory, layout: Layout, loc: &PhysLoc, beat_bytes: usize, len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    for j in 0..len.div_ceil(beat_bytes) {
        out.extend_from_slice(mem.get(&layout.beat_addr(loc, j, beat_bytes))?);
    }
    out.truncate(len);
    Some(out)
}

/// One token to move through the interface: a descriptor, as the RTL takes them (the host
/// side's [`crate::sched::Move`] is a decision between tiers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub src: PhysLoc,
    pub src_layout: Layout,
    pub dst: PhysLoc,
    pub dst_layout: Layout,
    /// Bytes of the token: a multiple of both beat widths, at most [`BUF_BYTES`].
    pub token_bytes: usize,
}

/// How the memories around the interface behave during a run.
#[derive(Clone, Copy, Debug)]
pub struct RunConfig {
    /// Clocks from an accepted source read request to its data (at least 1).
    pub src_latency: u32,
    /// Extra random clocks (0..=jitter) per response: responses then come back out of order.
    pub src_jitter: u32,
    /// Clocks the source is busy (not ready) after a request that switched its bank's row
    /// (precharge + activate, or a page read); those requests' data also come later by as much.
    pub src_row_miss: u32,
    /// Percent of clocks the source accepts a request (back-pressure on the read port).
    pub rd_ready_pct: u32,
    /// Percent of clocks the target accepts a write (back-pressure on the write port).
    pub wr_ready_pct: u32,
    /// Seed of the back-pressure and jitter draws.
    pub seed: u64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig { src_latency: 1, src_jitter: 0, src_row_miss: 0, rd_ready_pct: 100, wr_ready_pct: 100, seed: 0 }
    }
}

/// One target write as the interface issued it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteRec {
    /// Index of the move (its tag, modulo 2^16).
    pub tag: u16,
    /// Target beat index within the token.
    pub beat: u32,
    pub last: bool,
    pub addr: Addr,
    /// Clock of the write, from the start of the run.
    pub cycle: u64,
}

/// What a run took.
#[derive(Clone, Debug, Default)]
pub struct MigStats {
    /// Clocks from the first descriptor to the last write (the interface idle again).
    pub cycles: u64,
    pub tokens: usize,
    pub src_beats: u64,
    pub dst_beats: u64,
    /// Source requests whose bank (die) last served another row (page), or none: row
    /// activations (page reads) the source performs.
    pub row_switches: u64,
    /// Requests the RTL flagged as hitting its open-row table.
    pub rtl_row_hits: u64,
    /// Most buffer slots in use at once (never above [`SLOTS`]).
    pub max_held: u32,
    /// Every target write, in issue order.
    pub writes: Vec<WriteRec>,
}

port_set! {
    Ports {
        rst_ni,
        desc_valid_i, desc_ready_o,
        desc_src_kind_i, desc_src_unit_i, desc_src_bank_i, desc_src_row_i, desc_src_col_i,
        desc_dst_kind_i, desc_dst_unit_i, desc_dst_bank_i, desc_dst_row_i, desc_dst_col_i,
        desc_nbeats_i, desc_tag_i,
        rd_valid_o, rd_ready_i, rd_unit_o, rd_bank_o, rd_row_o, rd_col_o, rd_slot_o, rd_beat_o, rd_hit_o,
        rdata_valid_i, rdata_ready_o, rdata_slot_i, rdata_beat_i, rdata_i,
        wr_valid_o, wr_ready_i, wr_unit_o, wr_bank_o, wr_row_o, wr_col_o, wr_data_o, wr_tag_o, wr_beat_o, wr_last_o,
        busy_o, held_o,
    }
}

/// A source read in flight: due clock, slot, beat, data.
struct Pending {
    due: u64,
    slot: u64,
    beat: u64,
    data: Vec<u32>,
}

/// Row switches of a stream of source requests: a request to a bank (unit, bank) whose last
/// request was to another row, or the bank's first request.
#[derive(Default)]
struct RowTracker {
    open: HashMap<(u32, u32), u32>,
    switches: u64,
}

impl RowTracker {
    fn access(&mut self, a: &Addr) -> bool {
        let miss = self.open.insert((a.unit, a.bank), a.row) != Some(a.row);
        self.switches += miss as u64;
        miss
    }
}

/// Source row switches if the moves' beats were read in arrival order, token after token.
pub fn arrival_row_switches(moves: &[Descriptor], src_beat_bytes: usize) -> u64 {
    let mut t = RowTracker::default();
    for mv in moves {
        for j in 0..mv.token_bytes / src_beat_bytes {
            t.access(&mv.src_layout.beat_addr(&mv.src, j, src_beat_bytes));
        }
    }
    t.switches
}

fn bytes_to_words(b: &[u8], words: &mut [u32]) {
    for (w, c) in words.iter_mut().zip(b.chunks(4)) {
        *w = c.iter().enumerate().fold(0u32, |acc, (i, &x)| acc | (x as u32) << (8 * i));
    }
}

fn words_to_bytes(words: &[u32], n: usize) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).take(n).collect()
}

/// The Verilated migration interface for one pair of beat widths.
pub struct MigrationIf {
    m: VModel,
    p: Ports,
    src_bytes: usize,
    dst_bytes: usize,
}

impl MigrationIf {
    /// An interface between beats of `src_beat_bytes` and `dst_beat_bytes` (32 or 8 each; not
    /// both 8).
    pub fn new(src_beat_bytes: usize, dst_beat_bytes: usize) -> Result<Self, SimError> {
        let top = Top::named(&format!("mig_{src_beat_bytes}_{dst_beat_bytes}")).map_err(|_| {
            SimError::Input(format!(
                "no Verilated migration interface for {src_beat_bytes}-byte to {dst_beat_bytes}-byte beats (built: {})",
                Top::all().filter(|t| t.module == "pam_mig_if").map(|t| t.name).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let m = VModel::new(top, MIG_CLOCK_MHZ)?;
        let p = Ports::lookup(&m)?;
        let mut s = MigrationIf { m, p, src_bytes: src_beat_bytes, dst_bytes: dst_beat_bytes };
        s.reset();
        Ok(s)
    }

    /// The interface for the beat widths of a move set's source and target tiers.
    pub fn src_beat_bytes(&self) -> usize {
        self.src_bytes
    }

    pub fn dst_beat_bytes(&self) -> usize {
        self.dst_bytes
    }

    pub fn model(&mut self) -> &mut VModel {
        &mut self.m
    }

    fn reset(&mut self) {
        let p = &self.p;
        for port in [p.desc_valid_i, p.rd_ready_i, p.rdata_valid_i, p.wr_ready_i] {
            self.m.set(port, 0);
        }
        self.m.reset(p.rst_ni);
    }

    fn check(&self, mv: &Descriptor) -> Result<(), SimError> {
        let (s, d) = (self.src_bytes, self.dst_bytes);
        let n = mv.token_bytes;
        if n == 0 || n > BUF_BYTES || !n.is_multiple_of(s) || !n.is_multiple_of(d) {
            return Err(SimError::Input(format!(
                "token of {n} bytes: must be 1..={BUF_BYTES} bytes and a whole number of {s}- and {d}-byte beats"
            )));
        }
        let ends = [
            mv.src_layout.beat_addr(&mv.src, 0, s),
            mv.src_layout.beat_addr(&mv.src, n / s - 1, s),
            mv.src_layout.beat_addr(&mv.src, 1, s),
            mv.dst_layout.beat_addr(&mv.dst, 0, d),
            mv.dst_layout.beat_addr(&mv.dst, n / d - 1, d),
            mv.dst_layout.beat_addr(&mv.dst, 1, d),
        ];
        if !ends.iter().all(Addr::fits) {
            return Err(SimError::Input(format!("move {mv:?}: an address does not fit the interface's fields")));
        }
        Ok(())
    }

    fn present_desc(&mut self, i: usize, mv: &Descriptor) {
        let (m, p) = (&mut self.m, &self.p);
        let (s, d) = (Addr::of(&mv.src), Addr::of(&mv.dst));
        m.set(p.desc_src_kind_i, mv.src_layout.code());
        m.set(p.desc_src_unit_i, s.unit as u64);
        m.set(p.desc_src_bank_i, s.bank as u64);
        m.set(p.desc_src_row_i, s.row as u64);
        m.set(p.desc_src_col_i, s.col as u64);
        m.set(p.desc_dst_kind_i, mv.dst_layout.code());
        m.set(p.desc_dst_unit_i, d.unit as u64);
        m.set(p.desc_dst_bank_i, d.bank as u64);
        m.set(p.desc_dst_row_i, d.row as u64);
        m.set(p.desc_dst_col_i, d.col as u64);
        m.set(p.desc_nbeats_i, (mv.token_bytes / self.src_bytes) as u64);
        m.set(p.desc_tag_i, i as u64 & 0xffff);
        m.set(p.desc_valid_i, 1);
    }

    /// Moves every token: source beats from `src`, target beats into `dst`. Descriptors go in
    /// in the order given, one per clock while the interface takes them.
    pub fn run(
        &mut self,
        moves: &[Descriptor],
        src: &BeatMemory,
        dst: &mut BeatMemory,
        cfg: &RunConfig,
    ) -> Result<MigStats, SimError> {
        for mv in moves {
            self.check(mv)?;
        }
        let (sb, db) = (self.src_bytes, self.dst_bytes);
        let src_beats: u64 = moves.iter().map(|m| (m.token_bytes / sb) as u64).sum();
        let dst_beats: u64 = moves.iter().map(|m| (m.token_bytes / db) as u64).sum();
        let min_pct = cfg.rd_ready_pct.min(cfg.wr_ready_pct).clamp(1, 100) as u64;
        let limit = 1_000
            + (src_beats + dst_beats) * 4 * 100 / min_pct
            + src_beats * (cfg.src_latency + cfg.src_jitter + cfg.src_row_miss) as u64;

        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut st = MigStats { tokens: moves.len(), src_beats, dst_beats, ..Default::default() };
        let mut rows = RowTracker::default();
        let mut inflight: Vec<Pending> = Vec::new();
        let mut next = 0usize;
        let mut src_busy_until = 0u64;
        let mut writes = 0u64;
        let mut rdata = vec![0u32; self.m.width(self.p.rdata_i).div_ceil(32) as usize];
        let mut wdata = vec![0u32; self.m.width(self.p.wr_data_o).div_ceil(32) as usize];
        let p = Ports { ..self.p };
        let start = self.m.cycles();

        loop {
            let now = self.m.cycles() - start;
            // Inputs of this clock (none depends on an output of this clock).
            match moves.get(next) {
                Some(mv) => self.present_desc(next, mv),
                None => self.m.set(p.desc_valid_i, 0),
            }
            let rd_ready = now >= src_busy_until && rng.random_range(0..100) < cfg.rd_ready_pct;
            self.m.set(p.rd_ready_i, rd_ready as u64);
            let due = inflight.iter().enumerate().filter(|(_, r)| r.due <= now).min_by_key(|(_, r)| r.due);
            let resp = due.map(|(i, _)| i);
            if let Some(i) = resp {
                let r = &inflight[i];
                self.m.set(p.rdata_slot_i, r.slot);
                self.m.set(p.rdata_beat_i, r.beat);
                self.m.set_words(p.rdata_i, &r.data);
            }
            self.m.set(p.rdata_valid_i, resp.is_some() as u64);
            let wr_ready = rng.random_range(0..100) < cfg.wr_ready_pct;
            self.m.set(p.wr_ready_i, wr_ready as u64);

            self.m.fall();
            let m = &self.m;
            if next < moves.len() && m.get(p.desc_ready_o) != 0 {
                next += 1;
            }
            if rd_ready && m.get(p.rd_valid_o) != 0 {
                let a = Addr {
                    unit: m.get(p.rd_unit_o) as u32,
                    bank: m.get(p.rd_bank_o) as u32,
                    row: m.get(p.rd_row_o) as u32,
                    col: m.get(p.rd_col_o) as u32,
                };
                let miss = rows.access(&a);
                st.rtl_row_hits += m.get(p.rd_hit_o);
                let beat =
                    src.get(&a).ok_or_else(|| SimError::Input(format!("source read of {a:?}, which holds no beat")))?;
                bytes_to_words(beat, &mut rdata);
                let extra = if miss { cfg.src_row_miss as u64 } else { 0 };
                if miss {
                    src_busy_until = now + 1 + extra;
                }
                let jitter = if cfg.src_jitter > 0 { rng.random_range(0..=cfg.src_jitter) as u64 } else { 0 };
                inflight.push(Pending {
                    due: now + cfg.src_latency.max(1) as u64 + extra + jitter,
                    slot: m.get(p.rd_slot_o),
                    beat: m.get(p.rd_beat_o),
                    data: rdata.clone(),
                });
            }
            if let Some(i) = resp {
                if m.get(p.rdata_ready_o) != 0 {
                    inflight.swap_remove(i);
                }
            }
            if wr_ready && m.get(p.wr_valid_o) != 0 {
                let a = Addr {
                    unit: m.get(p.wr_unit_o) as u32,
                    bank: m.get(p.wr_bank_o) as u32,
                    row: m.get(p.wr_row_o) as u32,
                    col: m.get(p.wr_col_o) as u32,
                };
                m.get_words(p.wr_data_o, &mut wdata);
                dst.insert(a, words_to_bytes(&wdata, db));
                st.writes.push(WriteRec {
                    tag: m.get(p.wr_tag_o) as u16,
                    beat: m.get(p.wr_beat_o) as u32,
                    last: m.get(p.wr_last_o) != 0,
                    addr: a,
                    cycle: now,
                });
                writes += 1;
            }
            st.max_held = st.max_held.max(m.get(p.held_o) as u32);
            self.m.rise();

            if next == moves.len() && writes == dst_beats && inflight.is_empty() && self.m.get(p.busy_o) == 0 {
                break;
            }
            if now > limit {
                return Err(SimError::Hang { unit: "migration interface", cycles: limit });
            }
        }
        st.cycles = self.m.cycles() - start;
        st.row_switches = rows.switches;
        Ok(st)
    }
}

/// The host-CPU path of a migration (what the interface replaces), per token:
///
/// * the source device DMAs the token into a bounce buffer in host DDR and the host takes the
///   completion ([`HOST_IO_NS`]), over PCIe 5 x16 ([`PCIE_GBPS`], spec section 3) and the
///   host's DDR channel ([`HOST_DDR_GBPS`], spec section 3);
/// * the CPU re-lays the token out (address arithmetic [`HOST_CPU_TOKEN_NS`], one read and one
///   write of the token in host DDR);
/// * the host submits the write to the target device and takes its completion (another
///   [`HOST_IO_NS`]), the DMA reading host DDR and crossing PCIe again.
///
/// Tokens are scattered (each sits at its own place in the source and in the target layout),
/// so each is its own pair of DMAs: the model is serial, as a host thread doing the copies
/// one after the other. Device array time (tRCD, tR) is left out on both paths.
pub fn host_cpu_path_ns(tokens: usize, token_bytes: usize) -> f64 {
    let b = token_bytes as f64;
    let link = 2.0 * b / PCIE_GBPS; // in and out over PCIe (GB/s = bytes/ns)
    let ddr = 4.0 * b / HOST_DDR_GBPS; // DMA write, CPU read, CPU write, DMA read
    tokens as f64 * (2.0 * HOST_IO_NS + HOST_CPU_TOKEN_NS + link + ddr)
}

/// Software cost of one small DMA transfer issued by the host (submission, doorbell,
/// completion interrupt and its handling): a few microseconds is what small NVMe I/Os and
/// small cudaMemcpy calls cost beyond their data.
pub const HOST_IO_NS: f64 = 5_000.0;
/// CPU time per token for the layout conversion besides moving its bytes.
pub const HOST_CPU_TOKEN_NS: f64 = 200.0;
/// PCIe 5 x16, one direction (spec section 3).
pub const PCIE_GBPS: f64 = 64.0;
/// One DDR4-3200 channel (spec section 3).
pub const HOST_DDR_GBPS: f64 = 25.6;

/// One phase of [`bench_migration`].
#[derive(Clone, Debug)]
pub struct MigPhase {
    pub name: &'static str,
    pub tokens: usize,
    pub token_bytes: usize,
    pub cycles: u64,
    pub rtl_ns: f64,
    pub host_ns: f64,
    pub row_switches: u64,
    pub arrival_row_switches: u64,
}

/// What [`bench_migration`] measured.
#[derive(Clone, Debug)]
pub struct MigBench {
    pub tokens: usize,
    pub dim: usize,
    pub token_bytes: usize,
    pub phases: Vec<MigPhase>,
    /// Interface time of all phases (ns at [`MIG_CLOCK_MHZ`]).
    pub rtl_ns: f64,
    /// Host-CPU path time of the same moves ([`host_cpu_path_ns`]).
    pub host_ns: f64,
    /// host_ns / rtl_ns.
    pub speedup: f64,
}

/// Source read latency of a DRAM source (interface clocks): about tRCD + tCL.
pub const DRAM_SRC_LATENCY: u32 = 30;
/// Clocks a DRAM source is busy on a row switch (precharge + activate, about tRP + tRCD).
pub const DRAM_ROW_MISS: u32 = 30;

/// Token bytes at head dimension `dim`: K and V each padded to whole 32-byte beats (the HBM
/// and SSD layout; the DDR copy keeps the padding so the byte string is the same).
pub fn token_bytes(dim: usize) -> usize {
    2 * beats(dim, 16) * 32
}

/// Distinct random slots: `n` of `slots` (error when there are fewer).
fn pick_slots(rng: &mut ChaCha8Rng, slots: usize, n: usize) -> Result<Vec<usize>, SimError> {
    if n > slots {
        return Err(SimError::Input(format!("{n} tokens do not fit in the {slots} token slots of the device")));
    }
    let mut v: Vec<usize> = (0..slots).collect();
    for i in 0..n {
        let j = rng.random_range(i..slots);
        v.swap(i, j);
    }
    v.truncate(n);
    Ok(v)
}

/// Benchmarks the interface against the host-CPU path on a fixed random set of moves (two
/// phases: `tokens` tokens from random places of the scaled HBM device, pair layout, to
/// consecutive places of the scaled DDR device, single layout; then the same tokens from DDR
/// to consecutive places of the scaled SSD, flash layout), checking every moved byte.
pub fn bench_migration(tokens: usize, dim: usize, seed: u64) -> Result<MigBench, SimError> {
    if dim == 0 || dim > 256 {
        return Err(SimError::Dim { dim, max: 256, unit: "migration interface" });
    }
    let tb = token_bytes(dim);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let loc = |bg: usize, bank: usize, row: usize, col: usize| PhysLoc {
        tier: 0,
        device: 0,
        bank_group: bg as u16,
        bank: bank as u16,
        row: row as u32,
        col: col as u32,
    };
    // hbm-s: 8 bank groups x 4 banks (2 pairs), 128 rows x 32 columns of 32 bytes.
    let cols_per_tok = tb / 32 / 2;
    let per_row = 32 / cols_per_tok;
    let hbm_slots = pick_slots(&mut rng, 8 * 2 * 128 * per_row, tokens)?;
    let hbm: Vec<PhysLoc> = hbm_slots
        .iter()
        .map(|&s| {
            let (pair, rest) = (s % 16, s / 16);
            loc(pair / 2, (pair % 2) * 2, rest / per_row, (rest % per_row) * cols_per_tok)
        })
        .collect();
    // ddr-s: 2 bank groups x 4 banks, rows of 128 columns of 8 bytes; token i in bank i % 8,
    // filling rows (as many rows as it takes).
    let ddr_cols = tb / 8;
    let ddr_per_row = (128 / ddr_cols).max(1);
    let ddr: Vec<PhysLoc> = (0..tokens)
        .map(|i| {
            let (b, k) = (i % 8, i / 8);
            loc(b / 4, b % 4, k / ddr_per_row, (k % ddr_per_row) * ddr_cols)
        })
        .collect();
    // ssd-s: 4 channels x 2 dies, 16 KB pages; token i on die i % 8, filling pages.
    let ssd_per_page = 16384 / tb;
    let ssd: Vec<PhysLoc> = (0..tokens)
        .map(|i| {
            let (d, k) = (i % 8, i / 8);
            loc(d / 2, d % 2, k / ssd_per_page, (k % ssd_per_page) * tb)
        })
        .collect();

    let data: Vec<Vec<u8>> = (0..tokens).map(|_| (0..tb).map(|_| rng.random()).collect()).collect();
    let mut hbm_mem = BeatMemory::new();
    for (l, d) in hbm.iter().zip(&data) {
        store_token(&mut hbm_mem, Layout::DramPair, l, 32, d);
    }
    let cfg = RunConfig { src_latency: DRAM_SRC_LATENCY, src_row_miss: DRAM_ROW_MISS, ..Default::default() };
    let phases_def = [
        ("hbm-s pair -> ddr-s single", 32, 8, Layout::DramPair, Layout::DramSingle, &hbm, &ddr),
        ("ddr-s single -> ssd-s flash", 8, 32, Layout::DramSingle, Layout::Flash, &ddr, &ssd),
    ];
    let mut src_mem = hbm_mem;
    let mut phases = Vec::new();
    for (name, sbb, dbb, sl, dl, from, to) in phases_def {
        let moves: Vec<Descriptor> = from
            .iter()
            .zip(to.iter())
            .map(|(s, d)| Descriptor { src: *s, src_layout: sl, dst: *d, dst_layout: dl, token_bytes: tb })
            .collect();
        let mut mig = MigrationIf::new(sbb, dbb)?;
        let mut dst_mem = BeatMemory::new();
        let mut total = MigStats::default();
        // Tags are 16 bits: runs of at most 65536 tokens.
        for chunk in moves.chunks(1 << 16) {
            let st = mig.run(chunk, &src_mem, &mut dst_mem, &cfg)?;
            total.cycles += st.cycles;
            total.row_switches += st.row_switches;
        }
        for (d, l) in data.iter().zip(to.iter()) {
            if load_token(&dst_mem, dl, l, dbb, tb).as_ref() != Some(d) {
                return Err(SimError::Input(format!("{name}: token at {l:?} arrived wrong")));
            }
        }
        phases.push(MigPhase {
            name,
            tokens,
            token_bytes: tb,
            cycles: total.cycles,
            rtl_ns: total.cycles as f64 * 1e3 / MIG_CLOCK_MHZ,
            host_ns: host_cpu_path_ns(tokens, tb),
            row_switches: total.row_switches,
            arrival_row_switches: arrival_row_switches(&moves, sbb),
        });
        src_mem = dst_mem;
    }
    let rtl_ns: f64 = phases.iter().map(|p| p.rtl_ns).sum();
    let host_ns: f64 = phases.iter().map(|p| p.host_ns).sum();
    Ok(MigBench { tokens, dim, token_bytes: tb, phases, rtl_ns, host_ns, speedup: host_ns / rtl_ns.max(1e-9) })
}
