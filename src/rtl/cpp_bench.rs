//! Calls the plain C++ PU testbench compiled into the binary (speed reference).

use super::ffi;
use crate::error::SimError;

/// Runs the C++ testbench; returns (cycles, seconds, final running max).
pub fn run_pu(
    lanes: usize,
    dim: usize,
    tokens: usize,
    query: &[u16],
    kv: &[u16],
    repeats: u64,
) -> Result<(u64, f64, u32), SimError> {
    let nb = dim.div_ceil(lanes);
    if query.len() != nb * lanes || kv.len() != tokens * 2 * nb * lanes {
        return Err(SimError::Input("C++ bench stimulus is not laid out in whole beats".into()));
    }
    let s = ffi::pam_pu_bench_stimulus {
        lanes: lanes as u32,
        dim: dim as u32,
        tokens: tokens as u32,
        query: query.as_ptr(),
        kv: kv.as_ptr(),
        repeats,
    };
    let mut r = ffi::pam_pu_bench_result::default();
    let f = match lanes {
        16 => ffi::pam_cpp_bench_pu16,
        4 => ffi::pam_cpp_bench_pu4,
        _ => return Err(SimError::Input(format!("no PU model with {lanes} lanes"))),
    };
    // SAFETY: `s` points at slices whose lengths were checked against the layout the C++ side
    // reads; both outlive the call, and `r` is a plain struct it fills.
    let rc = unsafe { f(&s, &mut r) };
    if rc != 0 {
        return Err(SimError::Input(format!("C++ testbench failed with code {rc}")));
    }
    Ok((r.cycles, r.seconds, r.out_m))
}
