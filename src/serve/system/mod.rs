//! The systems a node runs (SERVING-SPEC §7, PAM-SPEC §10): where attention runs, where KV
//! lives, how it is placed and moved, and what that costs on top of the GPU time.
//!
//! * [`kind`]: the systems and ablations by name, and what each one is made of.
//! * [`kv`]: the full-size KV manager (one entry per token position, selection, scheduler).
//! * [`node`]: a serving node's tiers at full size and [`node::ServingNode`], the engine's
//!   [`NodeModel`](crate::serve::engine::NodeModel) that times each step's attention, merges,
//!   links, migrations and offload transfers.
//! * [`energy`]: energy per component (SERVING-SPEC §10).

pub mod energy;
pub mod kind;
pub mod kv;
pub mod node;

pub use energy::{EnergyConstants, EnergyReport};
pub use kind::SystemKind;
pub use kv::{KvManager, KvPolicy, Locality};
pub use node::{NodeReport, NodeSpec, ServingNode, TierReport};
