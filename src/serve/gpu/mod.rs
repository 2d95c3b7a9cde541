//! GPU time (SERVING-SPEC §2, §3, §6): the node's GPUs, the models' shapes, and the time of
//! one iteration's GPU work on one pipeline stage, from two kinds of backend behind one trait.
//!
//! # Presets ([`preset`])
//! GPUs (H100 SXM, A100-80GB, RTX 4090) in `presets/gpus.yaml` and models (Qwen2.5-32B,
//! LLaMA3-70B, OPT-175B, Llama-3.1-8B) in `presets/models.yaml`, compiled in, every number with
//! its source in the file. [`ModelShape`] gives KV bytes per token and weight bytes; a custom
//! shape is the same struct.
//!
//! # The interface ([`GpuTime`])
//! A backend times a decoder layer's non-attention operators for a token count, a layer's
//! attention for a batch, the embedding and the LM head; the provided
//! [`GpuTime::iteration`] composes them for one pipeline stage into an [`IterationTime`]
//! breakdown (dense operators, attention, all-reduce, pipeline transfer, LM head):
//! * every layer of the stage runs its dense operators over all the batch's tokens, and its
//!   attention when attention runs on the GPU ([`AttentionOn::Gpu`]); with attention offloaded
//!   to PIM ([`AttentionOn::Pim`]) only the non-attention operators count (the QKV and output
//!   projections stay on the GPU); with [`AttentionOn::PimDecode`] the prefill chunks' attention
//!   stays on the GPU and only the decodes' is offloaded;
//! * tensor parallelism TP > 1 adds two all-reduces of the layer's activations
//!   (tokens x hidden x element bytes) per layer (after the attention output projection and
//!   after the MLP), and on the first stage one more for the vocabulary-parallel embedding;
//! * pipeline parallelism: the layers split over the stages as vLLM's `get_pp_indices` does
//!   (the remainder one layer each to the stages before the last); every stage but the last
//!   sends its activations to the next (hidden states and residual, 2 x tokens x hidden x
//!   element bytes, as vLLM's intermediate tensors of Llama and Qwen2), timed on the sender;
//! * the first stage embeds the tokens (in the dense time); the last applies the final norm,
//!   the LM head and the sampler to the rows that produce a token (decodes and prefill chunks
//!   that end their prompt), including, under TP, the gather of the vocabulary-split logits.
//!
//! # Backends
//! * [`roofline::Roofline`]: every operator takes max(FLOPs / (0.8 x peak), bytes / (0.85 x
//!   bandwidth)) plus a launch overhead (AttAcc's method), matrices split TP ways. Where it errs
//!   against measured H100 data and the documented GEMM correction applied by default: see
//!   [`roofline`].
//! * [`vidur::VidurTable`]: Vidur's per-operator H100 profile (median of each operator,
//!   interpolated over tokens per TP degree). The profile has no attention kernel: its
//!   attention (and LM head) come from the roofline of the same GPU.
//! * [`bundle::ServingSimBundle`]: LLMServingSim's profile bundle (dense operators by tokens,
//!   attention over a prefill/decode grid, LM head and sampler by sequences).
//!
//! Collectives ([`comm`]) come from a ring formula over the GPU's link or from Vidur's measured
//! NCCL tables. Measured tables interpolate linearly with a documented rule outside ([`interp`]).
//! Profile files are read with the `csv` crate and serde (the `profile` module says why); every malformed
//! file is an error naming `path:line:column`.

pub mod bundle;
pub mod comm;
pub mod error;
pub mod interp;
pub mod preset;
pub(crate) mod profile;
pub mod roofline;
pub mod vidur;

pub use bundle::ServingSimBundle;
pub use comm::{Comm, LinkFormula, NetworkTable};
pub use error::GpuError;
pub use preset::{GemmCorrection, GpuPreset, Mlp, ModelShape, TpSplit};
pub use roofline::Roofline;
pub use vidur::VidurTable;

/// One request's prefill chunk in an iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefillChunk {
    /// Prompt tokens computed in this iteration.
    pub tokens: u32,
    /// Tokens of the request already in its KV cache (earlier chunks, a cached prefix); the
    /// chunk attends to them and, causally, to itself.
    pub context: u32,
    /// The chunk ends the prompt: the request samples its first token (an LM-head row).
    pub last: bool,
}

/// The work of one iteration: prefill chunks and decoding requests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    pub prefills: Vec<PrefillChunk>,
    /// Each decoding request's context: tokens in its KV cache before this step. The new token
    /// attends to context + 1 positions (its own K and V are written first).
    pub decodes: Vec<u32>,
}

