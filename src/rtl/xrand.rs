//! X-randomised runs: the values a model's registers and memories hold before anything drives
//! them.
//!
//! Every model is Verilated with `--x-initial unique`, so its constructor draws each variable's
//! initial value from its Verilator context: zeros by default ([`XInit::Zeros`], the behaviour
//! of a `--x-initial fast` build), or values drawn from a seed ([`XInit::Random`], Verilator's
//! `+verilator+rand+reset+2 +verilator+seed+N`). A design that reads a register before resetting
//! it then gives different results for different seeds, which a zero start hides.
//!
//! [`with_reset_seed`] sets the policy for every model created on the calling thread while a
//! closure runs: a regression case builds its models several layers down (datapath units,
//! devices, migration interfaces), and the policy is a property of the run, like Verilator's
//! plusargs, not of any one of those constructors. Each model created in the scope gets its own
//! seed (the scope's seed and the model's creation index), so two instances of a top differ.

use std::cell::Cell;

/// How a model's variables start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum XInit {
    /// Every bit zero.
    #[default]
    Zeros,
    /// Values drawn from this seed (Verilator's `randReset(2)`, `randSeed(seed)`).
    Random(u32),
}

impl XInit {
    /// The `(randReset, randSeed)` pair of Verilator's context API.
    pub(crate) fn verilator_args(self) -> (i32, i32) {
        match self {
            XInit::Zeros => (0, 1),
            // Bit pattern kept: Verilator takes the seed as an int.
            XInit::Random(seed) => (2, seed as i32),
        }
    }
}

thread_local! {
    /// The scope's seed and the number of models created in it so far.
    static SCOPE: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
}

/// Runs `f` with every model created on this thread starting from values drawn from `seed`
/// (`None`: zeros, the default). Scopes nest; the previous policy is restored afterwards, also
/// when `f` panics.
pub fn with_reset_seed<R>(seed: Option<u64>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<(u64, u64)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPE.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SCOPE.with(|s| s.replace(seed.map(|s| (s, 0)))));
    f()
}

/// The start of the next model created on this thread.
pub(crate) fn next() -> XInit {
    SCOPE.with(|s| match s.get() {
        None => XInit::Zeros,
        Some((seed, n)) => {
            s.set(Some((seed, n + 1)));
            XInit::Random(model_seed(seed, n))
        }
    })
}

/// The seed of the `index`-th model of a scope: a SplitMix64 step, never 0 (Verilator reads
/// `+verilator+seed+0` as "pick one").
fn model_seed(scope: u64, index: u64) -> u32 {
    let mut z = scope ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 32) as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_gives_each_model_its_own_seed_and_restores_zeros() {
        assert_eq!(next(), XInit::Zeros);
        let (a, b) = with_reset_seed(Some(7), || (next(), next()));
        assert!(matches!(a, XInit::Random(_)) && matches!(b, XInit::Random(_)));
        assert_ne!(a, b);
        // Deterministic: the same scope seed gives the same sequence.
        assert_eq!(with_reset_seed(Some(7), next), a);
        assert_ne!(with_reset_seed(Some(8), next), a);
        assert_eq!(with_reset_seed(None, next), XInit::Zeros);
        assert_eq!(next(), XInit::Zeros);
    }
}
