//! Random attention problems for the datapath: one FP16 query, its tokens, and how the tokens
//! are split into PU tiles. Everything is drawn from one `u64` seed, so any problem can be
//! rebuilt and replayed from the seed printed next to it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::golden::fp::fp16_of;

/// Ranges a problem is drawn from (the `datapath` section of a scenario).
#[derive(Clone, Debug)]
pub struct ProblemSpace {
    pub pu_lanes: Vec<usize>,
    pub ru_lanes: Vec<usize>,
    pub head_dim: (usize, usize),
    pub tokens: (usize, usize),
    pub tiles: (usize, usize),
    /// Element amplitude range (log-uniform): scores spread like amplitude^2 / 3.
    pub amplitude: (f64, f64),
}

impl ProblemSpace {
    /// The hardware regression's space: every size the units support.
    pub fn regression() -> Self {
        ProblemSpace {
            pu_lanes: vec![16, 4],
            ru_lanes: vec![16, 4],
            head_dim: (1, 256),
            tokens: (0, 4096),
            tiles: (1, 8),
            amplitude: (0.05, 32.0),
        }
    }
}

/// How the keys relate to the query, to reach the corners of the softmax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Independent uniform elements.
    Random,
    /// One token's key is the query scaled up: it takes nearly all the weight.
    Dominant,
    /// Every key identical: all scores equal.
    EqualScores,
    /// Keys far apart: most exponentials underflow to zero.
    Underflow,
}

#[derive(Clone, Debug)]
pub struct Problem {
    pub seed: u64,
    pub flavour: Flavour,
    pub pu_lanes: usize,
    pub ru_lanes: usize,
    /// Query already scaled by 1/sqrt(d), FP16 bits.
    pub q: Vec<u16>,
    /// Keys and values, token after token, FP16 bits.
    pub k: Vec<u16>,
    pub v: Vec<u16>,
    /// Tokens per PU tile, in order; may contain empty tiles.
    pub tiles: Vec<usize>,
}

/// Per-case seed derived from a run seed and the case index (splitmix64).
pub fn case_seed(run_seed: u64, index: u64) -> u64 {
    let mut z = run_seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(index + 1));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Problem {
    pub fn dim(&self) -> usize {
        self.q.len()
    }

    pub fn tokens(&self) -> usize {
        self.k.len() / self.dim()
    }

    /// Draws the shape (sizes, tiles, flavour) and then the data, from one seed.
    pub fn generate(space: &ProblemSpace, seed: u64) -> Problem {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let shape = Shape::draw(space, &mut rng);
        let Shape { pu_lanes, ru_lanes, dim, tokens, flavour, amp, tiles } = shape;
        let qscale = 1.0 / (dim as f32).sqrt();
        let raw_q: Vec<f32> = (0..dim).map(|_| rng.random_range(-amp..=amp)).collect();
        let q: Vec<u16> = raw_q.iter().map(|&x| fp16_of(x * qscale)).collect();
        let mut k = Vec::with_capacity(tokens * dim);
        let mut v = Vec::with_capacity(tokens * dim);
        let shared_key: Vec<f32> = (0..dim).map(|_| rng.random_range(-amp..=amp)).collect();
        let dominant = if tokens > 0 { rng.random_range(0..tokens) } else { 0 };
        for t in 0..tokens {
            for (i, &rq) in raw_q.iter().enumerate() {
                let kx = match flavour {
                    Flavour::EqualScores => shared_key[i],
                    Flavour::Dominant if t == dominant => rq.signum() * amp.max(4.0),
                    _ => rng.random_range(-amp..=amp),
                };
                k.push(fp16_of(kx));
                v.push(fp16_of(rng.random_range(-1.0f32..=1.0)));
            }
        }
        Problem { seed, flavour, pu_lanes, ru_lanes, q, k, v, tiles }
    }

    pub fn label(&self) -> String {
        label(self.dim(), self.pu_lanes, self.ru_lanes, self.tokens(), self.tiles.len(), self.flavour)
    }
}