impl Batch {
    /// A batch of decodes only.
    pub fn decode(contexts: impl IntoIterator<Item = u32>) -> Batch {
        Batch { prefills: Vec::new(), decodes: contexts.into_iter().collect() }
    }

    /// Tokens the dense operators process: prefill chunk tokens plus one per decode.
    pub fn tokens(&self) -> u64 {
        self.prefills.iter().map(|p| u64::from(p.tokens)).sum::<u64>() + self.decodes.len() as u64
    }

    /// Rows of the LM head: decodes plus prefill chunks that end their prompt.
    pub fn sequences(&self) -> u64 {
        self.decodes.len() as u64 + self.prefills.iter().filter(|p| p.last).count() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.tokens() == 0
    }
}

/// Where attention runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttentionOn {
    /// On the GPU: attention counts in the GPU time.
    Gpu,
    /// Offloaded to PIM: only the non-attention operators count.
    Pim,
    /// Decode attention offloaded to PIM, prefill chunks' attention (compute-bound) on the GPU:
    /// what the PIM systems of the serving layer do.
    PimDecode,
}

/// One pipeline stage of a model served with tensor parallelism `tp` and pipeline
/// parallelism `pp`.
#[derive(Clone, Copy, Debug)]
pub struct Stage<'a> {
    pub model: &'a ModelShape,
    pub tp: u32,
    pub pp: u32,
    /// 0-based stage index, below `pp`.
    pub index: u32,
    pub attention: AttentionOn,
}

impl Stage<'_> {
    /// Decoder layers of this stage (vLLM's split: the remainder of layers / PP goes one layer
    /// each to the stages just before the last).
    pub fn layers(&self) -> Result<u32, GpuError> {
        let what = || format!("pipeline stage {} of {}", self.index, self.pp);
        if self.pp == 0 || self.index >= self.pp {
            return Err(GpuError::invalid(what(), "the stage index must be below PP, and PP at least 1"));
        }
        if self.pp > self.model.layers {
            return Err(GpuError::invalid(
                what(),
                format!("{} has only {} layers", self.model.name, self.model.layers),
            ));
        }
        let base = self.model.layers / self.pp;
        let rem = self.model.layers % self.pp;
        let extra = self.index + 1 < self.pp && self.index + 1 + rem >= self.pp;
        Ok(base + u32::from(extra))
    }

    pub fn is_first(&self) -> bool {
        self.index == 0
    }

    pub fn is_last(&self) -> bool {
        self.index + 1 == self.pp
    }

    /// Bytes of the activations of `tokens` tokens (tokens x hidden x element bytes).
    pub fn activation_bytes(&self, tokens: u64) -> f64 {
        tokens as f64 * f64::from(self.model.hidden) * f64::from(self.model.dtype_bytes)
    }
}

/// The time of one iteration's GPU work on one pipeline stage, microseconds, by part.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IterationTime {
    /// Decoder layers this stage runs.
    pub layers: u32,
    /// Non-attention operators of the stage's layers (norms, QKV, rope, output projection,
    /// MLP, residual add), plus the embedding on the first stage.
    pub dense_us: f64,
    /// Attention of the stage's layers (0 when attention is offloaded to PIM).
    pub attention_us: f64,
    /// Tensor-parallel all-reduces (two per layer, one for the embedding on the first stage).
    pub all_reduce_us: f64,
    /// Sending the activations to the next stage (0 on the last stage).
    pub pp_transfer_us: f64,
    /// Final norm, LM head, sampler and the logits gather (last stage only).
    pub lm_head_us: f64,
}

impl IterationTime {
    pub fn total_us(&self) -> f64 {
        self.dense_us + self.attention_us + self.all_reduce_us + self.pp_transfer_us + self.lm_head_us
    }
}

/// A GPU time backend. Times are of one GPU of a tensor-parallel group, in microseconds.
pub trait GpuTime: Send + Sync {
    /// The backend's name in reports.
    fn name(&self) -> String;

    /// One decoder layer's non-attention operators over `tokens` tokens under TP `tp`: input
    /// and post-attention norms, QKV projection, rope, output projection, MLP, residual add.
    /// No communication.
    fn layer_dense_us(&self, model: &ModelShape, tp: u32, tokens: u64) -> Result<f64, GpuError>;

    /// One decoder layer's attention over the batch under TP `tp` (heads split TP ways).
    fn layer_attention_us(&self, model: &ModelShape, tp: u32, batch: &Batch) -> Result<f64, GpuError>;

    /// The token embedding of `tokens` tokens (first stage), without its all-reduce.
    fn embedding_us(&self, model: &ModelShape, tp: u32, tokens: u64) -> Result<f64, GpuError>;

