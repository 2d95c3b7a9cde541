//! Host driver for the Verilated PU (`rtl/pu/pam_pu.sv`).
//!
//! Speaks the PU's protocol cycle by cycle: LOAD_Q, then RUN n with the tokens' k and v beats,
//! then drains the partial. Handshakes are decided between the falling and the rising edge, as
//! a testbench on a real clock would.

use super::beats::{beats, pack16, unpack32};
use super::model::{port_set, Top, VModel};
use crate::error::SimError;
use crate::partial::Partial;

/// Largest head dimension the Verilated PU and RU were built for (their DMAX parameter).
pub const DMAX: usize = 256;
const OP_LOAD_Q: u64 = 0;
const OP_RUN: u64 = 1;
/// A PU that neither accepts nor produces anything for this many cycles is hung.
const HANG_CYCLES: u64 = 10_000;

/// Result of one RUN command.
#[derive(Clone, Debug)]
pub struct PuRun {
    pub partial: Partial,
    /// The PU's sticky error flag after the run (NaN or infinity seen since LOAD_Q).
    pub err: bool,
    /// Clock cycles from presenting the command to taking the last output beat.
    pub cycles: u64,
}

port_set!(Ports {
    rst_ni,
    cfg_dim_i,
    cmd_valid_i,
    cmd_ready_o,
    cmd_op_i,
    cmd_ntok_i,
    in_valid_i,
    in_ready_o,
    in_data_i,
    out_valid_o,
    out_ready_i,
    out_data_o,
    out_last_o,
    out_m_o,
    out_l_o,
    err_o,
    stall_o,
});

pub struct PuSim {
    m: VModel,
    p: Ports,
    lanes: usize,
    dim: usize,
    in_words: Vec<u32>,
    out_words: Vec<u32>,
}

impl PuSim {
    /// A PU of 16 or 4 lanes, reset and idle.
    pub fn new(lanes: usize, clock_mhz: f64) -> Result<Self, SimError> {
        let top = Top::named(&format!("pu{lanes}"))
            .map_err(|_| SimError::Input(format!("no PU model with {lanes} lanes (built: 16, 4)")))?;
        let m = VModel::new(top, clock_mhz)?;
        let p = Ports::lookup(&m)?;
        let in_words = vec![0; m.width(p.in_data_i).div_ceil(32) as usize];
        let out_words = vec![0; m.width(p.out_data_o).div_ceil(32) as usize];
        let mut pu = PuSim { m, p, lanes, dim: 0, in_words, out_words };
        pu.reset();
        Ok(pu)
    }

    pub fn lanes(&self) -> usize {
        self.lanes
    }

    pub fn model(&mut self) -> &mut VModel {
        &mut self.m
    }

    /// Two cycles of synchronous reset.
    /// Synchronous reset, with every input handshake idle.
    pub fn reset(&mut self) {
        self.m.set(self.p.cmd_valid_i, 0);
        self.m.set(self.p.in_valid_i, 0);
        self.m.set(self.p.out_ready_i, 1);
        self.m.reset(self.p.rst_ni);
    }

    /// Loads the (already 1/sqrt(d)-scaled) FP16 query; its length sets the head dimension.
    pub fn load_query(&mut self, q: &[u16]) -> Result<u64, SimError> {
        if q.is_empty() || q.len() > DMAX {
            return Err(SimError::Dim { dim: q.len(), max: DMAX, unit: "PU" });
        }
        self.dim = q.len();
        let nb = beats(self.dim, self.lanes);
        let lanes = self.lanes;
        self.command(OP_LOAD_Q, 0, nb as u64, false, |b, w| pack16(q, lanes, b, w)).map(|(_, c)| c)
    }

    /// Runs local attention over tokens whose k and v are stored token after token
    /// (`k.len() == v.len() == n * dim`) against the loaded query.
    pub fn run(&mut self, k: &[u16], v: &[u16]) -> Result<PuRun, SimError> {
        let dim = self.dim;
        if dim == 0 {
            return Err(SimError::Input("PU run before any query was loaded".into()));
        }
        if k.len() != v.len() || !k.len().is_multiple_of(dim) {
            return Err(SimError::Input(format!(
                "k ({}) and v ({}) must both hold whole tokens of dimension {dim}",
                k.len(),
                v.len()
            )));
        }
        let n = k.len() / dim;
        let nb = beats(dim, self.lanes);
        let lanes = self.lanes;
        let per_tok = 2 * nb;
        let fill = |j: usize, w: &mut [u32]| {
            let (t, r) = (j / per_tok, j % per_tok);
            let src = if r < nb { k } else { v };
            pack16(&src[t * dim..(t + 1) * dim], lanes, r % nb, w);
        };
        let (partial, cycles) = self.command(OP_RUN, n as u64, (n * per_tok) as u64, true, fill)?;
        let err = self.m.get(self.p.err_o) != 0;
        Ok(PuRun { partial: partial.expect("drained"), err, cycles })
    }

    /// Starts a RUN of `ntok` tokens whose beats will come through [`PuSim::clock`] (the PU
    /// as part of a device, fed by the memory side).
    pub fn begin_run(&mut self, ntok: usize) -> Result<(), SimError> {
        if self.dim == 0 {
            return Err(SimError::Input("PU run before any query was loaded".into()));
        }
        let p = &self.p;
        let (cfg, cv, cr, co, cn) = (p.cfg_dim_i, p.cmd_valid_i, p.cmd_ready_o, p.cmd_op_i, p.cmd_ntok_i);
        self.m.set(cfg, self.dim as u64);
        self.m.set(co, OP_RUN);
        self.m.set(cn, ntok as u64);
        // The partial waits in the PU until finish_run collects it.
        self.m.set(self.p.out_ready_i, 0);
        self.m.handshake(cv, cr, HANG_CYCLES, "PU")
    }

