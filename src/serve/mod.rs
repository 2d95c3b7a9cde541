//! The serving layer (`../shared/SERVING-SPEC.md`): whole nodes serving request traces at full
//! model size.
//!
//! * [`workload`]: request traces in every format the spec lists, synthetic arrivals, load
//!   scaling.
//! * [`gpu`]: the node's GPUs, the models' shapes, and GPU time (roofline or measured tables).
//! * [`engine`]: the serving loop of one node (vLLM v1's continuous batching), its records and
//!   outputs, and the validation against a measured vLLM run.
//! * [`report`]: a run's Chrome/Perfetto trace (a window of iterations) and its SVG plots.

pub mod engine;
pub mod gpu;
pub mod report;
pub mod workload;
