//! A PIM device: a memory side (RTL banks or flash, [`MemorySide`]) with its PUs and RUs
//! (the Verilated `pam_pu` and `pam_ru`), clocked together by the host.
//!
//! Local attention on the device, top to bottom:
//! 1. every PU gets LOAD_Q with each of the g queries of a group, then RUN with the number of
//!    its selected tokens;
//! 2. the memory streams the selected tokens once; each memory clock, every PU is clocked once
//!    with the beat the memory produced for it, if any (PUs run on the memory clock here: one
//!    clock domain per device; the PU buffer would absorb a slower PU clock);
//! 3. each PU drains one partial per query; each first-level RU (bank group, channel group)
//!    merges its PUs' partials in PU order, the device RU merges those in order, query after
//!    query.
//!
//! Grouped-query attention (spec §11: the g = heads / KV heads queries of a KV head share each
//! K/V read): a PU holds g query contexts, each a query register with its own datapath (score,
//! online softmax, O accumulator). A K/V beat is read once from the banks and broadcast to the
//! g contexts of its PU in the same clock; the PU takes a beat only when every context has
//! room, so the memory's back-pressure is the slowest context's. Each context is modelled by a
//! Verilated `pam_pu` of its own (the RTL is the one-query PU; g of them side by side fed by one
//! input bus is that PU with g contexts). The RUs are not replicated: a RU reduces the g
//! queries' partials one after another, and the two levels overlap (the first level reduces
//! query i + 1 while the device RU reduces query i).
//!
//! Cycle accounting: streaming clocks, plus the slowest PU context's drain (contexts drain in
//! parallel), plus the span of the two-level reduction pipeline (the RUs of one level work in
//! parallel; a query leaves the first level when its slowest RU is done).
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
    /// The one memory stream every query shares.
    pub stream: u64,
    /// The slowest PU context's drain.
    pub pu_drain: u64,
    /// The slowest first-level RU, its reductions of every query added up.
    pub ru_first_level: u64,
    /// The device RU, its reductions of every query added up.
    pub ru_device: u64,
    /// The reductions from the first partial in to the last query's out: the first level
    /// reduces query i + 1 while the device RU reduces query i.
    pub ru_span: u64,
}

impl RunBreakdown {
    pub fn total(&self) -> u64 {
        self.stream + self.pu_drain + self.ru_span
    }
}

