//! Decode steps of a small model over a PIM hierarchy of any number of tiers (HBM, DDR, SSD in
//! the reference), every tier's RTL in the loop, top to bottom (spec §2):
//! 1. each request's new token: its K and V for every layer and KV head are admitted by the
//!    policy to a tier (spec §7), placed by the tier's mapping rule and written to the device;
//! 2. the score source selects each sequence's attended tokens; importance is updated and the
//!    policy migrates tokens (spec §9); every migrated token is read back from its old device,
//!    compared with the host's copy, and moved to its new place through the RTL migration
//!    interface or the host-CPU path ([`crate::migration`]);
//! 3. PAMattention: every query head of a KV head's group attends the selected tokens of its
//!    sequence across the tiers ([`super::pamattention`]); every output is compared with the
//!    bit-accurate chain and with float64.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::pamattention::{GroupStep, QueryOutput, TierConfig, Tiers};
use super::scores::{ScoreKind, SeqScores};
use super::trace::{Sig, StepTrace};
use crate::error::SimError;
use crate::golden::{self, fp::fp16_of, fp::fp16_to_f64};
use crate::kernel::Ps;
use crate::kv::block_table::{BlockTable, SeqKey};
use crate::kv::location::PhysLoc;
use crate::kv::placement::TierPlacer;
use crate::migration::{MigrationPath, Migrator, TokenMove};
use crate::sched::{Policy, Pool, Tier, TokenId};

/// A step's token scores.
type Scores = Vec<(TokenId, f64)>;

/// The model's attention shape.
#[derive(Clone, Copy, Debug)]
pub struct ModelShape {
    pub layers: usize,
    pub q_heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
}

#[derive(Clone, Debug)]
pub struct DecodeConfig {
    pub model: ModelShape,
    /// Initial context length of each request.
    pub contexts: Vec<usize>,
    pub steps: usize,
    /// Where token scores come from ([`ScoreKind`]).
    pub scores: ScoreKind,
    /// How fast attention moves: the fraction of each sequence's tokens drifting out of the
    /// important set per step (synthetic scores), and the share of each query head's variance
    /// renewed per step (the queries that exact and label scores see).
    pub drift: f64,
    /// Fraction of each sequence's tokens attended per step (sparse attention).
    pub fraction: f64,
    /// The tiers, fastest first: each its preset, devices, token capacity and device model
    /// (the RTL, or the fast model calibrated from it).
    pub tiers: Vec<TierConfig>,
    /// The tier whose RU merges the devices' partials.
    pub merge_tier: usize,
    pub migration: MigrationPath,
    pub seed: u64,
}

/// One decode step's figures; per-tier lists are fastest tier first.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StepStats {
    /// Tokens each tier holds after the step, and the step's new tokens each tier took.
    pub tokens: Vec<usize>,
    pub admitted: Vec<usize>,
    pub tokens_migrated: usize,
    /// Local attention, summed over the step's query groups, per tier (its slowest device) ...
    pub attention_ns: Vec<f64>,
    /// ... of which the devices' RUs reduced for this long.
    pub reduce_ns: Vec<f64>,
    /// The final merges across tiers in the merging tier's RU.
    pub merge_ns: f64,
    /// Queries out to the tiers and partials back, summed over the step's query groups, per
    /// tier.
    pub link_ns: Vec<f64>,
    pub migration_ns: f64,
    /// The step's query groups one after the other, each its slowest tier plus the merges.
    pub attention_total_ns: f64,
    /// The step: attention, with migration overlapping it (spec §8).
    pub latency_ns: f64,
}

impl StepStats {
    /// A step's figures over `tiers` tiers, all zero.
    pub fn new(tiers: usize) -> Self {
        StepStats {
            tokens: vec![0; tiers],
            admitted: vec![0; tiers],
            attention_ns: vec![0.0; tiers],
            reduce_ns: vec![0.0; tiers],
            link_ns: vec![0.0; tiers],
            ..Default::default()
        }
    }

    /// Adds one query group's attention: per tier its slowest device and that device's links;
    /// what the group took beyond its slowest device is the merge.
    fn add(&mut self, r: &GroupStep, tiers: usize) {
        self.attention_total_ns += r.ps as f64 / 1e3;
        let mut slowest = 0;
        for t in 0..tiers {
            if let Some(w) = r.slowest_in(t) {
                self.attention_ns[t] += w.run.ps as f64 / 1e3;
                self.reduce_ns[t] += w.run.reduce_ps as f64 / 1e3;
                self.link_ns[t] += (w.link_ps[0] + w.link_ps[1]) as f64 / 1e3;
                slowest = slowest.max(w.span_ps());
            }
        }
        self.merge_ns += (r.ps - slowest) as f64 / 1e3;
    }
}

