//! The order in which a device streams a set of tokens to its PUs, from its geometry alone.
//!
//! A PU folds its tokens one after the other, and FP32 accumulation is not associative, so
//! the bit-accurate result of a device run depends on this order. The RTL drivers
//! ([`super::dram::DramDevSim`], [`super::flash::SsdDevSim`]) and the calibrated model
//! ([`super::calibrated`]) all take it from here, so the models agree bit for bit.
//!
//! * DRAM: every token goes to the PU of its bank (pair); the device streams by row, then
//!   column, all bank groups in lockstep.
//! * Flash: a token goes to PU `slot % PUs per channel` of its channel (slot = its place in
//!   the page); each channel reads its dies' pages in page order, round robin over the dies,
//!   and a page's tokens in column order.

use std::collections::{BTreeMap, VecDeque};

use super::dram::DramPreset;
use super::flash::FlashPreset;
use crate::kv::location::PhysLoc;

/// The PU that receives the DRAM token at `loc`.
pub fn dram_pu_of(p: &DramPreset, loc: &PhysLoc) -> usize {
    (loc.bank_group as usize * p.banks_per_group + loc.bank as usize) / p.banks_per_pu
}

/// `tokens` by PU, each list in stream order.
pub fn dram_schedule(p: &DramPreset, tokens: &[PhysLoc]) -> Vec<Vec<PhysLoc>> {
    let mut per_pu = vec![Vec::new(); p.pus()];
    let mut sorted = tokens.to_vec();
    sorted.sort_by_key(|l| (l.row, l.col));
    for l in sorted {
        per_pu[dram_pu_of(p, &l)].push(l);
    }
    per_pu
}

/// The PU that receives the flash token at `loc`, for head dimension `dim`.
pub fn flash_pu_of(p: &FlashPreset, loc: &PhysLoc, dim: usize) -> usize {
    let slot = loc.col as usize / p.token_bytes(dim.max(1));
    loc.bank_group as usize * p.pus_per_channel + slot % p.pus_per_channel
}

/// One page's tokens: ((die, page), tokens in column order).
pub type PageTokens = ((usize, usize), Vec<PhysLoc>);

/// Per channel, the pages it reads in order.
pub fn flash_pages(p: &FlashPreset, tokens: &[PhysLoc]) -> Vec<Vec<PageTokens>> {
    let mut per_ch: Vec<BTreeMap<(usize, usize), Vec<PhysLoc>>> = vec![BTreeMap::new(); p.channels];
    for t in tokens {
        per_ch[t.bank_group as usize].entry((t.bank as usize, t.row as usize)).or_default().push(*t);
    }
    per_ch
        .into_iter()
        .map(|pages| {
            // Pages of each die in page order, then round robin over the dies.
            let mut by_die: Vec<VecDeque<PageTokens>> = vec![VecDeque::new(); p.dies_per_channel];
            for (key, mut toks) in pages {
                toks.sort_by_key(|l| l.col);
                by_die[key.0].push_back((key, toks));
            }
            let mut order = Vec::new();
            while by_die.iter().any(|d| !d.is_empty()) {
                for d in by_die.iter_mut() {
                    if let Some(x) = d.pop_front() {
                        order.push(x);
                    }
                }
            }
            order
        })
        .collect()
}

/// `tokens` by PU, each list in stream order, for head dimension `dim`.
pub fn flash_schedule(p: &FlashPreset, tokens: &[PhysLoc], dim: usize) -> Vec<Vec<PhysLoc>> {
    let mut per_pu = vec![Vec::new(); p.pus()];
    for pages in flash_pages(p, tokens) {
        for (_, toks) in pages {
            for t in toks {
                per_pu[flash_pu_of(p, &t, dim)].push(t);
            }
        }
    }
    per_pu
}
