//! The event loop: arrivals (and session releases), steps scheduled while fewer than PP are
//! in flight, each step timed stage by stage on the GPU time backend, completions.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use super::config::EngineConfig;
use super::error::EngineError;
use super::kv::BlockPool;
use super::record::{IterationRecord, RequestRecord, Summary};
use super::scheduler::{Scheduler, Step};
use crate::serve::gpu::{AttentionOn, GpuTime, IterationTime, ModelShape, Stage};
use crate::serve::workload::Workload;

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The model's name (its Hugging Face name when it has one).
    pub model: String,
    /// The GPU time backend's name.
    pub backend: String,
    pub config: EngineConfig,
    /// The KV pool's size in blocks.
    pub num_blocks: u64,
    /// Every request, in workload order.
    pub requests: Vec<RequestRecord>,
    /// Every iteration on every stage, in scheduling order.
    pub iterations: Vec<IterationRecord>,
}

impl RunResult {
    pub fn summary(&self) -> Summary {
        Summary::of(&self.requests, &self.iterations)
    }
}

/// Watches a run step by step (tests check invariants here); every method does nothing by
/// default.
pub trait Observer {
    /// A step was scheduled: `pool` as it is with the step's blocks allocated, `stages` its
    /// iteration records (one per pipeline stage).
    fn scheduled(&mut self, _step: &Step, _pool: &BlockPool, _stages: &[IterationRecord]) {}
    /// A step's tokens came out at `at_ns`; `finished` the requests it ended.
    fn completed(&mut self, _step: &Step, _at_ns: u64, _finished: &[u64]) {}
}

impl Observer for () {}

/// What the node adds to a step beyond the GPU time backend: where attention runs, the KV
/// tiers, migrations, offload transfers (a serving system, `crate::serve::system`). The engine
/// tells it about every step it schedules and every request that finishes.
pub trait NodeModel {
    /// Where the GPU backend times attention.
    fn attention_on(&self) -> AttentionOn;
    /// The names of the parts [`Self::step`] returns, in its order (the extra columns of
    /// `iterations.csv`).
    fn parts(&self) -> Vec<Arc<str>>;
    /// A step was scheduled at `now_ns`: the model updates its state (KV placement, selection,
    /// migrations) and returns, per pipeline stage, its extra parts given the stage's GPU time.
    fn step(&mut self, step: &Step, now_ns: u64, gpu: &[IterationTime]) -> Result<Vec<StageExtra>, EngineError>;
    /// Requests that produced their last token.
    fn finished(&mut self, _ids: &[u64]) {}
}

/// What a node model adds to one stage of a step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StageExtra {
    /// Microseconds of each part, in [`NodeModel::parts`] order (busy times, overlapped or not).
    pub parts_us: Vec<f64>,
    /// What the stage's duration is, microseconds, once the parts are overlapped with the GPU
    /// work as the system allows (at least the GPU time).
    pub stage_us: f64,
}

/// The GPU alone: attention on the GPU, nothing added.
pub struct GpuOnly;

impl NodeModel for GpuOnly {
    fn attention_on(&self) -> AttentionOn {
        AttentionOn::Gpu
    }

    fn parts(&self) -> Vec<Arc<str>> {
        Vec::new()
    }

    fn step(&mut self, _step: &Step, _now_ns: u64, gpu: &[IterationTime]) -> Result<Vec<StageExtra>, EngineError> {
        Ok(gpu.iter().map(|t| StageExtra { parts_us: Vec::new(), stage_us: t.total_us() }).collect())
    }
}

/// Times steps on a GPU time backend and a node model: one
/// [`crate::serve::gpu::IterationTime`] per pipeline stage, plus the node's parts.
pub struct StepTimer<'a> {
    model: &'a ModelShape,
    gpu: &'a dyn GpuTime,
    tp: u32,
    pp: u32,
    parts: Vec<Arc<str>>,
    /// When each stage is next free, ns.
    stage_free: Vec<u64>,
}

