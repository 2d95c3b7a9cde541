//! The registry of tier presets: every kind of device a tier can be made of, read from
//! `presets/tiers.yaml` (the one source of truth, which build.rs also reads to Verilate the
//! scaled devices), behind one trait per memory technology.
//!
//! A preset is data: a new DRAM standard or SSD flavour is one entry in the file. What differs
//! between memory technologies (how tokens are placed, how the Verilated memory side is opened,
//! how a run is timed by the calibrated model, how the migration interface reads it) is the
//! [`TierKind`] trait, implemented by [`DramPreset`] (`kind: dram`) and [`FlashPreset`]
//! (`kind: flash`); the rest of the simulator sees only [`TierPreset`].

use std::fmt;
use std::sync::{Arc, OnceLock};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::dram::{DramPreset, DramTiming};
use super::flash::FlashPreset;
use super::memory::MemorySide;
use super::pim::PimDevice;
use crate::error::SimError;
use crate::kernel::link::Link;
use crate::kv::location::PhysLoc;
use crate::kv::placement::{DevicePlacer, PlacementError, TierPlacer};
use crate::migration::{Layout, RunConfig};

/// The presets file, compiled in.
pub const PRESETS_FILE: &str = "presets/tiers.yaml";
const PRESETS_YAML: &str = include_str!("../../presets/tiers.yaml");

/// What a memory technology decides for a tier; one implementation per `kind` of preset.
pub trait TierKind: fmt::Debug + Send + Sync {
    /// The preset's name (`hbm-s`, `ddr4-3200`, ...).
    fn name(&self) -> &'static str;
    /// The tier's label in reports (`HBM`, `DDR`, ...).
    fn label(&self) -> &'static str;
    /// FP16 lanes of a PU (a beat is two bytes a lane).
    fn pu_lanes(&self) -> usize;
    fn pu_clock_mhz(&self) -> f64;
    /// Devices of this kind in one PAM node.
    fn devices_per_node(&self) -> usize;
    /// Bytes of one beat the memory delivers to a PU (and stores a token in).
    fn beat_bytes(&self) -> usize {
        self.pu_lanes() * 2
    }
    /// Rejects an impossible configuration; the message names the field.
    fn validate(&self) -> Result<(), String>;
    /// The mapping rule of one device (spec §6) for tokens of head dimension `dim`.
    fn device_placer(&self, dim: usize, tier: u8, device: u16) -> Result<DevicePlacer, PlacementError>;
    /// The Verilated memory side of this preset (the `dev_<name>` top), reads at most every
    /// `gap` clocks (`None`: the memory's own rate).
    fn open_memory(&self, gap: Option<u32>) -> Result<Box<dyn MemorySide + Send>, SimError>;
    /// The memory's own read spacing in its clocks.
    fn min_gap(&self) -> u32;
    /// The read spacing that keeps the device under its compute cap.
    fn cap_gap(&self) -> u32;
    /// How the migration interface finds a token's beats in this memory.
    fn migration_layout(&self) -> Layout;
    /// How this memory answers the migration interface's reads.
    fn migration_source(&self) -> RunConfig;
    /// What streams in parallel, for scaling a measured device to its reference: DRAM banks,
    /// flash's streaming bound (its bus and dies' page reads, which do not scale with channels
    /// alone).
    fn parallelism(&self) -> f64;
    /// PUs per first-level RU (bank group, channel).
    fn pus_per_ru(&self) -> usize;
    /// Tokens of head dimension `dim`, grouped by PU, each in the order the memory streams it.
    fn stream_order(&self, tokens: &[PhysLoc], dim: usize) -> Vec<Vec<PhysLoc>>;
    /// Tokens the calibration stores: as many rows or pages as a decode run's churn spreads
    /// them over.
    fn calibration_tokens(&self) -> usize;
    /// One or more lines for `pam presets`.
    fn describe(&self) -> String;
    fn as_dram(&self) -> Option<&DramPreset> {
        None
    }
    fn as_flash(&self) -> Option<&FlashPreset> {
        None
    }
}

/// A tier preset: its kind with its geometry and timing, and what every kind has (the link to
/// the host side, the reference it scales to, whether it is Verilated).
#[derive(Clone, Debug)]
pub struct TierPreset {
    kind: Arc<dyn TierKind>,
    pub link: Link,
    /// The full-size preset this scaled one stands for (itself when it is a reference).
    pub reference: &'static str,
    /// A Verilated device top (`dev_<name>`) exists for this preset.
    pub verilated: bool,
    /// RUs at the device level, which merge the first-level RUs' partials of a full-size
    /// device (`device_rus`, default 1: spec §3's 128 in an HBM logic die, 4 at a DIMM's
    /// buffer, 8 in an SSD controller); the full-size time model's merge tree uses them.
    pub device_rus: usize,
}

