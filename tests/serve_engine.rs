//! The serving loop (SERVING-SPEC §5, §11, §12): vLLM v1's continuous batching, the KV pool,
//! preemption, the records and files, against hand-computed cases and invariants checked at
//! every iteration.

use std::collections::BTreeMap;
use std::path::Path;

use pam::serve::engine::{
    self, validate::MeasuredRun, BlockPool, EngineConfig, EngineError, IterationRecord, KvPool, Observer, Scheduled,
    Step,
};
use pam::serve::gpu::{
    Batch, Comm, GpuError, GpuPreset, GpuTime, IterationTime, LinkFormula, ModelShape, ServingSimBundle, Stage,
};
use pam::serve::workload::{ArrivalProcess, LengthDist, Lengths, Request, SyntheticSpec, Workload};

const BUNDLE: &str = "../shared/gpu-profiles/llmservingsim/RTX4090/meta-llama/Llama-3.1-8B/bf16";
const MEASURED: &str = "../shared/validation/vllm-0.19-rtx4090-llama-3.1-8b";

/// A GPU whose iteration takes `fixed_us` plus `per_token_us` per token of the batch.
struct FakeGpu {
    fixed_us: f64,
    per_token_us: f64,
    comm: Comm,
}

impl FakeGpu {
    fn constant(us: f64) -> FakeGpu {
        FakeGpu { fixed_us: us, per_token_us: 0.0, comm: Comm::Formula(LinkFormula::of(&rtx4090())) }
    }
}

impl GpuTime for FakeGpu {
    fn name(&self) -> String {
        "fake".into()
    }
    fn layer_dense_us(&self, _: &ModelShape, _: u32, _: u64) -> Result<f64, GpuError> {
        Ok(0.0)
    }
    fn layer_attention_us(&self, _: &ModelShape, _: u32, _: &Batch) -> Result<f64, GpuError> {
        Ok(0.0)
    }
    fn embedding_us(&self, _: &ModelShape, _: u32, _: u64) -> Result<f64, GpuError> {
        Ok(0.0)
    }
    fn lm_head_us(&self, _: &ModelShape, _: u32, _: u64, _: u64) -> Result<f64, GpuError> {
        Ok(0.0)
    }
    fn comm(&self) -> &Comm {
        &self.comm
    }
    fn iteration(&self, stage: &Stage<'_>, batch: &Batch) -> Result<IterationTime, GpuError> {
        let dense_us = self.fixed_us + self.per_token_us * batch.tokens() as f64;
        Ok(IterationTime { layers: stage.layers()?, dense_us, ..IterationTime::default() })
    }
}

fn rtx4090() -> GpuPreset {
    GpuPreset::by_name("rtx4090").expect("GPU preset")
}

fn llama8b() -> ModelShape {
    ModelShape::by_name("llama-3.1-8b").expect("model preset")
}

fn bundle() -> ServingSimBundle {
    ServingSimBundle::load(BUNDLE, &rtx4090()).expect("LLMServingSim bundle")
}

fn request(id: u64, arrival_ns: u64, prompt_tokens: u32, output_tokens: u32) -> Request {
    Request { id, arrival_ns, prompt_tokens, output_tokens, session: None }
}

fn config(max_num_batched_tokens: u32, blocks: u64) -> EngineConfig {
    EngineConfig { max_num_batched_tokens, kv_pool: KvPool::Blocks { blocks }, ..EngineConfig::default() }
}

fn synthetic(requests: usize, rate_per_s: f64, seed: u64) -> Workload {
    SyntheticSpec {
        requests,
        arrivals: ArrivalProcess::Poisson { rate_per_s },
        lengths: Lengths::Independent {
            prompt: LengthDist::Uniform { min: 1, max: 600 },
            output: LengthDist::Uniform { min: 1, max: 400 },
        },
        seed,
    }
    .generate()
    .expect("synthetic workload")
}

