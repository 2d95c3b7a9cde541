//! The unnormalised online-softmax partial (O, m, l) that PUs produce and RUs merge (spec §5).

use crate::golden::fp::FP32_NEG_INF;

const FP32_POS_ZERO: u32 = 0;

/// FP32 bit patterns: `o` has one element per head dimension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partial {
    pub o: Vec<u32>,
    pub m: u32,
    pub l: u32,
}

impl Partial {
    /// The partial of no tokens: m = -inf, l = 0, O = 0. It is the identity of the merge.
    pub fn empty(dim: usize) -> Self {
        Partial { o: vec![FP32_POS_ZERO; dim], m: FP32_NEG_INF, l: FP32_POS_ZERO }
    }

    pub fn dim(&self) -> usize {
        self.o.len()
    }

    /// First difference with `other`, described for a failure report.
    pub fn diff(&self, other: &Partial) -> Option<String> {
        if self.m != other.m {
            return Some(format!("m {:#010x} vs {:#010x}", self.m, other.m));
        }
        if self.l != other.l {
            return Some(format!("l {:#010x} vs {:#010x}", self.l, other.l));
        }
        if self.o.len() != other.o.len() {
            return Some(format!("dim {} vs {}", self.o.len(), other.o.len()));
        }
        let i = self.o.iter().zip(&other.o).position(|(a, b)| a != b)?;
        Some(format!("O[{i}] {:#010x} vs {:#010x}", self.o[i], other.o[i]))
    }
}
