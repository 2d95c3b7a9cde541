//! The `unreset-probe` suite: random values summed by `rtl/tb/pam_unreset_probe.sv`, whose sum
//! register is deliberately left out of reset. On zero-initialised models every case passes;
//! under `--xrand` the sum starts from garbage and the comparison with the expected sum fails,
//! which shows that the X-randomised regression catches a register read before it is reset.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Verdict;
use crate::error::SimError;
use crate::rtl::model::{port_set, Top, VModel};

/// The probe's clock; it only orders the edges.
const CLOCK_MHZ: f64 = 100.0;
/// Most values a case sums.
const MAX_VALUES: usize = 16;

port_set!(Ports { rst_ni, valid_i, data_i, sum_o, count_o });

pub fn run(seed: u64, inject_fault: bool) -> Result<Verdict, SimError> {
    let mut m = VModel::new(Top::named("unreset_probe")?, CLOCK_MHZ)?;
    let p = Ports::lookup(&m)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values: Vec<u32> = (0..rng.random_range(1..=MAX_VALUES)).map(|_| rng.random()).collect();
    m.set(p.valid_i, 0);
    m.set(p.data_i, 0);
    m.reset(p.rst_ni);
    m.set(p.valid_i, 1);
    for &v in &values {
        m.set(p.data_i, v as u64);
        m.tick();
    }
    m.set(p.valid_i, 0);
    m.tick();
    let want_sum = values.iter().fold(0u32, |a, &v| a.wrapping_add(v)) ^ inject_fault as u32;
    let (sum, count) = (m.get(p.sum_o) as u32, m.get(p.count_o) as usize);
    let mut problems = Vec::new();
    if count != values.len() {
        problems.push(format!("count_o: RTL {count} vs expected {}", values.len()));
    }
    if sum != want_sum {
        problems.push(format!("sum_o of {} values: RTL {sum:#010x} vs expected {want_sum:#010x}", values.len()));
    }
    Ok(Verdict { problems, rel_err: None, properties: vec![("values".into(), values.len().to_string())] })
}
