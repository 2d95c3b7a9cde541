//! Bit-accurate model of `rtl/pu/pam_pu.sv`.

use super::fp::{fp16_is_nan_or_inf, fp16_to_fp32, fp32_add, fp32_mul, FP32_ONE};
use super::merge::{axpby, merge_scalar};
use crate::partial::Partial;

const NEG_ZERO: u32 = 0x8000_0000;

/// The PU's output for one RUN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PuResult {
    pub partial: Partial,
    /// NaN or infinity seen in q, k or v.
    pub err: bool,
}

/// q . k as the PU computes it: per beat of `lanes` elements a balanced adder tree over the
/// exact products (masked lanes are +0), beats accumulated in order starting from -0.
pub fn score(q32: &[u32], k: &[u16], lanes: usize) -> u32 {
    let mut s = NEG_ZERO;
    let mut level = vec![0u32; lanes];
    for (qc, kc) in q32.chunks(lanes).zip(k.chunks(lanes)) {
        level.fill(0);
        for (i, (&qe, &ke)) in qc.iter().zip(kc).enumerate() {
            level[i] = fp32_mul(qe, fp16_to_fp32(ke));
        }
        let mut n = lanes;
        while n > 1 {
            for j in 0..n / 2 {
                level[j] = fp32_add(level[2 * j], level[2 * j + 1]);
            }
            n /= 2;
        }
        s = fp32_add(s, level[0]);
    }
    s
}

/// Local attention of one PU over tokens stored token after token in `k` and `v`.
pub fn local_attention(q: &[u16], k: &[u16], v: &[u16], lanes: usize) -> PuResult {
    let dim = q.len();
    let q32: Vec<u32> = q.iter().map(|&h| fp16_to_fp32(h)).collect();
    let mut err = q.iter().any(|&h| fp16_is_nan_or_inf(h));
    let mut acc = Partial::empty(dim);
    for (kt, vt) in k.chunks_exact(dim).zip(v.chunks_exact(dim)) {
        err |= kt.iter().chain(vt).any(|&h| fp16_is_nan_or_inf(h));
        let s = score(&q32, kt, lanes);
        let ms = merge_scalar(acc.m, acc.l, s, FP32_ONE);
        acc.m = ms.m;
        acc.l = ms.l;
        axpby(&mut acc.o, ms.scale_acc, vt.iter().map(|&h| fp16_to_fp32(h)), ms.scale_in);
    }
    PuResult { partial: acc, err }
}

/// Cycles the PU takes for a RUN of `tokens` tokens with no back-pressure, from presenting
/// the command to taking the last output beat (as documented in the RTL header).
pub fn run_cycles(tokens: usize, dim: usize, lanes: usize) -> u64 {
    let nb = dim.div_ceil(lanes) as u64;
    let first_beat_latency = if tokens == 0 { 0 } else { 1 };
    1 + first_beat_latency + tokens as u64 * (2 * nb + 1) + nb
}