    /// The PU's sticky error flag (NaN or infinity seen since LOAD_Q).
    pub fn err_flag(&self) -> bool {
        self.m.get(self.p.err_o) != 0
    }

    /// The PU waits for an input beat and none is arriving: clocking it would change nothing.
    pub fn stalled(&self) -> bool {
        self.m.get(self.p.stall_o) != 0
    }

    /// A clock while [`Self::stalled`]: nothing is evaluated (the PU would not change).
    pub fn skip_clock(&mut self) {
        debug_assert!(self.stalled());
        self.m.skip_cycle();
    }

    /// Whether the PU's input buffer can take a beat in the coming clock.
    pub fn can_take(&self) -> bool {
        self.m.get(self.p.in_ready_o) != 0
    }

    /// One clock with an optional input beat (packed FP16 words). Returns false when the beat
    /// was offered to a full buffer and lost.
    pub fn clock(&mut self, beat: Option<&[u32]>) -> bool {
        let (iv, ir, id) = (self.p.in_valid_i, self.p.in_ready_o, self.p.in_data_i);
        if let Some(w) = beat {
            self.m.set_words(id, w);
        }
        self.m.set(iv, beat.is_some() as u64);
        self.m.fall();
        let taken = beat.is_none() || self.m.get(ir) != 0;
        self.m.rise();
        self.m.set(iv, 0);
        taken
    }

    /// After every beat of a RUN went in: clocks until the partial has left. Returns it with
    /// the clocks taken.
    pub fn finish_run(&mut self) -> Result<(Partial, u64), SimError> {
        let start = self.m.cycles();
        let lanes = self.lanes;
        let (ov, od, ol, om, oll) =
            (self.p.out_valid_o, self.p.out_data_o, self.p.out_last_o, self.p.out_m_o, self.p.out_l_o);
        let mut part = Partial::empty(self.dim);
        let mut beat = 0;
        self.m.set(self.p.out_ready_i, 1);
        for _ in 0..HANG_CYCLES * 100 {
            self.m.fall();
            let fire = self.m.get(ov) != 0;
            let last = fire && self.m.get(ol) != 0;
            if fire {
                self.m.get_words(od, &mut self.out_words);
                unpack32(&self.out_words, lanes, beat, &mut part.o);
                beat += 1;
                if last {
                    part.m = self.m.get(om) as u32;
                    part.l = self.m.get(oll) as u32;
                }
            }
            self.m.rise();
            if last {
                return Ok((part, self.m.cycles() - start));
            }
        }
        Err(SimError::Hang { unit: "PU", cycles: HANG_CYCLES * 100 })
    }

    /// Presents a command, streams `n_in` input beats, and (when `drain`) collects the output
    /// partial. Returns it with the cycles taken.
    fn command(
        &mut self,
        op: u64,
        ntok: u64,
        n_in: u64,
        drain: bool,
        mut fill: impl FnMut(usize, &mut [u32]),
    ) -> Result<(Option<Partial>, u64), SimError> {
        let start = self.m.cycles();
        let p = &self.p;
        let (cfg, cv, cr, co, cn) = (p.cfg_dim_i, p.cmd_valid_i, p.cmd_ready_o, p.cmd_op_i, p.cmd_ntok_i);
        let (iv, ir, id) = (p.in_valid_i, p.in_ready_o, p.in_data_i);
        let (ov, od, ol, om, oll) = (p.out_valid_o, p.out_data_o, p.out_last_o, p.out_m_o, p.out_l_o);
        self.m.set(cfg, self.dim as u64);
        self.m.set(co, op);
        self.m.set(cn, ntok);
        self.m.handshake(cv, cr, HANG_CYCLES, "PU")?;

        let lanes = self.lanes;
        let mut out = drain.then(|| Partial::empty(self.dim));
        let mut out_beat = 0;
        let mut sent = 0u64;
        let mut done = !drain;
        let mut words = std::mem::take(&mut self.in_words);
        let mut last_fill = u64::MAX;
        let mut idle = 0;
        while sent < n_in || !done {
            if sent < n_in {
                if last_fill != sent {
                    fill(sent as usize, &mut words);
                    self.m.set_words(id, &words);
                    last_fill = sent;
                }
                self.m.set(iv, 1);
            } else {
                self.m.set(iv, 0);
            }
            self.m.fall();
            let in_fire = sent < n_in && self.m.get(ir) != 0;
            let out_fire = drain && self.m.get(ov) != 0;
            if out_fire {
                let part = out.as_mut().expect("draining");
                self.m.get_words(od, &mut self.out_words);
                unpack32(&self.out_words, lanes, out_beat, &mut part.o);
                out_beat += 1;
                if self.m.get(ol) != 0 {
                    part.m = self.m.get(om) as u32;
                    part.l = self.m.get(oll) as u32;
                    done = true;
                }
            }
            self.m.rise();
            if in_fire {
                sent += 1;
            }
            idle = if in_fire || out_fire { 0 } else { idle + 1 };
            if idle > HANG_CYCLES {
                self.in_words = words;
                return Err(SimError::Hang { unit: "PU", cycles: idle });
            }
        }
        self.m.set(iv, 0);
        self.in_words = words;
        // LOAD_Q ends when the PU has taken the query out of its buffer and is idle again.
        if !drain {
            loop {
                self.m.fall();
                if self.m.get(cr) != 0 {
                    break;
                }
                self.m.rise();
            }
        }
        Ok((out, self.m.cycles() - start))
    }
}
