//! The RTL in the loop: Verilated models behind safe Rust types.
//!
//! `ffi` holds the generated bindings; `model` (and the speed reference `cpp_bench`) are the
//! only places with `unsafe`; `coverage` gathers the models' cover point counts; `pu` and `ru`
//! drive the processing and reduction units through their valid/ready protocols.

pub mod beats;
pub mod coverage;
pub mod cpp_bench;
pub mod dram_lab;
mod ffi;
pub mod fp_lab;
pub mod model;
pub mod pu;
pub mod ru;
pub mod waves;
pub mod xrand;

/// Version text of the Verilator the models were built with.
pub const VERILATOR_VERSION: &str = env!("PAM_VERILATOR_VERSION");
