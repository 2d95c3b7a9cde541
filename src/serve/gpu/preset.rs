//! GPU and model presets (SERVING-SPEC §2, §3), read from `presets/gpus.yaml` and
//! `presets/models.yaml` (compiled in, as the tier presets of `crate::device::tier`), each
//! number with its source next to it in the file.
//!
//! A custom GPU or model is the same struct, built in code or read from a file of the same
//! format with [`load_gpus`] / [`load_models`].

use std::sync::OnceLock;

use serde::Deserialize;

use super::error::GpuError;

/// The GPU presets file, compiled in.
pub const GPUS_FILE: &str = "presets/gpus.yaml";
const GPUS_YAML: &str = include_str!("../../../presets/gpus.yaml");
/// The model presets file, compiled in.
pub const MODELS_FILE: &str = "presets/models.yaml";
const MODELS_YAML: &str = include_str!("../../../presets/models.yaml");

/// The GPU-to-GPU link, for the collective formulas of [`super::comm::LinkFormula`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuLink {
    pub name: String,
    /// Bandwidth each way, 1e9 B/s.
    pub bandwidth_gbs: f64,
    /// Fixed cost of one collective or transfer, microseconds.
    pub latency_us: f64,
    /// Achieved fraction of the bandwidth.
    pub efficiency: f64,
}

/// The documented correction of the roofline for GEMMs (see [`super::roofline`]).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GemmCorrection {
    /// The GEMM's compute term counts the token dimension rounded up to this many rows.
    pub tile_tokens: u32,
    /// Fraction of the peak GEMMs sustain (replaces the roofline's compute efficiency).
    pub efficiency: f64,
}

/// One GPU: its memory, peak rates, link and roofline parameters.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuPreset {
    pub name: String,
    pub description: String,
    /// Device memory as the driver reports it, MiB.
    pub memory_mib: u64,
    /// Dense BF16 tensor throughput, 1e12 FLOP/s.
    pub peak_tflops: f64,
    /// Device memory bandwidth, 1e9 B/s.
    pub memory_bandwidth_gbs: f64,
    pub link: GpuLink,
    /// The roofline's compute derating (0.8 in SERVING-SPEC §6).
    pub compute_efficiency: f64,
    /// The roofline's bandwidth derating (0.85 in SERVING-SPEC §6).
    pub memory_efficiency: f64,
    /// Added to every kernel of the roofline, microseconds.
    pub launch_overhead_us: f64,
    /// The GEMM correction measured for this GPU, if any.
    #[serde(default)]
    pub gemm_correction: Option<GemmCorrection>,
}

impl GpuPreset {
    /// Every preset of `presets/gpus.yaml`, in file order.
    pub fn all() -> &'static [GpuPreset] {
        static ALL: OnceLock<Vec<GpuPreset>> = OnceLock::new();
        // The file is compiled in; the unit tests load it, so a broken file fails them first.
        ALL.get_or_init(|| load_gpus(GPUS_FILE, GPUS_YAML).unwrap_or_else(|e| panic!("{e}")))
    }

    /// The preset of this name (case-insensitive).
    pub fn by_name(name: &str) -> Result<GpuPreset, GpuError> {
        Self::all().iter().find(|g| g.name.eq_ignore_ascii_case(name)).cloned().ok_or_else(|| {
            let names: Vec<&str> = Self::all().iter().map(|g| g.name.as_str()).collect();
            GpuError::invalid("GPU", format!("no preset named `{name}` (presets: {})", names.join(", ")))
        })
    }

    /// Device memory in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mib * (1 << 20)
    }

    /// Peak FLOP/s.
    pub fn peak_flops(&self) -> f64 {
        self.peak_tflops * 1e12
    }

    /// Memory bandwidth, B/s.
    pub fn bandwidth(&self) -> f64 {
        self.memory_bandwidth_gbs * 1e9
    }

    /// Rejects impossible numbers; the message names the field.
    pub fn validate(&self) -> Result<(), GpuError> {
        let what = format!("GPU {}", self.name);
        let positive = [
            ("peak_tflops", self.peak_tflops),
            ("memory_bandwidth_gbs", self.memory_bandwidth_gbs),
            ("link.bandwidth_gbs", self.link.bandwidth_gbs),
        ];
        for (field, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(GpuError::invalid(&what, format!("{field} must be a positive number, found {v}")));
            }
        }
        let mut fractions = vec![
            ("compute_efficiency", self.compute_efficiency),
            ("memory_efficiency", self.memory_efficiency),
            ("link.efficiency", self.link.efficiency),
        ];
        if let Some(c) = &self.gemm_correction {
            fractions.push(("gemm_correction.efficiency", c.efficiency));
            if c.tile_tokens == 0 {
                return Err(GpuError::invalid(&what, "gemm_correction.tile_tokens must be at least 1"));
            }
        }
        for (field, v) in fractions {
            if !(v > 0.0 && v <= 1.0) {
                return Err(GpuError::invalid(&what, format!("{field} must be in (0, 1], found {v}")));
            }
        }
        for (field, v) in [("launch_overhead_us", self.launch_overhead_us), ("link.latency_us", self.link.latency_us)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(GpuError::invalid(&what, format!("{field} must be >= 0, found {v}")));
            }
        }
        if self.memory_mib == 0 {
            return Err(GpuError::invalid(&what, "memory_mib must be at least 1"));
        }
        Ok(())
    }
}

