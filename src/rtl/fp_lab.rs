//! Host driver for `pam_fp_lab`: every arithmetic unit of `rtl/fp` side by side, so that each
//! can be checked against the bit-accurate model on its own (`pam regress --suite fp`).

use super::model::{PortId, Top, VModel};
use crate::error::SimError;

/// Outputs of every combinational unit for one input triple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpLabOut {
    pub h2f: u32,
    pub mul: u32,
    pub add: u32,
    pub max: u32,
    pub exp: u32,
    pub ln: u32,
    pub f2h: u16,
}

pub struct FpLab {
    m: VModel,
    a: PortId,
    b: PortId,
    h: PortId,
    outs: [PortId; 7],
    rcp_valid: PortId,
    rcp_ready: PortId,
    rcp_out_valid: PortId,
    rcp_out_ready: PortId,
    rcp: PortId,
}

const RECIP_HANG_CYCLES: u64 = 1_000;

impl FpLab {
    pub fn new() -> Result<Self, SimError> {
        let m = VModel::new(Top::named("fp_lab")?, 1000.0)?;
        let port = |n: &str| m.port(n);
        let outs = [
            port("h2f_o")?,
            port("mul_o")?,
            port("add_o")?,
            port("max_o")?,
            port("exp_o")?,
            port("ln_o")?,
            port("f2h_o")?,
        ];
        let (a, b, h) = (port("a_i")?, port("b_i")?, port("h_i")?);
        let (rcp_valid, rcp_ready, rcp_out_valid, rcp_out_ready, rcp) = (
            port("rcp_valid_i")?,
            port("rcp_ready_o")?,
            port("rcp_out_valid_o")?,
            port("rcp_out_ready_i")?,
            port("rcp_o")?,
        );
        let rst = port("rst_ni")?;
        let mut lab = FpLab { m, a, b, h, outs, rcp_valid, rcp_ready, rcp_out_valid, rcp_out_ready, rcp };
        lab.m.reset(rst);
        Ok(lab)
    }

    /// Evaluates the combinational units on (a, b) and the FP16 input h.
    pub fn eval(&mut self, a: u32, b: u32, h: u16) -> FpLabOut {
        self.m.set(self.a, a as u64);
        self.m.set(self.b, b as u64);
        self.m.set(self.h, h as u64);
        self.m.eval();
        let g = |i: usize| self.m.get(self.outs[i]) as u32;
        FpLabOut { h2f: g(0), mul: g(1), add: g(2), max: g(3), exp: g(4), ln: g(5), f2h: g(6) as u16 }
    }

    /// 1 / a through the sequential reciprocal unit; returns the result and the cycles from
    /// acceptance to the result.
    pub fn recip(&mut self, a: u32) -> Result<(u32, u64), SimError> {
        self.m.set(self.a, a as u64);
        self.m.set(self.rcp_out_ready, 1);
        self.m.handshake(self.rcp_valid, self.rcp_ready, RECIP_HANG_CYCLES, "recip")?;
        let start = self.m.cycles();
        loop {
            self.m.fall();
            if self.m.get(self.rcp_out_valid) != 0 {
                let y = self.m.get(self.rcp) as u32;
                self.m.rise();
                return Ok((y, self.m.cycles() - start));
            }
            self.m.rise();
            if self.m.cycles() - start > RECIP_HANG_CYCLES {
                return Err(SimError::Hang { unit: "recip", cycles: RECIP_HANG_CYCLES });
            }
        }
    }
}
