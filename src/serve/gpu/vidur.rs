//! The Vidur measured-table backend: Vidur's per-operator profile of one decoder layer
//! (`compute/<gpu>/<model>/mlp.csv`, e.g. `../shared/gpu-profiles/vidur/compute/h100/
//! meta-llama/Llama-2-70b-hf/mlp.csv`, from microsoft/vidur, MIT).
//!
//! The file has one row per `num_tokens` and `num_tensor_parallel_workers`, and for each
//! operator (`emb`, `input_layernorm`, `attn_pre_proj`, `attn_rope`, `attn_post_proj`,
//! `post_attention_layernorm`, `mlp_up_proj`, `mlp_act`, `mlp_down_proj`, `add`) its
//! min/max/mean/median/std in milliseconds, plus the layer shape it measured (`n_head`,
//! `n_kv_head`, `n_embd`, `n_expanded_embd`, `vocab_size`, `use_gated_mlp`).
//!
//! Decisions:
//! * Each operator's **median** is taken (robust to the outliers of single runs); rows repeated
//!   for one token count and TP degree (2048 and 4096 tokens appear twice) are averaged.
//! * A layer's non-attention time is the sum of the nine per-layer operators, interpolated
//!   over tokens per TP degree with the rule of [`super::interp`] (clamped below 1 token,
//!   upper-half secant above 4096). `emb` is the per-iteration embedding of the first stage.
//! * **The profile has no attention kernel** (Vidur profiles attention separately, and that
//!   profile is not among the shared files): attention is the roofline's of the same GPU
//!   ([`super::roofline`]), and so are the final norm, LM head and sampler, which the profile
//!   does not have either. This is a hybrid: table operators, roofline attention.
//! * The profile measured one layer shape; a model of another shape (hidden, heads, FFN, MLP
//!   kind) is refused. The vocabulary is not checked (no per-layer operator depends on it).
//! * Only the TP degrees of the file are served; another is refused, not extrapolated.
//! * Collectives: the GPU's link formula unless a measured [`NetworkTable`] is attached.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::comm::{Comm, NetworkTable};
use super::error::GpuError;
use super::interp::Curve;
use super::preset::{GpuPreset, Mlp, ModelShape};
use super::profile::{self, CsvRows};
use super::roofline::Roofline;
use super::{Batch, GpuTime};

/// The operators of Vidur's profile, in file order; the first (`emb`) is per iteration, the
/// others make one decoder layer's non-attention time.
pub const OPERATORS: [&str; 10] = [
    "emb",
    "input_layernorm",
    "attn_pre_proj",
    "attn_rope",
    "attn_post_proj",
    "post_attention_layernorm",
    "mlp_up_proj",
    "mlp_act",
    "mlp_down_proj",
    "add",
];

#[derive(Deserialize)]
struct Row {
    #[serde(rename = "time_stats.emb.median")]
    emb: f64,
    #[serde(rename = "time_stats.input_layernorm.median")]
    input_layernorm: f64,
    #[serde(rename = "time_stats.attn_pre_proj.median")]
    attn_pre_proj: f64,
    #[serde(rename = "time_stats.attn_rope.median")]
    attn_rope: f64,
    #[serde(rename = "time_stats.attn_post_proj.median")]
    attn_post_proj: f64,
    #[serde(rename = "time_stats.post_attention_layernorm.median")]
    post_attention_layernorm: f64,
    #[serde(rename = "time_stats.mlp_up_proj.median")]
    mlp_up_proj: f64,
    #[serde(rename = "time_stats.mlp_act.median")]
    mlp_act: f64,
    #[serde(rename = "time_stats.mlp_down_proj.median")]
    mlp_down_proj: f64,
    #[serde(rename = "time_stats.add.median")]
    add: f64,
    n_head: u32,
    n_kv_head: u32,
    n_embd: u32,
    n_expanded_embd: u32,
    use_gated_mlp: String,
    num_tokens: u32,
    num_tensor_parallel_workers: u32,
}

