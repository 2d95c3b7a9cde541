//! Memory-tier devices.
//!
//! * [`memory`]: the memory side of a PIM device as a trait; [`dram`] implements it over the
//!   Verilated DRAM-PIM memory (banks, sequencer, timing checker).
//! * [`pim`]: a device = memory side + Verilated PUs and RUs, clocked together.
//! * [`timing`]: DRAM timing, its presets and the host-side timing checker.
//! * [`preset`]: the tiers' reference and scaled configurations.
//! * [`ssd`]: the SSD tier: flash presets and the driver of the Verilated flash device (also
//!   a [`memory::MemorySide`]).
//! * [`check`]: local attention in a device, RTL against the golden models.
//! * [`migration`]: the migration interface (spec section 8) between tiers, its driver, the
//!   host-CPU path it replaces and their benchmark.

pub mod bandwidth;
pub mod check;
pub mod dram;
pub mod memory;
pub mod migration;
pub mod pim;
pub mod preset;
pub mod ssd;
pub mod tier;
pub mod timing;
