//! The engine's configuration: vLLM's scheduler limits, the KV block pool, the parallelism.

use serde::{Deserialize, Serialize};

use super::error::EngineError;
use crate::serve::gpu::{GpuPreset, ModelShape, Stage};

/// How many KV blocks the node's pool has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KvPool {
    /// A fixed count, as vLLM reports it (`num_gpu_blocks`; the validation run had 2588).
    Blocks { blocks: u64 },
    /// Derived from the GPU memory as vLLM sizes its pool: `memory_bytes x utilization`, less
    /// this GPU's share of the weights, less `reserved_bytes` (activations, CUDA graphs, the
    /// allocator's slack), divided by one block's KV bytes on this GPU.
    FromMemory { memory_bytes: u64, utilization: f64, reserved_bytes: u64 },
}

impl KvPool {
    /// The pool of a GPU preset at `utilization` (vLLM's `gpu_memory_utilization`) with
    /// `reserved_bytes` kept for activations and the runtime.
    pub fn from_gpu(gpu: &GpuPreset, utilization: f64, reserved_bytes: u64) -> KvPool {
        KvPool::FromMemory { memory_bytes: gpu.memory_bytes(), utilization, reserved_bytes }
    }
}

/// The serving engine of one node (one model instance): vLLM v1's scheduler limits, the KV
/// pool, the tensor and pipeline parallelism.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Most requests running at once (vLLM `max_num_seqs`).
    pub max_num_seqs: u32,
    /// Token budget of one iteration (vLLM `max_num_batched_tokens`).
    pub max_num_batched_tokens: u32,
    /// Tokens per KV block (vLLM `block_size`, 16).
    pub block_size: u32,
    pub kv_pool: KvPool,
    /// Tensor parallelism (GPUs per stage).
    pub tp: u32,
    /// Pipeline parallelism (stages, and batches in flight at most).
    pub pp: u32,
    /// vLLM's prefix caching (on by default in v1). Modelled for a preempted request's own
    /// blocks only: see the module documentation of [`super`].
    pub prefix_caching: bool,
}

impl Default for EngineConfig {
    /// vLLM v1's defaults for online serving on one GPU (256 sequences, 2048 tokens, blocks
    /// of 16, prefix caching on), with the validation run's 2588 blocks.
    fn default() -> Self {
        EngineConfig {
            max_num_seqs: 256,
            max_num_batched_tokens: 2048,
            block_size: 16,
            kv_pool: KvPool::Blocks { blocks: 2588 },
            tp: 1,
            pp: 1,
            prefix_caching: true,
        }
    }
}

impl EngineConfig {
    /// Rejects impossible limits; the message names the field.
    pub fn validate(&self) -> Result<(), EngineError> {
        let counts = [
            ("max_num_seqs", self.max_num_seqs),
            ("max_num_batched_tokens", self.max_num_batched_tokens),
            ("block_size", self.block_size),
            ("tp", self.tp),
            ("pp", self.pp),
        ];
        for (field, v) in counts {
            if v == 0 {
                return Err(EngineError::invalid(format!("engine {field}"), "0; allowed: at least 1"));
            }
        }
        match self.kv_pool {
            KvPool::Blocks { blocks: 0 } => Err(EngineError::invalid("KV pool", "0 blocks; allowed: at least 1")),
            KvPool::FromMemory { utilization, .. } if !(utilization > 0.0 && utilization <= 1.0) => {
                Err(EngineError::invalid("KV pool", format!("GPU memory utilization {utilization}; allowed: (0, 1]")))
            }
            _ => Ok(()),
        }
    }

    /// KV bytes of one token on one GPU: the layers of the largest pipeline stage, times K and V
    /// of `max(1, kv_heads / tp)` heads (vLLM replicates KV heads when TP exceeds them).
    pub fn kv_bytes_per_token_per_gpu(&self, model: &ModelShape) -> Result<u64, EngineError> {
        self.validate()?;
        let mut layers = 0;
        for index in 0..self.pp {
            let stage =
                Stage { model, tp: self.tp, pp: self.pp, index, attention: crate::serve::gpu::AttentionOn::Gpu };
            layers = layers.max(stage.layers()?);
        }
        let heads = (model.kv_heads / self.tp).max(1);
        Ok(2 * u64::from(layers) * u64::from(heads) * u64::from(model.head_dim) * u64::from(model.dtype_bytes))
    }

    /// The pool's size in blocks for `model`.
    pub fn num_blocks(&self, model: &ModelShape) -> Result<u64, EngineError> {
        self.validate()?;
        match self.kv_pool {
            KvPool::Blocks { blocks } => Ok(blocks),
            KvPool::FromMemory { memory_bytes, utilization, reserved_bytes } => {
                let block_bytes = self.kv_bytes_per_token_per_gpu(model)? * u64::from(self.block_size);
                let budget = memory_bytes as f64 * utilization;
                let weights = model.weight_bytes() as f64 / f64::from(self.tp * self.pp);
                let left = budget - weights - reserved_bytes as f64;
                let blocks = if left > 0.0 { (left / block_bytes as f64).floor() as u64 } else { 0 };
                if blocks == 0 {
                    return Err(EngineError::invalid(
                        "KV pool",
                        format!(
                            "{:.2} GiB x {utilization} leaves no room for KV after {:.2} GiB of weights per GPU and \
                             {:.2} GiB reserved",
                            memory_bytes as f64 / GIB,
                            weights / GIB,
                            reserved_bytes as f64 / GIB
                        ),
                    ));
                }
                Ok(blocks)
            }
        }
    }
}

const GIB: f64 = (1u64 << 30) as f64;
