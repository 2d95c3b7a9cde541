//! A link between the host side (the accelerator and the HBM tier's logic die) and a tier's
//! devices: a transfer takes the link's latency plus its bytes at the link's bandwidth.

use super::Ps;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Link {
    pub name: &'static str,
    pub latency_ps: Ps,
    /// Bytes per second.
    pub bandwidth: f64,
}

impl Link {
    /// Links of spec §3: HBM on the package (1024 pins x 5.2 Gb/s), DDR4-3200 over the memory
    /// bus, the SSD over PCIe 5 x16 (about 64 GB/s each way). Latencies: on-package a few
    /// nanoseconds, a DDR access about 50 ns, a PCIe round trip about 1 us.
    pub const HBM: Link = Link { name: "HBM package", latency_ps: 5_000, bandwidth: 665.6e9 };
    pub const DDR: Link = Link { name: "DDR bus", latency_ps: 50_000, bandwidth: 25.6e9 };
    pub const PCIE: Link = Link { name: "PCIe 5 x16", latency_ps: 1_000_000, bandwidth: 64e9 };

    /// Time for one transfer of `bytes`.
    pub fn transfer_ps(&self, bytes: usize) -> Ps {
        self.latency_ps + (bytes as f64 / self.bandwidth * 1e12).ceil() as Ps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_is_latency_plus_bytes_over_bandwidth() {
        assert_eq!(Link::PCIE.transfer_ps(64_000), 1_000_000 + 1_000_000);
        assert_eq!(Link::HBM.transfer_ps(0), 5_000);
        assert!(Link::DDR.transfer_ps(256) > Link::HBM.transfer_ps(256));
    }
}