    /// The final norm over `tokens` tokens, the LM head and sampler over `sequences` rows, and
    /// under TP the gather of the logits (last stage).
    fn lm_head_us(&self, model: &ModelShape, tp: u32, tokens: u64, sequences: u64) -> Result<f64, GpuError>;

    /// The collectives.
    fn comm(&self) -> &Comm;

    /// The time of one iteration's GPU work on one pipeline stage (see the module
    /// documentation for what counts where). An empty batch takes no time.
    fn iteration(&self, stage: &Stage<'_>, batch: &Batch) -> Result<IterationTime, GpuError> {
        let model = stage.model;
        model.validate()?;
        model.split(stage.tp)?;
        let layers = stage.layers()?;
        let mut t = IterationTime { layers, ..IterationTime::default() };
        let tokens = batch.tokens();
        if tokens == 0 {
            return Ok(t);
        }
        let l = f64::from(layers);
        t.dense_us = l * self.layer_dense_us(model, stage.tp, tokens)?;
        match stage.attention {
            AttentionOn::Gpu => t.attention_us = l * self.layer_attention_us(model, stage.tp, batch)?,
            AttentionOn::PimDecode if !batch.prefills.is_empty() => {
                let prefills = Batch { prefills: batch.prefills.clone(), decodes: Vec::new() };
                t.attention_us = l * self.layer_attention_us(model, stage.tp, &prefills)?;
            }
            AttentionOn::Pim | AttentionOn::PimDecode => {}
        }
        let act = stage.activation_bytes(tokens);
        let all_reduce = self.comm().all_reduce_us(act, stage.tp)?;
        t.all_reduce_us = 2.0 * l * all_reduce;
        if stage.is_first() {
            t.dense_us += self.embedding_us(model, stage.tp, tokens)?;
            t.all_reduce_us += all_reduce;
        }
        if stage.is_last() {
            t.lm_head_us = self.lm_head_us(model, stage.tp, tokens, batch.sequences())?;
        } else {
            t.pp_transfer_us = self.comm().send_recv_us(2.0 * act)?;
        }
        Ok(t)
    }
}

/// One token count of [`compare_backends`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackendComparison {
    pub tokens: u64,
    /// The roofline's non-attention decoder-layer time, microseconds.
    pub roofline_us: f64,
    /// The measured table's, microseconds.
    pub table_us: f64,
    /// table / roofline: above 1, the roofline is too fast.
    pub ratio: f64,
}

impl BackendComparison {
    /// How far the two disagree, as a factor >= 1 (max(ratio, 1 / ratio)).
    pub fn disagreement(&self) -> f64 {
        self.ratio.max(1.0 / self.ratio)
    }
}

/// The non-attention decoder-layer time of two backends (a roofline and a measured table) at
/// each token count, for a benchmark to print: tokens, roofline us, table us, ratio.
pub fn compare_backends(
    roofline: &dyn GpuTime,
    table: &dyn GpuTime,
    model: &ModelShape,
    tp: u32,
    tokens: &[u64],
) -> Result<Vec<BackendComparison>, GpuError> {
    tokens
        .iter()
        .map(|&n| {
            let roofline_us = roofline.layer_dense_us(model, tp, n)?;
            let table_us = table.layer_dense_us(model, tp, n)?;
            Ok(BackendComparison { tokens: n, roofline_us, table_us, ratio: table_us / roofline_us })
        })
        .collect()
}

/// The row where the backends disagree most, if any.
pub fn worst_disagreement(rows: &[BackendComparison]) -> Option<BackendComparison> {
    rows.iter().copied().max_by(|a, b| a.disagreement().total_cmp(&b.disagreement()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_split_as_vllm() {
        let m = ModelShape::by_name("llama3-70b").expect("preset");
        let stage = |index, pp| Stage { model: &m, tp: 1, pp, index, attention: AttentionOn::Gpu };
        let split = |pp| (0..pp).map(|i| stage(i, pp).layers().expect("stage")).collect::<Vec<_>>();
        assert_eq!(split(2), [40, 40]);
        assert_eq!(split(3), [27, 27, 26]);
        assert_eq!(split(7), [11, 11, 11, 12, 12, 12, 11]);
        assert_eq!(split(7).iter().sum::<u32>(), 80);
        assert!(stage(2, 2).layers().is_err());
    }

    #[test]
    fn batch_counts() {
        let b = Batch {
            prefills: vec![
                PrefillChunk { tokens: 100, context: 0, last: false },
                PrefillChunk { tokens: 20, context: 80, last: true },
            ],
            decodes: vec![5, 9, 300],
        };
        assert_eq!(b.tokens(), 123);
        assert_eq!(b.sequences(), 4);
        assert!(Batch::default().is_empty());
    }
}
