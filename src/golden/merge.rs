//! One online-softmax merge step, mirroring `rtl/vec/pam_merge_scalar.sv` and
//! `rtl/vec/pam_vec_axpby.sv` operation for operation.

use super::fp::{fp32_add, fp32_exp, fp32_max, fp32_mul, FP32_NEG_INF, FP32_ONE};

const SIGN: u32 = 0x8000_0000;
const POS_ZERO: u32 = 0;

/// Scalar half of a merge: the new (m, l) and the scale factors of the accumulator and of the
/// incoming part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergeScalar {
    pub m: u32,
    pub l: u32,
    pub scale_acc: u32,
    pub scale_in: u32,
}

pub fn merge_scalar(m_acc: u32, l_acc: u32, m_in: u32, l_in: u32) -> MergeScalar {
    let m_new = fp32_max(m_acc, m_in);
    let take_in = m_new == m_in;
    let in_empty = m_in == FP32_NEG_INF;
    let diff = if take_in { fp32_add(m_acc, m_in ^ SIGN) } else { fp32_add(m_in, m_acc ^ SIGN) };
    let e = fp32_exp(diff);
    let scale_acc = if in_empty || !take_in { FP32_ONE } else { e };
    let scale_in = if in_empty {
        POS_ZERO
    } else if take_in {
        FP32_ONE
    } else {
        e
    };
    let l = fp32_add(fp32_mul(l_acc, scale_acc), fp32_mul(l_in, scale_in));
    MergeScalar { m: m_new, l, scale_acc, scale_in }
}

/// Vector half: `acc[i] = acc[i] * a + z[i] * b`, lane by lane.
#[inline]
pub fn axpby(acc: &mut [u32], a: u32, z: impl IntoIterator<Item = u32>, b: u32) {
    for (x, z) in acc.iter_mut().zip(z) {
        *x = fp32_add(fp32_mul(*x, a), fp32_mul(z, b));
    }
}
