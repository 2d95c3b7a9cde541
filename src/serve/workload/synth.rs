//! Synthetic workloads: arrival processes and length distributions, every draw from one seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Gamma, Zipf};
use serde::{Deserialize, Serialize};

use super::error::WorkloadError;
use super::{Request, Workload};

/// The ChaCha stream of each kind of draw: one seed, independent streams, so that changing the
/// length distribution leaves the arrivals as they were, and the other way round.
const STREAM_ARRIVALS: u64 = 1;
const STREAM_PROMPT: u64 = 2;
const STREAM_OUTPUT: u64 = 3;

/// The generator of one kind of draw for `seed`.
pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// When requests arrive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ArrivalProcess {
    /// Every request at t = 0 (an offline, fixed-batch workload).
    Offline,
    /// A Poisson process: exponential inter-arrival times of mean `1 / rate_per_s` seconds.
    Poisson { rate_per_s: f64 },
    /// Gamma inter-arrival times of mean `1 / rate_per_s` seconds and coefficient of variation
    /// `cv` (standard deviation over mean): shape `1 / cv²`, so `cv = 1` is Poisson, `cv > 1`
    /// burstier, `cv < 1` more regular.
    Gamma { rate_per_s: f64, cv: f64 },
}

impl ArrivalProcess {
    /// Checks the parameters: a finite, positive rate and coefficient of variation.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        let positive = |what: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(WorkloadError::invalid(what, format!("{v}; allowed: a finite number above 0")))
            }
        };
        match *self {
            ArrivalProcess::Offline => Ok(()),
            ArrivalProcess::Poisson { rate_per_s } => positive("Poisson arrival rate (requests/s)", rate_per_s),
            ArrivalProcess::Gamma { rate_per_s, cv } => {
                positive("Gamma arrival rate (requests/s)", rate_per_s)?;
                positive("Gamma coefficient of variation", cv)?;
                // Shape 1/cv² must stay a finite, positive number.
                let shape = 1.0 / (cv * cv);
                if shape.is_finite() && shape > 0.0 {
                    Ok(())
                } else {
                    Err(WorkloadError::invalid("Gamma coefficient of variation", format!("{cv} is out of range")))
                }
            }
        }
    }

    /// `count` arrival times in nanoseconds, non-decreasing, from `seed`. The process starts at
    /// t = 0, so the first arrival is one inter-arrival time after 0.
    pub fn arrivals(&self, count: usize, seed: u64) -> Result<Vec<u64>, WorkloadError> {
        self.validate()?;
        let mut rng = rng(seed, STREAM_ARRIVALS);
        let mut gaps: Box<dyn FnMut(&mut ChaCha8Rng) -> f64> = match *self {
            ArrivalProcess::Offline => return Ok(vec![0; count]),
            ArrivalProcess::Poisson { rate_per_s } => {
                let exp =
                    Exp::new(rate_per_s).map_err(|e| WorkloadError::invalid("Poisson arrival rate", e.to_string()))?;
                Box::new(move |rng| exp.sample(rng))
            }
            ArrivalProcess::Gamma { rate_per_s, cv } => {
                let shape = 1.0 / (cv * cv);
                let gamma = Gamma::new(shape, 1.0 / (rate_per_s * shape))
                    .map_err(|e| WorkloadError::invalid("Gamma arrivals", e.to_string()))?;
                Box::new(move |rng| gamma.sample(rng))
            }
        };
        let mut t_ns = 0.0f64;
        Ok((0..count)
            .map(|_| {
                t_ns += gaps(&mut rng) * 1e9;
                // `as` saturates: a run longer than 584 years stays at u64::MAX.
                t_ns.round() as u64
            })
            .collect())
    }
}

/// Draws one length.
type Sampler<'a> = Box<dyn FnMut(&mut ChaCha8Rng) -> u32 + 'a>;

/// A distribution of one length (prompt or output tokens). Every value is at least 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LengthDist {
    /// Always `tokens`.
    Fixed { tokens: u32 },
    /// Uniform over `min..=max`.
    Uniform { min: u32, max: u32 },
    /// Zipf over `min..=max`: `min + k - 1` with probability proportional to `k^-exponent`, so
    /// short lengths are common and long ones rare. `exponent = 0` is uniform.
    Zipf { min: u32, max: u32, exponent: f64 },
    /// Drawn uniformly, with replacement, from `values` (for example one column of a trace).
    Empirical { values: Vec<u32> },
}

