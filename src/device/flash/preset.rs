//! Flash SSD-PIM presets (`kind: flash` in `presets/tiers.yaml`): geometry, flash timing and the
//! controller's PUs of one SSD, and what the flash technology decides for a tier
//! ([`TierKind`]).

use super::driver::SsdDevSim;
use crate::device::memory::MemorySide;
use crate::device::order::flash_schedule;
use crate::device::tier::{TierKind, TierPreset};
use crate::error::SimError;
use crate::kv::location::PhysLoc;
use crate::kv::placement::{DevicePlacer, FlashPlacer, FlashShape, PlacementError};
use crate::migration::{Layout, RunConfig, MIG_CLOCK_MHZ};
use crate::rtl::beats::beats;
use crate::rtl::pu::DMAX;

/// Widest tR / tPROG the RTL takes (its TW = 24-bit timing inputs).
pub const T_MAX: u32 = (1 << 24) - 1;

/// A flash SSD-PIM device: geometry, flash timing and the controller's PUs.
#[derive(Clone, Debug, PartialEq)]
pub struct FlashPreset {
    pub name: &'static str,
    pub tier: &'static str,
    pub channels: usize,
    pub dies_per_channel: usize,
    pub pages_per_die: usize,
    pub page_bytes: usize,
    /// Page read time (array to page register).
    pub t_r_ns: f64,
    /// Page program time (page register to array). Not given by the spec: a typical TLC value.
    pub t_prog_ns: f64,
    /// Channel transfer rate (MT/s) and width (bits).
    pub channel_mts: f64,
    pub channel_bits: usize,
    pub pus_per_channel: usize,
    pub pu_lanes: usize,
    /// Controller (and PU) clock.
    pub clock_mhz: f64,
    /// Power-limited compute of the whole reference device, GFLOPS, shared by `cap_channels`
    /// channels: a scaled device keeps the per-channel share.
    pub cap_gflops: f64,
    pub cap_channels: usize,
    /// SSDs in one PAM node (spec §3: 8).
    pub devices_per_node: usize,
}

impl FlashPreset {
    /// The flash preset of that name in `presets/tiers.yaml`.
    pub fn named(name: &str) -> Option<Self> {
        TierPreset::by_name(name).and_then(|p| p.as_flash().cloned())
    }

    /// Bytes of one PU beat (and of one channel transfer).
    pub fn beat_bytes(&self) -> usize {
        self.pu_lanes * 2
    }

    pub fn beats_per_page(&self) -> usize {
        self.page_bytes / self.beat_bytes()
    }

    /// Beats of one token of head dimension `dim` (K then V).
    pub fn token_beats(&self, dim: usize) -> usize {
        2 * beats(dim, self.pu_lanes)
    }

    pub fn token_bytes(&self, dim: usize) -> usize {
        self.token_beats(dim) * self.beat_bytes()
    }

    pub fn pus(&self) -> usize {
        self.channels * self.pus_per_channel
    }

    pub fn tck_ps(&self) -> f64 {
        1e6 / self.clock_mhz
    }

    fn cycles(&self, ns: f64) -> u32 {
        (ns * 1000.0 / self.tck_ps()).ceil() as u32
    }

    /// tR in controller clocks (30 us = 30000 at 1 GHz).
    pub fn t_r_cycles(&self) -> u32 {
        self.cycles(self.t_r_ns)
    }

    pub fn t_prog_cycles(&self) -> u32 {
        self.cycles(self.t_prog_ns)
    }

    /// Controller clocks per beat on a channel, rounded up (32 B at 2400 MT/s x 8 bit: 14).
    pub fn xfer_gap(&self) -> u32 {
        let ns = (self.beat_bytes() * 8) as f64 / self.channel_bits as f64 / self.channel_mts * 1000.0;
        self.cycles(ns).max(1)
    }

    /// The bus gap that also keeps the device under its compute cap (a beat is `pu_lanes`
    /// multiply-adds, 2 FLOP each; the cap is shared per channel): 15 for the reference.
    pub fn cap_xfer_gap(&self) -> u32 {
        let flop_per_beat = (self.pu_lanes * 2) as f64;
        let beats_per_s = self.cap_gflops * 1e9 / self.cap_channels as f64 / flop_per_beat;
        let gap = (1e12 / self.tck_ps() / beats_per_s).ceil() as u32;
        gap.max(self.xfer_gap())
    }

    /// Mapping shape for tokens of head dimension `dim`.
    /// Streaming bound in bytes per second: per channel, the smaller of its bus rate and its
    /// dies' page reads, each die delivering a page per tR plus the page's transfer (one page
    /// register per die).
    pub fn stream_bound(&self) -> f64 {
        let tck = self.tck_ps() * 1e-12;
        let bus = self.beat_bytes() as f64 / (self.xfer_gap() as f64 * tck);
        let die = self.page_bytes as f64 / (self.t_r_ns * 1e-9 + self.page_bytes as f64 / bus);
        self.channels as f64 * bus.min(self.dies_per_channel as f64 * die)
    }

