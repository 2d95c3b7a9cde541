//! A PIM device: a memory side (RTL banks or flash, [`MemorySide`]) with its PUs and RUs
//! (the Verilated `pam_pu` and `pam_ru`), clocked together by the host.
//!
//! Local attention on the device, top to bottom:
//! 1. every PU gets LOAD_Q with the query, then RUN with the number of its selected tokens;
//! 2. the memory streams the selected tokens; each memory clock, every PU is clocked once with
//!    the beat the memory produced for it, if any (PUs run on the memory clock here: one clock
//!    domain per device; the PU buffer would absorb a slower PU clock);
//! 3. each PU drains its partial; each first-level RU (bank group, channel group) merges its
//!    PUs' partials in PU order, the device RU merges those in order.
//!
//! Cycle accounting: streaming clocks, plus the slowest PU's drain, plus the slowest
//! first-level RU, plus the device RU (the RUs of one level work in parallel).
//!
//! Clock domains: by default the PUs and RUs run on the memory clock. With
//! [`PimDevice::with_pu_clock`] they run on their own clock (the tier's PU clock of spec §3:
//! 666 MHz HBM, 500 MHz DDR, 1 GHz SSD): every beat then crosses into the PU's domain through a
//! dual-clock FIFO ([`crate::kernel::cdc`]), and a PU slower than its banks holds the memory
//! back through the FIFO's free space.

use super::memory::{Beat, CommandCounts, MemorySide};
use crate::error::SimError;
use crate::golden::device::dram_device_attention;
use crate::kernel::cdc::CdcFifo;
use crate::kernel::clock::Clock;
use crate::kernel::Ps;
use crate::kv::location::PhysLoc;
use crate::partial::Partial;
use crate::rtl::pu::PuSim;
use crate::rtl::ru::{RuOutput, RuSim};

/// Where the clocks of one local-attention run went.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RunBreakdown {
    pub stream: u64,
    pub pu_drain: u64,
    pub ru_first_level: u64,
    pub ru_device: u64,
}

impl RunBreakdown {
    pub fn total(&self) -> u64 {
        self.stream + self.pu_drain + self.ru_first_level + self.ru_device
    }
}

#[derive(Clone, Debug)]
pub struct DeviceRun {
    pub partial: Partial,
    /// Clocks of each phase: memory clocks for streaming, the PU/RU clock for the rest.
    pub cycles: RunBreakdown,
    /// Wall time of the run in simulated picoseconds.
    pub ps: Ps,
    pub tokens_per_pu: Vec<usize>,
    /// A PU or RU raised its error flag, or a beat reached a full PU buffer.
    pub err: bool,
}

/// Depth of each memory-to-PU clock crossing, in beats.
pub const CDC_DEPTH: usize = 8;

pub struct PimDevice {
    mem: Box<dyn MemorySide + Send>,
    /// The PUs' and RUs' own clock, when not the memory's.
    pu_clock_mhz: Option<f64>,
    pus: Vec<PuSim>,
    rus: Vec<RuSim>,
    dev_ru: RuSim,
    dim: usize,
}

impl PimDevice {
    /// A device whose PUs and RUs run on the memory clock.
    pub fn new(mem: Box<dyn MemorySide + Send>) -> Result<Self, SimError> {
        Self::build(mem, None)
    }

    /// A device whose PUs and RUs run on a clock of their own.
    pub fn with_pu_clock(mem: Box<dyn MemorySide + Send>, pu_mhz: f64) -> Result<Self, SimError> {
        if pu_mhz.is_nan() || pu_mhz <= 0.0 {
            return Err(SimError::Input(format!("PU clock {pu_mhz} MHz must be positive")));
        }
        Self::build(mem, Some(pu_mhz))
    }

    fn build(mem: Box<dyn MemorySide + Send>, pu_clock_mhz: Option<f64>) -> Result<Self, SimError> {
        let lanes = mem.lanes();
        let mhz = pu_clock_mhz.unwrap_or(1e6 / mem.tck_ps());
        let pus = (0..mem.pus()).map(|_| PuSim::new(lanes, mhz)).collect::<Result<Vec<_>, _>>()?;
        let groups = mem.pus().div_ceil(mem.pus_per_ru());
        let rus = (0..groups).map(|_| RuSim::new(lanes, mhz)).collect::<Result<Vec<_>, _>>()?;
        let dev_ru = RuSim::new(lanes, mhz)?;
        Ok(PimDevice { mem, pu_clock_mhz, pus, rus, dev_ru, dim: 0 })
    }