/// The MLP of a decoder layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mlp {
    /// SwiGLU: gate and up projections (fused, 2 x FFN wide), SiLU times up, down projection.
    Gated,
    /// One up projection (FFN wide), an activation, the down projection.
    Plain,
}

fn default_true() -> bool {
    true
}

fn default_dtype_bytes() -> u32 {
    2
}

/// A decoder-only transformer's shape: what GPU time, KV size and weight size follow from.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelShape {
    pub name: String,
    /// The Hugging Face repository the shape comes from, if any.
    #[serde(default)]
    pub hf_name: Option<String>,
    pub layers: u32,
    pub hidden: u32,
    pub q_heads: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    /// The MLP's intermediate size.
    pub ffn: u32,
    pub vocab: u32,
    pub mlp: Mlp,
    /// The LM head shares the embedding matrix.
    #[serde(default)]
    pub tied_embeddings: bool,
    /// Rotary position embedding (a kernel per layer); false: learned positions.
    #[serde(default = "default_true")]
    pub rope: bool,
    /// Bytes of a weight or KV element.
    #[serde(default = "default_dtype_bytes")]
    pub dtype_bytes: u32,
}

impl ModelShape {
    /// Every preset of `presets/models.yaml`, in file order.
    pub fn all() -> &'static [ModelShape] {
        static ALL: OnceLock<Vec<ModelShape>> = OnceLock::new();
        ALL.get_or_init(|| load_models(MODELS_FILE, MODELS_YAML).unwrap_or_else(|e| panic!("{e}")))
    }

    /// The preset of this name or Hugging Face name (case-insensitive).
    pub fn by_name(name: &str) -> Result<ModelShape, GpuError> {
        let hit = |m: &&ModelShape| {
            m.name.eq_ignore_ascii_case(name) || m.hf_name.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(name))
        };
        Self::all().iter().find(hit).cloned().ok_or_else(|| {
            let names: Vec<&str> = Self::all().iter().map(|m| m.name.as_str()).collect();
            GpuError::invalid("model", format!("no preset named `{name}` (presets: {})", names.join(", ")))
        })
    }

    /// Query heads times head dimension (the attention output width).
    pub fn q_width(&self) -> u64 {
        u64::from(self.q_heads) * u64::from(self.head_dim)
    }

    /// KV heads times head dimension (the width of K, and of V).
    pub fn kv_width(&self) -> u64 {
        u64::from(self.kv_heads) * u64::from(self.head_dim)
    }

    /// KV-cache bytes of one token over all layers: 2 (K and V) x layers x KV heads x head
    /// dimension x element bytes.
    pub fn kv_bytes_per_token(&self) -> u64 {
        2 * u64::from(self.layers) * self.kv_width() * u64::from(self.dtype_bytes)
    }

    /// Weight elements of one decoder layer: Q, K, V and output projections, the MLP, two norms.
    pub fn layer_params(&self) -> u64 {
        let h = u64::from(self.hidden);
        let attn = h * (self.q_width() + 2 * self.kv_width()) + self.q_width() * h;
        let mats = match self.mlp {
            Mlp::Gated => 3,
            Mlp::Plain => 2,
        };
        attn + mats * h * u64::from(self.ffn) + 2 * h
    }

    /// Weight elements of the whole model: layers, embedding, final norm, untied LM head.
    pub fn params(&self) -> u64 {
        let h = u64::from(self.hidden);
        let embed = u64::from(self.vocab) * h;
        let head = if self.tied_embeddings { 0 } else { embed };
        u64::from(self.layers) * self.layer_params() + embed + head + h
    }

    /// Weight bytes of the whole model.
    pub fn weight_bytes(&self) -> u64 {
        self.params() * u64::from(self.dtype_bytes)
    }

    /// Rejects impossible shapes; the message names the field.
    pub fn validate(&self) -> Result<(), GpuError> {
        let what = format!("model {}", self.name);
        let fields = [
            ("layers", self.layers),
            ("hidden", self.hidden),
            ("q_heads", self.q_heads),
            ("kv_heads", self.kv_heads),
            ("head_dim", self.head_dim),
            ("ffn", self.ffn),
            ("vocab", self.vocab),
            ("dtype_bytes", self.dtype_bytes),
        ];
        for (field, v) in fields {
            if v == 0 {
                return Err(GpuError::invalid(&what, format!("{field} must be at least 1")));
            }
        }
        if !self.q_heads.is_multiple_of(self.kv_heads) {
            return Err(GpuError::invalid(
                &what,
                format!("q_heads ({}) must be a multiple of kv_heads ({})", self.q_heads, self.kv_heads),
            ));
        }
        Ok(())
    }

    /// Query heads, KV heads (vLLM replicates KV heads when TP exceeds them) and FFN columns
    /// one GPU holds under tensor parallelism `tp`.
    pub fn split(&self, tp: u32) -> Result<TpSplit, GpuError> {
        let what = format!("tensor parallelism {tp} for {}", self.name);
        if tp == 0 {
            return Err(GpuError::invalid(what, "TP must be at least 1"));
        }
        if !self.q_heads.is_multiple_of(tp) {
            return Err(GpuError::invalid(what, format!("{} query heads do not split {tp} ways", self.q_heads)));
        }
        let kv_heads = if self.kv_heads >= tp {
            if !self.kv_heads.is_multiple_of(tp) {
                return Err(GpuError::invalid(what, format!("{} KV heads do not split {tp} ways", self.kv_heads)));
            }
            self.kv_heads / tp
        } else {
            if !tp.is_multiple_of(self.kv_heads) {
                return Err(GpuError::invalid(
                    what,
                    format!("TP {tp} is not a multiple of the {} KV heads to replicate", self.kv_heads),
                ));
            }
            1
        };
        if !self.ffn.is_multiple_of(tp) {
            return Err(GpuError::invalid(what, format!("FFN {} does not split {tp} ways", self.ffn)));
        }
        Ok(TpSplit { q_heads: self.q_heads / tp, kv_heads, ffn: self.ffn / tp, vocab: self.vocab.div_ceil(tp) })
    }
}