impl LengthDist {
    /// Checks the parameters: lengths of at least 1, `min <= max`, a finite exponent >= 0, a
    /// non-empty list.
    pub fn validate(&self, what: &str) -> Result<(), WorkloadError> {
        let bad = |problem: String| Err(WorkloadError::invalid(what, problem));
        match self {
            LengthDist::Fixed { tokens: 0 } => bad("0 tokens; allowed: at least 1".into()),
            LengthDist::Uniform { min, max } | LengthDist::Zipf { min, max, .. } if *min == 0 || min > max => {
                bad(format!("min {min}, max {max}; allowed: 1 <= min <= max"))
            }
            LengthDist::Zipf { exponent, .. } if !(exponent.is_finite() && *exponent >= 0.0) => {
                bad(format!("Zipf exponent {exponent}; allowed: a finite number >= 0"))
            }
            LengthDist::Empirical { values } if values.is_empty() => bad("no values to draw from".into()),
            LengthDist::Empirical { values } if values.contains(&0) => bad("a length of 0; allowed: at least 1".into()),
            _ => Ok(()),
        }
    }

    /// A sampler over this distribution (validated first).
    fn sampler(&self, what: &str) -> Result<Sampler<'_>, WorkloadError> {
        self.validate(what)?;
        Ok(match self {
            LengthDist::Fixed { tokens } => {
                let tokens = *tokens;
                Box::new(move |_| tokens)
            }
            LengthDist::Uniform { min, max } => {
                let (min, max) = (*min, *max);
                Box::new(move |rng| rng.random_range(min..=max))
            }
            LengthDist::Zipf { min, max, exponent } => {
                let (min, max) = (*min, *max);
                let zipf = Zipf::new(f64::from(max - min) + 1.0, *exponent)
                    .map_err(|e| WorkloadError::invalid(what, e.to_string()))?;
                // Zipf draws whole numbers in 1..=n as floats.
                Box::new(move |rng| {
                    let k = zipf.sample(rng).round().max(1.0) as u32;
                    min.saturating_add(k - 1).min(max)
                })
            }
            LengthDist::Empirical { values } => Box::new(move |rng| values[rng.random_range(0..values.len())]),
        })
    }
}

/// The prompt and output lengths of synthetic requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Lengths {
    /// Prompt and output drawn independently.
    Independent { prompt: LengthDist, output: LengthDist },
    /// (prompt, output) pairs drawn together, uniformly with replacement, so that the
    /// correlation of a trace's lengths is kept. See [`Lengths::from_trace`].
    Empirical { pairs: Vec<(u32, u32)> },
}

impl Lengths {
    /// The empirical joint distribution of a workload's (prompt, output) lengths.
    pub fn from_trace(workload: &Workload) -> Result<Lengths, WorkloadError> {
        if workload.is_empty() {
            return Err(WorkloadError::invalid("empirical lengths", "the workload has no request to draw from"));
        }
        Ok(Lengths::Empirical {
            pairs: workload.requests().iter().map(|r| (r.prompt_tokens, r.output_tokens)).collect(),
        })
    }

    /// `count` (prompt, output) pairs from `seed`.
    fn draw(&self, count: usize, seed: u64) -> Result<Vec<(u32, u32)>, WorkloadError> {
        match self {
            Lengths::Independent { prompt, output } => {
                let (mut prompt, mut output) = (prompt.sampler("prompt lengths")?, output.sampler("output lengths")?);
                let (mut rp, mut ro) = (rng(seed, STREAM_PROMPT), rng(seed, STREAM_OUTPUT));
                Ok((0..count).map(|_| (prompt(&mut rp), output(&mut ro))).collect())
            }
            Lengths::Empirical { pairs } => {
                if pairs.is_empty() {
                    return Err(WorkloadError::invalid("empirical lengths", "no (prompt, output) pair to draw from"));
                }
                if pairs.iter().any(|&(p, o)| p == 0 || o == 0) {
                    return Err(WorkloadError::invalid("empirical lengths", "a length of 0; allowed: at least 1"));
                }
                let mut rng = rng(seed, STREAM_PROMPT);
                Ok((0..count).map(|_| pairs[rng.random_range(0..pairs.len())]).collect())
            }
        }
    }
}

/// A synthetic workload: `requests` requests, their arrivals and lengths, one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyntheticSpec {
    pub requests: usize,
    pub arrivals: ArrivalProcess,
    pub lengths: Lengths,
    /// The seed of every draw. In a scenario it may be left out (or 0): the run's seed is used.
    #[serde(default)]
    pub seed: u64,
}

