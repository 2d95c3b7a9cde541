//! Energy per component (SERVING-SPEC §10), from the constants of `presets/energy.yaml`
//! (compiled in; a scenario's `serving.energy` overrides any of them).
//!
//! * **GPU** by phase: a stage busy with prefill tokens draws `prefill_w` per GPU, a decode-only
//!   stage `decode_w`, and every GPU draws `idle_w` whenever it is not busy.
//! * **PIM**: the bytes the tiers' PUs read (K and V of every attended position), at the tier's
//!   `pim_read` energy, plus `pu_op_factor` times it for the PU operations.
//! * **Migration**: each migrated position is read from its tier and written into the other at
//!   their `host_read` energies, and crosses the slower tier's link (PCIe energy for every tier
//!   but HBM, whose link is on the package).
//! * **Offload** (vllm-offload): bytes streamed to the GPUs at the source tier's `host_read`
//!   energy plus PCIe.
//! * **Links**: queries and partial results between GPUs and tiers (PCIe energy off the
//!   package), tensor-parallel all-reduces and pipeline transfers over NVLink.
//! * **Static**: every device's `idle_w_per_device` over the run.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const ENERGY_FILE: &str = "presets/energy.yaml";
const ENERGY_YAML: &str = include_str!("../../../presets/energy.yaml");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuPower {
    pub prefill_w: f64,
    pub decode_w: f64,
    pub idle_w: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkEnergy {
    pub pcie_pj_per_bit: f64,
    pub nvlink_pj_per_bit: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierEnergy {
    pub pim_read_pj_per_bit: f64,
    pub host_read_pj_per_bit: f64,
    pub idle_w_per_device: f64,
}

/// Every energy constant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyConstants {
    pub gpu: GpuPower,
    pub pu_op_factor: f64,
    pub links: LinkEnergy,
    /// By tier label (HBM, DDR, CXL, SSD).
    pub tiers: BTreeMap<String, TierEnergy>,
}

/// A scenario's overrides: any subset of the constants.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyOverrides {
    pub gpu: Option<GpuPower>,
    pub pu_op_factor: Option<f64>,
    pub links: Option<LinkEnergy>,
    pub tiers: Option<BTreeMap<String, TierEnergy>>,
}

impl EnergyConstants {
    /// The constants of `presets/energy.yaml`.
    pub fn preset() -> &'static EnergyConstants {
        static C: OnceLock<EnergyConstants> = OnceLock::new();
        // Compiled in; the unit tests load it, so a broken file fails them first.
        C.get_or_init(|| serde_saphyr::from_str(ENERGY_YAML).unwrap_or_else(|e| panic!("{ENERGY_FILE}: {e}")))
    }

    /// These constants with `o` applied (a tier entry replaces the preset's entry).
    pub fn with(&self, o: &EnergyOverrides) -> EnergyConstants {
        let mut c = self.clone();
        if let Some(g) = &o.gpu {
            c.gpu = g.clone();
        }
        if let Some(f) = o.pu_op_factor {
            c.pu_op_factor = f;
        }
        if let Some(l) = &o.links {
            c.links = l.clone();
        }
        for (k, v) in o.tiers.iter().flatten() {
            c.tiers.insert(k.clone(), v.clone());
        }
        c
    }

    /// Rejects negative or non-finite values; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let mut fields = vec![
            ("gpu.prefill_w".to_string(), self.gpu.prefill_w),
            ("gpu.decode_w".into(), self.gpu.decode_w),
            ("gpu.idle_w".into(), self.gpu.idle_w),
            ("pu_op_factor".into(), self.pu_op_factor),
            ("links.pcie_pj_per_bit".into(), self.links.pcie_pj_per_bit),
            ("links.nvlink_pj_per_bit".into(), self.links.nvlink_pj_per_bit),
        ];
        for (k, t) in &self.tiers {
            fields.push((format!("tiers.{k}.pim_read_pj_per_bit"), t.pim_read_pj_per_bit));
            fields.push((format!("tiers.{k}.host_read_pj_per_bit"), t.host_read_pj_per_bit));
            fields.push((format!("tiers.{k}.idle_w_per_device"), t.idle_w_per_device));
        }
        match fields.into_iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
            Some((f, v)) => Err(format!("energy.{f}: {v}; allowed: a finite number >= 0")),
            None => Ok(()),
        }
    }

    /// The constants of a tier label.
    pub fn tier(&self, label: &str) -> Result<&TierEnergy, String> {
        self.tiers.get(label).ok_or_else(|| {
            let known: Vec<&str> = self.tiers.keys().map(String::as_str).collect();
            format!("energy.tiers: no constants for tier {label} (known: {})", known.join(", "))
        })
    }
}

/// Joules by component, summed over a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EnergyReport {
    pub gpu_j: f64,
    /// PIM reads and PU operations per tier, by tier key.
    pub pim_j: BTreeMap<String, f64>,
    pub migration_j: f64,
    pub offload_j: f64,
    pub links_j: f64,
    /// Idle power of DIMMs, expanders and SSDs over the run.
    pub static_j: f64,
}

impl EnergyReport {
    pub fn total_j(&self) -> f64 {
        self.gpu_j + self.pim_j.values().sum::<f64>() + self.migration_j + self.offload_j + self.links_j + self.static_j
    }

    /// (component, joules) in a fixed order: gpu, pim_<tier>..., migration, offload, links,
    /// static.
    pub fn components(&self) -> Vec<(String, f64)> {
        let mut v = vec![("gpu".to_string(), self.gpu_j)];
        v.extend(self.pim_j.iter().map(|(k, j)| (format!("pim_{k}"), *j)));
        v.push(("migration".into(), self.migration_j));
        v.push(("offload".into(), self.offload_j));
        v.push(("links".into(), self.links_j));
        v.push(("static".into(), self.static_j));
        v
    }
}

/// pJ/bit to J/byte.
pub fn j_per_byte(pj_per_bit: f64) -> f64 {
    pj_per_bit * 8.0 * 1e-12
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preset_loads_and_matches_the_spec() {
        let c = EnergyConstants::preset();
        c.validate().expect("valid");
        let hbm = c.tier("HBM").expect("HBM");
        // A bank-level PIM read about 4.4 pJ/B, a GPU read of HBM about 28.7 pJ/B.
        assert!((hbm.pim_read_pj_per_bit * 8.0 - 4.4).abs() < 0.01);
        assert!((hbm.host_read_pj_per_bit * 8.0 - 28.7).abs() < 0.05);
        for t in ["DDR", "CXL", "SSD"] {
            c.tier(t).expect(t);
        }
        assert!(c.tier("TAPE").unwrap_err().contains("TAPE"));
        let o: EnergyOverrides =
            serde_saphyr::from_str("gpu: {prefill_w: 1, decode_w: 2, idle_w: -3}").expect("parses");
        assert!(c.with(&o).validate().unwrap_err().contains("gpu.idle_w"));
        assert!(serde_saphyr::from_str::<EnergyOverrides>("bogus: 1").is_err());
    }
}