/// Checks the run at every iteration, from the steps alone (an account of the KV kept apart
/// from the engine's pool), and counts what happened.
#[derive(Default)]
struct Checker {
    block_size: u64,
    capacity: u64,
    pp: usize,
    /// KV tokens each request holds (after its last scheduled chunk).
    kv: BTreeMap<u64, u64>,
    /// Tokens sampled and finishes per request.
    sampled: BTreeMap<u64, u64>,
    finishes: BTreeMap<u64, u32>,
    steps: Vec<Step>,
    in_flight: usize,
    max_in_flight: usize,
    preemptions: u64,
    /// Requests admitted and neither preempted nor finished since.
    running: std::collections::BTreeSet<u64>,
    /// Fails the run past this many steps (a livelock would never end).
    max_steps: usize,
}

impl Checker {
    fn new(config: &EngineConfig, capacity: u64, max_steps: usize) -> Checker {
        Checker {
            block_size: u64::from(config.block_size),
            capacity,
            pp: config.pp as usize,
            max_steps,
            ..Checker::default()
        }
    }
}

impl Observer for Checker {
    fn scheduled(&mut self, step: &Step, pool: &BlockPool, stages: &[IterationRecord]) {
        assert!(self.steps.len() < self.max_steps, "more than {} steps: livelock", self.max_steps);
        for &p in &step.preempted {
            self.kv.insert(p, 0);
            self.preemptions += 1;
            assert!(self.running.remove(&p), "step {}: preempted {p}, which was not running", step.index);
        }
        // Running requests first, then admissions; no admission in a step that preempted.
        let mut admitting = false;
        for s in &step.items {
            assert!(s.tokens >= 1, "step {}: an empty chunk {s:?}", step.index);
            self.kv.insert(s.request, s.context + s.tokens);
            let admitted = self.running.insert(s.request);
            assert!(admitted || !admitting, "step {}: a running request after an admission", step.index);
            admitting |= admitted;
        }
        assert!(!admitting || step.preempted.is_empty(), "step {}: admitted while preempting", step.index);
        assert!(self.running.len() <= 256 && step.running == self.running.len(), "step {}", step.index);
        let blocks: u64 = self.kv.values().map(|t| t.div_ceil(self.block_size)).sum();
        assert_eq!(blocks, pool.used(), "step {}: blocks held by the running requests", step.index);
        assert_eq!(pool.used(), step.blocks_used);
        assert!(pool.used() <= self.capacity, "step {}: {} blocks of {}", step.index, pool.used(), self.capacity);
        assert_eq!(pool.capacity(), self.capacity);
        assert_eq!(stages.len(), self.pp, "one record per stage");
        self.in_flight += 1;
        self.max_in_flight = self.max_in_flight.max(self.in_flight);
        self.steps.push(step.clone());
    }

    fn completed(&mut self, step: &Step, _at_ns: u64, finished: &[u64]) {
        self.in_flight -= 1;
        for s in step.items.iter().filter(|s| s.samples) {
            *self.sampled.entry(s.request).or_default() += 1;
        }
        for &f in finished {
            *self.finishes.entry(f).or_default() += 1;
            self.kv.insert(f, 0);
            assert!(self.running.remove(&f), "finished {f}, which was not running");
        }
    }
}

fn run_checked(config: &EngineConfig, gpu: &dyn GpuTime, workload: &Workload) -> (engine::RunResult, Checker) {
    let model = llama8b();
    let capacity = config.num_blocks(&model).expect("pool");
    let mut checker = Checker::new(config, capacity, 2_000_000);
    let result = engine::simulate_observed(config, &model, gpu, workload, &mut checker).expect("run");
    (result, checker)
}