impl SyntheticSpec {
    /// `requests` requests of fixed lengths at t = 0 (offline).
    pub fn offline(requests: usize, prompt_tokens: u32, output_tokens: u32) -> SyntheticSpec {
        SyntheticSpec {
            requests,
            arrivals: ArrivalProcess::Offline,
            lengths: Lengths::Independent {
                prompt: LengthDist::Fixed { tokens: prompt_tokens },
                output: LengthDist::Fixed { tokens: output_tokens },
            },
            seed: 0,
        }
    }

    /// Generates the workload. The same spec always gives the same workload.
    pub fn generate(&self) -> Result<Workload, WorkloadError> {
        let arrivals = self.arrivals.arrivals(self.requests, self.seed)?;
        let lengths = self.lengths.draw(self.requests, self.seed)?;
        let requests = arrivals
            .into_iter()
            .zip(lengths)
            .enumerate()
            .map(|(id, (arrival_ns, (prompt_tokens, output_tokens)))| Request {
                id: id as u64,
                arrival_ns,
                prompt_tokens,
                output_tokens,
                session: None,
            })
            .collect();
        Ok(Workload::from_trusted(requests))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    fn gaps_s(arrivals: &[u64]) -> Vec<f64> {
        let mut previous = 0;
        arrivals
            .iter()
            .map(|&a| {
                let gap = (a - previous) as f64 / 1e9;
                previous = a;
                gap
            })
            .collect()
    }

    #[test]
    fn gamma_has_the_asked_mean_and_cv() {
        for cv in [0.5, 1.0, 2.0] {
            let gaps = gaps_s(&ArrivalProcess::Gamma { rate_per_s: 4.0, cv }.arrivals(40_000, 7).unwrap());
            let m = mean(&gaps);
            let sd = (gaps.iter().map(|g| (g - m) * (g - m)).sum::<f64>() / gaps.len() as f64).sqrt();
            assert!((m - 0.25).abs() < 0.25 * 0.05, "cv {cv}: mean {m}");
            assert!((sd / m - cv).abs() < cv * 0.08, "cv {cv}: measured {}", sd / m);
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        for p in [
            ArrivalProcess::Poisson { rate_per_s: 0.0 },
            ArrivalProcess::Poisson { rate_per_s: f64::NAN },
            ArrivalProcess::Gamma { rate_per_s: 1.0, cv: 0.0 },
            ArrivalProcess::Gamma { rate_per_s: 1.0, cv: 1e-300 },
            ArrivalProcess::Gamma { rate_per_s: -1.0, cv: 1.0 },
        ] {
            assert!(p.arrivals(3, 0).is_err(), "{p:?}");
        }
        for d in [
            LengthDist::Fixed { tokens: 0 },
            LengthDist::Uniform { min: 5, max: 4 },
            LengthDist::Uniform { min: 0, max: 4 },
            LengthDist::Zipf { min: 1, max: 4, exponent: -1.0 },
            LengthDist::Empirical { values: vec![] },
            LengthDist::Empirical { values: vec![3, 0] },
        ] {
            assert!(d.validate("x").is_err(), "{d:?}");
        }
    }

    #[test]
    fn lengths_stay_in_range() {
        let mut rng = rng(1, 9);
        let mut zipf = LengthDist::Zipf { min: 10, max: 20, exponent: 1.2 }.sampler("z").unwrap();
        let draws: Vec<u32> = (0..5000).map(|_| zipf(&mut rng)).collect();
        assert!(draws.iter().all(|d| (10..=20).contains(d)));
        // Zipf: the shortest length is the most common one.
        let count = |v| draws.iter().filter(|&&d| d == v).count();
        assert!(count(10) > count(11) && count(11) > count(20), "{} {} {}", count(10), count(11), count(20));
        let mut uniform = LengthDist::Uniform { min: 3, max: 5 }.sampler("u").unwrap();
        let draws: Vec<u32> = (0..3000).map(|_| uniform(&mut rng)).collect();
        assert!((3..=5).all(|v| draws.iter().filter(|&&d| d == v).count() > 900));
        let mut one = LengthDist::Zipf { min: u32::MAX, max: u32::MAX, exponent: 1.0 }.sampler("z").unwrap();
        assert_eq!(one(&mut rng), u32::MAX);
    }
}
