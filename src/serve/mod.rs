//! The serving layer (`../shared/SERVING-SPEC.md`): whole nodes serving request traces at full
//! model size.
//!
//! * [`workload`]: request traces in every format the spec lists, synthetic arrivals, load
//!   scaling.
//! * [`gpu`]: the node's GPUs, the models' shapes, and GPU time (roofline or measured tables).
//! * [`engine`]: the serving loop of one node (vLLM v1's continuous batching), its records and
//!   outputs, and the validation against a measured vLLM run.
//! * [`pim`]: PIM time of every tier at full size, fitted on the Verilated devices, checked
//!   against the RTL at a second geometry, cached on disk.
//! * [`system`]: the systems compared (pam, its ablations and the baselines): a node's tiers at
//!   full size, the full-size KV manager, what each step costs beyond the GPU, energy.
//! * [`scenario`], [`run`], [`peak`], [`command`]: the `serving` scenario section and
//!   `pam serve` (every system side by side, the peak search under the SLO).
//! * [`numerics`]: a sample of a run's attention operations recomputed through the
//!   bit-accurate chain in the tiers the KV manager placed them in, checked against float64,
//!   and replayed through the Verilated devices with waveforms (`pam serve --replay`).
//! * [`report`]: a run's Chrome/Perfetto trace (a window of iterations) and its SVG plots.

pub mod command;
pub mod engine;
pub mod gpu;
pub mod numerics;
pub mod peak;
pub mod pim;
pub mod report;
pub mod run;
pub mod scenario;
pub mod system;
pub mod workload;

/// The seed of a serving run when neither the command line nor the scenario gives one.
pub const DEFAULT_SEED: u64 = 1;
