//! Bit-accurate model of a DRAM-PIM device's local attention (`rtl/dev/pam_dram_pim_dev.sv`):
//! each PU folds its tokens in the order the device streams them, each bank group's RU merges
//! its PUs' partials in PU order, and the device RU merges the groups in group order.

use super::pu::local_attention;
use super::ru::merge;
use crate::partial::Partial;

/// `per_pu[p]` holds PU p's tokens, each as (k, v), in stream order.
pub fn dram_device_attention(
    q: &[u16],
    lanes: usize,
    pus_per_group: usize,
    per_pu: &[Vec<(&[u16], &[u16])>],
) -> (Partial, bool) {
    let dim = q.len();
    let mut err = false;
    let pu_parts: Vec<Partial> = per_pu
        .iter()
        .map(|toks| {
            let k: Vec<u16> = toks.iter().flat_map(|(k, _)| k.iter().copied()).collect();
            let v: Vec<u16> = toks.iter().flat_map(|(_, v)| v.iter().copied()).collect();
            let r = local_attention(q, &k, &v, lanes);
            err |= r.err;
            r.partial
        })
        .collect();
    let group_parts: Vec<Partial> = pu_parts.chunks(pus_per_group).map(|g| merge(dim, g).0).collect();
    (merge(dim, &group_parts).0, err)
}
