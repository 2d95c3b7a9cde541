//! What a run records: per request, per iteration, and the run's summary.

use std::sync::Arc;

use serde::Serialize;

/// One request's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// The node (model instance) that served it, 0 on a single node.
    pub instance: u32,
    pub id: u64,
    pub prompt_tokens: u32,
    pub output_tokens: u32,
    /// (session, turn) of an agentic sub-request.
    pub session: Option<(u64, u32)>,
    /// When it arrived, ns (for a session's sub-request: when it was released).
    pub arrival_ns: u64,
    /// When it was first scheduled (its first prefill chunk), ns.
    pub first_scheduled_ns: Option<u64>,
    /// When each output token came out, ns (the end of the iteration that sampled it).
    pub token_times_ns: Vec<u64>,
    /// Times it was preempted.
    pub preemptions: u32,
    /// Tokens whose KV was thrown away by preemptions (and computed again).
    pub recomputed_tokens: u64,
}

impl RequestRecord {
    /// All its output tokens are out.
    pub fn finished(&self) -> bool {
        self.token_times_ns.len() == self.output_tokens as usize
    }

    pub fn first_token_ns(&self) -> Option<u64> {
        self.token_times_ns.first().copied()
    }

    pub fn last_token_ns(&self) -> Option<u64> {
        self.token_times_ns.last().copied()
    }

    /// First scheduled minus arrival, ns.
    pub fn queuing_delay_ns(&self) -> Option<u64> {
        self.first_scheduled_ns.map(|t| t.saturating_sub(self.arrival_ns))
    }

    /// Time to first token: first token minus arrival, ns.
    pub fn ttft_ns(&self) -> Option<u64> {
        self.first_token_ns().map(|t| t.saturating_sub(self.arrival_ns))
    }

    /// End-to-end latency: last token minus arrival, ns.
    pub fn latency_ns(&self) -> Option<u64> {
        self.last_token_ns().map(|t| t.saturating_sub(self.arrival_ns))
    }

    /// Time per output token: (last token - first token) / (output tokens - 1), ns; `None` for
    /// a single output token or an unfinished request.
    pub fn tpot_ns(&self) -> Option<f64> {
        if !self.finished() || self.token_times_ns.len() < 2 {
            return None;
        }
        let (first, last) = (self.first_token_ns()?, self.last_token_ns()?);
        Some((last - first) as f64 / (self.token_times_ns.len() - 1) as f64)
    }

    /// Inter-token latencies, ns: the gaps between consecutive output tokens.
    pub fn itl_ns(&self) -> impl Iterator<Item = u64> + '_ {
        self.token_times_ns.windows(2).map(|w| w[1] - w[0])
    }
}

/// One iteration on one pipeline stage.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IterationRecord {
    /// The step's index (one per scheduled batch).
    pub iteration: u64,
    pub stage: u32,
    /// When the stage starts and how long it runs, ns.
    pub start_ns: u64,
    pub duration_ns: u64,
    pub decode_seqs: u32,
    pub prefill_seqs: u32,
    pub prefill_tokens: u64,
    /// Requests running and waiting once the step was scheduled.
    pub running: u32,
    pub waiting: u32,
    pub preempted: u32,
    /// KV blocks in use once the step's blocks were allocated.
    pub kv_blocks_used: u64,
    /// The GPU time breakdown of the stage, microseconds.
    pub dense_us: f64,
    pub attention_us: f64,
    pub all_reduce_us: f64,
    pub pp_transfer_us: f64,
    pub lm_head_us: f64,
    /// The node model's parts beyond the GPU (PIM tiers, merges, links, migration, offload
    /// transfers), microseconds, by name.
    pub extra: Vec<(Arc<str>, f64)>,
}

impl IterationRecord {
    pub fn end_ns(&self) -> u64 {
        self.start_ns + self.duration_ns
    }

    /// The time breakdown as (component, microseconds), in the order the parts run, without
    /// the parts that are zero. The report writers (traces, plots) read the breakdown only
    /// through this, so that a new part (a PIM tier's attention, a merge, a migration) needs a
    /// change here and nowhere else. Names: `dense`, `attention`, `all_reduce`, `pp_transfer`,
    /// `lm_head`; see [`crate::serve::report`] for the names that put a part on a tier's track.
    pub fn components(&self) -> Vec<(String, f64)> {
        let gpu = [
            ("dense", self.dense_us),
            ("attention", self.attention_us),
            ("all_reduce", self.all_reduce_us),
            ("pp_transfer", self.pp_transfer_us),
            ("lm_head", self.lm_head_us),
        ]
        .into_iter()
        .map(|(name, us)| (name.to_string(), us));
        // The node model's parts: `<tier>_attention`, `<tier>_link`, `<tier>_merge` go on the
        // tier's track, `migration` and `kv_write` on the migrations track, the rest (offload
        // transfers, which the GPU waits for) on the stage's.
        let node = self.extra.iter().map(|(name, us)| {
            let tier = ["_attention", "_link", "_merge"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix).map(|t| format!("tier/{t}/{}", &suffix[1..])));
            let name = match tier {
                Some(t) => t,
                None if matches!(&**name, "migration" | "kv_write") => format!("migration/{name}"),
                None => name.to_string(),
            };
            (name, *us)
        });
        gpu.chain(node).filter(|&(_, us)| us != 0.0).collect()
    }
}

