//! Device presets: the spec's reference configuration of each tier, and the scaled-down
//! geometries of the same tiers that are Verilated for tests and waveforms.
//!
//! Timing is configuration (runtime inputs of the RTL); geometry is a Verilog parameter, so
//! each scaled geometry is a Verilated top (`dev_hbm_s`, `dev_ddr_s` in build.rs) and the
//! reference geometries serve the bandwidth bounds and, later, the calibrated fast model.

use super::timing::DramTiming;
use crate::kv::placement::DramShape;

/// A DRAM-PIM device (one HBM stack, one DDR DIMM or chip).
#[derive(Clone, Debug, PartialEq)]
pub struct DramPreset {
    pub name: &'static str,
    pub tier: &'static str,
    pub timing: DramTiming,
    /// Memory clock period in picoseconds.
    pub tck_ps: f64,
    /// Independent command buses (HBM pseudo-channels x ranks; DDR chips of a DIMM in PIM mode
    /// each run their own all-bank stream).
    pub channels: usize,
    pub bank_groups: usize,
    pub banks_per_group: usize,
    pub banks_per_pu: usize,
    pub rows: usize,
    /// Column accesses per row.
    pub cols: usize,
    pub pu_lanes: usize,
    pub pu_clock_mhz: f64,
    /// Power-limited compute of the whole reference device (spec §3), GFLOPS ...
    pub cap_gflops: f64,
    /// ... spread over this many banks: a scaled device keeps the per-bank share.
    pub cap_banks: usize,
    /// Devices of this tier in one PAM node (spec §3: 40 HBM stacks, 40 DIMMs).
    pub devices_per_node: usize,
}

impl DramPreset {
    /// Bytes one bank delivers per column access (one PU beat of FP16 lanes).
    pub fn col_bytes(&self) -> usize {
        self.pu_lanes * 2
    }

    pub fn banks(&self) -> usize {
        self.channels * self.bank_groups * self.banks_per_group
    }

    pub fn pus(&self) -> usize {
        self.banks() / self.banks_per_pu
    }

    /// Mapping shape of one channel for tokens of head dimension `dim`.
    pub fn shape(&self, dim: usize) -> DramShape {
        DramShape {
            bank_groups: self.bank_groups,
            banks_per_group: self.banks_per_group,
            banks_per_pu: self.banks_per_pu,
            rows: self.rows,
            cols: self.cols,
            token_beats: 2 * dim.div_ceil(self.pu_lanes),
        }
    }

    /// HBM3 stack at 5.2 Gb/s/pin (spec §3): 16 channels x 2 pseudo-channels x 2 ranks as 64
    /// command buses of 4 bank groups x 4 banks; 1 KB rows of 32 B columns; a PU per two banks.
    pub fn hbm3() -> Self {
        DramPreset {
            name: "hbm3-5.2",
            tier: "HBM",
            timing: DramTiming::hbm3_5_2(),
            tck_ps: 769.0,
            channels: 64,
            bank_groups: 4,
            banks_per_group: 4,
            banks_per_pu: 2,
            // 16 GB = 1024 banks x 16384 rows x 1 KB.
            rows: 16384,
            cols: 32,
            pu_lanes: 16,
            pu_clock_mhz: 666.0,
            cap_gflops: 1600.0,
            cap_banks: 1024,
            devices_per_node: 40,
        }
    }

    /// DDR4-3200 DIMM (spec §3): 16 chips (2 ranks x 8), each 2 bank groups x 4 banks with a PU
    /// per bank; 1 KB rows per chip of 8 B columns (the 64-bit PU vector).
    pub fn ddr4() -> Self {
        DramPreset {
            name: "ddr4-3200",
            tier: "DDR",
            timing: DramTiming::ddr4_3200(),
            tck_ps: 625.0,
            channels: 16,
            bank_groups: 2,
            banks_per_group: 4,
            banks_per_pu: 1,
            // 32 GB = 16 chips x 8 banks x 262144 rows x 1 KB.
            rows: 262144,
            cols: 128,
            pu_lanes: 4,
            pu_clock_mhz: 500.0,
            cap_gflops: 204.0,
            cap_banks: 128,
            devices_per_node: 40,
        }
    }

    /// Scaled HBM device: one command bus of 8 bank groups x 4 banks, 16 PUs, 128 rows.
    /// Verilated as `dev_hbm_s`.
    pub fn hbm_scaled() -> Self {
        DramPreset { name: "hbm-s", channels: 1, bank_groups: 8, rows: 128, ..Self::hbm3() }
    }

    /// Scaled DDR device: one chip, 2 bank groups x 4 banks, 8 PUs, 64 rows.
    /// Verilated as `dev_ddr_s`.
    pub fn ddr_scaled() -> Self {
        DramPreset { name: "ddr-s", channels: 1, rows: 64, ..Self::ddr4() }
    }

    pub fn by_name(name: &str) -> Option<Self> {
        [Self::hbm3(), Self::ddr4(), Self::hbm_scaled(), Self::ddr_scaled()].into_iter().find(|p| p.name == name)
    }

    /// Minimum spacing of all-bank reads, in clocks, that keeps the device under its compute
    /// cap (the mechanism of spec §3's cap): every read feeds each bank's beat of `pu_lanes`
    /// multiply-adds (2 FLOP each) to a PU; the cap is shared per bank.
    pub fn cap_rd_gap(&self) -> u32 {
        let flop_per_rd_per_bank = (self.pu_lanes * 2) as f64;
        let rd_per_s = self.cap_gflops * 1e9 / self.cap_banks as f64 / flop_per_rd_per_bank;
        let gap = (1e12 / self.tck_ps / rd_per_s).ceil() as u32;
        gap.max(self.timing.ccd_l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_capacities_match_the_spec() {
        let bytes = |p: &DramPreset| (p.banks() * p.rows * p.cols * p.col_bytes()) as u64;
        assert_eq!(bytes(&DramPreset::hbm3()), 16 << 30, "HBM3 stack: 16 GB");
        assert_eq!(bytes(&DramPreset::ddr4()), 32 << 30, "DDR4 DIMM: 32 GB");
        assert_eq!(DramPreset::hbm3().pus(), 512, "one PU per two of 1024 banks");
    }
}
