//! Waveforms of every model a piece of code builds: [`with_waves`] makes each model created on
//! the calling thread while a closure runs open its own FST dump, `DIR/<n>_<top>.fst`. The
//! regression uses it to re-run a failing case with its waveforms (`pam regress --fail-waves`),
//! without threading a trace option through every layer that builds models (datapath units,
//! devices, migration interfaces), as [`super::xrand`] does for initial values.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    /// The scope's directory and the number of models created in it so far.
    static SCOPE: RefCell<Option<(PathBuf, u32)>> = const { RefCell::new(None) };
}

/// Runs `f` with every model created on this thread dumping FST waveforms into `dir` (created
/// if missing). The previous scope is restored afterwards, also when `f` panics.
pub fn with_waves<R>(dir: &Path, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<(PathBuf, u32)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPE.with(|s| *s.borrow_mut() = self.0.take());
        }
    }
    let _ = std::fs::create_dir_all(dir);
    let _restore = Restore(SCOPE.with(|s| s.borrow_mut().replace((dir.to_path_buf(), 0))));
    f()
}

/// Where the next model of `top` created on this thread dumps its waveforms, if in a scope.
pub(crate) fn next(top: &str) -> Option<PathBuf> {
    SCOPE.with(|s| {
        let mut s = s.borrow_mut();
        let (dir, n) = s.as_mut()?;
        *n += 1;
        Some(dir.join(format!("{n:02}_{top}.fst")))
    })
}
