//! The LLMServingSim measured-table backend: a profile bundle as casys-kaist/LLMServingSim's
//! profiler writes it (`profiler/perf/<hardware>/<model>/<variant>/`, MIT), e.g.
//! `../shared/gpu-profiles/llmservingsim/RTX4090/meta-llama/Llama-3.1-8B/bf16/`:
//! * `meta.yaml`: the model, hardware, `tp_degrees`, and the engine's `hf_overrides` (query and
//!   KV heads, intermediate size, vocabulary) the profile ran with;
//! * `tp<N>/dense.csv` `layer,tokens,time_us`: per-layer operators (`layernorm`, `qkv_proj`,
//!   `rotary_emb`, `o_proj`, `gate_up_proj`, `act_fn`, `down_proj`) and per-iteration ones
//!   (`embedding`, `final_layernorm`) by token count;
//! * `tp<N>/attention.csv` `prefill_chunk,kv_prefill,n_decode,kv_decode,time_us`: one layer's
//!   attention for a prefill chunk after `kv_prefill` cached tokens mixed with `n_decode` decodes
//!   of `kv_decode` cached tokens each;
//! * `tp<N>/per_sequence.csv` `layer,sequences,time_us`: `lm_head` and `sampler` by sequences;
//! * `skew*.csv` (optional): corrections for decodes of unequal KV lengths; **not used** (see
//!   below), and not required.
//!
//! Times are in microseconds; the publisher interpolates linearly, and so do we ([`super::interp`];
//! the attention grid is ragged, interpolated axis by axis in the column order above).
//!
//! Decisions:
//! * A layer's non-attention time is `layernorm` twice (input and post-attention) plus
//!   `qkv_proj`, `rotary_emb`, `o_proj`, `gate_up_proj`, `act_fn`, `down_proj`.
//! * Attention of a batch: the grid has one prefill chunk and equal decode contexts. The
//!   longest prefill chunk is looked up together with all the decodes at their mean context;
//!   each further chunk is looked up alone (`n_decode` 0) and added (each such lookup carries a
//!   kernel's fixed cost, a slight overestimate). Decodes of unequal contexts are timed at the
//!   mean (LLMServingSim's skew fits correct this by a fraction of the gap to the longest; we
//!   leave that out).
//! * The LM head: `final_layernorm` over the tokens, `lm_head` and `sampler` over the sequences
//!   that sample; under TP > 1 the logits gather from the collectives.
//! * The profile ran one model; a model whose heads, intermediate size or vocabulary differ from
//!   `meta.yaml`'s overrides is refused, naming the line of `meta.yaml`.
//! * Collectives: the GPU's link formula (the bundle has no network table).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::comm::{Comm, LinkFormula};
use super::error::GpuError;
use super::interp::{Curve, Grid};
use super::preset::{yaml_error, GpuPreset, ModelShape};
use super::profile;
use super::{Batch, GpuTime};

/// Per-layer operators of `dense.csv`, with how many times each runs in a layer.
pub const LAYER_OPERATORS: [(&str, u32); 7] = [
    ("layernorm", 2),
    ("qkv_proj", 1),
    ("rotary_emb", 1),
    ("o_proj", 1),
    ("gate_up_proj", 1),
    ("act_fn", 1),
    ("down_proj", 1),
];
/// Per-iteration operators of `dense.csv` (by tokens).
pub const ITERATION_OPERATORS: [&str; 2] = ["embedding", "final_layernorm"];
/// Operators of `per_sequence.csv` (by sequences).
pub const SEQUENCE_OPERATORS: [&str; 2] = ["lm_head", "sampler"];

#[derive(Deserialize)]
struct Meta {
    model: String,
    hardware: String,
    tp_degrees: Spanned<Vec<u32>>,
    #[serde(default)]
    engine_effective: Option<Engine>,
}

#[derive(Deserialize)]
struct Engine {
    #[serde(default)]
    hf_overrides: Option<Overrides>,
}

