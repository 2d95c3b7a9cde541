//! The simulation kernel's time base, the role SystemC's kernel plays elsewhere: simulated time
//! in picoseconds, one clock per domain ([`clock`]), and dual-clock FIFOs where a beat crosses
//! from one domain into another ([`cdc`]), and links between the host side and the tiers
//! ([`link`]).

pub mod cdc;
pub mod clock;
pub mod link;

/// Simulated time in picoseconds.
pub type Ps = u64;
