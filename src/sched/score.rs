//! Per-step token scores `S(j)` (spec §7), from pluggable sources.
//!
//! A source selects the tokens attention reads this step (sparse mode attends only those) and
//! scores each: the list is sparse, unselected tokens score 0. Every source here gives the
//! selected tokens non-negative scores that sum to 1, the share of the step's attention each
//! gets, so importance is comparable across sources and the EMA's total stays near 1:
//!
//! * [`SyntheticDrift`]: a random important set that drifts at a controlled rate, each member
//!   with a fixed random weight: for studying the scheduler without a model.
//! * [`ExactTopK`]: the caller supplies every token's exact logit q.k (the golden model); the
//!   top fraction is selected and scored by the softmax over the selected logits.
//! * [`LabelChannel`]: the Double Sparsity approximation the reference uses: q.k over a few
//!   "label" channels (a cache of those channels of every key), then as [`ExactTopK`].

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{SchedError, TokenId};

/// Fraction of the tokens selected per step by default (Double Sparsity at 8x, spec §7).
pub const DEFAULT_FRACTION: f64 = 1.0 / 8.0;

pub trait ScoreSource {
    /// The selected tokens among `tokens` (the live tokens, each once) and their scores.
    fn scores(&mut self, tokens: &[TokenId]) -> Result<Vec<(TokenId, f64)>, SchedError>;
}

fn check_fraction(fraction: f64) -> Result<f64, SchedError> {
    if fraction > 0.0 && fraction <= 1.0 {
        Ok(fraction)
    } else {
        Err(SchedError::Config(format!("the selected fraction must be in (0, 1], not {fraction}")))
    }
}

/// Tokens selected out of `n`: `ceil(fraction n)`, at least one when there are any.
fn selected(fraction: f64, n: usize) -> usize {
    ((fraction * n as f64).ceil() as usize).clamp(n.min(1), n)
}

/// The top `fraction` of `logits` (ties to the lower token id), scored by their softmax.
fn top_softmax(fraction: f64, mut logits: Vec<(TokenId, f64)>) -> Vec<(TokenId, f64)> {
    let k = selected(fraction, logits.len());
    if k == 0 {
        return logits;
    }
    if k < logits.len() {
        logits.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        logits.truncate(k);
    }
    let max = logits.iter().map(|l| l.1).fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for l in &mut logits {
        l.1 = (l.1 - max).exp();
        total += l.1;
    }
    for l in &mut logits {
        l.1 /= total;
    }
    logits
}

/// A synthetic important set of `fraction` of the tokens. Every step, `rate` of its members
/// (fractions carried over to the next step) are replaced by random non-members, and the set
/// grows with the tokens. A member's weight is drawn uniformly from [0.5, 1.5) when it joins;
/// its score is its weight over the members' total. All randomness comes from the seed.
#[derive(Clone, Debug)]
pub struct SyntheticDrift {
    fraction: f64,
    rate: f64,
    rng: ChaCha8Rng,
    members: Vec<(TokenId, f64)>,
    is_member: Vec<bool>,
    carry: f64,
}

impl SyntheticDrift {
    /// A source replacing `rate` (in [0, 1]) of the set per step; selects [`DEFAULT_FRACTION`].
    pub fn new(seed: u64, rate: f64) -> Result<Self, SchedError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(SchedError::Config(format!("the drift rate must be in [0, 1], not {rate}")));
        }
        Ok(SyntheticDrift {
            fraction: DEFAULT_FRACTION,
            rate,
            rng: ChaCha8Rng::seed_from_u64(seed),
            members: Vec::new(),
            is_member: Vec::new(),
            carry: 0.0,
        })
    }

    pub fn with_fraction(mut self, fraction: f64) -> Result<Self, SchedError> {
        self.fraction = check_fraction(fraction)?;
        Ok(self)
    }

    /// Adds a random non-member of `tokens` (there must be one).
    fn join(&mut self, tokens: &[TokenId]) {
        let token = loop {
            let t = tokens[self.rng.random_range(0..tokens.len())];
            if !self.is_member.get(t as usize).copied().unwrap_or(false) {
                break t;
            }
        };
        if self.is_member.len() <= token as usize {
            self.is_member.resize(token as usize + 1, false);
        }
        self.is_member[token as usize] = true;
        let weight = self.rng.random_range(0.5..1.5);
        self.members.push((token, weight));
    }

    fn leave(&mut self) {
        let (token, _) = self.members.swap_remove(self.rng.random_range(0..self.members.len()));
        self.is_member[token as usize] = false;
    }
}

