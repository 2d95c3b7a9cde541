//! `pam`: a hardware/software co-simulation harness for PAM (processing across the memory
//! hierarchy), with the RTL of its processing and reduction units in the loop and every result
//! checked against a bit-accurate golden model and a float64 reference.

pub mod bench;
pub mod datapath;
pub mod device;
pub mod error;
pub mod fuzz;
pub mod golden;
pub mod kernel;
pub mod kv;
pub mod migration;
pub mod partial;
pub mod problem;
pub mod regress;
pub mod rtl;
pub mod run;
pub mod scenario;
pub mod sched;
pub mod serve;
pub mod sweep;
pub mod system;