    pub fn memory(&mut self) -> &mut dyn MemorySide {
        self.mem.as_mut()
    }

    pub fn pus(&mut self) -> &mut [PuSim] {
        &mut self.pus
    }

    pub fn write_token(&mut self, loc: &PhysLoc, k: &[u16], v: &[u16]) -> Result<(), SimError> {
        self.mem.write_token(loc, k, v)
    }

    pub fn read_token(&mut self, loc: &PhysLoc, dim: usize) -> Result<(Vec<u16>, Vec<u16>), SimError> {
        self.mem.read_token(loc, dim)
    }

    /// Broadcasts the (1/sqrt(d)-scaled) FP16 query to every PU.
    pub fn load_query(&mut self, q: &[u16]) -> Result<(), SimError> {
        for pu in &mut self.pus {
            pu.load_query(q)?;
        }
        self.dim = q.len();
        Ok(())
    }

    /// Local attention over the tokens at `tokens` against the loaded query.
    pub fn run(&mut self, tokens: &[PhysLoc]) -> Result<DeviceRun, SimError> {
        if self.dim == 0 {
            return Err(SimError::Input("device run before any query was loaded".into()));
        }
        let per_pu = self.mem.schedule(tokens);
        for (pu, list) in self.pus.iter_mut().zip(&per_pu) {
            pu.begin_run(list.len())?;
        }
        let mem_ps = self.mem.tck_ps().round() as Ps;
        let (stream, stream_ps, lost) = match self.pu_clock_mhz {
            None => {
                let (clocks, lost) = self.stream_same_clock(tokens)?;
                (clocks, clocks * mem_ps, lost)
            }
            Some(mhz) => self.stream_across_clocks(tokens, mhz)?,
        };
        let mut parts = Vec::with_capacity(self.pus.len());
        let mut drain = 0;
        for pu in &mut self.pus {
            let (p, c) = pu.finish_run()?;
            drain = drain.max(c);
            parts.push(p);
        }
        let mut err = lost || self.pus.iter_mut().any(|p| p.err_flag());
        let k = self.mem.pus_per_ru();
        let mut groups = Vec::with_capacity(self.rus.len());
        let mut ru_first = 0;
        for (ru, chunk) in self.rus.iter_mut().zip(parts.chunks(k)) {
            let r = ru.reduce(self.dim, chunk, false)?;
            ru_first = ru_first.max(r.cycles);
            err |= r.err;
            groups.push(merged(r.output));
        }
        let r = self.dev_ru.reduce(self.dim, &groups, false)?;
        err |= r.err;
        let pu_ps = self.pu_clock_mhz.map_or(mem_ps, |mhz| Clock::from_mhz("pu", mhz).period_ps);
        Ok(DeviceRun {
            partial: merged(r.output),
            ps: stream_ps + (drain + ru_first + r.cycles) * pu_ps,
            cycles: RunBreakdown { stream, pu_drain: drain, ru_first_level: ru_first, ru_device: r.cycles },
            tokens_per_pu: per_pu.iter().map(Vec::len).collect(),
            err,
        })
    }

    /// Dumps the memory side to `dir/stem.fst`, and the first PU and the first first-level RU
    /// to `dir/stem_puL.fst` and `dir/stem_ruL.fst` (L = lanes), until [`Self::close_traces`].
    pub fn trace_open(&mut self, dir: &std::path::Path, stem: &str) -> Result<Vec<std::path::PathBuf>, SimError> {
        let lanes = self.mem.lanes();
        let files = [
            dir.join(format!("{stem}.fst")),
            dir.join(format!("{stem}_pu{lanes}.fst")),
            dir.join(format!("{stem}_ru{lanes}.fst")),
        ];
        self.mem.model().trace_open(&files[0])?;
        self.pus[0].model().trace_open(&files[1])?;
        self.rus[0].model().trace_open(&files[2])?;
        Ok(files.to_vec())
    }

    pub fn close_traces(&mut self) {
        self.mem.model().trace_close();
        for pu in &mut self.pus {
            pu.model().trace_close();
        }
        for ru in &mut self.rus {
            ru.model().trace_close();
        }
    }

