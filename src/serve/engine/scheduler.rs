//! vLLM v1's scheduler (FCFS, chunked prefill, preemption by recompute) as a state machine:
//! the event loop tells it what [`arrive`](Scheduler::arrive)s, asks it for the next
//! [`Step`] ([`schedule`](Scheduler::schedule)) and tells it when a step's tokens are out
//! ([`complete`](Scheduler::complete)). It keeps no clock of its own and makes no random
//! choice. The rules are in the module documentation of [`super`].

use std::collections::VecDeque;

use super::config::EngineConfig;
use super::error::EngineError;
use super::kv::BlockPool;
use super::record::RequestRecord;
use crate::serve::gpu::{Batch, PrefillChunk};
use crate::serve::workload::Request;

/// One request's share of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheduled {
    pub request: u64,
    /// Tokens already in its KV cache before this step.
    pub context: u64,
    /// Tokens computed in this step (1 for a decode).
    pub tokens: u64,
    /// The step ends the request's known tokens (its prompt, or prompt and generated tokens
    /// after a preemption): it samples a new token.
    pub samples: bool,
    /// A decode: one token past the prompt (timed as a decode by the attention backend).
    pub decode: bool,
}

/// One scheduled iteration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 0, 1, 2, ... in scheduling order.
    pub index: u64,
    /// When it was scheduled, ns.
    pub at_ns: u64,
    /// Running requests in running order, then newly admitted ones in admission order.
    pub items: Vec<Scheduled>,
    /// Requests preempted while this step was scheduled, in the order they were preempted.
    pub preempted: Vec<u64>,
    /// KV blocks in use once the step's blocks are allocated.
    pub blocks_used: u64,
    /// Requests running and waiting once the step is scheduled.
    pub running: usize,
    pub waiting: usize,
}

impl Step {
    /// The step as the GPU time backends see it.
    pub fn batch(&self) -> Batch {
        let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let mut batch = Batch::default();
        for s in &self.items {
            if s.decode {
                batch.decodes.push(narrow(s.context));
            } else {
                batch.prefills.push(PrefillChunk {
                    tokens: narrow(s.tokens),
                    context: narrow(s.context),
                    last: s.samples,
                });
            }
        }
        batch
    }

    pub fn decode_seqs(&self) -> usize {
        self.items.iter().filter(|s| s.decode).count()
    }

    pub fn prefill_seqs(&self) -> usize {
        self.items.iter().filter(|s| !s.decode).count()
    }

    pub fn prefill_tokens(&self) -> u64 {
        self.items.iter().filter(|s| !s.decode).map(|s| s.tokens).sum()
    }

    /// Tokens of the step (prefill chunk tokens plus one per decode).
    pub fn tokens(&self) -> u64 {
        self.items.iter().map(|s| s.tokens).sum()
    }
}

/// Where a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not arrived yet (or, for a session's sub-request, not released yet).
    Pending,
    Waiting,
    Running,
    Finished,
}

#[derive(Clone, Debug)]
struct Slot {
    request: Request,
    phase: Phase,
    arrival_ns: Option<u64>,
    /// Tokens in the KV cache (computed).
    computed: u64,
    /// Output tokens sampled so far.
    generated: u64,
    /// KV blocks held.
    blocks: u64,
    /// In a step not completed yet (pipeline parallelism): not schedulable, not preemptible.
    in_flight: bool,
    first_scheduled_ns: Option<u64>,
    token_times_ns: Vec<u64>,
    preemptions: u32,
    recomputed_tokens: u64,
    /// Tokens whose KV the last preemption dropped (settled at readmission, less cache hits).
    dropped: u64,
}

impl Slot {
    /// Tokens the request knows: its prompt and the tokens it has sampled.
    fn known(&self) -> u64 {
        u64::from(self.request.prompt_tokens) + self.generated
    }
}

/// vLLM v1's scheduler over one workload's requests.
#[derive(Clone, Debug)]
pub struct Scheduler {
    max_num_seqs: usize,
    max_num_batched_tokens: u64,
    prefix_caching: bool,
    pool: BlockPool,
    slots: Vec<Slot>,
    waiting: VecDeque<usize>,
    /// In admission order: the last is the most recently admitted.
    running: Vec<usize>,
    steps: u64,
    unfinished: usize,
}