#[derive(Clone, Debug)]
pub struct DeviceRun {
    /// One reduced partial per loaded query, in load order.
    pub partials: Vec<Partial>,
    /// Clocks of each phase: memory clocks for streaming, the PU/RU clock for the rest.
    pub cycles: RunBreakdown,
    /// Wall time of the run in simulated picoseconds ...
    pub ps: Ps,
    /// ... of which the RUs' reductions took this much.
    pub reduce_ps: Ps,
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
    /// Per PU position, its query contexts: the first `queries` are loaded, the others are
    /// kept from a larger group for the next one.
    pus: Vec<Vec<PuSim>>,
    rus: Vec<RuSim>,
    dev_ru: RuSim,
    dim: usize,
    queries: usize,
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
        let mhz = unit_mhz(mem.as_ref(), pu_clock_mhz);
        let pus = (0..mem.pus()).map(|_| PuSim::new(lanes, mhz).map(|pu| vec![pu])).collect::<Result<_, _>>()?;
        let groups = mem.pus().div_ceil(mem.pus_per_ru());
        let rus = (0..groups).map(|_| RuSim::new(lanes, mhz)).collect::<Result<Vec<_>, _>>()?;
        let dev_ru = RuSim::new(lanes, mhz)?;
        Ok(PimDevice { mem, pu_clock_mhz, pus, rus, dev_ru, dim: 0, queries: 0 })
    }

    /// Power-on reset of the whole device: the memory side ([`MemorySide::power_on`]), every PU
    /// context and RU, and no query group loaded. Between runs that finished the PUs and RUs
    /// hold nothing that matters, but a run that failed half-way leaves PUs inside a RUN that
    /// would hang the next command.
    pub fn power_on(&mut self) -> Result<(), SimError> {
        self.mem.power_on()?;
        self.pus.iter_mut().flatten().for_each(PuSim::reset);
        self.rus.iter_mut().chain([&mut self.dev_ru]).for_each(RuSim::reset);
        (self.dim, self.queries) = (0, 0);
        Ok(())
    }

    pub fn memory(&mut self) -> &mut dyn MemorySide {
        self.mem.as_mut()
    }

    pub fn write_token(&mut self, loc: &PhysLoc, k: &[u16], v: &[u16]) -> Result<(), SimError> {
        self.mem.write_token(loc, k, v)
    }

    pub fn read_token(&mut self, loc: &PhysLoc, dim: usize) -> Result<(Vec<u16>, Vec<u16>), SimError> {
        self.mem.read_token(loc, dim)
    }

    /// Broadcasts the (1/sqrt(d)-scaled) FP16 query to every PU: a group of one.
    pub fn load_query(&mut self, q: &[u16]) -> Result<(), SimError> {
        self.load_queries(&[q])
    }

    /// Loads a group of queries (1/sqrt(d)-scaled FP16, one head dimension) that share the
    /// next runs' K/V reads: query i goes to context i of every PU. Contexts are added when the
    /// group is larger than any before.
    pub fn load_queries<Q: AsRef<[u16]>>(&mut self, qs: &[Q]) -> Result<(), SimError> {
        let dims: Vec<usize> = qs.iter().map(|q| q.as_ref().len()).collect();
        if dims.is_empty() || dims.iter().any(|&d| d != dims[0]) {
            return Err(SimError::Input(format!("a query group needs queries of one dimension, got {dims:?}")));
        }
        let (lanes, mhz) = (self.mem.lanes(), unit_mhz(self.mem.as_ref(), self.pu_clock_mhz));
        // A load that fails half-way leaves no group to run.
        (self.dim, self.queries) = (0, 0);
        for ctxs in &mut self.pus {
            while ctxs.len() < qs.len() {
                ctxs.push(PuSim::new(lanes, mhz)?);
            }
            for (pu, q) in ctxs.iter_mut().zip(qs) {
                pu.load_query(q.as_ref())?;
            }
        }
        (self.dim, self.queries) = (dims[0], qs.len());
        Ok(())
    }

    /// Local attention over the tokens at `tokens` against every loaded query, the memory
    /// streaming them once.
    pub fn run(&mut self, tokens: &[PhysLoc]) -> Result<DeviceRun, SimError> {
        if self.dim == 0 {
            return Err(SimError::Input("device run before any query was loaded".into()));
        }
        let g = self.queries;
        let per_pu = self.mem.schedule(tokens, self.dim);
        for (ctxs, list) in self.pus.iter_mut().zip(&per_pu) {
            for pu in &mut ctxs[..g] {
                pu.begin_run(list.len())?;
            }
        }
        let mem_ps = self.mem.tck_ps().round() as Ps;
        let (stream, stream_ps, lost) = match self.pu_clock_mhz {
            None => {
                let (clocks, lost) = self.stream_same_clock(tokens)?;
                (clocks, clocks * mem_ps, lost)
            }
            Some(mhz) => self.stream_across_clocks(tokens, mhz)?,
        };
        // parts[i][p]: query i's partial from PU p.
        let mut parts = vec![Vec::with_capacity(self.pus.len()); g];
        let mut drain = 0;
        let mut err = lost;
        for ctxs in &mut self.pus {
            for (pu, qp) in ctxs[..g].iter_mut().zip(&mut parts) {
                let (p, c) = pu.finish_run()?;
                drain = drain.max(c);
                err |= pu.err_flag();
                qp.push(p);
            }
        }
        let k = self.mem.pus_per_ru();
        let mut ru_busy = vec![0; self.rus.len()];
        let (mut ru_device, mut partials) = (0, Vec::with_capacity(g));
        // Two-stage pipeline: when the first level is done with a query and when the device RU is.
        let (mut first_done, mut device_done) = (0, 0);
        for qp in &parts {
            let mut groups = Vec::with_capacity(self.rus.len());
            let mut slowest = 0;
            for ((ru, chunk), busy) in self.rus.iter_mut().zip(qp.chunks(k)).zip(&mut ru_busy) {
                let r = ru.reduce(self.dim, chunk, false)?;
                *busy += r.cycles;
                slowest = slowest.max(r.cycles);
                err |= r.err;
                groups.push(merged(r.output));
            }
            let r = self.dev_ru.reduce(self.dim, &groups, false)?;
            ru_device += r.cycles;
            first_done += slowest;
            device_done = first_done.max(device_done) + r.cycles;
            err |= r.err;
            partials.push(merged(r.output));
        }
        let ru_first = ru_busy.into_iter().max().unwrap_or(0);
        let pu_ps = self.pu_clock_mhz.map_or(mem_ps, |mhz| Clock::from_mhz("pu", mhz).period_ps);
        Ok(DeviceRun {
            partials,
            ps: stream_ps + (drain + device_done) * pu_ps,
            reduce_ps: device_done * pu_ps,
            cycles: RunBreakdown { stream, pu_drain: drain, ru_first_level: ru_first, ru_device, ru_span: device_done },
            tokens_per_pu: per_pu.iter().map(Vec::len).collect(),
            err,
        })
    }

    /// Dumps the memory side to `dir/stem.fst`, and the first PU (its first query context) and
    /// the first first-level RU to `dir/stem_puL.fst` and `dir/stem_ruL.fst` (L = lanes), until
    /// [`Self::close_traces`].
    pub fn trace_open(&mut self, dir: &std::path::Path, stem: &str) -> Result<Vec<std::path::PathBuf>, SimError> {
        let lanes = self.mem.lanes();
        let files = [
            dir.join(format!("{stem}.fst")),
            dir.join(format!("{stem}_pu{lanes}.fst")),
            dir.join(format!("{stem}_ru{lanes}.fst")),
        ];
        self.mem.model().trace_open(&files[0])?;
        self.pus[0][0].model().trace_open(&files[1])?;
        self.rus[0].model().trace_open(&files[2])?;
        Ok(files.to_vec())
    }

    pub fn close_traces(&mut self) {
        self.mem.model().trace_close();
        for pu in self.pus.iter_mut().flatten() {
            pu.model().trace_close();
        }
        for ru in &mut self.rus {
            ru.model().trace_close();
        }
    }

    /// Streams with every PU clocked on the memory clock: (memory clocks, a beat was lost).
    fn stream_same_clock(&mut self, tokens: &[PhysLoc]) -> Result<(u64, bool), SimError> {
        let mut lost = false;
        let (pus, g) = (&mut self.pus, self.queries);
        let mut fed = vec![false; pus.len()];
        let clocks = self.mem.stream(self.dim, tokens, &mut |beats: &[Beat]| {
            fed.fill(false);
            for b in beats {
                lost |= !clock_contexts(&mut pus[b.pu][..g], Some(b.words));
                fed[b.pu] = true;
            }
            for (ctxs, _) in pus.iter_mut().zip(&fed).filter(|(_, f)| !**f) {
                clock_contexts(&mut ctxs[..g], None);
            }
            pus.iter().all(|ctxs| can_take(&ctxs[..g]))
        })?;
        Ok((clocks, lost))
    }

    /// Streams with the PUs on their own clock, each beat crossing through a dual-clock FIFO
    /// (one per PU: the beat crosses once, then goes to every context):
    /// (memory clocks, picoseconds until the last beat was taken, a beat was lost).
    fn stream_across_clocks(&mut self, tokens: &[PhysLoc], pu_mhz: f64) -> Result<(u64, Ps, bool), SimError> {
        let mem_ps = self.mem.tck_ps().round() as Ps;
        let mut clock = Clock::from_mhz("pu", pu_mhz);
        let (pus, g) = (&mut self.pus, self.queries);
        let mut fifos: Vec<CdcFifo<Vec<u32>>> =
            (0..pus.len()).map(|_| CdcFifo::new(CDC_DEPTH, clock.period_ps)).collect();
        let (mut edge, mut lost) = (0u64, false);
        let clocks = self.mem.stream(self.dim, tokens, &mut |beats: &[Beat]| {
            edge += 1;
            let now = edge * mem_ps;
            for b in beats {
                lost |= fifos[b.pu].push(now, b.words.to_vec()).is_err();
            }
            pu_edges_until(pus, g, &mut fifos, &mut clock, now);
            // Room for a bank pair's two beats in every crossing.
            fifos.iter().all(|f| f.free() >= 2)
        })?;
        let mut now = edge * mem_ps;
        while fifos.iter().any(|f| !f.is_empty()) {
            now = clock.next_edge();
            pu_edges_until(pus, g, &mut fifos, &mut clock, now);
        }
        Ok((clocks, now, lost))
    }

    /// The bit-accurate model of [`Self::run`] over `tokens` for query `q`, any one of a
    /// loaded group (a PU's contexts share beats, nothing else): each PU folds its tokens in
    /// the order the memory streams them, then the RUs merge as the device does. `kv` gives
    /// the K and V of the token at a location.
    pub fn golden<'k>(
        &self,
        q: &[u16],
        tokens: &[PhysLoc],
        kv: impl Fn(&PhysLoc) -> (&'k [u16], &'k [u16]),
    ) -> Partial {
        let per_pu: Vec<Vec<(&[u16], &[u16])>> =
            self.mem.schedule(tokens, q.len()).iter().map(|ls| ls.iter().map(&kv).collect()).collect();
        dram_device_attention(q, self.mem.lanes(), self.mem.pus_per_ru(), &per_pu).0
    }

    pub fn counts(&self) -> CommandCounts {
        self.mem.counts()
    }
}