fn assert_all_finished_once(result: &engine::RunResult, checker: &Checker, workload: &Workload) {
    assert_eq!(result.requests.len(), workload.len());
    for (r, w) in result.requests.iter().zip(workload.requests()) {
        assert_eq!(r.id, w.id);
        assert_eq!(checker.finishes.get(&r.id), Some(&1), "request {} finished once", r.id);
        assert_eq!(checker.sampled.get(&r.id).copied(), Some(u64::from(w.output_tokens)), "request {}", r.id);
        assert_eq!(r.token_times_ns.len(), w.output_tokens as usize, "request {}", r.id);
        assert!(r.token_times_ns.windows(2).all(|p| p[0] < p[1]), "request {}: token times increase", r.id);
        assert!(r.arrival_ns <= r.first_scheduled_ns.expect("scheduled"));
        assert!(r.first_scheduled_ns < r.first_token_ns());
    }
    let summary = result.summary();
    assert_eq!(summary.finished, workload.len());
    assert_eq!(summary.preemptions, checker.preemptions);
}

#[test]
fn every_request_finishes_once_with_its_tokens_and_the_pool_holds() {
    let workload = synthetic(300, 40.0, 3);
    // A small pool (about 8 requests' worth) so that preemptions happen, with and without
    // prefix caching.
    for prefix_caching in [true, false] {
        let config = EngineConfig { prefix_caching, ..config(512, 400) };
        let (result, checker) = run_checked(&config, &bundle(), &workload);
        assert_all_finished_once(&result, &checker, &workload);
        assert!(checker.preemptions > 0, "the case must exercise preemption");
        let summary = result.summary();
        assert!(summary.recomputed_tokens > 0);
        for it in &result.iterations {
            assert!(it.kv_blocks_used <= 400);
            assert!(it.prefill_tokens + u64::from(it.decode_seqs) <= 512, "token budget");
            assert!(it.running <= 256);
        }
    }
}

#[test]
fn prefix_caching_saves_recomputation_of_own_blocks_only() {
    let workload = synthetic(300, 40.0, 3);
    let model = llama8b();
    let run = |prefix_caching| {
        let config = EngineConfig { prefix_caching, ..config(512, 400) };
        engine::simulate(&config, &model, &bundle(), &workload).expect("run").summary()
    };
    let (on, off) = (run(true), run(false));
    assert!(on.recomputed_tokens < off.recomputed_tokens, "{} vs {}", on.recomputed_tokens, off.recomputed_tokens);
    // Without preemption there is nothing to hit: with a pool for everything, both are equal.
    let big = |prefix_caching| {
        let config = EngineConfig { prefix_caching, ..config(2048, 1_000_000) };
        let r = engine::simulate(&config, &model, &bundle(), &workload).expect("run");
        let mut csv = Vec::new();
        r.write_requests_csv(&mut csv).expect("csv");
        (r.summary().preemptions, csv)
    };
    let (a, b) = (big(true), big(false));
    assert_eq!(a.0, 0);
    assert_eq!(a, b);
}

#[test]
fn preemption_with_a_pool_barely_larger_than_one_request_terminates() {
    // Short prompts, long outputs: many are admitted (each prompt fits), then their decodes
    // outgrow the pool. Each request needs ceil((16 + 100 - 1) / 16) = 8 blocks; the pool has 9.
    let workload = Workload::new((0..20).map(|i| request(i, 0, 16, 100)).collect()).expect("workload");
    for prefix_caching in [true, false] {
        let config = EngineConfig { prefix_caching, ..config(2048, 9) };
        let (result, checker) = run_checked(&config, &FakeGpu::constant(1000.0), &workload);
        assert_all_finished_once(&result, &checker, &workload);
        assert!(checker.preemptions > 0, "the case must exercise preemption");
        // FCFS: request i finishes before request i + 1 (the oldest running one is never the victim).
        let ends: Vec<u64> = result.requests.iter().map(|r| r.last_token_ns().expect("finished")).collect();
        assert!(ends.windows(2).all(|w| w[0] <= w[1]), "{ends:?}");
    }
}

