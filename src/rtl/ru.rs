//! Host driver for the Verilated RU (`rtl/ru/pam_ru.sv`).

use super::beats::{beats, pack32, unpack16_in32, unpack32};
use super::model::{port_set, Top, VModel};
use super::pu::DMAX;
use crate::error::SimError;
use crate::partial::Partial;

const OP_MERGE: u64 = 0;
const OP_FINAL: u64 = 1;
const HANG_CYCLES: u64 = 10_000;

/// What the RU produced for one command.
#[derive(Clone, Debug)]
pub enum RuOutput {
    /// MERGE: the merged, still unnormalised partial.
    Merged(Partial),
    /// FINAL: O / l in FP16 and lse = m + ln l in FP32.
    Final { out: Vec<u16>, lse: u32 },
}

#[derive(Clone, Debug)]
pub struct RuRun {
    pub output: RuOutput,
    pub err: bool,
    pub cycles: u64,
}

port_set!(Ports {
    rst_ni,
    cfg_dim_i,
    cmd_valid_i,
    cmd_ready_o,
    cmd_op_i,
    cmd_nparts_i,
    in_valid_i,
    in_ready_o,
    in_data_i,
    in_m_i,
    in_l_i,
    out_valid_o,
    out_ready_i,
    out_data_o,
    out_last_o,
    out_m_o,
    out_l_o,
    out_lse_o,
    err_o,
});

pub struct RuSim {
    m: VModel,
    p: Ports,
    lanes: usize,
    in_words: Vec<u32>,
    out_words: Vec<u32>,
}

impl RuSim {
    pub fn new(lanes: usize, clock_mhz: f64) -> Result<Self, SimError> {
        let top = Top::named(&format!("ru{lanes}"))
            .map_err(|_| SimError::Input(format!("no RU model with {lanes} lanes (built: 16, 4)")))?;
        let m = VModel::new(top, clock_mhz)?;
        let p = Ports::lookup(&m)?;
        let in_words = vec![0; m.width(p.in_data_i).div_ceil(32) as usize];
        let out_words = vec![0; m.width(p.out_data_o).div_ceil(32) as usize];
        let mut ru = RuSim { m, p, lanes, in_words, out_words };
        ru.reset();
        Ok(ru)
    }

    pub fn lanes(&self) -> usize {
        self.lanes
    }

    pub fn model(&mut self) -> &mut VModel {
        &mut self.m
    }

    /// Synchronous reset, with every input handshake idle.
    pub fn reset(&mut self) {
        self.m.set(self.p.cmd_valid_i, 0);
        self.m.set(self.p.in_valid_i, 0);
        self.m.set(self.p.out_ready_i, 1);
        self.m.reset(self.p.rst_ni);
    }

    /// Merges `parts` (all of dimension `dim`); `finalize` selects FINAL over MERGE.
    pub fn reduce(&mut self, dim: usize, parts: &[Partial], finalize: bool) -> Result<RuRun, SimError> {
        if dim == 0 || dim > DMAX {
            return Err(SimError::Dim { dim, max: DMAX, unit: "RU" });
        }
        if let Some(bad) = parts.iter().find(|p| p.dim() != dim) {
            return Err(SimError::Input(format!(
                "a partial of dimension {} given to an RU merge of dimension {dim}",
                bad.dim()
            )));
        }
        let start = self.m.cycles();
        let nb = beats(dim, self.lanes);
        let p = &self.p;
        let (cfg, cv, cr, co, cn) = (p.cfg_dim_i, p.cmd_valid_i, p.cmd_ready_o, p.cmd_op_i, p.cmd_nparts_i);
        let (iv, ir, id, im, il) = (p.in_valid_i, p.in_ready_o, p.in_data_i, p.in_m_i, p.in_l_i);
        let (ov, od, ol, om, oll, olse) =
            (p.out_valid_o, p.out_data_o, p.out_last_o, p.out_m_o, p.out_l_o, p.out_lse_o);
        self.m.set(cfg, dim as u64);
        self.m.set(co, if finalize { OP_FINAL } else { OP_MERGE });
        self.m.set(cn, parts.len() as u64);
        self.m.handshake(cv, cr, HANG_CYCLES, "RU")?;

        let n_in = parts.len() * nb;
        let mut merged = Partial::empty(dim);
        let mut out16 = vec![0u16; dim];
        let mut lse = 0u32;
        let (mut sent, mut out_beat, mut done, mut last_fill) = (0usize, 0usize, false, usize::MAX);
        let mut idle = 0;
        while !done {
            if sent < n_in {
                if last_fill != sent {
                    let part = &parts[sent / nb];
                    pack32(&part.o, self.lanes, sent % nb, &mut self.in_words);
                    self.m.set_words(id, &self.in_words);
                    self.m.set(im, part.m as u64);
                    self.m.set(il, part.l as u64);
                    last_fill = sent;
                }
                self.m.set(iv, 1);
            } else {
                self.m.set(iv, 0);
            }
            self.m.fall();
            let in_fire = sent < n_in && self.m.get(ir) != 0;
            let out_fire = self.m.get(ov) != 0;
            if out_fire {
                self.m.get_words(od, &mut self.out_words);
                if finalize {
                    unpack16_in32(&self.out_words, self.lanes, out_beat, &mut out16);
                } else {
                    unpack32(&self.out_words, self.lanes, out_beat, &mut merged.o);
                }
                out_beat += 1;
                if self.m.get(ol) != 0 {
                    merged.m = self.m.get(om) as u32;
                    merged.l = self.m.get(oll) as u32;
                    lse = self.m.get(olse) as u32;
                    done = true;
                }
            }
            self.m.rise();
            if in_fire {
                sent += 1;
            }
            idle = if in_fire || out_fire { 0 } else { idle + 1 };
            if idle > HANG_CYCLES {
                return Err(SimError::Hang { unit: "RU", cycles: idle });
            }
        }
        self.m.set(iv, 0);
        let err = self.m.get(self.p.err_o) != 0;
        let output = if finalize { RuOutput::Final { out: out16, lse } } else { RuOutput::Merged(merged) };
        Ok(RuRun { output, err, cycles: self.m.cycles() - start })
    }
}