impl Scheduler {
    /// A scheduler for `requests` (ids 0, 1, ... as a [`crate::serve::workload::Workload`] has
    /// them) with a pool of `num_blocks` blocks. Refuses a pool that cannot hold one of the
    /// requests alone ([`EngineError::PoolTooSmall`]).
    pub fn new(config: &EngineConfig, num_blocks: u64, requests: &[Request]) -> Result<Scheduler, EngineError> {
        config.validate()?;
        if num_blocks == 0 {
            return Err(EngineError::invalid("KV pool", "0 blocks; allowed: at least 1"));
        }
        let pool = BlockPool::new(num_blocks, config.block_size);
        for (i, r) in requests.iter().enumerate() {
            if r.id != i as u64 {
                return Err(EngineError::invalid(
                    format!("request {i}"),
                    format!("id {}; allowed: ids 0, 1, ...", r.id),
                ));
            }
            if r.prompt_tokens == 0 || r.output_tokens == 0 {
                return Err(EngineError::invalid(format!("request {i}"), "a length of 0 tokens; allowed: at least 1"));
            }
            let tokens = u64::from(r.prompt_tokens) + u64::from(r.output_tokens) - 1;
            let needed = pool.blocks_for(tokens);
            if needed > num_blocks {
                return Err(EngineError::PoolTooSmall {
                    request: r.id,
                    prompt: r.prompt_tokens,
                    output: r.output_tokens,
                    tokens,
                    needed,
                    blocks: num_blocks,
                    block_size: config.block_size,
                });
            }
        }
        let slots = requests
            .iter()
            .map(|&request| Slot {
                request,
                phase: Phase::Pending,
                arrival_ns: None,
                computed: 0,
                generated: 0,
                blocks: 0,
                in_flight: false,
                first_scheduled_ns: None,
                token_times_ns: Vec::new(),
                preemptions: 0,
                recomputed_tokens: 0,
                dropped: 0,
            })
            .collect();
        Ok(Scheduler {
            max_num_seqs: config.max_num_seqs as usize,
            max_num_batched_tokens: u64::from(config.max_num_batched_tokens),
            prefix_caching: config.prefix_caching,
            pool,
            slots,
            waiting: VecDeque::new(),
            running: Vec::new(),
            steps: 0,
            unfinished: requests.len(),
        })
    }

    pub fn pool(&self) -> &BlockPool {
        &self.pool
    }

    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Requests not finished yet.
    pub fn unfinished(&self) -> usize {
        self.unfinished
    }

    /// Where request `id` is (`None`: no such request).
    pub fn phase(&self, id: u64) -> Option<Phase> {
        self.slot(id).map(|s| s.phase)
    }

    /// The request of this id.
    pub fn request(&self, id: u64) -> Option<&Request> {
        self.slot(id).map(|s| &s.request)
    }

    fn slot(&self, id: u64) -> Option<&Slot> {
        usize::try_from(id).ok().and_then(|i| self.slots.get(i))
    }

    /// Request `id` arrives at `now`: it joins the back of the waiting queue.
    pub fn arrive(&mut self, id: u64, now_ns: u64) -> Result<(), EngineError> {
        let slot = usize::try_from(id).ok().and_then(|i| self.slots.get_mut(i).map(|s| (i, s)));
        match slot {
            Some((i, s)) if s.phase == Phase::Pending => {
                s.phase = Phase::Waiting;
                s.arrival_ns = Some(now_ns);
                self.waiting.push_back(i);
                Ok(())
            }
            Some((_, s)) => {
                Err(EngineError::invalid(format!("arrival of request {id}"), format!("it is {:?}", s.phase)))
            }
            None => Err(EngineError::invalid(format!("arrival of request {id}"), "no such request")),
        }
    }

