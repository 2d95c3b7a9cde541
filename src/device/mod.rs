//! Memory-tier devices, one home per memory technology and the pieces every tier shares.
//!
//! * [`tier`]: the registry of tier presets (`presets/tiers.yaml`) and the [`tier::TierKind`]
//!   trait each memory technology implements.
//! * [`dram`]: the DRAM kind (HBM, DDR, LPDDR): presets, timing and the host's timing checker,
//!   the driver of the Verilated DRAM-PIM device, bandwidth bounds.
//! * [`flash`]: the flash kind (SSD): presets and the driver of the Verilated SSD-PIM device.
//! * [`memory`]: the memory side of a PIM device as a trait, which both drivers implement.
//! * [`pim`]: a device = memory side + Verilated PUs and RUs, clocked together.
//! * [`attention`]: what the system needs of a device, RTL or calibrated model alike.
//! * [`calibrated`]: the fast model of a device: golden arithmetic, time fitted to the RTL.
//! * [`order`]: the order a device streams tokens to its PUs, from its geometry.
//! * [`stimulus`]: random tokens and queries for measurements on a device.
//! * [`check`]: local attention in a device, RTL against the golden models.
//! * [`view`]: the GTKWave view of a Verilated device's memory-side dump, from its preset.
//!
//! Migration between devices has its own home, [`crate::migration`], as `rtl/mig/` has.

pub mod attention;
pub mod calibrated;
pub mod check;
pub mod dram;
pub mod flash;
pub mod memory;
pub mod order;
pub mod pim;
pub mod stimulus;
pub mod tier;
pub mod view;
