//! Migration between tiers (spec §8), mirroring `rtl/mig/`: the driver of the Verilated
//! migration interface, the token layouts it converts between and the host-CPU path it
//! replaces ([`interface`]), and the decode loop's migrations through it ([`migrator`]).

pub mod interface;
pub mod migrator;

pub use interface::*;
pub use migrator::{MigrationPath, Migrator, TokenMove};
