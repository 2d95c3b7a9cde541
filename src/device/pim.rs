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

use super::memory::{Beat, CommandCounts, MemorySide};
use crate::error::SimError;
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
    pub cycles: RunBreakdown,
    pub tokens_per_pu: Vec<usize>,
    /// A PU or RU raised its error flag, or a beat reached a full PU buffer.
    pub err: bool,
}

pub struct PimDevice {
    mem: Box<dyn MemorySide + Send>,
    pus: Vec<PuSim>,
    rus: Vec<RuSim>,
    dev_ru: RuSim,
    dim: usize,
}

impl PimDevice {
    pub fn new(mem: Box<dyn MemorySide + Send>) -> Result<Self, SimError> {
        let lanes = mem.lanes();
        let mhz = 1e6 / mem.tck_ps();
        let pus = (0..mem.pus()).map(|_| PuSim::new(lanes, mhz)).collect::<Result<Vec<_>, _>>()?;
        let groups = mem.pus().div_ceil(mem.pus_per_ru());
        let rus = (0..groups).map(|_| RuSim::new(lanes, mhz)).collect::<Result<Vec<_>, _>>()?;
        let dev_ru = RuSim::new(lanes, mhz)?;
        Ok(PimDevice { mem, pus, rus, dev_ru, dim: 0 })
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
        let mut lost = false;
        let pus = &mut self.pus;
        let mut fed = vec![false; pus.len()];
        let stream = self.mem.stream(self.dim, tokens, &mut |beats: &[Beat]| {
            fed.iter_mut().for_each(|f| *f = false);
            for b in beats {
                lost |= !pus[b.pu].clock(Some(b.words));
                fed[b.pu] = true;
            }
            // A PU waiting for a beat that is not coming this clock would not change: skip it
            // (the memory's tR leaves every PU waiting for tens of thousands of clocks).
            for (pu, _) in pus.iter_mut().zip(&fed).filter(|(_, f)| !**f) {
                if pu.stalled() {
                    pu.skip_clock();
                } else {
                    pu.clock(None);
                }
            }
            pus.iter().all(PuSim::can_take)
        })?;
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
        Ok(DeviceRun {
            partial: merged(r.output),
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

    pub fn counts(&self) -> CommandCounts {
        self.mem.counts()
    }
}

fn merged(o: RuOutput) -> Partial {
    match o {
        RuOutput::Merged(p) => p,
        RuOutput::Final { .. } => unreachable!("MERGE returns a partial"),
    }
}
