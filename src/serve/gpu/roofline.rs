//! The roofline backend (SERVING-SPEC §6, what AttAcc's simulator does): each operator takes
//! max(FLOPs / (0.8 x peak), bytes / (0.85 x bandwidth)) plus a kernel launch overhead (the
//! GPU preset's `compute_efficiency`, `memory_efficiency`, `launch_overhead_us`).
//!
//! # Operators
//! Per decoder layer on one GPU of a TP group (element bytes B, T tokens, hidden H, heads and
//! FFN split TP ways, see [`ModelShape::split`]), named as Vidur's profile names them:
//! * `input_layernorm`, `post_attention_layernorm`: read and write T x H, read the H weights;
//! * `attn_pre_proj` (QKV), `attn_post_proj` (output), `mlp_up_proj` (gate and up fused for a
//!   gated MLP), `mlp_down_proj`: GEMMs of T rows, 2 T K N FLOPs, bytes B (K N + T K + T N);
//! * `attn_rope` (rotary models): read and write Q and K;
//! * `mlp_act`: SiLU x up (gated; reads two FFN-wide rows, writes one) or the activation
//!   (plain);
//! * `add`: the residual add, read 2 x T x H, write T x H (Vidur profiles one add a layer; vLLM
//!   fuses the other into the norm).
//!
//! Attention, per layer: the prefill chunks as one kernel and the decodes as another, each a
//! roofline over the sum of its requests: a chunk of c tokens after p cached ones does
//! 4 x heads x head dim x c x (p + (c + 1) / 2) FLOPs (QK^T and PV, causal) and moves its Q,
//! output, the K and V of p + c positions and the writes of its own K and V; a decode over a
//! context L does the same with c = 1 and L + 1 positions. No GEMM correction applies to
//! attention.
//!
//! Per iteration: the embedding (gather T rows of H), and on the last stage the final norm, the
//! LM head (a GEMM of one row per sampled sequence over the vocabulary split TP ways), the
//! sampler (read FP32 logits, write probabilities) and, under TP, the all-gather of the logits.
//!
//! # Where the plain roofline errs, and what we do about it
//! Against Vidur's measured H100 profile of the LLaMA-70B layer (1 to 4096 tokens, TP 1, 2, 4,
//! 8; `tests/gpu_time.rs` prints the comparison), the plain roofline of the spec is:
//! * right where the layer is memory bound (up to about 128 tokens): 0-8% slow (the weights
//!   stream at about 0.85 of the 3.35 TB/s), which checks bytes and units;
//! * 12-17% too fast where it is compute bound (2048-4096 tokens): the GEMMs sustain 0.69-0.76
//!   of the 989.4 TFLOPS peak, not 0.8;
//! * worst just past multiples of 256 tokens: 73-87% too fast at 264-536 tokens (table /
//!   roofline 1.73, 1.87, 1.77, 1.82 at TP 1, 2, 4, 8). The measured times are steps in the
//!   token count (cuBLAS tiles the token dimension; a partial tile of rows costs a full one),
//!   which the plain roofline's straight line cannot follow. This is the spec's "6-30% too
//!   fast, worst near 256 tokens per GPU", with the worst points well beyond 30%.
//!
//! **Decision:** [`Roofline::new`] applies the GPU preset's documented GEMM correction when it
//! has one (H100: `gemm_correction {tile_tokens: 256, efficiency: 0.72}`, derived from the same
//! profile and explained in `presets/gpus.yaml`): a GEMM's compute term counts the token
//! dimension rounded up to the tile and runs at the measured efficiency instead of 0.8; its
//! memory term and every other operator are unchanged. With it, table / roofline stays within
//! [0.75, 1.29] over all 259 token counts and the four TP degrees. The correction is fitted on
//! that one profile (two parameters), so this agreement is partly in-sample. It remains a step
//! model with one tile size: where cuBLAS picks a smaller tile than 256 (257-320 tokens at TP 1
//! and 2) the corrected roofline is up to 25% slow, and where it switches kernels within a tile
//! (around 168 and 520 tokens at TP 8) up to 29% fast. [`Roofline::plain`] is the spec's
//! formula alone. GPUs without a correction in their preset (A100, RTX 4090) use the plain
//! formula.

use super::comm::{Comm, LinkFormula};
use super::error::GpuError;
use super::preset::{GemmCorrection, GpuPreset, Mlp, ModelShape};
use super::{Batch, GpuTime};

/// The roofline backend of a GPU.
#[derive(Clone, Debug, PartialEq)]
pub struct Roofline {
    gpu: GpuPreset,
    correction: Option<GemmCorrection>,
    comm: Comm,
}

/// One operator's time, microseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpTime {
    pub name: &'static str,
    pub us: f64,
}

impl Roofline {
    /// The roofline of `gpu` with its preset's GEMM correction, if any, and collectives from
    /// the link formula.
    pub fn new(gpu: &GpuPreset) -> Roofline {
        Roofline { gpu: gpu.clone(), correction: gpu.gemm_correction, comm: Comm::Formula(LinkFormula::of(gpu)) }
    }