impl Row {
    fn medians(&self) -> [f64; 10] {
        [
            self.emb,
            self.input_layernorm,
            self.attn_pre_proj,
            self.attn_rope,
            self.attn_post_proj,
            self.post_attention_layernorm,
            self.mlp_up_proj,
            self.mlp_act,
            self.mlp_down_proj,
            self.add,
        ]
    }
}

/// The layer shape a Vidur profile measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VidurShape {
    pub q_heads: u32,
    pub kv_heads: u32,
    pub hidden: u32,
    pub ffn: u32,
    pub gated: bool,
}

/// Vidur's per-operator profile, with roofline attention.
#[derive(Clone, Debug)]
pub struct VidurTable {
    path: String,
    shape: VidurShape,
    /// Per TP degree, one curve (us over tokens) per operator of [`OPERATORS`].
    ops: BTreeMap<u32, Vec<Curve>>,
    roofline: Roofline,
}

fn median_column(op: &str) -> String {
    format!("time_stats.{op}.median")
}

fn parse_bool(t: &CsvRows<Row>, line: u64, v: &str) -> Result<bool, GpuError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(t.error_at(line, "use_gated_mlp", format!("must be True or False, found `{v}`"))),
    }
}

impl VidurTable {
    /// Reads a Vidur `mlp.csv` measured on `gpu` (whose roofline times attention and the LM
    /// head).
    pub fn load(mlp_csv: impl AsRef<Path>, gpu: &GpuPreset) -> Result<VidurTable, GpuError> {
        let mut required: Vec<String> = OPERATORS.iter().map(|op| median_column(op)).collect();
        required.extend(
            [
                "n_head",
                "n_kv_head",
                "n_embd",
                "n_expanded_embd",
                "use_gated_mlp",
                "num_tokens",
                "num_tensor_parallel_workers",
            ]
            .map(String::from),
        );
        let required: Vec<&str> = required.iter().map(String::as_str).collect();
        let t = profile::read::<Row>(mlp_csv.as_ref(), &required)?;

        let mut shape: Option<(u64, VidurShape)> = None;
        let mut points: BTreeMap<u32, Vec<Vec<(f64, f64)>>> = BTreeMap::new();
        for (line, r) in &t.rows {
            let line = *line;
            let s = VidurShape {
                q_heads: r.n_head,
                kv_heads: r.n_kv_head,
                hidden: r.n_embd,
                ffn: r.n_expanded_embd,
                gated: parse_bool(&t, line, &r.use_gated_mlp)?,
            };
            match shape {
                None => shape = Some((line, s)),
                Some((first, s0)) if s0 != s => {
                    let column = [
                        ("n_head", s0.q_heads != s.q_heads),
                        ("n_kv_head", s0.kv_heads != s.kv_heads),
                        ("n_embd", s0.hidden != s.hidden),
                        ("n_expanded_embd", s0.ffn != s.ffn),
                        ("use_gated_mlp", s0.gated != s.gated),
                    ]
                    .into_iter()
                    .find(|c| c.1)
                    .map_or("n_head", |c| c.0);
                    return Err(t.error_at(line, column, format!("the layer shape differs from line {first}'s")));
                }
                Some(_) => {}
            }
            if r.num_tokens == 0 {
                return Err(t.error_at(line, "num_tokens", "must be at least 1"));
            }
            if r.num_tensor_parallel_workers == 0 {
                return Err(t.error_at(line, "num_tensor_parallel_workers", "must be at least 1"));
            }
            let per_op = points.entry(r.num_tensor_parallel_workers).or_insert_with(|| vec![Vec::new(); 10]);
            for (i, (op, ms)) in OPERATORS.iter().zip(r.medians()).enumerate() {
                let ms = t.non_negative(line, &median_column(op), ms)?;
                per_op[i].push((f64::from(r.num_tokens), ms * 1e3));
            }
        }
        let shape = shape.map(|s| s.1).ok_or_else(|| GpuError::malformed(&t.path, 2, 1, "no measurement"))?;
        let mut ops = BTreeMap::new();
        for (tp, per_op) in points {
            let curves: Option<Vec<Curve>> = per_op.into_iter().map(Curve::new).collect();
            let curves = curves.ok_or_else(|| GpuError::mismatch(&t.path, format!("TP {tp} has no usable rows")))?;
            ops.insert(tp, curves);
        }
        Ok(VidurTable { path: t.path, shape, ops, roofline: Roofline::new(gpu) })
    }

