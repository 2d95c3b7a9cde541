//! Communication between GPUs: the all-reduces of tensor parallelism and the send/receive of
//! pipeline parallelism, by message size and GPU count, from a formula or a measured table.
//!
//! * [`LinkFormula`]: the ring algorithm NCCL uses, over the GPU preset's link:
//!   all-reduce of S bytes over n GPUs = latency + 2 (n - 1) / n x S / (efficiency x bandwidth);
//!   all-gather = latency + (n - 1) / n x S / (efficiency x bandwidth);
//!   send/receive = latency + S / (efficiency x bandwidth). Bandwidth is each way.
//! * [`NetworkTable`]: Vidur's NCCL profiles of a DGX-H100 (`all_reduce.csv`, `send_recv.csv`:
//!   the median of each size and worker count, in ms). **Decision:** the rows measured inside
//!   one node (`devices_per_node` equal to `num_workers`) are used: the reference node is one
//!   DGX; the inter-node send/receive rows are skipped. Sizes interpolate linearly (module
//!   [`super::interp`]): below the smallest size (2 KB) the smallest size's time, above the
//!   largest (64 MB) the upper-half secant. The table has no all-gather; it is taken as half an
//!   all-reduce of the same size (a ring all-reduce is a reduce-scatter plus an all-gather).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::error::GpuError;
use super::interp::Curve;
use super::preset::GpuPreset;
use super::profile;

/// Collectives from the link's latency and bandwidth.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkFormula {
    pub latency_us: f64,
    /// Achieved bandwidth each way, B/s.
    pub bandwidth: f64,
}

impl LinkFormula {
    /// The formula over a GPU preset's link.
    pub fn of(gpu: &GpuPreset) -> LinkFormula {
        LinkFormula { latency_us: gpu.link.latency_us, bandwidth: gpu.link.bandwidth_gbs * 1e9 * gpu.link.efficiency }
    }

    fn transfer_us(&self, bytes: f64) -> f64 {
        self.latency_us + bytes / self.bandwidth * 1e6
    }
}

/// Vidur's measured NCCL collectives.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkTable {
    /// All-reduce time (us) by message size, per GPU count.
    all_reduce: BTreeMap<u32, Curve>,
    /// Send/receive time (us) by message size between two GPUs of the node.
    send_recv: Curve,
    path: String,
}

#[derive(Deserialize)]
struct AllReduceRow {
    #[serde(rename = "time_stats.all_reduce.median")]
    median_ms: f64,
    num_workers: u32,
    size: f64,
    devices_per_node: u32,
}

#[derive(Deserialize)]
struct SendRecvRow {
    #[serde(rename = "time_stats.send_recv.median")]
    median_ms: f64,
    num_workers: u32,
    size: f64,
    devices_per_node: u32,
}

const AR_COLS: [&str; 4] = ["time_stats.all_reduce.median", "num_workers", "size", "devices_per_node"];
const SR_COLS: [&str; 4] = ["time_stats.send_recv.median", "num_workers", "size", "devices_per_node"];

impl NetworkTable {
    /// Reads Vidur's `all_reduce.csv` and `send_recv.csv`.
    pub fn load_vidur(all_reduce: impl AsRef<Path>, send_recv: impl AsRef<Path>) -> Result<NetworkTable, GpuError> {
        let ar = profile::read::<AllReduceRow>(all_reduce.as_ref(), &AR_COLS)?;
        let mut points: BTreeMap<u32, Vec<(f64, f64)>> = BTreeMap::new();
        for (line, r) in &ar.rows {
            let t = ar.non_negative(*line, AR_COLS[0], r.median_ms)?;
            let size = ar.non_negative(*line, "size", r.size)?;
            if r.num_workers < 2 {
                return Err(ar.error_at(*line, "num_workers", format!("must be at least 2, found {}", r.num_workers)));
            }
            if r.devices_per_node == r.num_workers {
                points.entry(r.num_workers).or_default().push((size, t * 1e3));
            }
        }
        if points.is_empty() {
            return Err(GpuError::mismatch(&ar.path, "no all-reduce measured inside one node"));
        }
        let all_reduce = points.into_iter().filter_map(|(n, p)| Some((n, Curve::new(p)?))).collect();

        let sr = profile::read::<SendRecvRow>(send_recv.as_ref(), &SR_COLS)?;
        let mut p = Vec::new();
        for (line, r) in &sr.rows {
            let t = sr.non_negative(*line, SR_COLS[0], r.median_ms)?;
            let size = sr.non_negative(*line, "size", r.size)?;
            if r.num_workers == 2 && r.devices_per_node == 2 {
                p.push((size, t * 1e3));
            }
        }
        let send_recv = Curve::new(p)
            .ok_or_else(|| GpuError::mismatch(&sr.path, "no send/receive between two GPUs of one node"))?;
        Ok(NetworkTable { all_reduce, send_recv, path: ar.path })
    }

    /// GPU counts with a measured all-reduce.
    pub fn all_reduce_gpus(&self) -> Vec<u32> {
        self.all_reduce.keys().copied().collect()
    }

    fn all_reduce_curve(&self, gpus: u32) -> Result<&Curve, GpuError> {
        self.all_reduce.get(&gpus).ok_or_else(|| {
            GpuError::mismatch(
                &self.path,
                format!("no all-reduce measured over {gpus} GPUs (measured: {:?})", self.all_reduce_gpus()),
            )
        })
    }
}

/// Where collective times come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Comm {
    Formula(LinkFormula),
    Table(NetworkTable),
}

impl Comm {
    /// All-reduce of `bytes` over `gpus` GPUs, microseconds (0 for one GPU).
    pub fn all_reduce_us(&self, bytes: f64, gpus: u32) -> Result<f64, GpuError> {
        if gpus <= 1 {
            return Ok(0.0);
        }
        match self {
            Comm::Formula(f) => {
                let n = f64::from(gpus);
                Ok(f.transfer_us(2.0 * (n - 1.0) / n * bytes))
            }
            Comm::Table(t) => Ok(t.all_reduce_curve(gpus)?.eval(bytes)),
        }
    }

    /// All-gather of `bytes` in total over `gpus` GPUs, microseconds (0 for one GPU).
    pub fn all_gather_us(&self, bytes: f64, gpus: u32) -> Result<f64, GpuError> {
        if gpus <= 1 {
            return Ok(0.0);
        }
        match self {
            Comm::Formula(f) => {
                let n = f64::from(gpus);
                Ok(f.transfer_us((n - 1.0) / n * bytes))
            }
            Comm::Table(t) => Ok(0.5 * t.all_reduce_curve(gpus)?.eval(bytes)),
        }
    }

    /// Send/receive of `bytes` from one GPU to the next stage's, microseconds.
    pub fn send_recv_us(&self, bytes: f64) -> Result<f64, GpuError> {
        match self {
            Comm::Formula(f) => Ok(f.transfer_us(bytes)),
            Comm::Table(t) => Ok(t.send_recv.eval(bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_formula() {
        let c = Comm::Formula(LinkFormula { latency_us: 10.0, bandwidth: 100e9 });
        assert_eq!(c.all_reduce_us(1e6, 1).expect("one GPU"), 0.0);
        // 2 x 3/4 x 1 MB / 100 GB/s = 15 us.
        assert!((c.all_reduce_us(1e6, 4).expect("4 GPUs") - 25.0).abs() < 1e-9);
        assert!((c.all_gather_us(1e6, 4).expect("4 GPUs") - 17.5).abs() < 1e-9);
        assert!((c.send_recv_us(1e6).expect("p2p") - 20.0).abs() < 1e-9);
    }
}