#[derive(Deserialize)]
struct Overrides {
    #[serde(default)]
    num_attention_heads: Option<Spanned<u32>>,
    #[serde(default)]
    num_key_value_heads: Option<Spanned<u32>>,
    #[serde(default)]
    intermediate_size: Option<Spanned<u32>>,
    #[serde(default)]
    vocab_size: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
struct OpRow {
    layer: String,
    #[serde(alias = "sequences")]
    tokens: u32,
    time_us: f64,
}

#[derive(Deserialize)]
struct AttentionRow {
    prefill_chunk: u32,
    kv_prefill: u32,
    n_decode: u32,
    kv_decode: u32,
    time_us: f64,
}

/// A shape value of `meta.yaml` with where it stands.
#[derive(Clone, Copy, Debug)]
struct Declared {
    value: u32,
    line: u64,
    column: u64,
}

#[derive(Clone, Debug)]
struct TpTables {
    dense: BTreeMap<String, Curve>,
    attention: Grid,
    per_sequence: BTreeMap<String, Curve>,
}

/// An LLMServingSim profile bundle.
#[derive(Clone, Debug)]
pub struct ServingSimBundle {
    dir: String,
    model: String,
    hardware: String,
    /// (field, declared value) of meta.yaml's overrides.
    declared: Vec<(&'static str, Declared)>,
    tables: BTreeMap<u32, TpTables>,
    comm: Comm,
}

fn read_ops(path: &Path, by: &str, required: &[&str]) -> Result<BTreeMap<String, Curve>, GpuError> {
    let t = profile::read::<OpRow>(path, &["layer", by, "time_us"])?;
    let mut points: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for (line, r) in &t.rows {
        let us = t.non_negative(*line, "time_us", r.time_us)?;
        points.entry(r.layer.clone()).or_default().push((f64::from(r.tokens), us));
    }
    for op in required {
        if !points.contains_key(*op) {
            let have: Vec<&str> = points.keys().map(String::as_str).collect();
            return Err(GpuError::mismatch(&t.path, format!("no rows for `{op}` (layers: {})", have.join(", "))));
        }
    }
    Ok(points.into_iter().filter_map(|(op, p)| Some((op, Curve::new(p)?))).collect())
}

fn read_attention(path: &Path) -> Result<Grid, GpuError> {
    const COLS: [&str; 5] = ["prefill_chunk", "kv_prefill", "n_decode", "kv_decode", "time_us"];
    let t = profile::read::<AttentionRow>(path, &COLS)?;
    let mut rows = Vec::with_capacity(t.rows.len());
    for (line, r) in &t.rows {
        let us = t.non_negative(*line, "time_us", r.time_us)?;
        let key = [r.prefill_chunk, r.kv_prefill, r.n_decode, r.kv_decode].map(f64::from).to_vec();
        rows.push((key, us));
    }
    Grid::new(4, rows).ok_or_else(|| GpuError::malformed(&t.path, 2, 1, "no usable measurement"))
}

impl ServingSimBundle {
    /// Reads the bundle in `dir` (the folder of `meta.yaml`), measured on `gpu` (whose link the
    /// collectives use).
    pub fn load(dir: impl AsRef<Path>, gpu: &GpuPreset) -> Result<ServingSimBundle, GpuError> {
        let dir = dir.as_ref();
        let meta_path = dir.join("meta.yaml");
        let mp = meta_path.display().to_string();
        let text = std::fs::read_to_string(&meta_path).map_err(|source| GpuError::Io { path: mp.clone(), source })?;
        let meta: Meta = serde_saphyr::from_str(&text).map_err(|e| yaml_error(&mp, &e))?;
        if meta.tp_degrees.value.is_empty() || meta.tp_degrees.value.contains(&0) {
            let at = meta.tp_degrees.referenced;
            return Err(GpuError::malformed(&mp, at.line(), at.column(), "tp_degrees must list TP degrees >= 1"));
        }
        let mut declared = Vec::new();
        if let Some(o) = meta.engine_effective.and_then(|e| e.hf_overrides) {
            let fields = [
                ("num_attention_heads", o.num_attention_heads),
                ("num_key_value_heads", o.num_key_value_heads),
                ("intermediate_size", o.intermediate_size),
                ("vocab_size", o.vocab_size),
            ];
            for (name, v) in fields {
                if let Some(v) = v {
                    let at = v.referenced;
                    declared.push((name, Declared { value: v.value, line: at.line(), column: at.column() }));
                }
            }
        }
        let mut tables = BTreeMap::new();
        for &tp in &meta.tp_degrees.value {
            let sub: PathBuf = dir.join(format!("tp{tp}"));
            let mut dense_ops: Vec<&str> = LAYER_OPERATORS.iter().map(|o| o.0).collect();
            dense_ops.extend(ITERATION_OPERATORS);
            let dense = read_ops(&sub.join("dense.csv"), "tokens", &dense_ops)?;
            let attention = read_attention(&sub.join("attention.csv"))?;
            let per_sequence = read_ops(&sub.join("per_sequence.csv"), "sequences", &SEQUENCE_OPERATORS)?;
            tables.insert(tp, TpTables { dense, attention, per_sequence });
        }
        Ok(ServingSimBundle {
            dir: dir.display().to_string(),
            model: meta.model,
            hardware: meta.hardware,
            declared,
            tables,
            comm: Comm::Formula(LinkFormula::of(gpu)),
        })
    }

    /// The model (Hugging Face name) and hardware of `meta.yaml`.
    pub fn profiled(&self) -> (&str, &str) {
        (&self.model, &self.hardware)
    }

    /// The TP degrees of the bundle.
    pub fn tp_degrees(&self) -> Vec<u32> {
        self.tables.keys().copied().collect()
    }

