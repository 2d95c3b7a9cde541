//! What the serving tests share: the calibration cache, scratch directories, and a scenario
//! with a `serving` section written to a file and loaded as a user's would be.
// Each test binary that includes this module uses a subset of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pam::scenario::Scenario;
use pam::serve::scenario::Serving;

/// Calibrations are shared by every test (and every run): they are keyed by what they depend on.
pub fn cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("pam-cache")
}

/// An empty scratch directory `suite/name` under the target's temporary directory.
pub fn tmp(suite: &str, name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(suite).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Writes `dir/name.yaml` with `serving` as its serving section (seed 3) and loads it.
pub fn scenario(dir: &Path, name: &str, serving: &str) -> Result<Serving, String> {
    let file = dir.join(format!("{name}.yaml"));
    let text = format!("name: {name}\nseed: 3\nserving:\n{serving}");
    std::fs::write(&file, &text).map_err(|e| e.to_string())?;
    let sc = Scenario::load(&file).map_err(|e| e.to_string())?;
    sc.serving.ok_or_else(|| "no serving section".to_string())
}