impl ScoreSource for SyntheticDrift {
    /// `tokens` may only grow from call to call (tokens are never dropped).
    fn scores(&mut self, tokens: &[TokenId]) -> Result<Vec<(TokenId, f64)>, SchedError> {
        let target = selected(self.fraction, tokens.len());
        if target < self.members.len() {
            return Err(SchedError::Config(format!(
                "synthetic drift: {} tokens, fewer than the {} already selected",
                tokens.len(),
                self.members.len()
            )));
        }
        // Members leave first, so a leaving token may be drawn again among the newcomers:
        // the drift is a random replacement, as a real important set's would be.
        self.carry += self.rate * self.members.len() as f64;
        let replace = (self.carry.floor() as usize).min(self.members.len());
        self.carry -= replace as f64;
        for _ in 0..replace {
            self.leave();
        }
        while self.members.len() < target {
            self.join(tokens);
        }
        let total: f64 = self.members.iter().map(|m| m.1).sum();
        Ok(self.members.iter().map(|&(t, w)| (t, w / total)).collect())
    }
}

/// Top `fraction` of the tokens by exact logits the caller supplies.
#[derive(Clone, Debug)]
pub struct ExactTopK {
    fraction: f64,
    logits: Vec<Option<f64>>,
}

impl Default for ExactTopK {
    fn default() -> Self {
        ExactTopK { fraction: DEFAULT_FRACTION, logits: Vec::new() }
    }
}

impl ExactTopK {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_fraction(mut self, fraction: f64) -> Result<Self, SchedError> {
        self.fraction = check_fraction(fraction)?;
        Ok(self)
    }

    /// Sets a token's logit q.k for the coming step.
    pub fn set(&mut self, token: TokenId, logit: f64) -> Result<(), SchedError> {
        if !logit.is_finite() {
            return Err(SchedError::BadScore { token, score: logit });
        }
        if self.logits.len() <= token as usize {
            self.logits.resize(token as usize + 1, None);
        }
        self.logits[token as usize] = Some(logit);
        Ok(())
    }
}

impl ScoreSource for ExactTopK {
    fn scores(&mut self, tokens: &[TokenId]) -> Result<Vec<(TokenId, f64)>, SchedError> {
        let logits = tokens
            .iter()
            .map(|&t| self.logits.get(t as usize).copied().flatten().map(|l| (t, l)).ok_or(SchedError::UnknownToken(t)))
            .collect::<Result<_, _>>()?;
        Ok(top_softmax(self.fraction, logits))
    }
}

/// Double-Sparsity-style selection: q.k approximated over a few label channels of the head
/// dimension, from a label cache holding only those channels of every key.
#[derive(Clone, Debug)]
pub struct LabelChannel {
    fraction: f64,
    dim: usize,
    channels: Vec<usize>,
    /// Label channels of each token's key, by token id.
    labels: Vec<Option<Box<[f32]>>>,
    /// Label channels of the current query.
    query: Option<Box<[f32]>>,
}

impl LabelChannel {
    /// Label channels `channels` (distinct, each below `dim`) of a head of dimension `dim`.
    pub fn new(dim: usize, channels: Vec<usize>) -> Result<Self, SchedError> {
        let mut sorted = channels.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if channels.is_empty() || sorted.len() != channels.len() || sorted.last().is_some_and(|&c| c >= dim) {
            return Err(SchedError::Config(format!(
                "label channels must be distinct, at least one, each below the head dimension {dim}: {channels:?}"
            )));
        }
        Ok(LabelChannel { fraction: DEFAULT_FRACTION, dim, channels, labels: Vec::new(), query: None })
    }

    pub fn with_fraction(mut self, fraction: f64) -> Result<Self, SchedError> {
        self.fraction = check_fraction(fraction)?;
        Ok(self)
    }

    fn label(&self, v: &[f32]) -> Result<Box<[f32]>, SchedError> {
        if v.len() != self.dim {
            return Err(SchedError::Config(format!(
                "a vector of {} elements for head dimension {}",
                v.len(),
                self.dim
            )));
        }
        Ok(self.channels.iter().map(|&c| v[c]).collect())
    }

    /// Stores the label channels of a token's key `k`.
    pub fn insert_key(&mut self, token: TokenId, k: &[f32]) -> Result<(), SchedError> {
        let label = self.label(k)?;
        if self.labels.len() <= token as usize {
            self.labels.resize(token as usize + 1, None);
        }
        self.labels[token as usize] = Some(label);
        Ok(())
    }