#[derive(Clone, Debug, Default)]
pub struct DecodeOutcome {
    pub steps: Vec<StepStats>,
    pub queries: usize,
    pub mismatches: Vec<String>,
    pub max_rel_err_f64: f64,
    /// Importance split (fastest tier first) after each step.
    pub splits: Vec<Vec<f64>>,
    /// Tokens each device of each tier holds after the last step completed.
    pub tokens_per_device: Vec<Vec<usize>>,
}

/// A query group's selected tokens: their places by tier, and the token at each place.
struct Located {
    per_tier: Vec<Vec<PhysLoc>>,
    ids: HashMap<PhysLoc, TokenId>,
}

/// One KV vector of one sequence position.
struct Token {
    seq: SeqKey,
    pos: usize,
    k: Vec<u16>,
    v: Vec<u16>,
    /// The key in float64, for the golden model's scores.
    k64: Vec<f64>,
}

pub struct PamSystem {
    cfg: DecodeConfig,
    tiers: Tiers,
    migrator: Migrator,
    placers: Vec<TierPlacer>,
    pool: Pool,
    table: BlockTable,
    tokens: Vec<Token>,
    seqs: Vec<(SeqKey, Vec<TokenId>, SeqScores)>,
    /// Every sequence's query heads, unscaled, drifting from step to step.
    query_heads: Vec<Vec<f32>>,
    policy: Box<dyn Policy>,
    rng: ChaCha8Rng,
    /// The step to record as a waveform, its trace, and the steps run so far.
    trace: Option<(usize, StepTrace)>,
    steps_done: usize,
}

/// A place for a token in tier `t`, after `steps` decode steps.
fn place(placers: &mut [TierPlacer], t: Tier, steps: usize) -> Result<PhysLoc, SimError> {
    placers[t.index()].place().map_err(|e| SimError::Input(format!("after {steps} decode steps: {t}: {e}")))
}

