//! A tier's device preset, DRAM or flash, behind one type: what the scenario, the regression
//! and the benchmarks need to place tokens in a device and to open its Verilated model.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::dram::DramDevSim;
use super::memory::MemorySide;
use super::pim::PimDevice;
use super::preset::DramPreset;
use super::ssd::{FlashPreset, SsdDevSim};
use crate::error::SimError;
use crate::kv::location::PhysLoc;
use crate::kv::placement::{DevicePlacer, DramPlacer, FlashPlacer, GroupPolicy, PlacementError, TierPlacer};

#[derive(Clone, Debug, PartialEq)]
pub enum TierPreset {
    Dram(DramPreset),
    Flash(FlashPreset),
}

/// Places a problem's tokens one after the other.
pub trait Placer {
    fn place(&mut self, rng: &mut ChaCha8Rng) -> Result<PhysLoc, SimError>;
}

/// The least-activated-bank-group rule, steered by a random attention history: before each
/// token, every bank group serves a random number of tokens in one decode step.
struct DramHistoryPlacer {
    placer: DramPlacer,
    groups: usize,
}

impl Placer for DramHistoryPlacer {
    fn place(&mut self, rng: &mut ChaCha8Rng) -> Result<PhysLoc, SimError> {
        for g in 0..self.groups {
            self.placer.window().record(g, rng.random_range(0..4));
        }
        self.placer.window().end_step();
        self.placer.place().map_err(|e| SimError::Input(e.to_string()))
    }
}

impl Placer for FlashPlacer {
    fn place(&mut self, _: &mut ChaCha8Rng) -> Result<PhysLoc, SimError> {
        FlashPlacer::place(self).map_err(|e| SimError::Input(e.to_string()))
    }
}

impl TierPreset {
    /// The presets with a Verilated device.
    pub fn scaled() -> [TierPreset; 3] {
        [
            TierPreset::Dram(DramPreset::hbm_scaled()),
            TierPreset::Dram(DramPreset::ddr_scaled()),
            TierPreset::Flash(FlashPreset::ssd_scaled()),
        ]
    }

    pub fn by_name(name: &str) -> Option<TierPreset> {
        DramPreset::by_name(name).map(TierPreset::Dram).or_else(|| FlashPreset::by_name(name).map(TierPreset::Flash))
    }

    pub fn name(&self) -> &'static str {
        match self {
            TierPreset::Dram(p) => p.name,
            TierPreset::Flash(p) => p.name,
        }
    }

    /// The system's placer of tier `tier` made of `devices` devices of this preset, for tokens
    /// of head dimension `dim` (spec §6, one level up for the devices).
    pub fn tier_placer(&self, tier: usize, devices: usize, dim: usize) -> Result<TierPlacer, PlacementError> {
        let devs = (0..devices)
            .map(|d| {
                Ok(match self {
                    TierPreset::Dram(p) => DevicePlacer::Dram(DramPlacer::new(
                        p.shape(dim),
                        GroupPolicy::LeastActivated,
                        tier as u8,
                        d as u16,
                    )?),
                    TierPreset::Flash(p) => DevicePlacer::Flash(FlashPlacer::new(p.shape(dim), tier as u8, d as u16)?),
                })
            })
            .collect::<Result<Vec<_>, PlacementError>>()?;
        Ok(TierPlacer::new(devs))
    }

    /// Whether tokens of head dimension `dim` fit the device's rows or pages.
    pub fn fits(&self, dim: usize) -> Result<(), String> {
        self.tier_placer(0, 1, dim).map(|_| ()).map_err(|e| e.to_string())
    }

    /// Tokens of head dimension `dim` one device holds.
    pub fn capacity(&self, dim: usize) -> Result<usize, SimError> {
        let p = self.tier_placer(0, 1, dim).map_err(|e| SimError::Input(format!("{}: {e}", self.name())))?;
        Ok(p.capacity())
    }

    /// The host's mapping rule for this tier (spec §6).
    pub fn placer(&self, dim: usize) -> Result<Box<dyn Placer>, SimError> {
        let err = |e: crate::kv::placement::PlacementError| SimError::Input(format!("{}: {e}", self.name()));
        Ok(match self {
            TierPreset::Dram(p) => Box::new(DramHistoryPlacer {
                placer: DramPlacer::new(p.shape(dim), GroupPolicy::LeastActivated, 0, 0).map_err(err)?,
                groups: p.bank_groups,
            }),
            TierPreset::Flash(p) => Box::new(FlashPlacer::new(p.shape(dim), 2, 0).map_err(err)?),
        })
    }

    /// Opens the Verilated device with its PUs and RUs on the memory clock. `gap` is the
    /// minimum spacing of reads (DRAM: all-bank RDs; flash: channel transfers), `None` for the
    /// memory's own rate.
    pub fn open(&self, gap: Option<u32>) -> Result<PimDevice, SimError> {
        PimDevice::new(self.memory(gap)?)
    }

    /// As [`Self::open`], with the PUs and RUs on the tier's PU clock (spec §3).
    pub fn open_with_pu_clock(&self, gap: Option<u32>) -> Result<PimDevice, SimError> {
        PimDevice::with_pu_clock(self.memory(gap)?, self.pu_clock_mhz())
    }

    /// The tier's PU clock (spec §3: 666 MHz HBM, 500 MHz DDR, 1 GHz in the SSD controller).
    pub fn pu_clock_mhz(&self) -> f64 {
        match self {
            TierPreset::Dram(p) => p.pu_clock_mhz,
            TierPreset::Flash(p) => p.clock_mhz,
        }
    }

    fn memory(&self, gap: Option<u32>) -> Result<Box<dyn MemorySide + Send>, SimError> {
        Ok(match self {
            TierPreset::Dram(p) => {
                let mut m = DramDevSim::new(p)?;
                m.configure(&p.timing, gap.unwrap_or(p.timing.ccd_l))?;
                Box::new(m)
            }
            TierPreset::Flash(p) => {
                let mut m = SsdDevSim::new(p)?;
                m.configure(p.t_r_cycles(), p.t_prog_cycles(), gap.unwrap_or(p.xfer_gap()))?;
                Box::new(m)
            }
        })
    }

    /// The read gap that keeps the device under its compute cap.
    pub fn cap_gap(&self) -> u32 {
        match self {
            TierPreset::Dram(p) => p.cap_rd_gap(),
            TierPreset::Flash(p) => p.cap_xfer_gap(),
        }
    }

    /// The memory's own read gap (no cap).
    pub fn min_gap(&self) -> u32 {
        match self {
            TierPreset::Dram(p) => p.timing.ccd_l,
            TierPreset::Flash(p) => p.xfer_gap(),
        }
    }
}

