//! The PAM system across tiers (spec §2, §5): the tiers' devices side by side and the final
//! inter-tier merge in the HBM tier.
//!
//! * [`xy`]: the target importance split x : y : 1 from measured tier throughput.
//! * [`pamattention`]: one query over tokens spread across tiers: every tier holding tokens
//!   runs local attention in its device, the device partials meet in an RU of the HBM tier,
//!   which merges them and normalises.
//! * [`migrate`]: token moves between the tiers' devices, through the RTL migration interface
//!   or the host-CPU path.
//! * [`scores`]: the decode loop's score sources (synthetic, golden-model exact, label channels).
//! * [`decode`]: decode steps of a small model: placement, scheduling, migration, attention.

pub mod decode;
pub mod migrate;
pub mod pamattention;
pub mod scores;
pub mod trace;
pub mod xy;
