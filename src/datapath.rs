//! One attention problem through the datapath, RTL and golden model side by side.
//!
//! The problem's tiles go through the Verilated PU one after the other (as the PUs of one bank
//! group would each take one), the partials through the Verilated RU (MERGE and FINAL), and
//! every intermediate result is compared bit for bit with the golden model. The final FP16
//! output is also compared with the float64 reference.

use std::collections::HashMap;

use crate::error::SimError;
use crate::golden;
use crate::partial::Partial;
use crate::problem::Problem;
use crate::rtl::pu::PuSim;
use crate::rtl::ru::{RuOutput, RuSim};

/// PU clock of the HBM tier (spec §3); the datapath checks are cycle-exact at any clock.
pub const DEFAULT_CLOCK_MHZ: f64 = 666.0;

/// Verilated units kept alive across problems (one per lane count).
pub struct Units {
    clock_mhz: f64,
    pus: HashMap<usize, PuSim>,
    rus: HashMap<usize, RuSim>,
}

impl Units {
    pub fn new(clock_mhz: f64) -> Self {
        Units { clock_mhz, pus: HashMap::new(), rus: HashMap::new() }
    }

    pub fn pu(&mut self, lanes: usize) -> Result<&mut PuSim, SimError> {
        if !self.pus.contains_key(&lanes) {
            self.pus.insert(lanes, PuSim::new(lanes, self.clock_mhz)?);
        }
        Ok(self.pus.get_mut(&lanes).expect("inserted"))
    }

    pub fn ru(&mut self, lanes: usize) -> Result<&mut RuSim, SimError> {
        if !self.rus.contains_key(&lanes) {
            self.rus.insert(lanes, RuSim::new(lanes, self.clock_mhz)?);
        }
        Ok(self.rus.get_mut(&lanes).expect("inserted"))
    }
}

/// What one problem showed.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Every bit-level disagreement between RTL and model, described.
    pub mismatches: Vec<String>,
    /// ||o - o_ref|| / ||o_ref|| of the RTL's FP16 output against float64 (None without tokens).
    pub rel_err_f64: Option<f64>,
    /// |lse - lse_ref| (None without tokens).
    pub lse_abs_err: Option<f64>,
    /// The output is within [`golden::reference::within_bound`] of float64 (true without tokens).
    pub within_bound: bool,
    /// The units' error flag (NaN/infinity input), as RTL reported it.
    pub err_flag: bool,
    pub pu_cycles: u64,
    pub ru_cycles: u64,
    pub out: Vec<u16>,
    pub lse: u32,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Runs `p` through the RTL and the golden model and compares them.
pub fn check(p: &Problem, units: &mut Units) -> Result<Outcome, SimError> {
    check_with(p, units, false)
}

/// [`check`], optionally with one bit of the golden model's final lse flipped: a fault that
/// must be reported, to prove the comparison and the failure report work end to end.
pub fn check_with(p: &Problem, units: &mut Units, inject_fault: bool) -> Result<Outcome, SimError> {
    let dim = p.dim();
    let mut out = Outcome::default();
    let pu = units.pu(p.pu_lanes)?;
    pu.load_query(&p.q)?;

    let mut parts = Vec::with_capacity(p.tiles.len());
    let mut first = 0;
    for (t, &n) in p.tiles.iter().enumerate() {
        let (k, v) = (&p.k[first * dim..(first + n) * dim], &p.v[first * dim..(first + n) * dim]);
        first += n;
        let rtl = pu.run(k, v)?;
        let model = golden::pu::local_attention(&p.q, k, v, p.pu_lanes);
        if let Some(d) = rtl.partial.diff(&model.partial) {
            out.mismatches.push(format!("PU tile {t} ({n} tokens): RTL vs model {d}"));
        }
        // The PU's flag is sticky from LOAD_Q on: it covers this tile and the ones before.
        let model_flag = out.err_flag || model.err;
        if rtl.err != model_flag {
            out.mismatches.push(format!("PU tile {t}: error flag RTL {} vs model {model_flag}", rtl.err));
        }
        let expect_cycles = golden::pu::run_cycles(n, dim, p.pu_lanes);
        if rtl.cycles != expect_cycles {
            out.mismatches.push(format!("PU tile {t}: {} cycles, documented timing says {expect_cycles}", rtl.cycles));
        }
        out.err_flag = model_flag;
        out.pu_cycles += rtl.cycles;
        parts.push(rtl.partial);
    }

    let ru = units.ru(p.ru_lanes)?;
    let (model_merged, model_err) = golden::ru::merge(dim, &parts);
    let merged = ru.reduce(dim, &parts, false)?;
    out.ru_cycles += merged.cycles;
    match &merged.output {
        RuOutput::Merged(m) => {
            if let Some(d) = m.diff(&model_merged) {
                out.mismatches.push(format!("RU merge of {} partials: RTL vs model {d}", parts.len()));
            }
        }
        RuOutput::Final { .. } => unreachable!("MERGE returns a partial"),
    }
    if merged.err != model_err {
        out.mismatches.push(format!("RU error flag RTL {} vs model {model_err}", merged.err));
    }
    let fin = ru.reduce(dim, &parts, true)?;
    out.ru_cycles += fin.cycles;
    let (model_out, mut model_lse) = golden::ru::finalize(&model_merged);
    model_lse ^= inject_fault as u32;
    if let RuOutput::Final { out: o, lse } = fin.output {
        if let Some(i) = o.iter().zip(&model_out).position(|(a, b)| a != b) {
            out.mismatches.push(format!("RU final O[{i}]: RTL {:#06x} vs model {:#06x}", o[i], model_out[i]));
        }
        if lse != model_lse {
            out.mismatches.push(format!("RU final lse: RTL {lse:#010x} vs model {model_lse:#010x}"));
        }
        out.out = o;
        out.lse = lse;
    }

    let q: Vec<f64> = p.q.iter().map(|&x| golden::fp::fp16_to_f64(x)).collect();
    let k: Vec<f64> = p.k.iter().map(|&x| golden::fp::fp16_to_f64(x)).collect();
    let v: Vec<f64> = p.v.iter().map(|&x| golden::fp::fp16_to_f64(x)).collect();
    out.within_bound = true;
    if let Some(r) = golden::reference::attention(&q, &k, &v) {
        let o: Vec<f64> = out.out.iter().map(|&x| golden::fp::fp16_to_f64(x)).collect();
        out.rel_err_f64 = Some(golden::reference::rel_err(&o, &r.out));
        out.lse_abs_err = Some((f32::from_bits(out.lse) as f64 - r.lse).abs());
        out.within_bound = golden::reference::within_bound(&o, &r);
    }
    Ok(out)
}

/// Merges `parts` in the given order through the golden RU and normalises: the result the RU
/// gives for that order (used by the merge-order tests).
pub fn golden_final(dim: usize, parts: &[Partial]) -> (Vec<u16>, u32) {
    golden::ru::finalize(&golden::ru::merge(dim, parts).0)
}
