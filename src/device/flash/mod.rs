//! The flash tier kind (`kind: flash`): its presets and [`TierKind`](crate::device::tier::TierKind)
//! ([`preset`]) and the host driver of the Verilated SSD-PIM device ([`driver`]).

pub mod driver;
pub mod preset;

pub use driver::SsdDevSim;
pub use preset::FlashPreset;