    /// The spec's roofline alone, without a GEMM correction.
    pub fn plain(gpu: &GpuPreset) -> Roofline {
        Roofline { correction: None, ..Roofline::new(gpu) }
    }

    /// The same roofline with collectives from `comm` (e.g. a measured [`super::NetworkTable`]).
    pub fn with_comm(self, comm: Comm) -> Roofline {
        Roofline { comm, ..self }
    }

    pub fn gpu(&self) -> &GpuPreset {
        &self.gpu
    }

    /// The GEMM correction in use, if any.
    pub fn correction(&self) -> Option<GemmCorrection> {
        self.correction
    }

    /// One kernel: max(flops / (compute efficiency x peak), bytes / (memory efficiency x
    /// bandwidth)) plus the launch overhead, microseconds.
    pub fn kernel_us(&self, flops: f64, bytes: f64) -> f64 {
        self.kernel_at_us(flops, bytes, self.gpu.compute_efficiency)
    }

    fn kernel_at_us(&self, flops: f64, bytes: f64, compute_efficiency: f64) -> f64 {
        let compute = flops / (compute_efficiency * self.gpu.peak_flops());
        let memory = bytes / (self.gpu.memory_efficiency * self.gpu.bandwidth());
        compute.max(memory) * 1e6 + self.gpu.launch_overhead_us
    }

    /// A GEMM of `rows` x `k` by `k` x `n` with elements of `elem` bytes; the correction, if
    /// any, rounds the rows of the compute term up to its tile and uses its efficiency.
    pub fn gemm_us(&self, rows: f64, k: f64, n: f64, elem: f64) -> f64 {
        if rows <= 0.0 {
            return 0.0;
        }
        let bytes = elem * (k * n + rows * k + rows * n);
        match self.correction {
            Some(c) => {
                let tile = f64::from(c.tile_tokens);
                let padded = (rows / tile).ceil() * tile;
                self.kernel_at_us(2.0 * padded * k * n, bytes, c.efficiency)
            }
            None => self.kernel_us(2.0 * rows * k * n, bytes),
        }
    }

    fn norm_us(&self, tokens: f64, hidden: f64, elem: f64) -> f64 {
        self.kernel_us(4.0 * tokens * hidden, elem * (2.0 * tokens * hidden + hidden))
    }

    /// One decoder layer's non-attention operators, one by one.
    pub fn layer_ops(&self, model: &ModelShape, tp: u32, tokens: u64) -> Result<Vec<OpTime>, GpuError> {
        let s = model.split(tp)?;
        if tokens == 0 {
            return Ok(Vec::new());
        }
        let t = tokens as f64;
        let b = f64::from(model.dtype_bytes);
        let h = f64::from(model.hidden);
        let d = f64::from(model.head_dim);
        let (q, kv, f) = (f64::from(s.q_heads) * d, f64::from(s.kv_heads) * d, f64::from(s.ffn));
        let mut ops = vec![
            OpTime { name: "input_layernorm", us: self.norm_us(t, h, b) },
            OpTime { name: "attn_pre_proj", us: self.gemm_us(t, h, q + 2.0 * kv, b) },
        ];
        if model.rope {
            ops.push(OpTime { name: "attn_rope", us: self.kernel_us(6.0 * t * (q + kv), b * 2.0 * t * (q + kv)) });
        }
        let (up, act) = match model.mlp {
            Mlp::Gated => (self.gemm_us(t, h, 2.0 * f, b), self.kernel_us(6.0 * t * f, b * 3.0 * t * f)),
            Mlp::Plain => (self.gemm_us(t, h, f, b), self.kernel_us(4.0 * t * f, b * 2.0 * t * f)),
        };
        ops.extend([
            OpTime { name: "attn_post_proj", us: self.gemm_us(t, q, h, b) },
            OpTime { name: "post_attention_layernorm", us: self.norm_us(t, h, b) },
            OpTime { name: "mlp_up_proj", us: up },
            OpTime { name: "mlp_act", us: act },
            OpTime { name: "mlp_down_proj", us: self.gemm_us(t, f, h, b) },
            OpTime { name: "add", us: self.kernel_us(t * h, b * 3.0 * t * h) },
        ]);
        Ok(ops)
    }

    /// One layer's attention over the batch (see the module documentation).
    pub fn attention_us(&self, model: &ModelShape, tp: u32, batch: &Batch) -> Result<f64, GpuError> {
        let s = model.split(tp)?;
        let b = f64::from(model.dtype_bytes);
        let d = f64::from(model.head_dim);
        let (q, kv) = (f64::from(s.q_heads) * d, f64::from(s.kv_heads) * d);
        // (FLOPs, bytes) of a chunk of `c` new tokens after `p` cached ones.
        let work = |c: f64, p: f64| {
            let flops = 4.0 * q * c * (p + (c + 1.0) / 2.0);
            let bytes = b * (2.0 * c * q + 2.0 * (p + c) * kv + 2.0 * c * kv);
            (flops, bytes)
        };
        let sum = |it: &mut dyn Iterator<Item = (f64, f64)>| it.fold((0.0, 0.0), |a, w| (a.0 + w.0, a.1 + w.1));
        let mut total = 0.0;
        let prefill = batch.prefills.iter().filter(|p| p.tokens > 0);
        let (pf, pb) = sum(&mut prefill.map(|p| work(f64::from(p.tokens), f64::from(p.context))));
        if pb > 0.0 {
            total += self.kernel_us(pf, pb);
        }
        let (df, db) = sum(&mut batch.decodes.iter().map(|&l| work(1.0, f64::from(l))));
        if db > 0.0 {
            total += self.kernel_us(df, db);
        }
        Ok(total)
    }
}

