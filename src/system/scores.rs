//! Where a decode step's token scores come from (spec §7), per sequence (request, layer, KV
//! head): the score source selects the tokens sparse attention reads and scores them for the
//! importance EMA. With grouped-query attention the group's queries read the same selected
//! K/V, so a token is scored for the group as a whole.
//!
//! * [`ScoreKind::Synthetic`]: a random important set drifting at a controlled rate.
//! * [`ScoreKind::Exact`]: the golden model's logits: for every stored token of the
//!   sequence, the group's queries against its FP16 key in float64, combined as
//!   ln(mean_i exp(q_i . k)) (the group's mean attention weight, before normalisation).
//! * [`ScoreKind::Label`]: Double Sparsity: q . k over a few label channels (one in eight, at
//!   least one, chosen by the seed), with the group's queries summed.

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::SimError;
use crate::sched::{ExactTopK, LabelChannel, SchedError, ScoreSource, SyntheticDrift, TokenId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreKind {
    Synthetic,
    Exact,
    Label,
}

impl ScoreKind {
    pub const NAMES: [&'static str; 3] = ["synthetic", "exact", "label"];

    pub fn by_name(name: &str) -> Option<Self> {
        [ScoreKind::Synthetic, ScoreKind::Exact, ScoreKind::Label].into_iter().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// Head-dimension channels per label channel (Double Sparsity at 8x compression).
pub const LABEL_COMPRESSION: usize = 8;

/// One sequence's score source.
pub enum SeqScores {
    // Boxed: its ChaCha state makes it five times the size of the others.
    Synthetic(Box<SyntheticDrift>),
    Exact(ExactTopK),
    Label(LabelChannel),
}

fn sched(e: SchedError) -> SimError {
    SimError::Input(e.to_string())
}

impl SeqScores {
    /// The source of `kind` for a sequence: `seed` draws its random choices, `drift` is the
    /// synthetic set's rate, `fraction` the share of tokens selected.
    pub fn new(kind: ScoreKind, seed: u64, drift: f64, fraction: f64, dim: usize) -> Result<Self, SimError> {
        Ok(match kind {
            ScoreKind::Synthetic => SeqScores::Synthetic(Box::new(
                SyntheticDrift::new(seed, drift).and_then(|s| s.with_fraction(fraction)).map_err(sched)?,
            )),
            ScoreKind::Exact => SeqScores::Exact(ExactTopK::new().with_fraction(fraction).map_err(sched)?),
            ScoreKind::Label => {
                let n = (dim / LABEL_COMPRESSION).max(1);
                let channels = sample(&mut ChaCha8Rng::seed_from_u64(seed), dim, n).into_vec();
                SeqScores::Label(
                    LabelChannel::new(dim, channels).and_then(|s| s.with_fraction(fraction)).map_err(sched)?,
                )
            }
        })
    }

    /// A token of the sequence was stored with key `k` (label channels keep their part of it).
    pub fn stored(&mut self, id: TokenId, k: &[f64]) -> Result<(), SimError> {
        if let SeqScores::Label(l) = self {
            let k32: Vec<f32> = k.iter().map(|&x| x as f32).collect();
            l.insert_key(id, &k32).map_err(sched)?;
        }
        Ok(())
    }

    /// Selects and scores among `tokens` for the group's queries `qs`; `key` gives a token's key.
    pub fn select<'k>(
        &mut self,
        tokens: &[TokenId],
        qs: &[Vec<f64>],
        key: impl Fn(TokenId) -> &'k [f64],
    ) -> Result<Vec<(TokenId, f64)>, SimError> {
        match self {
            SeqScores::Synthetic(s) => s.scores(tokens),
            SeqScores::Exact(s) => {
                for &t in tokens {
                    let k = key(t);
                    let logits: Vec<f64> = qs.iter().map(|q| q.iter().zip(k).map(|(a, b)| a * b).sum()).collect();
                    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let mean = logits.iter().map(|l| (l - max).exp()).sum::<f64>() / logits.len() as f64;
                    s.set(t, max + mean.ln()).map_err(sched)?;
                }
                s.scores(tokens)
            }
            SeqScores::Label(s) => {
                let dim = qs.first().map_or(0, Vec::len);
                let sum: Vec<f32> = (0..dim).map(|c| qs.iter().map(|q| q[c]).sum::<f64>() as f32).collect();
                s.set_query(&sum).map_err(sched)?;
                s.scores(tokens)
            }
        }
        .map_err(sched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<Vec<f64>> {
        (0..16).map(|t| (0..8).map(|c| ((t * 7 + c * 3) % 11) as f64 / 4.0 - 1.0).collect()).collect()
    }

    #[test]
    fn exact_scores_select_the_tokens_the_group_attends_most() {
        let ks = keys();
        let qs = vec![vec![0.5; 8], vec![-0.25; 8]];
        let mut s = SeqScores::new(ScoreKind::Exact, 1, 0.0, 0.25, 8).unwrap();
        let ids: Vec<TokenId> = (0..16).collect();
        let got = s.select(&ids, &qs, |t| &ks[t as usize]).unwrap();
        assert_eq!(got.len(), 4);
        // The group's weight of each token, by brute force: the selected four are the largest.
        let w = |t: usize| qs.iter().map(|q| q.iter().zip(&ks[t]).map(|(a, b)| a * b).sum::<f64>().exp()).sum::<f64>();
        let mut order: Vec<usize> = (0..16).collect();
        order.sort_by(|&a, &b| w(b).total_cmp(&w(a)).then(a.cmp(&b)));
        let mut sel: Vec<usize> = got.iter().map(|x| x.0 as usize).collect();
        sel.sort();
        let mut want = order[..4].to_vec();
        want.sort();
        assert_eq!(sel, want);
        assert!((got.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn label_scores_need_the_keys_stored() {
        let ks = keys();
        let qs = vec![vec![1.0; 8]];
        let mut s = SeqScores::new(ScoreKind::Label, 3, 0.0, 0.5, 8).unwrap();
        assert!(s.select(&[0], &qs, |t| &ks[t as usize]).is_err(), "a token without a label is an error");
        for (t, k) in ks.iter().enumerate() {
            s.stored(t as TokenId, k).unwrap();
        }
        let ids: Vec<TokenId> = (0..16).collect();
        assert_eq!(s.select(&ids, &qs, |t| &ks[t as usize]).unwrap().len(), 8);
        assert_eq!(ScoreKind::by_name("label"), Some(ScoreKind::Label));
        assert_eq!(ScoreKind::by_name("oracle"), None);
    }
}