/// What one GPU holds of a layer under tensor parallelism (see [`ModelShape::split`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpSplit {
    pub q_heads: u32,
    pub kv_heads: u32,
    pub ffn: u32,
    /// LM head rows (vocabulary entries) per GPU, rounded up.
    pub vocab: u32,
}

/// Maps a YAML error to `path:line:column: problem`, on one line (no source snippet).
pub(crate) fn yaml_error(path: &str, e: &serde_saphyr::Error) -> GpuError {
    let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    let mut options = serde_saphyr::RenderOptions::default();
    options.snippets = serde_saphyr::SnippetMode::Off;
    GpuError::malformed(path, line, column, e.render_with_options(options))
}

/// Parses and checks a GPU presets file (`path` names it in errors).
pub fn load_gpus(path: &str, yaml: &str) -> Result<Vec<GpuPreset>, GpuError> {
    let gpus: Vec<GpuPreset> = serde_saphyr::from_str(yaml).map_err(|e| yaml_error(path, &e))?;
    for (i, g) in gpus.iter().enumerate() {
        g.validate()?;
        if gpus[..i].iter().any(|o| o.name.eq_ignore_ascii_case(&g.name)) {
            return Err(GpuError::invalid(format!("GPU presets in {path}"), format!("`{}` is named twice", g.name)));
        }
    }
    Ok(gpus)
}

/// Parses and checks a model presets file (`path` names it in errors).
pub fn load_models(path: &str, yaml: &str) -> Result<Vec<ModelShape>, GpuError> {
    let models: Vec<ModelShape> = serde_saphyr::from_str(yaml).map_err(|e| yaml_error(path, &e))?;
    for (i, m) in models.iter().enumerate() {
        m.validate()?;
        if models[..i].iter().any(|o| o.name.eq_ignore_ascii_case(&m.name)) {
            return Err(GpuError::invalid(format!("model presets in {path}"), format!("`{}` is named twice", m.name)));
        }
    }
    Ok(models)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_in_presets_load() {
        let gpus = load_gpus(GPUS_FILE, GPUS_YAML).expect("gpus.yaml");
        let names: Vec<&str> = gpus.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["h100-sxm", "a100-80gb", "rtx4090"]);
        let models = load_models(MODELS_FILE, MODELS_YAML).expect("models.yaml");
        assert_eq!(models.len(), 4);
    }

    #[test]
    fn kv_bytes_follow_the_formula() {
        let m = ModelShape::by_name("llama3-70b").expect("preset");
        assert_eq!(m.kv_bytes_per_token(), 2 * 80 * 8 * 128 * 2);
        assert_eq!(ModelShape::by_name("meta-llama/Llama-3.1-8B").expect("by hf name").name, "llama-3.1-8b");
    }

    #[test]
    fn tp_split() {
        let m = ModelShape::by_name("llama3-70b").expect("preset");
        assert_eq!(m.split(4).expect("tp4"), TpSplit { q_heads: 16, kv_heads: 2, ffn: 7168, vocab: 32064 });
        assert_eq!(m.split(16).expect("tp16").kv_heads, 1);
        assert!(m.split(3).is_err());
        assert!(m.split(0).is_err());
    }

    #[test]
    fn bad_yaml_names_line_and_column() {
        let yaml = "- name: x\n  layers: many\n";
        let err = load_models("custom.yaml", yaml).expect_err("rejected").to_string();
        assert!(err.starts_with("custom.yaml:2:"), "{err}");
        let mut g = GpuPreset::by_name("h100-sxm").expect("preset");
        g.memory_efficiency = 1.5;
        assert!(g.validate().expect_err("rejected").to_string().contains("memory_efficiency"));
    }
}