    /// The same table with collectives from Vidur's measured network tables.
    pub fn with_network(mut self, network: NetworkTable) -> VidurTable {
        self.roofline = self.roofline.with_comm(Comm::Table(network));
        self
    }

    /// The layer shape the profile measured.
    pub fn shape(&self) -> VidurShape {
        self.shape
    }

    /// The TP degrees the profile measured.
    pub fn tp_degrees(&self) -> Vec<u32> {
        self.ops.keys().copied().collect()
    }

    /// The token counts measured at TP `tp`.
    pub fn token_points(&self, tp: u32) -> Result<Vec<u64>, GpuError> {
        Ok(self.curves(tp)?[0].points().map(|(k, _)| k as u64).collect())
    }

    /// The roofline that times attention and the LM head.
    pub fn roofline(&self) -> &Roofline {
        &self.roofline
    }

    fn curves(&self, tp: u32) -> Result<&[Curve], GpuError> {
        self.ops.get(&tp).map(Vec::as_slice).ok_or_else(|| {
            GpuError::mismatch(&self.path, format!("no rows for TP {tp} (measured: {:?})", self.tp_degrees()))
        })
    }

    /// One operator of [`OPERATORS`] at TP `tp` over `tokens` tokens, microseconds.
    pub fn op_us(&self, tp: u32, op: &str, tokens: u64) -> Result<f64, GpuError> {
        let i = OPERATORS
            .iter()
            .position(|o| *o == op)
            .ok_or_else(|| GpuError::invalid("Vidur operator", format!("`{op}` is not one of {OPERATORS:?}")))?;
        Ok(self.curves(tp)?[i].eval(tokens as f64))
    }

    fn check_model(&self, model: &ModelShape) -> Result<(), GpuError> {
        let s = self.shape;
        let ok = model.hidden == s.hidden
            && model.q_heads == s.q_heads
            && model.kv_heads == s.kv_heads
            && model.ffn == s.ffn
            && (model.mlp == Mlp::Gated) == s.gated;
        if ok {
            Ok(())
        } else {
            Err(GpuError::mismatch(
                &self.path,
                format!(
                    "the profile measured a layer of hidden {}, {} query / {} KV heads, FFN {} ({} MLP); {} has \
                     hidden {}, {} / {} heads, FFN {} ({:?} MLP)",
                    s.hidden,
                    s.q_heads,
                    s.kv_heads,
                    s.ffn,
                    if s.gated { "gated" } else { "plain" },
                    model.name,
                    model.hidden,
                    model.q_heads,
                    model.kv_heads,
                    model.ffn,
                    model.mlp
                ),
            ))
        }
    }
}

impl GpuTime for VidurTable {
    fn name(&self) -> String {
        format!("Vidur table ({}) with roofline attention", self.path)
    }

    fn layer_dense_us(&self, model: &ModelShape, tp: u32, tokens: u64) -> Result<f64, GpuError> {
        self.check_model(model)?;
        model.split(tp)?;
        let curves = self.curves(tp)?;
        if tokens == 0 {
            return Ok(0.0);
        }
        Ok(curves[1..].iter().map(|c| c.eval(tokens as f64)).sum())
    }

    fn layer_attention_us(&self, model: &ModelShape, tp: u32, batch: &Batch) -> Result<f64, GpuError> {
        self.roofline.attention_us(model, tp, batch)
    }

    fn embedding_us(&self, model: &ModelShape, tp: u32, tokens: u64) -> Result<f64, GpuError> {
        self.check_model(model)?;
        if tokens == 0 {
            return Ok(0.0);
        }
        self.op_us(tp, "emb", tokens)
    }

    fn lm_head_us(&self, model: &ModelShape, tp: u32, tokens: u64, sequences: u64) -> Result<f64, GpuError> {
        self.roofline.lm_head_us(model, tp, tokens, sequences)
    }

    fn comm(&self) -> &Comm {
        self.roofline.comm()
    }
}
