//! The DRAM tier kind (`kind: dram`): its presets and [`TierKind`](crate::device::tier::TierKind)
//! ([`preset`]), timing and the host's timing checker ([`timing`]), the host driver of the
//! Verilated DRAM-PIM device ([`driver`]) and its bandwidth bounds ([`bandwidth`]).

pub mod bandwidth;
pub mod driver;
pub mod preset;
pub mod timing;

pub use driver::DramDevSim;
pub use preset::DramPreset;
pub use timing::DramTiming;
