//! Token migrations between the tiers' devices during decode (spec §8), over one of two paths:
//!
//! * [`MigrationPath::Interface`]: the Verilated migration interface (`rtl/mig/`) of the
//!   sending device's controller. Every moved token is read back from its source device, checked
//!   against the host's copy and laid out as beats of the source layout; the interface
//!   reorders the reads, re-lays the token out in its buffer and issues the writes in the
//!   target layout; the bytes it wrote are what the target device stores. Interfaces of
//!   different sending devices work in parallel; one interface takes its moves in order.
//! * [`MigrationPath::Host`]: the host-CPU path it replaces ([`host_cpu_path_ns`]), serial.
//!
//! Time is the migration's share of a decode step; the step overlaps it with attention.

use std::collections::HashMap;

use super::interface::{
    host_cpu_path_ns, load_token, store_token, token_bytes, BeatMemory, Descriptor, MigrationIf, MIG_CLOCK_MHZ,
};
use crate::error::SimError;
use crate::kv::location::PhysLoc;

use crate::system::pamattention::Tiers;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationPath {
    Interface,
    Host,
}

impl MigrationPath {
    pub const NAMES: [&'static str; 2] = ["interface", "host"];

    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "interface" => Some(MigrationPath::Interface),
            "host" => Some(MigrationPath::Host),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// One token to move from its place `from` to `to` (each naming its tier and device); `k`
/// and `v` are the host's copy, which what the source device holds must equal.
pub struct TokenMove<'a> {
    pub from: PhysLoc,
    pub to: PhysLoc,
    pub k: &'a [u16],
    pub v: &'a [u16],
}

/// K then V, each padded to whole 32-byte beats, as little-endian bytes (the interface's
/// token format, [`token_bytes`]).
fn to_bytes(k: &[u16], v: &[u16]) -> Vec<u8> {
    let half = token_bytes(k.len()) / 2;
    let mut out = vec![0u8; 2 * half];
    for (i, x) in k.iter().enumerate() {
        out[2 * i..2 * i + 2].copy_from_slice(&x.to_le_bytes());
    }
    for (i, x) in v.iter().enumerate() {
        out[half + 2 * i..half + 2 * i + 2].copy_from_slice(&x.to_le_bytes());
    }
    out
}

fn from_bytes(b: &[u8], dim: usize) -> (Vec<u16>, Vec<u16>) {
    let half = b.len() / 2;
    let read = |base: usize| (0..dim).map(|i| u16::from_le_bytes([b[base + 2 * i], b[base + 2 * i + 1]])).collect();
    (read(0), read(half))
}

pub struct Migrator {
    path: MigrationPath,
    dim: usize,
    /// One interface model per (sending tier, receiving tier), opened on first use and run
    /// for every pair of devices of those tiers in turn.
    ifs: HashMap<(usize, usize), MigrationIf>,
}

impl Migrator {
    pub fn new(path: MigrationPath, dim: usize) -> Result<Self, SimError> {
        if path == MigrationPath::Interface && (dim == 0 || !dim.is_multiple_of(16) || token_bytes(dim) > 1024) {
            return Err(SimError::Input(format!(
                "head dimension {dim}: the migration interface moves tokens of whole 32-byte K and V beats up to \
                 1024 bytes (head dimension 16, 32, ..., 256); use `migration: host` for other sizes"
            )));
        }
        Ok(Migrator { path, dim, ifs: HashMap::new() })
    }