impl std::ops::Deref for TierPreset {
    type Target = dyn TierKind;
    fn deref(&self) -> &Self::Target {
        self.kind.as_ref()
    }
}

/// Places a problem's tokens one after the other.
pub trait Placer {
    fn place(&mut self, rng: &mut ChaCha8Rng) -> Result<PhysLoc, SimError>;
}

/// A device's mapping rule for the `tiers` section and the measurements: DRAM's
/// least-activated-bank-group rule steered by a random attention history (before each token
/// every bank group serves a random number of tokens in one decode step); flash's FTL order.
struct HistoryPlacer {
    placer: DevicePlacer,
    groups: usize,
}

impl Placer for HistoryPlacer {
    fn place(&mut self, rng: &mut ChaCha8Rng) -> Result<PhysLoc, SimError> {
        if let DevicePlacer::Dram(p) = &mut self.placer {
            for g in 0..self.groups {
                p.window().record(g, rng.random_range(0..4));
            }
            p.window().end_step();
        }
        self.placer.place().map_err(|e| SimError::Input(e.to_string()))
    }
}

impl TierPreset {
    pub fn new(kind: impl TierKind + 'static, link: Link, reference: &'static str, verilated: bool) -> Self {
        TierPreset { kind: Arc::new(kind), link, reference, verilated, device_rus: 1 }
    }

    /// Every preset of `presets/tiers.yaml`, in file order.
    pub fn all() -> &'static [TierPreset] {
        static ALL: OnceLock<Vec<TierPreset>> = OnceLock::new();
        // The file is compiled in and build.rs parses it too; the unit tests load it.
        ALL.get_or_init(|| load(PRESETS_YAML).unwrap_or_else(|e| panic!("{PRESETS_FILE}: {e}")))
    }

    /// The presets with a Verilated device, in file order.
    pub fn verilated() -> impl Iterator<Item = &'static TierPreset> {
        Self::all().iter().filter(|p| p.verilated)
    }

    pub fn by_name(name: &str) -> Option<TierPreset> {
        Self::all().iter().find(|p| p.name() == name).cloned()
    }

    /// The Verilated preset called `name`; the error says what is allowed.
    pub fn verilated_named(name: &str) -> Result<TierPreset, String> {
        Self::by_name(name)
            .filter(|p| p.verilated)
            .ok_or_else(|| format!("'{name}' is not a Verilated preset; allowed: {:?}", Self::verilated_names()))
    }

    /// Names of the Verilated presets, for messages.
    pub fn verilated_names() -> Vec<&'static str> {
        Self::verilated().map(|p| p.name()).collect()
    }

    /// This preset with its kind replaced (timing overrides of a scenario).
    pub fn with_kind(&self, kind: impl TierKind + 'static) -> TierPreset {
        TierPreset { kind: Arc::new(kind), ..self.clone() }
    }

    /// The reference preset this one scales to.
    pub fn reference_preset(&self) -> TierPreset {
        Self::by_name(self.reference).unwrap_or_else(|| self.clone())
    }

    /// Reference device / this device, in what streams in parallel.
    pub fn scale_to_reference(&self) -> f64 {
        self.reference_preset().parallelism() / self.parallelism()
    }

    /// The system's placer of tier `tier` made of `devices` devices of this preset, for tokens
    /// of head dimension `dim` (spec §6, one level up for the devices).
    pub fn tier_placer(&self, tier: usize, devices: usize, dim: usize) -> Result<TierPlacer, PlacementError> {
        let devs = (0..devices)
            .map(|d| self.device_placer(dim, tier as u8, d as u16))
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

    /// Tokens of head dimension `dim` the whole device holds: [`Self::capacity`] maps one
    /// command bus of a DRAM device (what the Verilated device simulates), and a full-size
    /// DRAM device has `channels` of them.
    pub fn device_capacity(&self, dim: usize) -> Result<usize, SimError> {
        Ok(self.capacity(dim)? * self.as_dram().map_or(1, |d| d.channels))
    }

    /// The host's mapping rule for one device of this tier, with a random attention history.
    pub fn placer(&self, dim: usize) -> Result<Box<dyn Placer>, SimError> {
        let placer = self.device_placer(dim, 0, 0).map_err(|e| SimError::Input(format!("{}: {e}", self.name())))?;
        let groups = self.as_dram().map_or(0, |p| p.bank_groups);
        Ok(Box::new(HistoryPlacer { placer, groups }))
    }

    /// Opens the Verilated device with its PUs and RUs on the memory clock. `gap` is the
    /// minimum spacing of reads (DRAM: all-bank RDs; flash: channel transfers), `None` for the
    /// memory's own rate.
    pub fn open(&self, gap: Option<u32>) -> Result<PimDevice, SimError> {
        PimDevice::new(self.open_memory(gap)?)
    }

    /// As [`Self::open`], with the PUs and RUs on the tier's PU clock (spec §3).
    pub fn open_with_pu_clock(&self, gap: Option<u32>) -> Result<PimDevice, SimError> {
        PimDevice::with_pu_clock(self.open_memory(gap)?, self.pu_clock_mhz())
    }
}