    /// Sets the query of the coming step.
    pub fn set_query(&mut self, q: &[f32]) -> Result<(), SchedError> {
        self.query = Some(self.label(q)?);
        Ok(())
    }
}

impl ScoreSource for LabelChannel {
    fn scores(&mut self, tokens: &[TokenId]) -> Result<Vec<(TokenId, f64)>, SchedError> {
        let q = self.query.as_deref().ok_or_else(|| SchedError::Config("label channels: no query set".into()))?;
        let logits = tokens
            .iter()
            .map(|&t| {
                let k = self.labels.get(t as usize).and_then(|l| l.as_deref()).ok_or(SchedError::UnknownToken(t))?;
                Ok((t, q.iter().zip(k).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum()))
            })
            .collect::<Result<_, SchedError>>()?;
        Ok(top_softmax(self.fraction, logits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_top_k_selects_the_largest_logits_and_scores_sum_to_one() {
        let mut src = ExactTopK::new().with_fraction(0.25).unwrap();
        let tokens: Vec<TokenId> = (0..8).collect();
        for (t, l) in [3.0, -1.0, 7.0, 0.0, 7.0, 2.0, -5.0, 1.0].into_iter().enumerate() {
            src.set(t as TokenId, l).unwrap();
        }
        let mut s = src.scores(&tokens).unwrap();
        s.sort_by_key(|x| x.0);
        assert_eq!(s, vec![(2, 0.5), (4, 0.5)]);
        assert_eq!(src.scores(&[0, 9]), Err(SchedError::UnknownToken(9)));
        assert!(ExactTopK::new().with_fraction(0.0).is_err());
    }

    #[test]
    fn label_channels_over_every_channel_equal_exact_scores() {
        let dim = 4;
        let keys: Vec<[f32; 4]> =
            vec![[1.0, 0.0, 2.0, 0.5], [0.0, 3.0, 0.0, 0.0], [-1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 0.0, 1.0]];
        let q = [0.5f32, -0.25, 1.0, 2.0];
        let mut all = LabelChannel::new(dim, vec![0, 1, 2, 3]).unwrap().with_fraction(0.5).unwrap();
        let mut exact = ExactTopK::new().with_fraction(0.5).unwrap();
        for (t, k) in keys.iter().enumerate() {
            all.insert_key(t as TokenId, k).unwrap();
            exact.set(t as TokenId, q.iter().zip(k).map(|(&a, &b)| f64::from(a * b)).sum()).unwrap();
        }
        all.set_query(&q).unwrap();
        let tokens = [0, 1, 2, 3];
        let (mut a, mut e) = (all.scores(&tokens).unwrap(), exact.scores(&tokens).unwrap());
        a.sort_by_key(|x| x.0);
        e.sort_by_key(|x| x.0);
        assert_eq!(a, e);
        // Channel 1 alone ranks token 1 first.
        let mut one = LabelChannel::new(dim, vec![1]).unwrap().with_fraction(0.25).unwrap();
        for (t, k) in keys.iter().enumerate() {
            one.insert_key(t as TokenId, k).unwrap();
        }
        one.set_query(&[0.0, 1.0, 0.0, 0.0]).unwrap();
        assert_eq!(one.scores(&tokens).unwrap(), vec![(1, 1.0)]);
        assert!(LabelChannel::new(dim, vec![1, 1]).is_err());
        assert!(LabelChannel::new(dim, vec![4]).is_err());
        assert!(one.insert_key(5, &[1.0]).is_err());
    }

    #[test]
    fn synthetic_drift_replaces_the_requested_share_and_is_reproducible() {
        let tokens: Vec<TokenId> = (0..800).collect();
        let run = |seed| {
            let mut src = SyntheticDrift::new(seed, 0.1).unwrap();
            (0..20).map(|_| src.scores(&tokens).unwrap()).collect::<Vec<_>>()
        };
        let steps = run(5);
        assert_eq!(steps, run(5));
        assert_ne!(steps, run(6));
        for w in steps.windows(2) {
            assert_eq!(w[1].len(), 100);
            let before: std::collections::HashSet<_> = w[0].iter().map(|s| s.0).collect();
            let kept = w[1].iter().filter(|s| before.contains(&s.0)).count();
            // 10 leave; some of them may be drawn again among the 10 newcomers.
            assert!((90..=92).contains(&kept), "{kept} of 100 kept");
            assert!((w[1].iter().map(|s| s.1).sum::<f64>() - 1.0).abs() < 1e-12);
        }
        assert!(SyntheticDrift::new(1, 1.5).is_err());
    }
}