    /// Moves every token, in order, from its source device to its target device, and returns
    /// the time it took (ns). All sources are read before any target is written, so a place
    /// freed by one move may receive another.
    pub fn migrate(&mut self, tiers: &mut Tiers, moves: &[TokenMove]) -> Result<f64, SimError> {
        let mut held = Vec::with_capacity(moves.len());
        for mv in moves {
            let (k, v) = tiers.device(&mv.from)?.read_token(&mv.from, self.dim)?;
            if (k.as_slice(), v.as_slice()) != (mv.k, mv.v) {
                return Err(SimError::Input(format!("token at {:?} differs from the host's copy", mv.from)));
            }
            held.push(to_bytes(&k, &v));
        }
        match self.path {
            MigrationPath::Host => {
                for (mv, b) in moves.iter().zip(&held) {
                    let (k, v) = from_bytes(b, self.dim);
                    tiers.device(&mv.to)?.write_token(&mv.to, &k, &v)?;
                }
                let tb = token_bytes(self.dim);
                Ok(host_cpu_path_ns(moves.len(), tb))
            }
            MigrationPath::Interface => self.through_interfaces(tiers, moves, &held),
        }
    }

    fn through_interfaces(
        &mut self,
        tiers: &mut Tiers,
        moves: &[TokenMove],
        held: &[Vec<u8>],
    ) -> Result<f64, SimError> {
        let tb = token_bytes(self.dim);
        // One run per (sending device, receiving device): addresses name no device.
        let ends = |m: &TokenMove| (m.from.tier, m.from.device, m.to.tier, m.to.device);
        let mut pairs: Vec<_> = moves.iter().map(ends).collect();
        pairs.sort();
        pairs.dedup();
        let mut per_sender: HashMap<(u8, u16), u64> = HashMap::new();
        for pair in pairs {
            let (from, to) = (pair.0 as usize, pair.2 as usize);
            let idx: Vec<usize> = (0..moves.len()).filter(|&i| ends(&moves[i]) == pair).collect();
            let (src_tier, dst_tier) = (&tiers.tiers[from].preset, &tiers.tiers[to].preset);
            let (sl, sb) = (src_tier.migration_layout(), src_tier.beat_bytes());
            let (dl, db) = (dst_tier.migration_layout(), dst_tier.beat_bytes());
            let mut src = BeatMemory::new();
            let batch: Vec<Descriptor> = idx
                .iter()
                .map(|&i| {
                    store_token(&mut src, sl, &moves[i].from, sb, &held[i]);
                    Descriptor { src: moves[i].from, src_layout: sl, dst: moves[i].to, dst_layout: dl, token_bytes: tb }
                })
                .collect();
            let cfg = src_tier.migration_source();
            let mig = match self.ifs.entry((from, to)) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(MigrationIf::new(sb, db)?),
            };
            let mut dst = BeatMemory::new();
            // Tags are 16 bits: at most 65536 moves per run.
            for chunk in batch.chunks(1 << 16) {
                *per_sender.entry((pair.0, pair.1)).or_default() += mig.run(chunk, &src, &mut dst, &cfg)?.cycles;
            }
            for &i in &idx {
                let mv = &moves[i];
                let bytes = load_token(&dst, dl, &mv.to, db, tb)
                    .ok_or_else(|| SimError::Input(format!("the migration interface wrote no token at {:?}", mv.to)))?;
                let (k, v) = from_bytes(&bytes, self.dim);
                tiers.device(&mv.to)?.write_token(&mv.to, &k, &v)?;
            }
        }
        let slowest = per_sender.values().copied().max().unwrap_or(0);
        Ok(slowest as f64 * 1e3 / MIG_CLOCK_MHZ)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bytes_round_trip() {
        let k: Vec<u16> = (0..64).map(|i| i * 3 + 1).collect();
        let v: Vec<u16> = (0..64).map(|i| 0x8000 | i).collect();
        let b = to_bytes(&k, &v);
        assert_eq!(b.len(), token_bytes(64));
        assert_eq!(from_bytes(&b, 64), (k, v));
    }

    #[test]
    fn interface_rejects_dims_it_cannot_lay_out() {
        assert!(Migrator::new(MigrationPath::Interface, 20).is_err());
        assert!(Migrator::new(MigrationPath::Interface, 512).is_err());
        assert!(Migrator::new(MigrationPath::Host, 20).is_ok());
        assert!(Migrator::new(MigrationPath::Interface, 64).is_ok());
    }
}
