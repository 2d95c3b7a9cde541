//! Software golden models.
//!
//! * [`fp`]: bit-accurate model of every arithmetic unit of `rtl/fp`.
//! * [`pu`], [`ru`]: bit-accurate models of the processing and reduction units, built from
//!   the same merge step as the RTL ([`merge`]), in the same order of operations.
//! * [`reference`]: plain float64 attention, the accuracy yardstick of the whole chain.

pub mod device;
pub mod fp;
pub mod merge;
pub mod pu;
pub mod reference;
pub mod ru;
