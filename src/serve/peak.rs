//! Peak throughput under an SLO (SERVING-SPEC §11; `pam serve --peak`): the highest output
//! throughput whose p90 TPOT meets the target, searched over the load: the arrival-rate scale
//! of an online trace, or the batch size of an offline one.
//!
//! The search doubles the load from 1 (the trace's own rate, or a batch of 1) while the SLO
//! holds, then bisects between the last load that met it and the first that did not, for a
//! fixed number of probes. Throughput is not monotonic in the load in general (preemptions,
//! queueing); the search reports the best probe that met the SLO, not the last.
//!
//! Doubling stops early when the SLO still holds but the throughput no longer grows (less
//! than [`SATURATED`] over two doublings): every request of the workload then arrives before
//! the first ones finish, so more load only compresses the arrivals, and the peak is bounded
//! by the workload's length, not by the SLO (the search says so).

use super::engine::EngineConfig;
use super::run::{ServeError, SystemResult};
use super::workload::{ArrivalProcess, Workload};

/// One probe of the search.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Arrival-rate scale (online) or batch size (offline).
    pub load: f64,
    pub tokens_per_s: f64,
    pub tpot_p90_s: f64,
    pub met: bool,
}

/// The search's result.
#[derive(Clone, Debug)]
pub struct Peak {
    pub probes: Vec<Probe>,
    /// The best probe that met the SLO, if any.
    pub best: Option<Probe>,
    /// Doubling stopped with the SLO still met because the throughput had stopped growing:
    /// the workload, not the SLO, bounds the peak.
    pub saturated: bool,
}

/// What the search varies.
pub enum Load<'a> {
    /// Replays `workload` at k times its rate.
    Rate(&'a Workload),
    /// The first `b` requests of `workload` at t = 0, `b` running at most.
    Batch(&'a Workload),
}

/// Bisection steps after the doubling phase.
const BISECT: usize = 5;
/// Most doublings (2^12 times the rate or a batch of 4096).
const DOUBLINGS: usize = 12;
/// Relative throughput gain over two doublings below which the load is saturated.
pub const SATURATED: f64 = 0.01;

/// Searches the peak; `run` serves one load point and `probe` is told about each probe.
pub fn search(
    load: Load<'_>,
    engine: &EngineConfig,
    slo_s: f64,
    mut run: impl FnMut(&Workload, &EngineConfig) -> Result<SystemResult, ServeError>,
    mut probe: impl FnMut(&Probe),
) -> Result<Peak, ServeError> {
    let mut probes: Vec<Probe> = Vec::new();
    let mut at = |x: f64, probes: &mut Vec<Probe>| -> Result<bool, ServeError> {
        let (w, e) = match &load {
            Load::Rate(w) => {
                ((*w).clone().scale_rate(x).map_err(|e| ServeError::Setup(e.to_string()))?, engine.clone())
            }
            Load::Batch(w) => {
                let b = x.round().max(1.0) as u32;
                let w = (*w)
                    .clone()
                    .limit(b as usize)
                    .with_arrivals(&ArrivalProcess::Offline, 0)
                    .map_err(|e| ServeError::Setup(e.to_string()))?;
                (w, EngineConfig { max_num_seqs: b, ..engine.clone() })
            }
        };
        let r = run(&w, &e)?;
        let s = &r.summary.engine;
        let p = Probe {
            load: x,
            tokens_per_s: s.output_tokens_per_s,
            tpot_p90_s: s.tpot_s.p90,
            met: s.tpot_s.p90 <= slo_s,
        };
        probe(&p);
        let met = p.met;
        probes.push(p);
        Ok(met)
    };
    let batch = matches!(load, Load::Batch(_));
    let max_batch = match &load {
        Load::Batch(w) => w.len() as f64,
        Load::Rate(_) => f64::INFINITY,
    };
    let (mut lo, mut hi) = (0.0, None);
    let mut x: f64 = 1.0;
    let mut saturated = false;
    for _ in 0..=DOUBLINGS {
        if at(x, &mut probes)? {
            lo = x;
            if x >= max_batch {
                break;
            }
            let n = probes.len();
            if n >= 3 && probes[n - 1].tokens_per_s < probes[n - 3].tokens_per_s * (1.0 + SATURATED) {
                saturated = true;
                break;
            }
            x = (x * 2.0).min(max_batch);
        } else {
            hi = Some(x);
            break;
        }
    }
    if let Some(mut hi) = hi {
        let mut lo_ = if lo > 0.0 { lo } else { hi / 2f64.powi(BISECT as i32) };
        for _ in 0..BISECT {
            let mid = if batch { ((lo_ + hi) / 2.0).round() } else { (lo_ + hi) / 2.0 };
            if batch && (mid <= lo_ || mid >= hi) {
                break;
            }
            if at(mid, &mut probes)? {
                lo_ = mid;
            } else {
                hi = mid;
            }
        }
    }
    let best = probes.iter().filter(|p| p.met).max_by(|a, b| a.tokens_per_s.total_cmp(&b.tokens_per_s)).cloned();
    Ok(Peak { probes, best, saturated })
}
