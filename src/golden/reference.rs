//! Float64 reference attention: softmax(q . K^T) V computed in double precision from the same
//! FP16 inputs, the yardstick for the accuracy of the whole FP16/FP32 chain.

/// Output vector and log-sum-exp; `None` when there are no tokens.
pub fn attention(q: &[f64], k: &[f64], v: &[f64]) -> Option<(Vec<f64>, f64)> {
    let dim = q.len();
    let n = k.len() / dim;
    if n == 0 {
        return None;
    }
    let s: Vec<f64> = k.chunks_exact(dim).map(|kt| kt.iter().zip(q).map(|(a, b)| a * b).sum()).collect();
    let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = s.iter().map(|&x| (x - m).exp()).collect();
    let l: f64 = w.iter().sum();
    let mut o = vec![0.0; dim];
    for (wt, vt) in w.iter().zip(v.chunks_exact(dim)) {
        for (oi, vi) in o.iter_mut().zip(vt) {
            *oi += wt * vi;
        }
    }
    o.iter_mut().for_each(|x| *x /= l);
    Some((o, m + l.ln()))
}

/// Normwise relative error ||x - r|| / ||r||; the absolute norm ||x - r|| when r = 0.
pub fn rel_err(x: &[f64], r: &[f64]) -> f64 {
    let d: f64 = x.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
    let n: f64 = r.iter().map(|b| b * b).sum::<f64>().sqrt();
    if n == 0.0 {
        d
    } else {
        d / n
    }
}
