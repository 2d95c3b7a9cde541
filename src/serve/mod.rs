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

pub mod engine;
pub mod gpu;
pub mod pim;
pub mod workload;
