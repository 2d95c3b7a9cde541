//! Memory-tier devices.
//!
//! * [`memory`]: the memory side of a PIM device as a trait; [`dram`] implements it over the
//!   Verilated DRAM-PIM memory (banks, sequencer, timing checker).
//! * [`pim`]: a device = memory side + Verilated PUs and RUs, clocked together.
//! * [`attention`]: what the system needs of a device, RTL or calibrated model alike.
//! * [`calibrated`]: the fast model of a device: golden arithmetic, time fitted to the RTL.
//! * [`order`]: the order a device streams tokens to its PUs, from its geometry.
//! * [`timing`]: DRAM timing, its presets and the host-side timing checker.
//! * [`preset`]: the tiers' reference and scaled configurations.
//! * [`ssd`]: the SSD tier: flash presets and the driver of the Verilated flash device (also
//!   a [`memory::MemorySide`]).
//! * [`stimulus`]: random tokens and queries for measurements on a device.
//! * [`check`]: local attention in a device, RTL against the golden models.
//! * [`migration`]: the migration interface (spec section 8) between tiers, its driver, the
//!   host-CPU path it replaces and their benchmark.
//! * [`view`]: the GTKWave view of a Verilated device's memory-side dump, from its preset.

pub mod attention;
pub mod bandwidth;
pub mod calibrated;
pub mod check;
pub mod dram;
pub mod memory;
pub mod migration;
pub mod order;
pub mod pim;
pub mod preset;
pub mod ssd;
pub mod stimulus;
pub mod tier;
pub mod timing;
pub mod view;
