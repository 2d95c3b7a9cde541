//! The memory side of a PIM device, as the device composition sees it.
//!
//! A tier's device is its memory (banks or flash dies, with their controller and timing, in
//! RTL) plus PUs and RUs (the `pam_pu` and `pam_ru` models, clocked beside it by
//! [`super::pim::PimDevice`]). The memory side stores tokens at physical locations and streams
//! their K and V beats to the PUs; this trait is all the composition needs of it, so that a
//! DRAM tier and a flash tier (or a calibrated fast model later) plug in the same way.

use crate::error::SimError;
use crate::kv::location::PhysLoc;
use crate::rtl::model::VModel;

/// What one memory clock produced for the PUs.
pub struct Beat<'a> {
    pub pu: usize,
    /// One PU beat: `lanes` FP16 elements, two per word.
    pub words: &'a [u32],
}

/// Counts of the memory commands a device issued (DRAM: ACT/RD/WR/PRE/REF; flash: page reads
/// and programs are counted as `act` and `wr`, channel transfers as `rd`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CommandCounts {
    pub act: u64,
    pub rd: u64,
    pub wr: u64,
    pub pre: u64,
    pub refresh: u64,
}

pub trait MemorySide {
    /// Preset name (`hbm-s`, `ddr-s`, `ssd-s`, ...).
    fn name(&self) -> &str;
    /// Number of PUs the memory feeds.
    fn pus(&self) -> usize;
    /// FP16 lanes of a PU beat.
    fn lanes(&self) -> usize;
    /// PUs per first-level RU (bank group, flash channel group).
    fn pus_per_ru(&self) -> usize;
    /// Memory clock period in picoseconds.
    fn tck_ps(&self) -> f64;
    /// The PU that receives the token of head dimension `dim` stored at `loc`.
    fn pu_of(&self, loc: &PhysLoc, dim: usize) -> usize;
    /// `tokens` (of head dimension `dim`) grouped by PU, each list in the order the memory
    /// streams it.
    fn schedule(&self, tokens: &[PhysLoc], dim: usize) -> Vec<Vec<PhysLoc>>;
    /// Writes one token's K and V (FP16, the head dimension each) at `loc`.
    fn write_token(&mut self, loc: &PhysLoc, k: &[u16], v: &[u16]) -> Result<(), SimError>;
    /// Reads a token of head dimension `dim` back: (k, v).
    fn read_token(&mut self, loc: &PhysLoc, dim: usize) -> Result<(Vec<u16>, Vec<u16>), SimError>;
    /// Streams every beat of the tokens at `tokens` (head dimension `dim`) to their PUs.
    /// `clock` is called once per memory clock with the beats leaving in that clock, and
    /// returns whether every PU can take two more beats. Returns the memory clocks taken.
    fn stream(
        &mut self,
        dim: usize,
        tokens: &[PhysLoc],
        clock: &mut dyn FnMut(&[Beat]) -> bool,
    ) -> Result<u64, SimError>;
    /// Starts a new measurement: the command log, the counts and both checkers' violation
    /// counts start again from zero. Nothing else changes: what the memory holds (page
    /// registers included), its open rows, refresh schedule and the checkers' timing history
    /// stay, so that the next operations take exactly the clocks they would without the call.
    /// Ops the device took but has not finished go on and count in the new measurement.
    fn reset_stats(&mut self);
    /// Power-on reset: the memory's RTL is reset, under the timing it was configured with, and
    /// the host side is as a new driver's (command log, counts, violation counts, both
    /// checkers' histories, what the host knows of open rows, dies and page registers), so
    /// that whatever comes next takes exactly the clocks and commands it would on a new device.
    /// Ops the device took but has not finished are dropped. Stored data is not promised to
    /// survive, as on a real power cycle; the RTL does not reset its storage arrays, and each
    /// driver says what of them is still readable.
    fn power_on(&mut self) -> Result<(), SimError>;
    /// Forgets what the memory holds outside its array (flash page registers), so that the
    /// next stream reads stored tokens as attention over a cold cache does. Counts and
    /// violations are kept. DRAM: nothing to do (a stream opens its rows itself).
    fn drop_caches(&mut self) -> Result<(), SimError> {
        Ok(())
    }
    fn counts(&self) -> CommandCounts;
    /// Timing violations found in the commands since `reset_stats`, as (RTL checker, host
    /// checker on the command log).
    fn timing_violations(&self) -> (u64, u64);
    /// A protocol error flag of the memory side; sticky until `power_on` (`reset_stats` keeps it).
    fn error_flag(&self) -> bool;
    /// The Verilated model (for waveforms).
    fn model(&mut self) -> &mut VModel;
}