/// The keys of a list of tiers in summaries and waveforms: each tier's label in lower case
/// (`hbm`, `ddr`, `cxl`, `ssd`, ...), with its index appended when two tiers share a label.
pub fn tier_keys<'a>(tiers: impl IntoIterator<Item = &'a TierPreset>) -> Vec<String> {
    let labels: Vec<String> = tiers.into_iter().map(|t| t.label().to_lowercase()).collect();
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| if labels.iter().filter(|m| *m == l).count() > 1 { format!("{l}{i}") } else { l.clone() })
        .collect()
}

/// The Verilated top of a preset's device, as build.rs names it.
pub fn device_top(preset: &str) -> String {
    format!("dev_{}", preset.replace('-', "_"))
}

/// One entry of the presets file. Fields of both kinds are optional here; each kind checks
/// that its own are present.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreset {
    name: String,
    tier: String,
    kind: String,
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    verilated: bool,
    #[serde(default)]
    device_rus: Option<usize>,
    pu_lanes: usize,
    pu_clock_mhz: f64,
    cap_gflops: f64,
    devices_per_node: usize,
    link: RawLink,
    channels: usize,
    // DRAM
    tck_ps: Option<f64>,
    timing: Option<DramTiming>,
    bank_groups: Option<usize>,
    banks_per_group: Option<usize>,
    banks_per_pu: Option<usize>,
    rows: Option<usize>,
    cols: Option<usize>,
    cap_banks: Option<usize>,
    // flash
    dies_per_channel: Option<usize>,
    pages_per_die: Option<usize>,
    page_bytes: Option<usize>,
    t_r_ns: Option<f64>,
    t_prog_ns: Option<f64>,
    channel_mts: Option<f64>,
    channel_bits: Option<usize>,
    pus_per_channel: Option<usize>,
    cap_channels: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    name: String,
    latency_ns: f64,
    bandwidth_gbs: f64,
}