/// Mean and percentiles of one latency, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub count: usize,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

impl Stats {
    /// The statistics of `values` (any unit; `count` 0 and zeros when empty). Percentiles
    /// interpolate linearly between the two nearest ranks (numpy's default).
    pub fn of(values: &[f64]) -> Stats {
        if values.is_empty() {
            return Stats::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Stats {
            count: v.len(),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p50: percentile(&v, 50.0),
            p90: percentile(&v, 90.0),
            p99: percentile(&v, 99.0),
        }
    }
}

/// The `p`-th percentile of sorted, non-empty `v`, interpolated linearly between ranks.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let pos = (p / 100.0).clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// A run's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub requests: usize,
    pub finished: usize,
    pub output_tokens: u64,
    pub prompt_tokens: u64,
    /// First arrival to last token, seconds.
    pub elapsed_s: f64,
    /// Output tokens per second over `elapsed_s`.
    pub output_tokens_per_s: f64,
    /// Finished requests per second over `elapsed_s`.
    pub requests_per_s: f64,
    /// Seconds.
    pub ttft_s: Stats,
    /// Seconds; requests of at least two output tokens.
    pub tpot_s: Stats,
    /// Seconds.
    pub latency_s: Stats,
    /// Seconds.
    pub queuing_delay_s: Stats,
    pub preemptions: u64,
    pub recomputed_tokens: u64,
    /// Scheduled batches (iterations).
    pub iterations: u64,
    /// Fraction of the elapsed time the first stage was busy.
    pub busy_fraction: f64,
}

impl Summary {
    /// The summary of a run's records.
    pub fn of(requests: &[RequestRecord], iterations: &[IterationRecord]) -> Summary {
        let s = |ns: u64| ns as f64 / 1e9;
        let done: Vec<&RequestRecord> = requests.iter().filter(|r| r.finished()).collect();
        let first_arrival = requests.iter().map(|r| r.arrival_ns).min().unwrap_or(0);
        let last_token = done.iter().filter_map(|r| r.last_token_ns()).max().unwrap_or(first_arrival);
        let elapsed_s = s(last_token.saturating_sub(first_arrival));
        let output_tokens = done.iter().map(|r| u64::from(r.output_tokens)).sum();
        let per_s = |x: f64| if elapsed_s > 0.0 { x / elapsed_s } else { 0.0 };
        let stat = |f: &dyn Fn(&RequestRecord) -> Option<f64>| {
            Stats::of(&done.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
        };
        let busy: u64 = iterations.iter().filter(|i| i.stage == 0).map(|i| i.duration_ns).sum();
        Summary {
            requests: requests.len(),
            finished: done.len(),
            output_tokens,
            prompt_tokens: requests.iter().map(|r| u64::from(r.prompt_tokens)).sum(),
            elapsed_s,
            output_tokens_per_s: per_s(output_tokens as f64),
            requests_per_s: per_s(done.len() as f64),
            ttft_s: stat(&|r| r.ttft_ns().map(s)),
            tpot_s: stat(&|r| r.tpot_ns().map(|t| t / 1e9)),
            latency_s: stat(&|r| r.latency_ns().map(s)),
            queuing_delay_s: stat(&|r| r.queuing_delay_ns().map(s)),
            preemptions: requests.iter().map(|r| u64::from(r.preemptions)).sum(),
            recomputed_tokens: requests.iter().map(|r| r.recomputed_tokens).sum(),
            iterations: iterations.iter().map(|i| i.iteration + 1).max().unwrap_or(0),
            busy_fraction: if elapsed_s > 0.0 { s(busy) / elapsed_s } else { 0.0 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 50.0), 3.0);
        assert!((percentile(&v, 90.0) - 4.6).abs() < 1e-12);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 100.0), 5.0);
        let st = Stats::of(&[5.0, 1.0, 3.0]);
        assert_eq!((st.count, st.mean, st.p50), (3, 3.0, 3.0));
        assert_eq!(Stats::of(&[]), Stats::default());
    }
}