impl GpuTime for Roofline {
    fn name(&self) -> String {
        match self.correction {
            Some(_) => format!("roofline ({}, GEMM-corrected)", self.gpu.name),
            None => format!("roofline ({})", self.gpu.name),
        }
    }

    fn layer_dense_us(&self, model: &ModelShape, tp: u32, tokens: u64) -> Result<f64, GpuError> {
        Ok(self.layer_ops(model, tp, tokens)?.iter().map(|o| o.us).sum())
    }

    fn layer_attention_us(&self, model: &ModelShape, tp: u32, batch: &Batch) -> Result<f64, GpuError> {
        self.attention_us(model, tp, batch)
    }

    fn embedding_us(&self, model: &ModelShape, tp: u32, tokens: u64) -> Result<f64, GpuError> {
        model.split(tp)?;
        if tokens == 0 {
            return Ok(0.0);
        }
        let rows = tokens as f64 * f64::from(model.hidden) * f64::from(model.dtype_bytes);
        Ok(self.kernel_us(0.0, 2.0 * rows))
    }

    fn lm_head_us(&self, model: &ModelShape, tp: u32, tokens: u64, sequences: u64) -> Result<f64, GpuError> {
        let s = model.split(tp)?;
        if tokens == 0 {
            return Ok(0.0);
        }
        let b = f64::from(model.dtype_bytes);
        let h = f64::from(model.hidden);
        let mut us = self.norm_us(tokens as f64, h, b);
        if sequences > 0 {
            let rows = sequences as f64;
            let vocab = f64::from(model.vocab);
            us += self.gemm_us(rows, h, f64::from(s.vocab), b);
            us += self.kernel_us(5.0 * rows * vocab, 8.0 * rows * vocab);
            us += self.comm.all_gather_us(rows * vocab * b, tp)?;
        }
        Ok(us)
    }

    fn comm(&self) -> &Comm {
        &self.comm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::gpu::PrefillChunk;

    fn h100() -> GpuPreset {
        GpuPreset::by_name("h100-sxm").expect("preset")
    }

    #[test]
    fn one_token_gemm_streams_the_weights() {
        let r = Roofline::plain(&h100());
        let (k, n) = (8192.0, 57344.0);
        let expect = 2.0 * (k * n + k + n) / (0.85 * 3.35e12) * 1e6 + 4.0;
        assert!((r.gemm_us(1.0, k, n, 2.0) - expect).abs() < 1e-9);
        // Compute bound at 4096 tokens: 2 T K N / (0.8 x 989.4 TFLOPS).
        let expect = 2.0 * 4096.0 * k * n / (0.8 * 989.4e12) * 1e6 + 4.0;
        assert!((r.gemm_us(4096.0, k, n, 2.0) - expect).abs() < 1e-6);
    }

    #[test]
    fn correction_pads_rows_to_the_tile() {
        let r = Roofline::new(&h100());
        let c = r.correction().expect("H100 has a correction");
        let tile = f64::from(c.tile_tokens);
        let (k, n) = (8192.0, 57344.0);
        assert_eq!(r.gemm_us(tile + 1.0, k, n, 2.0), r.gemm_us(2.0 * tile, k, n, 2.0));
        assert!(r.gemm_us(tile + 1.0, k, n, 2.0) > r.gemm_us(tile, k, n, 2.0));
    }

    #[test]
    fn tp_splits_matrices() {
        let m = ModelShape::by_name("llama3-70b").expect("preset");
        let r = Roofline::plain(&h100());
        let t1 = r.layer_dense_us(&m, 1, 1).expect("tp1");
        let t4 = r.layer_dense_us(&m, 4, 1).expect("tp4");
        assert!(t4 < t1 / 3.0, "{t1} {t4}");
    }

    #[test]
    fn attention_grows_with_context_and_prefill() {
        let m = ModelShape::by_name("llama3-70b").expect("preset");
        let r = Roofline::plain(&h100());
        let a = |b: &Batch| r.attention_us(&m, 1, b).expect("attention");
        assert_eq!(a(&Batch::default()), 0.0);
        assert!(a(&Batch::decode([1000; 64])) < a(&Batch::decode([4000; 64])));
        let chunk = |c| Batch { prefills: vec![PrefillChunk { tokens: c, context: 0, last: true }], decodes: vec![] };
        assert!(a(&chunk(512)) < a(&chunk(2048)));
    }
}
