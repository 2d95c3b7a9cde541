//! The PAM system across tiers (spec §2, §5): the tiers' devices side by side and the final
//! inter-tier merge in the merging tier (the first by default).
//!
//! * [`xy`]: the target importance split (x : y : 1 for three tiers) from measured tier
//!   throughput.
//! * [`pamattention`]: one query over tokens spread across tiers: every tier holding tokens
//!   runs local attention in its device, the device partials meet in an RU of the merging
//!   tier, which merges them and normalises.
//! * [`scores`]: the decode loop's score sources (synthetic, golden-model exact, label channels).
//! * [`decode`]: decode steps of a small model: placement, scheduling, migration (through
//!   [`crate::migration`]), attention.

pub mod decode;
pub mod pamattention;
pub mod scores;
pub mod trace;
pub mod xy;