    /// Schedules the next iteration at `now`, vLLM v1's way: first every running request not in
    /// flight in running order (its next decode token, or its next prefill chunk), preempting
    /// the most recently admitted running request whenever one cannot get its blocks; then, if
    /// nothing was preempted, waiting requests in FCFS order while the token budget, the
    /// sequence limit and the pool (the whole known sequence must fit) allow. `None` when
    /// nothing can be scheduled.
    pub fn schedule(&mut self, now_ns: u64) -> Option<Step> {
        let mut budget = self.max_num_batched_tokens;
        let mut items = Vec::new();
        let mut preempted = Vec::new();
        let mut i = 0;
        while i < self.running.len() && budget > 0 {
            let id = self.running[i];
            if self.slots[id].in_flight {
                i += 1;
                continue;
            }
            let (context, known) = (self.slots[id].computed, self.slots[id].known());
            let tokens = (known - context).min(budget);
            let got_blocks = loop {
                if self.pool.grow(&mut self.slots[id].blocks, context + tokens) {
                    break true;
                }
                // The request at `i` is not in flight, so a victim exists at `i` or after it.
                let Some(j) = self.running.iter().rposition(|&r| !self.slots[r].in_flight) else { break false };
                let victim = self.running.remove(j);
                self.preempt(victim);
                preempted.push(victim as u64);
                if victim == id {
                    break false;
                }
            };
            if !got_blocks {
                break;
            }
            items.push(self.take(id, context, tokens, known));
            budget -= tokens;
            i += 1;
        }
        if preempted.is_empty() {
            while budget > 0 && self.running.len() < self.max_num_seqs {
                let Some(&id) = self.waiting.front() else { break };
                let known = self.slots[id].known();
                if self.pool.blocks_for(known) > self.pool.free() {
                    break;
                }
                // Prefix caching: what is left of its own blocks since its preemption (full
                // blocks only, and never the last token, which must be computed to sample).
                let mut context = 0;
                if self.prefix_caching {
                    let max_hits = (known - 1) / u64::from(self.pool.block_size());
                    let hits = self.pool.take_cached(&mut self.slots[id].blocks, id as u64, max_hits);
                    context = hits * u64::from(self.pool.block_size());
                }
                let tokens = (known - context).min(budget);
                if !self.pool.grow(&mut self.slots[id].blocks, context + tokens) {
                    // Cannot happen (the whole sequence fits), but leave the pool as it was.
                    let slot = &mut self.slots[id];
                    self.pool.release_cached(&mut slot.blocks, id as u64, context / u64::from(self.pool.block_size()));
                    break;
                }
                self.waiting.pop_front();
                self.running.push(id);
                let slot = &mut self.slots[id];
                slot.phase = Phase::Running;
                slot.first_scheduled_ns.get_or_insert(now_ns);
                slot.computed = context;
                slot.recomputed_tokens += slot.dropped.saturating_sub(context);
                slot.dropped = 0;
                items.push(self.take(id, context, tokens, known));
                budget -= tokens;
            }
        }
        if items.is_empty() {
            return None;
        }
        let step = Step {
            index: self.steps,
            at_ns: now_ns,
            items,
            preempted,
            blocks_used: self.pool.used(),
            running: self.running.len(),
            waiting: self.waiting.len(),
        };
        self.steps += 1;
        Some(step)
    }

    fn take(&mut self, id: usize, context: u64, tokens: u64, known: u64) -> Scheduled {
        let slot = &mut self.slots[id];
        slot.in_flight = true;
        let prompt = u64::from(slot.request.prompt_tokens);
        Scheduled {
            request: id as u64,
            context,
            tokens,
            samples: context + tokens == known,
            decode: tokens == 1 && context >= prompt,
        }
    }

    fn preempt(&mut self, id: usize) {
        let slot = &mut self.slots[id];
        if self.prefix_caching {
            let full = slot.computed / u64::from(self.pool.block_size());
            self.pool.release_cached(&mut slot.blocks, id as u64, full);
        } else {
            self.pool.release(&mut slot.blocks);
        }
        slot.dropped = slot.computed;
        slot.computed = 0;
        slot.phase = Phase::Waiting;
        slot.preemptions += 1;
        self.waiting.push_front(id);
    }

    /// The step's tokens are out at `now`: chunks are in the KV cache, sampling requests have a
    /// new token, and those with all their output tokens finish and free their blocks. Returns
    /// the requests that finished, in the step's order.
    pub fn complete(&mut self, step: &Step, now_ns: u64) -> Vec<u64> {
        let mut finished = Vec::new();
        for s in &step.items {
            let Some(slot) = usize::try_from(s.request).ok().and_then(|i| self.slots.get_mut(i)) else { continue };
            if !slot.in_flight || slot.phase != Phase::Running {
                continue;
            }
            slot.in_flight = false;
            slot.computed += s.tokens;
            if s.samples {
                slot.generated += 1;
                slot.token_times_ns.push(now_ns);
                if slot.generated >= u64::from(slot.request.output_tokens) {
                    self.pool.release(&mut slot.blocks);
                    slot.phase = Phase::Finished;
                    self.unfinished -= 1;
                    finished.push(s.request);
                }
            }
        }
        if !finished.is_empty() {
            let slots = &self.slots;
            self.running.retain(|&r| slots[r].phase == Phase::Running);
        }
        finished
    }

    /// Every request's record (unfinished ones with what they have).
    pub fn records(self) -> Vec<RequestRecord> {
        self.slots
            .into_iter()
            .map(|s| RequestRecord {
                instance: 0,
                id: s.request.id,
                prompt_tokens: s.request.prompt_tokens,
                output_tokens: s.request.output_tokens,
                session: s.request.session.map(|l| (l.session, l.turn)),
                arrival_ns: s.arrival_ns.unwrap_or(s.request.arrival_ns),
                first_scheduled_ns: s.first_scheduled_ns,
                token_times_ns: s.token_times_ns,
                preemptions: s.preemptions,
                recomputed_tokens: s.recomputed_tokens,
            })
            .collect()
    }
}
