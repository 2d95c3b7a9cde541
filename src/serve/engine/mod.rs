//! The serving loop of one node (SERVING-SPEC §5, §11, §12): continuous batching with vLLM v1's
//! scheduler, each iteration timed by a [`GpuTime`](crate::serve::gpu::GpuTime) backend
//! (attention on the GPU: the `vllm` system without offloading), per-request and per-iteration
//! records, the files of §11, and the validation against a measured vLLM run.
//!
//! # API
//!
//! [`simulate`]`(&EngineConfig, &ModelShape, &dyn GpuTime, &Workload) -> RunResult`;
//! [`simulate_observed`] also shows every step to an [`Observer`] (the tests check invariants
//! there). [`RunResult`] holds a [`RequestRecord`] per request and an [`IterationRecord`] per
//! iteration and stage; [`RunResult::summary`] gives the run's [`Summary`];
//! [`RunResult::write_dir`] writes `requests.csv`, `iterations.csv` and `summary.json`.
//! The parts are public so that another driver can run them: [`Scheduler`] (vLLM's scheduler as
//! a state machine: `arrive`, `schedule`, `complete`), [`StepTimer`] (a step's time, stage by
//! stage), [`Arrivals`] (arrivals and session releases), [`BlockPool`]. [`validate`] reads a
//! measured run and compares.
//!
//! # Scheduling (vLLM v1, `vllm/v1/core/sched/scheduler.py`, FCFS policy)
//!
//! A request knows its prompt and the tokens it has sampled; it has *computed* (has in its KV
//! cache) some of them. Every step computes `min(known - computed, budget left)` tokens of a
//! request; when that reaches all it knows, it samples a token (the first one ends the prompt;
//! a decode is the one-token case). One rule thus covers prefill chunks, decodes and the
//! recomputation after a preemption, as in vLLM v1.
//! * **Running requests first**, in running (admission) order: each gets its next decode token,
//!   or the next chunk of its prompt, while the token budget (`max_num_batched_tokens`) lasts.
//! * **Then waiting requests**, FCFS, while budget is left and fewer than `max_num_seqs` run; a
//!   request whose first chunk cannot be admitted stops admission (no skipping ahead).
//! * **KV** comes in blocks of `block_size` tokens from one pool of `num_blocks` (given, as the
//!   validation run's 2588, or derived from memory: [`KvPool::FromMemory`], `memory x
//!   utilization - weights / (TP x PP) - reserved`, over the KV bytes of a token on one GPU, KV
//!   heads split TP ways as vLLM does, the largest stage's layers). A scheduled chunk holds the
//!   blocks of `computed + chunk` tokens (vLLM's `allocate_slots`).
//! * **Admission decision:** a waiting request is admitted only when the blocks of *everything
//!   it knows* (its prompt, plus its sampled tokens after a preemption) are free, though blocks
//!   are then allocated chunk by chunk. This is vLLM 0.19's `scheduler_reserve_full_isl`, on in
//!   the validation run's configuration, and the spec's "admitted only when its prompt's blocks
//!   fit"; it keeps a long prompt from being admitted on its first chunk and preempted halfway.
//! * **Preemption (by recompute):** when a running request cannot get the blocks of its next
//!   chunk or token, the most recently admitted running request is preempted (possibly itself,
//!   which then ends the running pass), its blocks freed, its computed tokens dropped; it goes
//!   to the *front* of the waiting queue (several in one step keep their admission order) and
//!   later recomputes its prompt and sampled tokens in prefill chunks, which end with a new
//!   token. A step that preempted admits no one (vLLM's rule).
//! * **No livelock:** a request needing more blocks than the pool (`prompt + output - 1` tokens:
//!   the last token is sampled, never cached) is refused before the run starts with
//!   [`EngineError::PoolTooSmall`]. Otherwise every step makes progress: the oldest running
//!   request is never a victim while another runs, is scheduled first with a budget of at least
//!   one token, and alone it fits the pool; with nothing running, the front waiting request
//!   knows at most `prompt + output - 1` tokens, so it fits the empty pool. So the oldest running
//!   request gains a token each step and finishes; the test with a pool one block larger than a
//!   request checks it (and caps the steps, so a livelock fails rather than hangs). If the loop
//!   ever ran out of events with requests unfinished it returns [`EngineError::Stalled`].
//! * **Timestamps:** arrival (a session sub-request: its release), first scheduled (the step
//!   that admitted it first), each token at the end of the iteration that sampled it (the last
//!   stage's end), last token. No CPU time is added between iterations (the validation run used
//!   vLLM's asynchronous scheduling, which overlaps it with the GPU).
//! * **Agentic sessions:** a sub-request with `after` is released `delay_ns` after its
//!   predecessor's last token and then queues like any arrival. Arrivals due at the same time
//!   join in (time, id) order.
//!
//! # Prefix caching (decision)
//!
//! The validation run had vLLM's prefix caching on. Two of its effects differ here:
//! * **Across requests (not modelled):** a [`Workload`](crate::serve::workload::Workload)
//!   carries no token ids, so shared prefixes cannot be found. In the validation trace, 32 of
//!   the 300 prompts begin with full 16-token blocks of an earlier prompt (multi-turn ShareGPT
//!   conversations), 19,520 of its 257,239 prompt tokens (7.6%), and each hit would also need
//!   the earlier request's blocks to have survived eviction in a pool that runs 95-100% full.
//! * **A preempted request's own blocks (modelled, [`EngineConfig::prefix_caching`], on by
//!   default as in vLLM v1):** vLLM frees a preempted request's blocks into the tail of its
//!   least-recently-freed queue, last block first, with their contents; allocations evict from
//!   the head. When the request is readmitted, what survives of its prefix (full blocks, never
//!   the last token) is a hit and is not recomputed. [`BlockPool`] keeps that queue by owner.
//!   On the validation run it brings the tokens recomputed after preemptions from 174,161 to
//!   111,896, the run from 190.0 to 184.4 s, and simulated/measured mean end-to-end latency
//!   from 1.041 to 1.010.
//!
//! # Time and parallelism
//!
//! Each step is a [`Batch`](crate::serve::gpu::Batch) (prefill chunks with their cached
//! context; decodes with theirs) timed by `GpuTime::iteration` on every pipeline stage, in
//! integer nanoseconds (microseconds rounded). TP is the backend's (and the KV pool's) business.
//! **PP** as vLLM's batch queue: up to PP steps are in flight; a new one is scheduled as soon as
//! fewer are, from requests not in flight (a request in flight is neither scheduled nor
//! preempted: its next token is not known yet); stage `s` starts a step when stage `s - 1` has
//! passed it on and stage `s` has finished its previous step; the tokens come out when the
//! last stage ends. `iterations.csv` has one row per step and stage.
//!
//! # The discrete-event core (decision, with a measurement)
//!
//! The loop has two kinds of event, the next arrival (or session release) and the end of the
//! oldest step in flight, and one server; [`simulate_observed`] advances to the earlier of the
//! two. We measured the alternative the spec suggests, nexosim 1.0 (crates.io, the `Scheduler`,
//! `StepTimer` and `Arrivals` of this module in a nexosim `Model` whose `arrive` and `done`
//! inputs schedule each other through `Context::schedule_event`, a one-thread executor), on 20k
//! requests with the ShareGPT trace's lengths, Poisson at 1.5 req/s, seed 1 (496,950
//! iterations): both gave identical records; over two sessions of three rounds on the shared
//! 2-core machine our loop took 1.13-1.99 s, nexosim 1.61-2.41 s, 1.20-1.43x ours (about
//! 0.9 us more per event; the program and how to rerun it: `src/serve/engine/NEXOSIM-BENCH.md`).
//! The overhead is not prohibitive, but nexosim brings nothing a single server needs and costs: 33 more crates to compile on every CI run
//! (an asynchronous executor, futures, bincode and schemars for the models' saved state);
//! state that is not serialisable (the GPU backend, the scheduler) must live in its `Env`;
//! results and errors must leave event handlers through shared cells; and de-duplicating
//! self-scheduled events is the model's job (a first version that re-armed the arrival chain on
//! every completion ran 60x slower). **Kept: the hand-written loop.** The scheduler, timer and
//! arrivals are separate from it so that when the node grows parts with their own timelines
//! (PIM tiers, migrations overlapping attention, several instances behind a router) a
//! discrete-event engine can drive the same parts; the measurement is to be repeated then.
//!
//! # Randomness
//!
//! The engine makes no random choice (vLLM's FCFS scheduler has none): a run is a function of
//! its workload and configuration. Synthetic workloads draw everything from one seed through
//! `ChaCha8Rng` (the workload module); the same seed gives a byte-identical `requests.csv`.
//!
//! # Outputs (SERVING-SPEC §11)
//!
//! Per request: arrival, queueing delay (first scheduled - arrival), TTFT (first token -
//! arrival), TPOT ((last token - first token) / (output - 1), for outputs of two tokens or
//! more), inter-token latencies, end-to-end latency (last token - arrival), preemptions and
//! recomputed tokens. Per run ([`Summary`]): output tokens/s and requests/s over first arrival
//! to last token; mean, p50, p90, p99 of TTFT, TPOT, end-to-end and queueing (percentiles
//! interpolated between ranks, numpy's default); preemptions; GPU busy fraction.
//! `requests.csv` has LLMServingSim's columns exactly (`instance id,request id,model,input,
//! output,arrival,end_time,latency,queuing_delay,TTFT,TPOT,ITL`, times in ns, `ITL` the list
//! `[a, b, ...]`, quoted by CSV since it holds commas; TPOT rounded to whole ns, 0 for one output
//! token), then ours (`first_scheduled,first_token,preemptions,recomputed_tokens,session,turn,
//! finished`). `iterations.csv`: iteration, stage, start, duration, end (ns), decode sequences,
//! prefill sequences and tokens, running, waiting, preempted, KV blocks used and total, and the
//! GPU time breakdown (dense, attention, all-reduce, pipeline transfer, LM head; us), the parts a
//! [`NodeModel`] adds (PIM tiers, merges, links, migration, offload transfers; us, named by the
//! model) and the stage's total (its duration, us).
//! Files are written with the `csv` crate.
//!
//! # Validation (SERVING-SPEC §12; `pam bench validate`)
//!
//! The 300 ShareGPT requests of `sharegpt-llama-3.1-8b-300-sps10.jsonl` at their trace arrival
//! times, the engine of the measured run's `meta.json` (256 sequences, 2048 tokens, 2588 blocks
//! of 16, TP 1, prefix caching on), the LLMServingSim RTX 4090 bundle (per-layer times, times
//! the 32 layers by `GpuTime::iteration`). Measured figures come from `requests.jsonl` (see
//! [`validate`] for the clock). Simulated / measured: mean TTFT 66.27 / 65.46 s (1.012), p90
//! 122.3 / 121.1 s (1.010); mean TPOT 32.52 / 32.45 ms (1.002), p90 39.7 / 38.1 ms (1.042); mean
//! end-to-end 87.43 / 86.58 s (1.010), p90 143.1 / 141.6 s (1.011); duration 184.4 / 183.6 s;
//! per request, TTFT correlates at 0.998 (mean absolute error 1.1 s) and the order of first
//! scheduling is the measured one for all 300. Without the own-block prefix caching above: mean
//! TPOT 1.030, mean end-to-end 1.041. Nothing was tuned: the figures are the first run of each
//! modelling choice documented here.

mod config;
mod error;
mod kv;
mod output;
mod record;
mod scheduler;
mod sim;
pub mod validate;

pub use config::{EngineConfig, KvPool};
pub use error::EngineError;
pub use kv::BlockPool;
pub use output::{ITERATION_COLUMNS, LLMSERVINGSIM_COLUMNS, OUR_COLUMNS};
pub use record::{percentile, IterationRecord, RequestRecord, Stats, Summary};
pub use scheduler::{Phase, Scheduled, Scheduler, Step};
pub use sim::{
    simulate, simulate_node, simulate_observed, Arrivals, GpuOnly, NodeModel, Observer, RunResult, StageExtra,
    StepTimer,
};