#[test]
fn a_pool_smaller_than_one_request_is_a_clear_error() {
    let workload = Workload::new(vec![request(0, 0, 16, 10), request(1, 5, 100, 29)]).expect("workload");
    // Request 1 needs ceil((100 + 29 - 1) / 16) = 8 blocks.
    let err = engine::simulate(&config(2048, 7), &llama8b(), &FakeGpu::constant(1.0), &workload).expect_err("7 blocks");
    match &err {
        EngineError::PoolTooSmall { request, tokens, needed, blocks, .. } => {
            assert_eq!((*request, *tokens, *needed, *blocks), (1, 128, 8, 7));
        }
        other => panic!("wrong error: {other}"),
    }
    let text = err.to_string();
    assert!(text.contains("request 1") && text.contains("8 blocks") && text.contains("7 blocks"), "{text}");
    // Eight blocks are enough.
    engine::simulate(&config(2048, 8), &llama8b(), &FakeGpu::constant(1.0), &workload).expect("8 blocks");
    // A pool derived from memory that leaves nothing for KV is an error too.
    let tiny = EngineConfig {
        kv_pool: KvPool::FromMemory { memory_bytes: 8 << 30, utilization: 0.9, reserved_bytes: 0 },
        ..EngineConfig::default()
    };
    let err = engine::simulate(&tiny, &llama8b(), &FakeGpu::constant(1.0), &workload).expect_err("8 GiB");
    assert!(err.to_string().contains("no room for KV"), "{err}");
}

#[test]
fn same_seed_same_requests_csv() {
    let model = llama8b();
    let csv = |seed| {
        let workload = synthetic(200, 20.0, seed);
        let r = engine::simulate(&config(2048, 600), &model, &bundle(), &workload).expect("run");
        let mut out = Vec::new();
        r.write_requests_csv(&mut out).expect("csv");
        out
    };
    let a = csv(11);
    assert_eq!(a, csv(11), "same seed, same bytes");
    assert_ne!(a, csv(12), "another seed, another run");
}

#[test]
fn decode_first_then_chunks_within_the_token_budget() {
    // Budget 8. A (5 + 3), B (6 + 2), C (10 + 2), all at t = 0.
    let workload =
        Workload::new(vec![request(0, 0, 5, 3), request(1, 0, 6, 2), request(2, 0, 10, 2)]).expect("workload");
    let (result, checker) = run_checked(&config(8, 1000), &FakeGpu::constant(1000.0), &workload);
    let chunk = |request, context, tokens, samples, decode| Scheduled { request, context, tokens, samples, decode };
    let expected = vec![
        // A's whole prompt (samples its first token), then B's first 3 prompt tokens.
        vec![chunk(0, 0, 5, true, false), chunk(1, 0, 3, false, false)],
        // A decodes first, B finishes its prompt, C gets the 4 tokens left.
        vec![chunk(0, 5, 1, true, true), chunk(1, 3, 3, true, false), chunk(2, 0, 4, false, false)],
        // A and B decode (and finish), C's last 6 prompt tokens.
        vec![chunk(0, 6, 1, true, true), chunk(1, 6, 1, true, true), chunk(2, 4, 6, true, false)],
        // C decodes its second and last token.
        vec![chunk(2, 10, 1, true, true)],
    ];
    let got: Vec<Vec<Scheduled>> = checker.steps.iter().map(|s| s.items.clone()).collect();
    assert_eq!(got, expected);
    assert!(checker.steps.iter().all(|s| s.tokens() <= 8));
    let it: Vec<(u32, u32, u64)> =
        result.iterations.iter().map(|i| (i.decode_seqs, i.prefill_seqs, i.prefill_tokens)).collect();
    assert_eq!(it, [(0, 2, 8), (1, 2, 7), (2, 1, 6), (1, 0, 0)]);

    // max_num_seqs 1: B waits for A to finish although the budget has room.
    let one = EngineConfig { max_num_seqs: 1, ..config(8, 1000) };
    let (_, checker) = run_checked(&one, &FakeGpu::constant(1000.0), &workload);
    let first: Vec<Vec<u64>> = checker.steps.iter().map(|s| s.items.iter().map(|c| c.request).collect()).collect();
    assert_eq!(first[..4], [vec![0], vec![0], vec![0], vec![1]]);
}