    /// Streams with every PU clocked on the memory clock: (memory clocks, a beat was lost).
    fn stream_same_clock(&mut self, tokens: &[PhysLoc]) -> Result<(u64, bool), SimError> {
        let mut lost = false;
        let pus = &mut self.pus;
        let mut fed = vec![false; pus.len()];
        let clocks = self.mem.stream(self.dim, tokens, &mut |beats: &[Beat]| {
            fed.iter_mut().for_each(|f| *f = false);
            for b in beats {
                lost |= !pus[b.pu].clock(Some(b.words));
                fed[b.pu] = true;
            }
            for (pu, _) in pus.iter_mut().zip(&fed).filter(|(_, f)| !**f) {
                idle_clock(pu);
            }
            pus.iter().all(PuSim::can_take)
        })?;
        Ok((clocks, lost))
    }

    /// Streams with the PUs on their own clock, each beat crossing through a dual-clock FIFO:
    /// (memory clocks, picoseconds until the last beat was taken, a beat was lost).
    fn stream_across_clocks(&mut self, tokens: &[PhysLoc], pu_mhz: f64) -> Result<(u64, Ps, bool), SimError> {
        let mem_ps = self.mem.tck_ps().round() as Ps;
        let mut clock = Clock::from_mhz("pu", pu_mhz);
        let pus = &mut self.pus;
        let mut fifos: Vec<CdcFifo<Vec<u32>>> =
            (0..pus.len()).map(|_| CdcFifo::new(CDC_DEPTH, clock.period_ps)).collect();
        let (mut edge, mut lost) = (0u64, false);
        let clocks = self.mem.stream(self.dim, tokens, &mut |beats: &[Beat]| {
            edge += 1;
            let now = edge * mem_ps;
            for b in beats {
                lost |= fifos[b.pu].push(now, b.words.to_vec()).is_err();
            }
            pu_edges_until(pus, &mut fifos, &mut clock, now);
            // Room for a bank pair's two beats in every crossing.
            fifos.iter().all(|f| f.free() >= 2)
        })?;
        let mut now = edge * mem_ps;
        while fifos.iter().any(|f| !f.is_empty()) {
            now = clock.next_edge();
            pu_edges_until(pus, &mut fifos, &mut clock, now);
        }
        Ok((clocks, now, lost))
    }

    /// The bit-accurate model of [`Self::run`] over `tokens`: each PU folds its tokens in the
    /// order the memory streams them, then the RUs merge as the device does. `kv` gives the
    /// K and V of the token at a location.
    pub fn golden<'k>(
        &self,
        q: &[u16],
        tokens: &[PhysLoc],
        kv: impl Fn(&PhysLoc) -> (&'k [u16], &'k [u16]),
    ) -> Partial {
        let per_pu: Vec<Vec<(&[u16], &[u16])>> =
            self.mem.schedule(tokens).iter().map(|ls| ls.iter().map(&kv).collect()).collect();
        dram_device_attention(q, self.mem.lanes(), self.mem.pus_per_ru(), &per_pu).0
    }

    pub fn counts(&self) -> CommandCounts {
        self.mem.counts()
    }
}

/// A PU clock with no beat: skipped when the PU is stalled (it would not change; the memory's
/// tR leaves every PU waiting for tens of thousands of clocks).
fn idle_clock(pu: &mut PuSim) {
    if pu.stalled() {
        pu.skip_clock();
    } else {
        pu.clock(None);
    }
}

/// Takes every PU rising edge up to `until`: each PU takes the beat its crossing shows, if it
/// has room for it.
fn pu_edges_until(pus: &mut [PuSim], fifos: &mut [CdcFifo<Vec<u32>>], clock: &mut Clock, until: Ps) {
    while clock.next_edge() <= until {
        let t = clock.tick();
        for (pu, f) in pus.iter_mut().zip(fifos.iter_mut()) {
            match pu.can_take().then(|| f.pop(t)).flatten() {
                Some(w) => {
                    pu.clock(Some(&w));
                }
                None => idle_clock(pu),
            }
        }
    }
}

fn merged(o: RuOutput) -> Partial {
    match o {
        RuOutput::Merged(p) => p,
        RuOutput::Final { .. } => unreachable!("MERGE returns a partial"),
    }
}
