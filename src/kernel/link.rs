//! A link between the host side (the accelerator and the merging tier's logic) and a tier's
//! devices: a transfer takes the link's latency plus its bytes at the link's bandwidth. Each
//! tier preset names its link (`presets/tiers.yaml`: on-package HBM, the DDR bus, PCIe, CXL).

use super::Ps;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Link {
    pub name: &'static str,
    pub latency_ps: Ps,
    /// Bytes per second.
    pub bandwidth: f64,
}

impl Link {
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
        let pcie = Link { name: "PCIe 5 x16", latency_ps: 1_000_000, bandwidth: 64e9 };
        assert_eq!(pcie.transfer_ps(64_000), 1_000_000 + 1_000_000);
        assert_eq!(pcie.transfer_ps(0), 1_000_000);
        assert_eq!(pcie.transfer_ps(1), 1_000_016, "a partial picosecond rounds up");
    }
}