#[test]
fn ttft_tpot_and_latency_definitions() {
    const MS: u64 = 1_000_000;
    // 10 ms per iteration. R0 arrives at 0 (4 + 4 tokens), R1 at 15 ms (4 + 2), during R0's
    // second iteration: it is scheduled at 20 ms.
    let workload = Workload::new(vec![request(0, 0, 4, 4), request(1, 15 * MS, 4, 2)]).expect("workload");
    let (result, _) = run_checked(&config(2048, 1000), &FakeGpu::constant(10_000.0), &workload);
    let (r0, r1) = (&result.requests[0], &result.requests[1]);
    assert_eq!(r0.token_times_ns, [10 * MS, 20 * MS, 30 * MS, 40 * MS]);
    assert_eq!(r1.token_times_ns, [30 * MS, 40 * MS]);
    assert_eq!((r0.queuing_delay_ns(), r1.queuing_delay_ns()), (Some(0), Some(5 * MS)));
    assert_eq!((r0.ttft_ns(), r1.ttft_ns()), (Some(10 * MS), Some(15 * MS)));
    assert_eq!((r0.latency_ns(), r1.latency_ns()), (Some(40 * MS), Some(25 * MS)));
    // TPOT: (last - first) / (output - 1).
    assert_eq!((r0.tpot_ns(), r1.tpot_ns()), (Some(10.0 * MS as f64), Some(10.0 * MS as f64)));
    assert_eq!(r0.itl_ns().collect::<Vec<_>>(), [10 * MS; 3]);

    let s = result.summary();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
    assert!(close(s.ttft_s.mean, 0.0125) && close(s.ttft_s.p50, 0.0125), "{:?}", s.ttft_s);
    assert!(close(s.latency_s.mean, 0.0325) && close(s.tpot_s.mean, 0.01), "{s:?}");
    assert!(close(s.elapsed_s, 0.04) && close(s.output_tokens_per_s, 150.0), "{s:?}");
    assert_eq!(s.iterations, 4);

    let mut csv = Vec::new();
    result.write_requests_csv(&mut csv).expect("csv");
    let text = String::from_utf8(csv).expect("utf-8");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "instance id,request id,model,input,output,arrival,end_time,latency,queuing_delay,TTFT,TPOT,ITL,\
             first_scheduled,first_token,preemptions,recomputed_tokens,session,turn,finished"
        )
    );
    assert_eq!(
        lines.next(),
        Some(
            "0,0,meta-llama/Llama-3.1-8B,4,4,0,40000000,40000000,0,10000000,10000000,\
             \"[10000000, 10000000, 10000000]\",0,10000000,0,0,,,true"
        )
    );
    assert_eq!(
        lines.next(),
        Some(
            "0,1,meta-llama/Llama-3.1-8B,4,2,15000000,40000000,25000000,5000000,15000000,10000000,[10000000],\
             20000000,30000000,0,0,,,true"
        )
    );
    assert_eq!(lines.next(), None);

    let mut iters = Vec::new();
    result.write_iterations_csv(&mut iters).expect("csv");
    let iters = String::from_utf8(iters).expect("utf-8");
    assert_eq!(iters.lines().count(), 5, "a header and 4 iterations");
    assert!(iters.lines().nth(3).is_some_and(|l| l.starts_with("2,0,20000000,10000000,30000000,1,1,4,")), "{iters}");
}