/// The kinds a preset may name.
pub const KINDS: [&str; 2] = ["dram", "flash"];

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Parses and checks a presets file.
pub fn load(yaml: &str) -> Result<Vec<TierPreset>, String> {
    let raw: Vec<RawPreset> = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
    let mut out: Vec<TierPreset> = Vec::with_capacity(raw.len());
    for r in raw {
        let name = leak(r.name.clone());
        if out.iter().any(|p| p.name() == name) {
            return Err(format!("preset {name}: the name is used twice"));
        }
        let need = |v: Option<usize>, field: &str| v.ok_or(format!("preset {name} ({}): missing {field}", r.kind));
        let needf = |v: Option<f64>, field: &str| v.ok_or(format!("preset {name} ({}): missing {field}", r.kind));
        let tier = leak(r.tier.clone());
        let link = Link {
            name: leak(r.link.name.clone()),
            latency_ps: (r.link.latency_ns * 1e3).round() as crate::kernel::Ps,
            bandwidth: r.link.bandwidth_gbs * 1e9,
        };
        if !(r.link.latency_ns >= 0.0 && r.link.bandwidth_gbs > 0.0 && r.link.bandwidth_gbs.is_finite()) {
            return Err(format!("preset {name}: link needs latency_ns >= 0 and bandwidth_gbs > 0"));
        }
        let reference = r.reference.clone().map_or(name, leak);
        let mut preset = match r.kind.as_str() {
            "dram" => TierPreset::new(
                DramPreset {
                    name,
                    tier,
                    timing: r.timing.ok_or(format!("preset {name} (dram): missing timing"))?,
                    tck_ps: needf(r.tck_ps, "tck_ps")?,
                    channels: r.channels,
                    bank_groups: need(r.bank_groups, "bank_groups")?,
                    banks_per_group: need(r.banks_per_group, "banks_per_group")?,
                    banks_per_pu: need(r.banks_per_pu, "banks_per_pu")?,
                    rows: need(r.rows, "rows")?,
                    cols: need(r.cols, "cols")?,
                    pu_lanes: r.pu_lanes,
                    pu_clock_mhz: r.pu_clock_mhz,
                    cap_gflops: r.cap_gflops,
                    cap_banks: need(r.cap_banks, "cap_banks")?,
                    devices_per_node: r.devices_per_node,
                },
                link,
                reference,
                r.verilated,
            ),
            "flash" => TierPreset::new(
                FlashPreset {
                    name,
                    tier,
                    channels: r.channels,
                    dies_per_channel: need(r.dies_per_channel, "dies_per_channel")?,
                    pages_per_die: need(r.pages_per_die, "pages_per_die")?,
                    page_bytes: need(r.page_bytes, "page_bytes")?,
                    t_r_ns: needf(r.t_r_ns, "t_r_ns")?,
                    t_prog_ns: needf(r.t_prog_ns, "t_prog_ns")?,
                    channel_mts: needf(r.channel_mts, "channel_mts")?,
                    channel_bits: need(r.channel_bits, "channel_bits")?,
                    pus_per_channel: need(r.pus_per_channel, "pus_per_channel")?,
                    pu_lanes: r.pu_lanes,
                    clock_mhz: r.pu_clock_mhz,
                    cap_gflops: r.cap_gflops,
                    cap_channels: need(r.cap_channels, "cap_channels")?,
                    devices_per_node: r.devices_per_node,
                },
                link,
                reference,
                r.verilated,
            ),
            k => return Err(format!("preset {name}: kind '{k}' is not one of {KINDS:?}")),
        };
        preset.validate().map_err(|e| format!("preset {name}: {e}"))?;
        preset.device_rus = match r.device_rus {
            Some(0) => return Err(format!("preset {name}: device_rus must be at least 1")),
            Some(n) => n,
            None => 1,
        };
        out.push(preset);
    }
    for p in &out {
        if !out.iter().any(|q| q.name() == p.reference) {
            return Err(format!("preset {}: reference '{}' is not a preset", p.name(), p.reference));
        }
    }
    Ok(out)
}

/// A table of every preset for `pam presets`: what a user needs to write a scenario.
pub fn describe_presets() -> String {
    let mut o = String::new();
    for p in TierPreset::all() {
        let what = if p.verilated { format!("Verilated as {}", device_top(p.name())) } else { "reference".into() };
        o.push_str(&format!(
            "{:<10} {} {} ({}), {} per node; link {}: {} ns, {} GB/s\n",
            p.name(),
            p.label(),
            what,
            if p.reference == p.name() { "full size".to_string() } else { format!("scales to {}", p.reference) },
            p.devices_per_node(),
            p.link.name,
            p.link.latency_ps as f64 / 1e3,
            p.link.bandwidth / 1e9
        ));
        o.push_str(&p.describe());
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_presets_file_loads_and_every_verilated_preset_has_a_reference() {
        let all = TierPreset::all();
        assert!(all.len() >= 6);
        for p in TierPreset::verilated() {
            let r = p.reference_preset();
            assert_ne!(r.name(), p.name(), "{} scales to a full-size preset", p.name());
            assert_eq!(r.label(), p.label());
            assert!(p.scale_to_reference() > 1.0);
        }
    }

    #[test]
    fn bad_presets_are_rejected_with_the_preset_and_field() {
        let one = "- {name: x, tier: X, kind: dram, pu_lanes: 16, pu_clock_mhz: 1, cap_gflops: 1, devices_per_node: 1, channels: 1, link: {name: l, latency_ns: 1, bandwidth_gbs: 1}}";
        assert!(load(one).unwrap_err().contains("preset x (dram): missing"), "{}", load(one).unwrap_err());
        let e = load(&one.replace("kind: dram", "kind: tape")).unwrap_err();
        assert!(e.contains("'tape'") && e.contains("flash"), "{e}");
        let e = load(&format!("{one}\n- {{bogus: 1}}")).unwrap_err();
        assert!(e.contains("bogus") || e.contains("unknown"), "{e}");
    }
}