    pub fn shape(&self, dim: usize) -> FlashShape {
        FlashShape {
            channels: self.channels,
            dies_per_channel: self.dies_per_channel,
            pages_per_die: self.pages_per_die,
            page_bytes: self.page_bytes,
            token_bytes: self.token_bytes(dim),
        }
    }

    /// Rejects impossible configurations; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("channels", self.channels),
            ("dies_per_channel", self.dies_per_channel),
            ("pages_per_die", self.pages_per_die),
            ("page_bytes", self.page_bytes),
            ("channel_bits", self.channel_bits),
            ("pus_per_channel", self.pus_per_channel),
            ("pu_lanes", self.pu_lanes),
            ("cap_channels", self.cap_channels),
        ];
        for (field, v) in positive {
            if v == 0 {
                return Err(format!("{}: {field} must be at least 1", self.name));
            }
        }
        let times = [
            ("t_r_ns", self.t_r_ns),
            ("t_prog_ns", self.t_prog_ns),
            ("channel_mts", self.channel_mts),
            ("clock_mhz", self.clock_mhz),
            ("cap_gflops", self.cap_gflops),
        ];
        for (field, v) in times {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{}: {field} must be positive (got {v})", self.name));
            }
        }
        if !self.page_bytes.is_multiple_of(self.beat_bytes()) {
            return Err(format!(
                "{}: page_bytes ({}) must be a whole number of {}-byte beats",
                self.name,
                self.page_bytes,
                self.beat_bytes()
            ));
        }
        let need = self.token_bytes(DMAX);
        if need > self.page_bytes {
            return Err(format!(
                "{}: page_bytes ({}) is smaller than one token of head dimension {DMAX} ({need} bytes)",
                self.name, self.page_bytes
            ));
        }
        for (field, v) in [("t_r_ns", self.t_r_cycles()), ("t_prog_ns", self.t_prog_cycles())] {
            if v > T_MAX {
                return Err(format!("{}: {field} is {v} clocks, more than the device's {T_MAX}", self.name));
            }
        }
        Ok(())
    }
}

impl TierKind for FlashPreset {
    fn name(&self) -> &'static str {
        self.name
    }

    fn label(&self) -> &'static str {
        self.tier
    }

    fn pu_lanes(&self) -> usize {
        self.pu_lanes
    }

    fn pu_clock_mhz(&self) -> f64 {
        self.clock_mhz
    }

    fn devices_per_node(&self) -> usize {
        self.devices_per_node
    }

    fn validate(&self) -> Result<(), String> {
        FlashPreset::validate(self)
    }

    fn device_placer(&self, dim: usize, tier: u8, device: u16) -> Result<DevicePlacer, PlacementError> {
        Ok(DevicePlacer::Flash(FlashPlacer::new(self.shape(dim), tier, device)?))
    }

    fn open_memory(&self, gap: Option<u32>) -> Result<Box<dyn MemorySide + Send>, SimError> {
        let mut m = SsdDevSim::new(self)?;
        m.configure(self.t_r_cycles(), self.t_prog_cycles(), gap.unwrap_or(self.xfer_gap()))?;
        Ok(Box::new(m))
    }

    fn min_gap(&self) -> u32 {
        self.xfer_gap()
    }

    fn cap_gap(&self) -> u32 {
        self.cap_xfer_gap()
    }

    fn migration_layout(&self) -> Layout {
        Layout::Flash
    }

    /// A beat per channel transfer, a page read (tR) per page switch.
    fn migration_source(&self) -> RunConfig {
        RunConfig {
            src_latency: self.xfer_gap(),
            src_row_miss: (self.t_r_ns * MIG_CLOCK_MHZ / 1e3).ceil() as u32,
            ..Default::default()
        }
    }

    fn parallelism(&self) -> f64 {
        self.stream_bound()
    }

    fn pus_per_ru(&self) -> usize {
        self.pus_per_channel
    }

    fn stream_order(&self, tokens: &[PhysLoc], dim: usize) -> Vec<Vec<PhysLoc>> {
        flash_schedule(self, tokens, dim)
    }

    fn calibration_tokens(&self) -> usize {
        1024
    }

    fn describe(&self) -> String {
        format!(
            "{:<10} flash {} MHz: {} channels x {} dies x {} pages of {} B; tR {} us, tPROG {} us, {} MT/s x {} bit (a beat every {} clocks); {} PUs ({} lanes); cap {} GFLOPS -> a beat every {} clocks\n",
            "", self.clock_mhz, self.channels, self.dies_per_channel, self.pages_per_die, self.page_bytes,
            self.t_r_ns / 1000.0, self.t_prog_ns / 1000.0, self.channel_mts, self.channel_bits, self.xfer_gap(), self.pus(), self.pu_lanes, self.cap_gflops, self.cap_xfer_gap()
        )
    }

    fn as_flash(&self) -> Option<&FlashPreset> {
        Some(self)
    }
}