#[test]
fn session_sub_requests_arrive_after_their_predecessor_plus_the_tool_time() {
    let text = "{\"arrival_time_ns\": 0, \"sub_requests\": [{\"input_toks\": 8, \"output_toks\": 3, \
                \"tool_duration_ns\": 7000000}, {\"input_toks\": 8, \"output_toks\": 2}]}\n\
                {\"input_toks\": 8, \"output_toks\": 2, \"arrival_time_ns\": 0}\n";
    let workload = Workload::parse("s.jsonl", text.as_bytes(), None).expect("sessions");
    let (result, checker) = run_checked(&config(2048, 1000), &FakeGpu::constant(10_000.0), &workload);
    assert_all_finished_once(&result, &checker, &workload);
    let first = &result.requests[0];
    let second = &result.requests[1];
    assert_eq!(second.session, Some((0, 1)));
    assert_eq!(second.arrival_ns, first.last_token_ns().expect("finished") + 7_000_000);
    assert!(second.first_scheduled_ns >= Some(second.arrival_ns));
}

#[test]
fn pipeline_parallel_keeps_pp_batches_in_flight_and_stages_in_order() {
    let workload = synthetic(100, 50.0, 5);
    let config = EngineConfig { pp: 2, ..config(1024, 2000) };
    let (result, checker) = run_checked(&config, &bundle(), &workload);
    assert_all_finished_once(&result, &checker, &workload);
    assert_eq!(checker.max_in_flight, 2, "two batches in flight at most, and at times two");
    // A request is never in two batches in flight.
    let mut busy_until: BTreeMap<u64, u64> = BTreeMap::new();
    let end: BTreeMap<u64, u64> =
        result.iterations.iter().filter(|i| i.stage == 1).map(|i| (i.iteration, i.end_ns())).collect();
    let start: BTreeMap<u64, u64> =
        result.iterations.iter().filter(|i| i.stage == 0).map(|i| (i.iteration, i.start_ns)).collect();
    for step in &checker.steps {
        for s in &step.items {
            if let Some(&until) = busy_until.get(&s.request) {
                assert!(step.at_ns >= until, "request {} rescheduled while in flight", s.request);
            }
            busy_until.insert(s.request, end[&step.index]);
        }
    }
    // Each stage runs one batch at a time, and a batch passes stage 0 before stage 1.
    for stage in [0, 1] {
        let mut prev_end = 0;
        for i in result.iterations.iter().filter(|i| i.stage == stage) {
            assert!(i.start_ns >= prev_end);
            prev_end = i.end_ns();
        }
    }
    for i in result.iterations.iter().filter(|i| i.stage == 1) {
        let stage0 = result.iterations.iter().find(|j| j.stage == 0 && j.iteration == i.iteration).expect("stage 0");
        assert!(i.start_ns >= stage0.end_ns() && start[&i.iteration] <= i.start_ns);
        assert!(i.pp_transfer_us == 0.0 && stage0.pp_transfer_us > 0.0, "stage 0 sends, the last stage samples");
    }
}

#[test]
fn pool_from_gpu_memory() {
    let model = llama8b();
    // Llama-3.1-8B: 8,030,261,248 parameters in BF16; 128 KiB of KV per token (SERVING-SPEC §3).
    let weights: f64 = 2.0 * 8_030_261_248.0;
    let config = EngineConfig { kv_pool: KvPool::from_gpu(&rtx4090(), 0.9, 0), ..EngineConfig::default() };
    let expected = ((24564.0 * 1048576.0 * 0.9 - weights) / (16.0 * 131072.0)).floor() as u64;
    assert_eq!(config.kv_bytes_per_token_per_gpu(&model).expect("bytes"), 131072);
    assert_eq!(config.num_blocks(&model).expect("blocks"), expected);
    // TP 2 halves the KV heads and the weights per GPU.
    let tp2 = EngineConfig { tp: 2, ..config.clone() };
    assert_eq!(tp2.kv_bytes_per_token_per_gpu(&model).expect("bytes"), 65536);
    let expected2 = ((24564.0 * 1048576.0 * 0.9 - weights / 2.0) / (16.0 * 65536.0)).floor() as u64;
    assert_eq!(tp2.num_blocks(&model).expect("blocks"), expected2);
    for bad in [
        EngineConfig { max_num_seqs: 0, ..EngineConfig::default() },
        EngineConfig { max_num_batched_tokens: 0, ..EngineConfig::default() },
        EngineConfig { kv_pool: KvPool::from_gpu(&rtx4090(), 1.5, 0), ..EngineConfig::default() },
        EngineConfig { pp: 33, ..EngineConfig::default() },
    ] {
        assert!(bad.num_blocks(&model).is_err() || bad.kv_bytes_per_token_per_gpu(&model).is_err(), "{bad:?}");
    }
}