impl<'a> StepTimer<'a> {
    pub fn new(
        config: &EngineConfig,
        model: &'a ModelShape,
        gpu: &'a dyn GpuTime,
        node: &dyn NodeModel,
    ) -> Result<Self, EngineError> {
        config.validate()?;
        for index in 0..config.pp {
            Stage { model, tp: config.tp, pp: config.pp, index, attention: AttentionOn::Gpu }.layers()?;
        }
        Ok(StepTimer {
            model,
            gpu,
            tp: config.tp,
            pp: config.pp,
            parts: node.parts(),
            stage_free: vec![0; config.pp as usize],
        })
    }

    /// Runs `step`, scheduled at `now`, through the stages (each starts when the previous stage
    /// has passed the step on and it has finished its previous step), appends one record per
    /// stage to `out`, and returns when the last stage is done.
    pub fn place(
        &mut self,
        step: &Step,
        now_ns: u64,
        node: &mut dyn NodeModel,
        out: &mut Vec<IterationRecord>,
    ) -> Result<u64, EngineError> {
        let batch = step.batch();
        let attention = node.attention_on();
        let gpu = (0..self.pp)
            .map(|index| {
                let stage = Stage { model: self.model, tp: self.tp, pp: self.pp, index, attention };
                self.gpu.iteration(&stage, &batch)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let extra = node.step(step, now_ns, &gpu)?;
        let mut ready = now_ns;
        for (index, (t, x)) in (0..self.pp).zip(gpu.iter().zip(extra)) {
            let us = x.stage_us;
            if !(us.is_finite() && us >= 0.0) {
                return Err(EngineError::BadTime { iteration: step.index, stage: index, us });
            }
            let duration_ns = (us * 1e3).round() as u64;
            let free = &mut self.stage_free[index as usize];
            let start_ns = ready.max(*free);
            *free = start_ns + duration_ns;
            ready = *free;
            let narrow = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
            out.push(IterationRecord {
                iteration: step.index,
                stage: index,
                start_ns,
                duration_ns,
                decode_seqs: narrow(step.decode_seqs()),
                prefill_seqs: narrow(step.prefill_seqs()),
                prefill_tokens: step.prefill_tokens(),
                running: narrow(step.running),
                waiting: narrow(step.waiting),
                preempted: narrow(step.preempted.len()),
                kv_blocks_used: step.blocks_used,
                dense_us: t.dense_us,
                attention_us: t.attention_us,
                all_reduce_us: t.all_reduce_us,
                pp_transfer_us: t.pp_transfer_us,
                lm_head_us: t.lm_head_us,
                extra: self.parts.iter().cloned().zip(x.parts_us).collect(),
            });
        }
        Ok(ready)
    }
}

/// When requests arrive: requests without a dependency at their arrival times, session
/// sub-requests when released (their predecessor's last token plus the tool delay). Due
/// requests come out ordered by (time, id).
pub struct Arrivals {
    /// Requests without a dependency, by (arrival, id).
    timed: Vec<(u64, u64)>,
    next: usize,
    released: BinaryHeap<Reverse<(u64, u64)>>,
    /// For each request, the sub-requests that wait for it and their delays.
    dependents: Vec<Vec<(u64, u64)>>,
}

impl Arrivals {
    pub fn new(workload: &Workload) -> Arrivals {
        let requests = workload.requests();
        let mut timed: Vec<(u64, u64)> =
            requests.iter().filter(|r| r.after().is_none()).map(|r| (r.arrival_ns, r.id)).collect();
        timed.sort_unstable();
        let mut dependents = vec![Vec::new(); requests.len()];
        for r in requests {
            if let Some(a) = r.after() {
                if let Some(d) = usize::try_from(a.request).ok().and_then(|i| dependents.get_mut(i)) {
                    d.push((r.id, a.delay_ns));
                }
            }
        }
        Arrivals { timed, next: 0, released: BinaryHeap::new(), dependents }
    }

    /// The next arrival time, if any is known.
    pub fn next_time(&self) -> Option<u64> {
        let timed = self.timed.get(self.next).map(|t| t.0);
        let released = self.released.peek().map(|r| r.0 .0);
        timed.into_iter().chain(released).min()
    }

    /// The requests due by `now`, ordered by (time, id).
    pub fn pop_due(&mut self, now_ns: u64) -> Vec<u64> {
        let mut due = Vec::new();
        while self.timed.get(self.next).is_some_and(|t| t.0 <= now_ns) {
            due.push(self.timed[self.next]);
            self.next += 1;
        }
        while self.released.peek().is_some_and(|r| r.0 .0 <= now_ns) {
            if let Some(Reverse(r)) = self.released.pop() {
                due.push(r);
            }
        }
        due.sort_unstable();
        due.into_iter().map(|d| d.1).collect()
    }

    /// Request `id` finished at `at`: its dependents are released after their delays.
    pub fn finished(&mut self, id: u64, at_ns: u64) {
        let deps = usize::try_from(id).ok().and_then(|i| self.dependents.get_mut(i)).map(std::mem::take);
        for (dep, delay) in deps.unwrap_or_default() {
            self.released.push(Reverse((at_ns.saturating_add(delay), dep)));
        }
    }
}

/// Serves `workload` on one node: `model` timed by `gpu` (attention on the GPU), under
/// `config`. See the module documentation of [`super`] for the rules.
pub fn simulate(
    config: &EngineConfig,
    model: &ModelShape,
    gpu: &dyn GpuTime,
    workload: &Workload,
) -> Result<RunResult, EngineError> {
    simulate_observed(config, model, gpu, workload, &mut ())
}

/// [`simulate`], telling `observer` about every step.
pub fn simulate_observed(
    config: &EngineConfig,
    model: &ModelShape,
    gpu: &dyn GpuTime,
    workload: &Workload,
    observer: &mut dyn Observer,
) -> Result<RunResult, EngineError> {
    let num_blocks = config.num_blocks(model)?;
    simulate_node(config, num_blocks, model, gpu, &mut GpuOnly, workload, observer)
}

/// [`simulate_observed`] on a node model with a KV pool of `num_blocks` blocks (the node's
/// tiers decide it, not the GPU memory alone).
pub fn simulate_node(
    config: &EngineConfig,
    num_blocks: u64,
    model: &ModelShape,
    gpu: &dyn GpuTime,
    node: &mut dyn NodeModel,
    workload: &Workload,
    observer: &mut dyn Observer,
) -> Result<RunResult, EngineError> {
    let mut sched = Scheduler::new(config, num_blocks, workload.requests())?;
    let mut timer = StepTimer::new(config, model, gpu, node)?;
    let mut arrivals = Arrivals::new(workload);
    let mut iterations = Vec::new();
    let mut in_flight: VecDeque<(Step, u64)> = VecDeque::new();
    let mut now = 0;
    loop {
        for id in arrivals.pop_due(now) {
            sched.arrive(id, now)?;
        }
        while in_flight.len() < config.pp as usize {
            let Some(step) = sched.schedule(now) else { break };
            let first = iterations.len();
            let done = timer.place(&step, now, node, &mut iterations)?;
            observer.scheduled(&step, sched.pool(), &iterations[first..]);
            in_flight.push_back((step, done));
        }
        let Some(next) = arrivals.next_time().into_iter().chain(in_flight.front().map(|f| f.1)).min() else { break };
        now = now.max(next);
        while in_flight.front().is_some_and(|f| f.1 <= now) {
            let Some((step, done)) = in_flight.pop_front() else { break };
            let finished = sched.complete(&step, done);
            for &id in &finished {
                arrivals.finished(id, done);
            }
            node.finished(&finished);
            observer.completed(&step, done, &finished);
        }
    }
    if sched.unfinished() > 0 {
        return Err(EngineError::Stalled {
            now_ns: now,
            unfinished: sched.unfinished(),
            waiting: sched.waiting(),
            running: sched.running(),
        });
    }
    Ok(RunResult {
        model: model.hf_name.clone().unwrap_or_else(|| model.name.clone()),
        backend: gpu.name(),
        config: config.clone(),
        num_blocks,
        requests: sched.records(),
        iterations,
    })
}