    fn tables(&self, tp: u32) -> Result<&TpTables, GpuError> {
        self.tables.get(&tp).ok_or_else(|| {
            GpuError::mismatch(&self.dir, format!("no tables for TP {tp} (profiled: {:?})", self.tp_degrees()))
        })
    }

    fn op(map: &BTreeMap<String, Curve>, op: &str, x: f64, dir: &str) -> Result<f64, GpuError> {
        map.get(op)
            .map(|c| c.eval(x))
            .ok_or_else(|| GpuError::mismatch(dir, format!("the bundle has no operator `{op}`")))
    }

    /// One operator of `dense.csv` at TP `tp` over `tokens` tokens, microseconds.
    pub fn dense_op_us(&self, tp: u32, op: &str, tokens: u64) -> Result<f64, GpuError> {
        Self::op(&self.tables(tp)?.dense, op, tokens as f64, &self.dir)
    }

    /// One operator of `per_sequence.csv` at TP `tp` over `sequences` rows, microseconds.
    pub fn sequence_op_us(&self, tp: u32, op: &str, sequences: u64) -> Result<f64, GpuError> {
        Self::op(&self.tables(tp)?.per_sequence, op, sequences as f64, &self.dir)
    }

    /// The attention grid at one point (`prefill_chunk, kv_prefill, n_decode, kv_decode`),
    /// microseconds.
    pub fn attention_point_us(&self, tp: u32, point: [f64; 4]) -> Result<f64, GpuError> {
        Ok(self.tables(tp)?.attention.eval(&point))
    }

    fn check_model(&self, model: &ModelShape) -> Result<(), GpuError> {
        for (name, d) in &self.declared {
            let ours = match *name {
                "num_attention_heads" => model.q_heads,
                "num_key_value_heads" => model.kv_heads,
                "intermediate_size" => model.ffn,
                _ => model.vocab,
            };
            if ours != d.value {
                return Err(GpuError::mismatch(
                    format!("{}/meta.yaml:{}:{}", self.dir, d.line, d.column),
                    format!("the bundle profiled {name} {}, {} has {ours}", d.value, model.name),
                ));
            }
        }
        Ok(())
    }
}

impl GpuTime for ServingSimBundle {
    fn name(&self) -> String {
        format!("LLMServingSim bundle ({}, {})", self.model, self.hardware)
    }

    fn layer_dense_us(&self, model: &ModelShape, tp: u32, tokens: u64) -> Result<f64, GpuError> {
        self.check_model(model)?;
        model.split(tp)?;
        let t = self.tables(tp)?;
        if tokens == 0 {
            return Ok(0.0);
        }
        let mut us = 0.0;
        for (op, times) in LAYER_OPERATORS {
            us += f64::from(times) * Self::op(&t.dense, op, tokens as f64, &self.dir)?;
        }
        Ok(us)
    }

    fn layer_attention_us(&self, model: &ModelShape, tp: u32, batch: &Batch) -> Result<f64, GpuError> {
        self.check_model(model)?;
        let grid = &self.tables(tp)?.attention;
        let mut prefills: Vec<_> = batch.prefills.iter().filter(|p| p.tokens > 0).collect();
        if prefills.is_empty() && batch.decodes.is_empty() {
            return Ok(0.0);
        }
        prefills.sort_by_key(|p| std::cmp::Reverse(p.tokens));
        let n = batch.decodes.len() as f64;
        let kv =
            if batch.decodes.is_empty() { 0.0 } else { batch.decodes.iter().map(|&c| f64::from(c)).sum::<f64>() / n };
        let (c0, p0) = prefills.first().map_or((0.0, 0.0), |p| (f64::from(p.tokens), f64::from(p.context)));
        let mut us = grid.eval(&[c0, p0, n, kv]);
        for p in prefills.iter().skip(1) {
            us += grid.eval(&[f64::from(p.tokens), f64::from(p.context), 0.0, 0.0]);
        }
        Ok(us)
    }

    fn embedding_us(&self, model: &ModelShape, tp: u32, tokens: u64) -> Result<f64, GpuError> {
        self.check_model(model)?;
        if tokens == 0 {
            return Ok(0.0);
        }
        self.dense_op_us(tp, "embedding", tokens)
    }

    fn lm_head_us(&self, model: &ModelShape, tp: u32, tokens: u64, sequences: u64) -> Result<f64, GpuError> {
        self.check_model(model)?;
        if tokens == 0 {
            return Ok(0.0);
        }
        let mut us = self.dense_op_us(tp, "final_layernorm", tokens)?;
        if sequences > 0 {
            us += self.sequence_op_us(tp, "lm_head", sequences)? + self.sequence_op_us(tp, "sampler", sequences)?;
            let logits = sequences as f64 * f64::from(model.vocab) * f64::from(model.dtype_bytes);
            us += self.comm.all_gather_us(logits, tp)?;
        }
        Ok(us)
    }

    fn comm(&self) -> &Comm {
        &self.comm
    }
}