#[test]
fn measured_run_reproduces_the_published_means() {
    let run = MeasuredRun::load(MEASURED).expect("measured run");
    assert_eq!((run.config.max_num_seqs, run.config.max_num_batched_tokens), (256, 2048));
    assert_eq!(run.config.kv_pool, KvPool::Blocks { blocks: 2588 });
    assert!(run.config.prefix_caching);
    let m = run.summary();
    // The README's figures: TTFT 65.46 s, TPOT 32.4 ms, end-to-end 86.58 s.
    assert_eq!(m.requests, 300);
    assert!((m.ttft_s.mean - 65.46).abs() < 0.005, "{}", m.ttft_s.mean);
    assert!((m.tpot_s.mean - 0.0324).abs() < 0.00005, "{}", m.tpot_s.mean);
    assert!((m.latency_s.mean - 86.58).abs() < 0.005, "{}", m.latency_s.mean);
    let trace = Workload::read("../shared/traces/sharegpt-llama-3.1-8b-300-sps10.jsonl").expect("trace");
    run.check_workload(&trace, "trace").expect("the measured run served this trace");
    let other = trace.clone().limit(299);
    assert!(run.check_workload(&other, "trace").is_err());
    assert!(MeasuredRun::load(Path::new(MEASURED).join("missing")).is_err());
}

#[test]
fn a_preempted_request_recomputes_only_what_was_evicted() {
    // A and B: 32 + 40 tokens each (5 blocks at most), a pool of 6 blocks. Both decode until
    // A's 49th token needs a 4th block: B (48 tokens, 3 full blocks) is preempted and leaves its
    // blocks cached; A's growth evicts two of them (its 4th and 5th blocks), so when A finishes
    // B is readmitted with one block (16 tokens) hit and recomputes the other 33 of its 49.
    let requests = [request(0, 0, 32, 40), request(1, 0, 32, 40)];
    for (prefix_caching, context) in [(true, 16), (false, 0)] {
        let config = EngineConfig { prefix_caching, ..config(2048, 6) };
        let mut sched = engine::Scheduler::new(&config, 6, &requests).expect("scheduler");
        sched.arrive(0, 0).expect("arrive");
        sched.arrive(1, 0).expect("arrive");
        let mut steps = Vec::new();
        let mut now = 0;
        while let Some(step) = sched.schedule(now) {
            now += 1;
            sched.complete(&step, now);
            steps.push(step);
            assert!(steps.len() < 1000);
        }
        assert_eq!(sched.unfinished(), 0);
        let preempting: Vec<&Step> = steps.iter().filter(|s| !s.preempted.is_empty()).collect();
        assert_eq!(preempting.len(), 1);
        assert_eq!(preempting[0].preempted, [1]);
        assert_eq!(
            preempting[0].items,
            [Scheduled { request: 0, context: 48, tokens: 1, samples: true, decode: true }]
        );
        let readmit = steps.iter().find(|s| s.index > preempting[0].index && s.items.iter().any(|c| c.request == 1));
        let b = readmit.expect("B readmitted").items.iter().find(|c| c.request == 1).copied().expect("B");
        assert_eq!(b, Scheduled { request: 1, context, tokens: 49 - context, samples: true, decode: false });
        assert_eq!(sched.pool().used(), 0);
    }
}
