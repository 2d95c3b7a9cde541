//! The serving layer (`../shared/SERVING-SPEC.md`): whole nodes serving request traces at full
//! model size.
//!
//! * [`workload`]: request traces in every format the spec lists, synthetic arrivals, load
//!   scaling.

pub mod workload;
