//! Bit-accurate model of `rtl/ru/pam_ru.sv`.

use super::fp::{fp32_add, fp32_ln, fp32_mul, fp32_recip, fp32_to_fp16, FP32_NEG_INF};
use super::merge::{axpby, merge_scalar};
use crate::partial::Partial;

const EXP_MASK: u32 = 0x7F80_0000;

fn nan_or_inf(x: u32) -> bool {
    x & EXP_MASK == EXP_MASK
}

/// MERGE: folds the partials in order into one. Also returns the RU's error flag.
pub fn merge(dim: usize, parts: &[Partial]) -> (Partial, bool) {
    let mut acc = Partial::empty(dim);
    let mut err = false;
    for p in parts {
        err |= (nan_or_inf(p.m) && p.m != FP32_NEG_INF) || nan_or_inf(p.l);
        err |= p.o.iter().any(|&x| nan_or_inf(x));
        let ms = merge_scalar(acc.m, acc.l, p.m, p.l);
        acc.m = ms.m;
        acc.l = ms.l;
        axpby(&mut acc.o, ms.scale_acc, p.o.iter().copied(), ms.scale_in);
    }
    (acc, err)
}

/// The normalised result of a merged partial: (O / l in FP16, lse = m + ln l).
/// O / l is O * recip(l); when l = 0 (no token at all) the output is +0.
pub fn finalize(acc: &Partial) -> (Vec<u16>, u32) {
    let lse = fp32_add(acc.m, fp32_ln(acc.l));
    if acc.l == 0 {
        return (vec![0; acc.dim()], lse);
    }
    let r = fp32_recip(acc.l);
    (acc.o.iter().map(|&x| fp32_to_fp16(fp32_mul(x, r))).collect(), lse)
}