impl PamSystem {
    pub fn new(cfg: DecodeConfig, policy: Box<dyn Policy>) -> Result<Self, SimError> {
        let m = cfg.model;
        if m.kv_heads == 0 || !m.q_heads.is_multiple_of(m.kv_heads) || m.layers == 0 {
            return Err(SimError::Input(format!("model {m:?}: query heads must be a multiple of KV heads")));
        }
        let placers = cfg
            .tiers
            .iter()
            .enumerate()
            .map(|(t, tier)| tier.preset.tier_placer(t, tier.devices, m.head_dim))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SimError::Input(e.to_string()))?;
        for ((t, tier), p) in cfg.tiers.iter().enumerate().zip(&placers) {
            if tier.capacity > p.capacity() {
                return Err(SimError::Input(format!(
                    "capacity of {} ({}): {} tokens, but its {} {} device(s) hold {} tokens of head dimension {}",
                    Tier::new(t),
                    tier.preset.label(),
                    tier.capacity,
                    tier.devices,
                    tier.preset.name(),
                    p.capacity(),
                    m.head_dim
                )));
            }
        }
        let mut seqs = Vec::new();
        for r in 0..cfg.contexts.len() {
            for layer in 0..m.layers {
                for kv_head in 0..m.kv_heads {
                    let key = SeqKey { request: r as u32, layer: layer as u16, kv_head: kv_head as u16 };
                    let seed = cfg.seed ^ ((r as u64) << 32 | (layer as u64) << 16 | kv_head as u64);
                    let src = SeqScores::new(cfg.scores, seed, cfg.drift, cfg.fraction, m.head_dim)?;
                    seqs.push((key, Vec::new(), src));
                }
            }
        }
        let mut sys = PamSystem {
            tiers: Tiers::open(&cfg.tiers, cfg.merge_tier, m.head_dim, true, cfg.seed)?,
            migrator: Migrator::new(cfg.migration, m.head_dim)?,
            placers,
            pool: Pool::new(cfg.tiers.iter().map(|t| t.capacity).collect::<Vec<_>>()),
            table: BlockTable::new(16),
            tokens: Vec::new(),
            query_heads: Vec::new(),
            seqs,
            policy,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            cfg,
            trace: None,
            steps_done: 0,
        };
        // The prompts: their tokens enter as the policy admits them.
        let longest = sys.cfg.contexts.iter().copied().max().unwrap_or(0);
        for pos in 0..longest {
            let arrivals = sys.new_tokens(|r| pos < r)?;
            let report =
                sys.pool.step(sys.policy.as_mut(), &arrivals, &[]).map_err(|e| SimError::Input(e.to_string()))?;
            sys.place_admitted(&report.admitted)?;
            sys.apply_moves(&report.moves)?;
        }
        Ok(sys)
    }

    /// A new token for every sequence of the requests `live` accepts (given their context).
    fn new_tokens(&mut self, live: impl Fn(usize) -> bool) -> Result<Vec<TokenId>, SimError> {
        let d = self.cfg.model.head_dim;
        let mut ids = Vec::new();
        for (key, list, src) in &mut self.seqs {
            if !live(self.cfg.contexts[key.request as usize]) {
                continue;
            }
            let id = self.tokens.len() as TokenId;
            let k: Vec<u16> = (0..d).map(|_| fp16_of(self.rng.random_range(-2.0..2.0))).collect();
            let v = (0..d).map(|_| fp16_of(self.rng.random_range(-1.0..1.0))).collect();
            let k64: Vec<f64> = k.iter().map(|&x| fp16_to_f64(x)).collect();
            src.stored(id, &k64)?;
            self.tokens.push(Token { seq: *key, pos: list.len(), k, v, k64 });
            list.push(id);
            ids.push(id);
        }
        Ok(ids)
    }

    fn place_admitted(&mut self, admitted: &[(TokenId, Tier)]) -> Result<(), SimError> {
        for &(id, tier) in admitted {
            let loc = place(&mut self.placers, tier, self.steps_done)?;
            let t = &self.tokens[id as usize];
            self.tiers.device(&loc)?.write_token(&loc, &t.k, &t.v)?;
            self.table.set(t.seq, t.pos, loc);
        }
        Ok(())
    }

    /// Moves tokens between tiers ([`Migrator`]): each gets its new place, the old one is
    /// freed, and the table points to the new one. A token the policy moved more than once in
    /// one step (down by one swap, down again or back up by the next) moves once, from where
    /// it was to where it ends, or not at all. Returns the tokens moved and the modelled time.
    fn apply_moves(&mut self, moves: &[crate::sched::Move]) -> Result<(usize, f64), SimError> {
        let mut net: Vec<(TokenId, Tier, Tier)> = Vec::with_capacity(moves.len());
        let mut index_of: HashMap<TokenId, usize> = HashMap::new();
        for mv in moves {
            match index_of.get(&mv.token) {
                Some(&i) => net[i].2 = mv.to,
                None => {
                    index_of.insert(mv.token, net.len());
                    net.push((mv.token, mv.from, mv.to));
                }
            }
        }
        let mut batch = Vec::with_capacity(net.len());
        for (id, from, to) in net.into_iter().filter(|(_, from, to)| from != to) {
            let t = &self.tokens[id as usize];
            let Some(old) = self.table.get(t.seq, t.pos) else { continue };
            let new = place(&mut self.placers, to, self.steps_done)?;
            self.placers[from.index()].release(old);
            self.table.set(t.seq, t.pos, new);
            batch.push(TokenMove { from: old, to: new, k: &t.k, v: &t.v });
        }
        Ok((batch.len(), self.migrator.migrate(&mut self.tiers, &batch)?))
    }

    /// Runs the configured decode steps.
    pub fn run(&mut self) -> Result<DecodeOutcome, SimError> {
        let mut out = DecodeOutcome::default();
        self.run_into(&mut out)?;
        Ok(out)
    }

    /// As [`Self::run`], into `out`: when a step fails, `out` keeps the steps before it.
    pub fn run_into(&mut self, out: &mut DecodeOutcome) -> Result<(), SimError> {
        out.tokens_per_device = self.stored_per_device();
        for _ in 0..self.cfg.steps {
            let stats = self.step(out)?;
            out.steps.push(stats);
            out.splits.push(self.pool.table().split().unwrap_or_else(|| vec![0.0; self.cfg.tiers.len()]));
            out.tokens_per_device = self.stored_per_device();
        }
        Ok(())
    }

    fn step(&mut self, out: &mut DecodeOutcome) -> Result<StepStats, SimError> {
        let mut st = StepStats::new(self.cfg.tiers.len());
        let arrivals = self.new_tokens(|_| true)?;
        let queries = self.next_queries();
        // The same queries in float64, for the score source and the reference.
        let queries64: Vec<Vec<Vec<f64>>> =
            queries.iter().map(|g| g.iter().map(|q| q.iter().map(|&x| fp16_to_f64(x)).collect()).collect()).collect();
        let (selected, scores) = self.select(&queries64)?;
        let report =
            self.pool.step(self.policy.as_mut(), &arrivals, &scores).map_err(|e| SimError::Input(e.to_string()))?;
        for (_, t) in &report.admitted {
            st.admitted[t.index()] += 1;
        }
        self.place_admitted(&report.admitted)?;
        (st.tokens_migrated, st.migration_ns) = self.apply_moves(&report.moves)?;

        let tracing = matches!(&self.trace, Some((s, _)) if *s == self.steps_done);
        if let Some((_, tr)) = self.trace.as_mut().filter(|_| tracing) {
            tr.set(0, Sig::Step, self.steps_done as u64);
            tr.set(0, Sig::Migrating, (st.migration_ns > 0.0) as u64);
            tr.set((st.migration_ns * 1e3) as Ps, Sig::Migrating, 0);
        }
        let mut cursor: Ps = 0;
        for (si, sel) in selected.iter().enumerate() {
            if sel.is_empty() {
                continue;
            }
            let located = self.locate(sel);
            let per_tier = &located.per_tier;
            // The group's queries share every K/V read.
            let qs = &queries[si];
            let r = self.tiers.attend(qs, per_tier)?;
            if let Some((_, tr)) = self.trace.as_mut().filter(|_| tracing) {
                tr.group(cursor, out.queries as u64, &r, per_tier);
                cursor += r.ps;
            }
            out.queries += qs.len();
            st.add(&r, per_tier.len());
            self.compare(self.seqs[si].0, qs, &queries64[si], &located, &r.outputs, out);
        }
        for p in &mut self.placers {
            p.end_step();
        }
        for (i, t) in self.pool.tiers().enumerate() {
            st.tokens[i] = self.pool.table().count(t);
        }
        st.latency_ns = st.attention_total_ns.max(st.migration_ns);
        self.steps_done += 1;
        Ok(st)
    }

    /// Every sequence's group of queries (FP16, pre-scaled by 1/sqrt(d)): each query head
    /// keeps 1 - drift of its variance from the last step, so consecutive steps attend alike
    /// (context locality, spec §7) when scores come from the queries.
    fn next_queries(&mut self) -> Vec<Vec<Vec<u16>>> {
        let m = self.cfg.model;
        let group = m.q_heads / m.kv_heads;
        let rng = &mut self.rng;
        if self.query_heads.is_empty() {
            self.query_heads = (0..self.seqs.len() * group)
                .map(|_| (0..m.head_dim).map(|_| rng.random_range(-1.0f32..1.0)).collect())
                .collect();
        } else {
            let (keep, renew) = ((1.0 - self.cfg.drift).sqrt() as f32, self.cfg.drift.sqrt() as f32);
            for x in self.query_heads.iter_mut().flatten() {
                *x = keep * *x + renew * rng.random_range(-1.0f32..1.0);
            }
        }
        let qscale = 1.0 / (m.head_dim as f32).sqrt();
        self.query_heads
            .chunks(group)
            .map(|g| g.iter().map(|q| q.iter().map(|&x| fp16_of(x * qscale)).collect()).collect())
            .collect()
    }

    /// Each sequence's selected tokens, and the scores of all of them.
    fn select(&mut self, queries64: &[Vec<Vec<f64>>]) -> Result<(Vec<Vec<TokenId>>, Scores), SimError> {
        let mut scores = Vec::new();
        let mut selected = Vec::with_capacity(self.seqs.len());
        let tokens = &self.tokens;
        for ((_, list, src), q64) in self.seqs.iter_mut().zip(queries64) {
            // The new token is not scored in its arrival step: it has not been attended yet.
            let older = &list[..list.len().saturating_sub(1)];
            let s = src.select(older, q64, |t| &tokens[t as usize].k64)?;
            selected.push(s.iter().map(|&(t, _)| t).collect());
            scores.extend(s);
        }
        Ok((selected, scores))
    }

    /// Where the selected tokens are, by tier, and which token is at each place. Counts the
    /// activations the mapping rule balances.
    fn locate(&mut self, sel: &[TokenId]) -> Located {
        let mut per_tier: Vec<Vec<PhysLoc>> = vec![Vec::new(); self.placers.len()];
        let mut ids = HashMap::with_capacity(sel.len());
        for &id in sel {
            let t = &self.tokens[id as usize];
            let loc = self.table.get(t.seq, t.pos).expect("every stored token is in the table");
            self.placers[loc.tier as usize].attended(&loc);
            per_tier[loc.tier as usize].push(loc);
            ids.insert(loc, id);
        }
        Located { per_tier, ids }
    }

    /// Checks a query group's outputs: each against the golden chain (each tier's devices in
    /// their stream order, the merge in (tier, device) order) and against float64 over the same
    /// tokens, whose K and V are converted once for the group.
    fn compare(
        &self,
        key: SeqKey,
        qs: &[Vec<u16>],
        queries64: &[Vec<f64>],
        located: &Located,
        got: &[QueryOutput],
        out: &mut DecodeOutcome,
    ) {
        let Located { per_tier, ids } = located;
        let token = |l: &PhysLoc| &self.tokens[ids[l] as usize];
        let k64: Vec<f64> = per_tier.iter().flatten().flat_map(|l| token(l).k64.iter().copied()).collect();
        let v64: Vec<f64> =
            per_tier.iter().flatten().flat_map(|l| token(l).v.iter().map(|&x| fp16_to_f64(x))).collect();
        for ((q, q64), r) in qs.iter().zip(queries64).zip(got) {
            let (_, want) = self.tiers.golden(q, per_tier, |l| (token(l).k.as_slice(), token(l).v.as_slice()));
            if want != *r {
                out.mismatches.push(format!("{key:?}: the devices' output differs from the golden chain"));
            }
            if let Some(refr) = golden::reference::attention(q64, &k64, &v64) {
                let o: Vec<f64> = r.out.iter().map(|&x| fp16_to_f64(x)).collect();
                out.max_rel_err_f64 = out.max_rel_err_f64.max(golden::reference::rel_err(&o, &refr.out));
                if !golden::reference::within_bound(&o, &refr) {
                    out.mismatches.push(format!("{key:?}: output outside the float64 bound"));
                }
            }
        }
    }

    /// Records decode step `step` (0-based) as a waveform ([`StepTrace`]).
    pub fn trace_step(&mut self, step: usize) {
        let tiers = super::pamattention::tier_keys(&self.cfg.tiers)
            .into_iter()
            .zip(&self.cfg.tiers)
            .map(|(key, t)| (key, t.preset.link.name.to_string()))
            .collect();
        self.trace = Some((step, StepTrace::new(tiers, self.cfg.merge_tier)));
    }

    /// The recorded waveform, once its step has run.
    pub fn take_trace(&mut self) -> Option<StepTrace> {
        match &self.trace {
            Some((s, _)) if *s < self.steps_done => self.trace.take().map(|(_, t)| t),
            _ => None,
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Checks what is stored against the host's view: every token has one location, no two
    /// tokens share one, every tier's count matches the pool's and stays within capacity, and
    /// every token's K and V read back from its device are the host's copy.
    pub fn verify_storage(&mut self) -> Result<(), String> {
        let d = self.cfg.model.head_dim;
        let mut seen = std::collections::HashSet::new();
        let mut counts = vec![0usize; self.cfg.tiers.len()];
        for (id, t) in self.tokens.iter().enumerate() {
            let loc = self.table.get(t.seq, t.pos).ok_or(format!("token {id} has no location"))?;
            if !seen.insert(loc) {
                return Err(format!("token {id} shares {loc:?} with another token"));
            }
            let tier = loc.tier as usize;
            counts[tier] += 1;
            if self.pool.table().tier(id as TokenId).map(|x| x.index()) != Some(tier) {
                return Err(format!(
                    "token {id} is in tier {tier} but the pool says {}",
                    self.pool.table().tier(id as TokenId).map_or("none".to_string(), |t| t.to_string())
                ));
            }
            let (k, v) = self.tiers.device(&loc).and_then(|dev| dev.read_token(&loc, d)).map_err(|e| e.to_string())?;
            if k != t.k || v != t.v {
                return Err(format!("token {id} at {loc:?}: K/V differ from the host's copy"));
            }
        }
        for (i, tier) in self.pool.tiers().enumerate() {
            if counts[i] != self.pool.table().count(tier) || counts[i] > self.cfg.tiers[i].capacity {
                return Err(format!(
                    "{tier}: {} stored, pool {}, capacity {}",
                    counts[i],
                    self.pool.table().count(tier),
                    self.cfg.tiers[i].capacity
                ));
            }
        }
        Ok(())
    }

    /// The tiers' devices.
    pub fn tiers(&self) -> &Tiers {
        &self.tiers
    }

    /// Tokens each device of each tier holds.
    pub fn stored_per_device(&self) -> Vec<Vec<usize>> {
        self.placers.iter().map(|p| p.stored().to_vec()).collect()
    }

    /// Tokens stored in all.
    pub fn stored(&self) -> usize {
        self.tokens.len()
    }
}
