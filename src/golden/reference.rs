//! Float64 reference attention: softmax(q . K^T) V computed in double precision from the same
//! FP16 inputs, the yardstick for the accuracy of the whole FP16/FP32 chain.

/// Float64 attention of one query.
#[derive(Clone, Debug)]
pub struct Reference {
    pub out: Vec<f64>,
    pub lse: f64,
    /// sum_j w_j |v_j| / l per element: the scale that rounding errors of the weighted sum
    /// grow with, however much the signed sum cancels.
    pub magnitude: Vec<f64>,
}

/// Largest normwise relative error of the chain's FP16 output against float64 (FP16 rounding
/// is 2^-11 = 4.9e-4; the rest is room for FP32 accumulation and the exp unit).
pub const REL_BOUND: f64 = 1e-3;
/// Allowance for cancellation, relative to ||magnitude||: FP32 accumulation over thousands of
/// tokens and the exp unit's 1e-5 relative error act on the magnitudes, not on the result.
pub const CANCEL_BOUND: f64 = 1e-4;
/// FP16's absolute resolution near zero (subnormal spacing 2^-24), per element.
pub const FP16_ABS_RESOLUTION: f64 = 5.960464477539063e-8;

/// `None` when there are no tokens.
pub fn attention(q: &[f64], k: &[f64], v: &[f64]) -> Option<Reference> {
    let dim = q.len();
    let n = k.len() / dim;
    if n == 0 {
        return None;
    }
    let s: Vec<f64> = k.chunks_exact(dim).map(|kt| kt.iter().zip(q).map(|(a, b)| a * b).sum()).collect();
    let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = s.iter().map(|&x| (x - m).exp()).collect();
    let l: f64 = w.iter().sum();
    let mut out = vec![0.0; dim];
    let mut magnitude = vec![0.0; dim];
    for (wt, vt) in w.iter().zip(v.chunks_exact(dim)) {
        for ((oi, ai), vi) in out.iter_mut().zip(magnitude.iter_mut()).zip(vt) {
            *oi += wt * vi;
            *ai += wt * vi.abs();
        }
    }
    out.iter_mut().chain(magnitude.iter_mut()).for_each(|x| *x /= l);
    Some(Reference { out, lse: m + l.ln(), magnitude })
}

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|b| b * b).sum::<f64>().sqrt()
}

/// Whether an output is as close to the reference as the FP16/FP32 chain guarantees:
/// ||x - out|| <= REL_BOUND ||out|| + CANCEL_BOUND ||magnitude|| + FP16_ABS_RESOLUTION sqrt(d).
pub fn within_bound(x: &[f64], r: &Reference) -> bool {
    let err: f64 = norm(&x.iter().zip(&r.out).map(|(a, b)| a - b).collect::<Vec<_>>());
    let bound =
        REL_BOUND * norm(&r.out) + CANCEL_BOUND * norm(&r.magnitude) + FP16_ABS_RESOLUTION * (x.len() as f64).sqrt();
    err <= bound
}

/// Normwise relative error ||x - r|| / ||r||; the absolute norm ||x - r|| when r = 0.
pub fn rel_err(x: &[f64], r: &[f64]) -> f64 {
    let d = norm(&x.iter().zip(r).map(|(a, b)| a - b).collect::<Vec<_>>());
    let n = norm(r);
    if n == 0.0 {
        d
    } else {
        d / n
    }
}