/// A table of every preset for `pam presets`: what a user needs to write a scenario.
pub fn describe_presets() -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let verilated =
        |n: &str| if TierPreset::scaled().iter().any(|p| p.name() == n) { "Verilated" } else { "reference" };
    for p in [DramPreset::hbm3(), DramPreset::hbm_scaled(), DramPreset::ddr4(), DramPreset::ddr_scaled()] {
        let b = super::bandwidth::bounds(&p, p.cols, p.timing.ccd_l);
        let _ = writeln!(
            o,
            "{:<10} {} {:<9} tCK {} ps: {} command buses x {} bank groups x {} banks, {} rows x {} columns of {} B; {} PUs ({} lanes, {} MHz, one per {} bank(s)); cap {} GFLOPS -> all-bank RD every {} clocks",
            p.name, p.tier, verilated(p.name), p.tck_ps, p.channels, p.bank_groups, p.banks_per_group, p.rows, p.cols, p.col_bytes(),
            p.pus(), p.pu_lanes, p.pu_clock_mhz, p.banks_per_pu, p.cap_gflops, p.cap_rd_gap()
        );
        let t: Vec<String> = p.timing.fields().iter().map(|(_, j, v)| format!("{j} {v}")).collect();
        let _ = writeln!(o, "{:<10} timing: {}", "", t.join(", "));
        let _ = writeln!(
            o,
            "{:<10} internal read: column peak {:.1} GB/s, with ACT/PRE/REF {:.1} GB/s",
            "",
            b.column_peak / 1e9,
            b.pattern / 1e9
        );
    }
    for p in [FlashPreset::ssd(), FlashPreset::ssd_scaled()] {
        let _ = writeln!(
            o,
            "{:<10} {} {:<9} {} MHz: {} channels x {} dies x {} pages of {} B; tR {} us, tPROG {} us, {} MT/s x {} bit (a beat every {} clocks); {} PUs ({} lanes); cap {} GFLOPS -> a beat every {} clocks",
            p.name, p.tier, verilated(p.name), p.clock_mhz, p.channels, p.dies_per_channel, p.pages_per_die, p.page_bytes,
            p.t_r_ns / 1000.0, p.t_prog_ns / 1000.0, p.channel_mts, p.channel_bits, p.xfer_gap(), p.pus(), p.pu_lanes, p.cap_gflops, p.cap_xfer_gap()
        );
    }
    o
}