/// The clock of the PUs and RUs: their own, else the memory's.
fn unit_mhz(mem: &dyn MemorySide, pu_clock_mhz: Option<f64>) -> f64 {
    pu_clock_mhz.unwrap_or(1e6 / mem.tck_ps())
}

/// One clock of a PU's query contexts: the beat read from the banks, if any, goes to every
/// context. Returns false when a context's buffer was full and lost it.
fn clock_contexts(ctxs: &mut [PuSim], beat: Option<&[u32]>) -> bool {
    let mut taken = true;
    for pu in ctxs {
        match beat {
            Some(w) => taken &= pu.clock(Some(w)),
            None => idle_clock(pu),
        }
    }
    taken
}

/// A PU takes a beat only when every one of its contexts can.
fn can_take(ctxs: &[PuSim]) -> bool {
    ctxs.iter().all(PuSim::can_take)
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

/// Takes every PU rising edge up to `until`: each PU's first `g` contexts take the beat its
/// crossing shows, if they all have room for it.
fn pu_edges_until(pus: &mut [Vec<PuSim>], g: usize, fifos: &mut [CdcFifo<Vec<u32>>], clock: &mut Clock, until: Ps) {
    while clock.next_edge() <= until {
        let t = clock.tick();
        for (ctxs, f) in pus.iter_mut().zip(fifos.iter_mut()) {
            let ctxs = &mut ctxs[..g];
            let beat = can_take(ctxs).then(|| f.pop(t)).flatten();
            clock_contexts(ctxs, beat.as_deref());
        }
    }
}

fn merged(o: RuOutput) -> Partial {
    match o {
        RuOutput::Merged(p) => p,
        RuOutput::Final { .. } => unreachable!("MERGE returns a partial"),
    }
}