/// A short name that says what a problem exercises.
fn label(dim: usize, pu: usize, ru: usize, tokens: usize, tiles: usize, flavour: Flavour) -> String {
    format!("d{dim}_L{pu}_R{ru}_n{tokens}_t{tiles}_{flavour:?}")
}

/// The sizes of a problem, drawn before its data so that listing cases is cheap.
struct Shape {
    pu_lanes: usize,
    ru_lanes: usize,
    dim: usize,
    tokens: usize,
    flavour: Flavour,
    amp: f32,
    tiles: Vec<usize>,
}

impl Shape {
    fn draw(space: &ProblemSpace, rng: &mut ChaCha8Rng) -> Shape {
        let pu_lanes = space.pu_lanes[rng.random_range(0..space.pu_lanes.len())];
        let ru_lanes = space.ru_lanes[rng.random_range(0..space.ru_lanes.len())];
        // Favour the common head dimensions and the lane-count corners, but reach every size.
        let common = [64usize, 128, 256, 1, 3, 4, 15, 16, 17, 80, 96, 100, 255];
        let (dlo, dhi) = space.head_dim;
        let dim = match common.iter().filter(|d| (dlo..=dhi).contains(d)).count() {
            n if n > 0 && rng.random_bool(0.5) => {
                *common.iter().filter(|d| (dlo..=dhi).contains(d)).nth(rng.random_range(0..n)).expect("n > 0")
            }
            _ => rng.random_range(dlo..=dhi),
        };
        // A quarter of the problems are short, where the corner cases live.
        let (tlo, thi) = space.tokens;
        let tokens =
            if rng.random_bool(0.25) { rng.random_range(tlo..=thi.min(tlo + 4)) } else { rng.random_range(tlo..=thi) };
        let flavour = match rng.random_range(0..10) {
            0 => Flavour::Dominant,
            1 => Flavour::EqualScores,
            2 => Flavour::Underflow,
            _ => Flavour::Random,
        };
        let (lo, hi) = space.amplitude;
        let amp = match flavour {
            Flavour::Underflow => hi,
            _ => (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp(),
        } as f32;
        let n_tiles = rng.random_range(space.tiles.0..=space.tiles.1);
        // Random cut points: tiles of uneven size, some possibly empty.
        let mut cuts: Vec<usize> = (0..n_tiles - 1).map(|_| rng.random_range(0..=tokens)).collect();
        cuts.sort_unstable();
        let mut tiles = Vec::with_capacity(n_tiles);
        let mut prev = 0;
        for c in cuts.into_iter().chain(std::iter::once(tokens)) {
            tiles.push(c - prev);
            prev = c;
        }
        Shape { pu_lanes, ru_lanes, dim, tokens, flavour, amp, tiles }
    }
}

/// The label of the problem `seed` would generate, without generating its data.
pub fn label_of(space: &ProblemSpace, seed: u64) -> String {
    let s = Shape::draw(space, &mut ChaCha8Rng::seed_from_u64(seed));
    label(s.dim, s.pu_lanes, s.ru_lanes, s.tokens, s.tiles.len(), s.flavour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_problem_and_tiles_cover_tokens() {
        let s = ProblemSpace::regression();
        for seed in 0..50 {
            let a = Problem::generate(&s, seed);
            let b = Problem::generate(&s, seed);
            assert_eq!((a.q.clone(), a.k.clone(), a.tiles.clone()), (b.q, b.k, b.tiles));
            assert_eq!(a.tiles.iter().sum::<usize>(), a.tokens());
            assert!((1..=256).contains(&a.dim()));
            assert_eq!(label_of(&s, seed), a.label());
        }
        assert_ne!(Problem::generate(&s, 1).q, Problem::generate(&s, 2).q);
    }
}
