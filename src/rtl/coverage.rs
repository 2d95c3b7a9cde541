//! Functional coverage of the Verilated models in this process: the counts of the RTL's cover
//! points (`cover property` / `cover`, built with `--coverage-user`), collected from every model
//! when it is dropped and merged into one database in Verilator's `coverage.dat` format, which
//! `verilator_coverage` merges across runs (scripts/coverage.sh).
//!
//! Each model has its own `VerilatedContext` and so its own coverage counters, which live inside
//! the model: they are read when the model is dropped (Verilator writes them to a file, the
//! only interface it has) and summed here, so a regression of thousands of cases leaves one
//! database per run.
//!
//! Naming: a point is a cover statement of a module (Verilator's `page` key `v_user/<module>`
//! and its label). Verilator sums the instances of a module inside one model; this collector
//! also sums across models, except for the points of a top's own module (`pam_pu` in `pu16`,
//! `pam_mig_if` in `mig_8_32`, ...), which stay apart per top: each parameterisation the build
//! uses must reach its own states (and every beat-width pair of the migration interface its
//! own layout pairs). Such a point carries the top's name as its hierarchy (`h` key). File
//! names are made relative to the repository (from `rtl/` on), so runs from different
//! checkouts merge.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use super::model::Top;
use crate::error::SimError;

/// First line of Verilator's coverage file format.
pub const HEADER: &str = "# SystemC::Coverage-3";
/// Separators inside a point's key: `\x01key\x02value` per field.
const KEY_START: char = '\u{1}';
const VALUE_START: char = '\u{2}';

static ACTIVE: AtomicBool = AtomicBool::new(false);
static NEXT_FILE: AtomicU64 = AtomicU64::new(0);
static STATE: Mutex<Option<Collection>> = Mutex::new(None);

struct Collection {
    scratch: PathBuf,
    /// Normalised point key -> hits.
    counts: BTreeMap<String, u64>,
    models: u64,
    error: Option<String>,
}

/// Starts collecting: every model dropped from now on adds its counts. Clears what an earlier
/// collection gathered.
pub fn start() -> Result<(), SimError> {
    let scratch = std::env::temp_dir().join(format!("pam-coverage-{}", std::process::id()));
    fs::create_dir_all(&scratch)
        .map_err(|e| SimError::Input(format!("cannot create coverage scratch dir {}: {e}", scratch.display())))?;
    *STATE.lock().unwrap_or_else(|p| p.into_inner()) =
        Some(Collection { scratch, counts: BTreeMap::new(), models: 0, error: None });
    ACTIVE.store(true, Ordering::Release);
    Ok(())
}

/// Whether models report their counts when dropped.
pub fn active() -> bool {
    ACTIVE.load(Ordering::Acquire)
}

/// What a finished collection wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// Models whose counts were merged.
    pub models: u64,
    pub points: usize,
    pub points_hit: usize,
}

/// Stops collecting and writes the merged counts to `path` (Verilator's format). Every model
/// must have been dropped before, or its counts are missing.
pub fn finish(path: &Path) -> Result<Written, SimError> {
    ACTIVE.store(false, Ordering::Release);
    let Some(c) = STATE.lock().unwrap_or_else(|p| p.into_inner()).take() else {
        return Err(SimError::Input("coverage: finish() without start()".into()));
    };
    let _ = fs::remove_dir_all(&c.scratch);
    if let Some(e) = c.error {
        return Err(SimError::Input(format!("coverage: {e}")));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| SimError::Input(format!("cannot create {}: {e}", dir.display())))?;
    }
    fs::write(path, render(&c.counts)).map_err(|e| SimError::Input(format!("cannot write {}: {e}", path.display())))?;
    Ok(Written { models: c.models, points: c.counts.len(), points_hit: c.counts.values().filter(|&&n| n > 0).count() })
}

/// Called by a model being dropped: `write` asks Verilator to write the model's counts to the
/// given file and returns false when it could not.
pub(crate) fn harvest(top: Top, write: impl FnOnce(&Path) -> bool) {
    let scratch = match STATE.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        Some(c) => c.scratch.clone(),
        None => return,
    };
    let file = scratch.join(format!("{}-{}.dat", top.name, NEXT_FILE.fetch_add(1, Ordering::Relaxed)));
    let text = if write(&file) { fs::read_to_string(&file) } else { Err(std::io::Error::other("not written")) };
    let _ = fs::remove_file(&file);
    let mut guard = STATE.lock().unwrap_or_else(|p| p.into_inner());
    let Some(c) = guard.as_mut() else { return };
    match text.map_err(|e| e.to_string()).and_then(|t| parse(&t).map_err(|e| format!("{}: {e}", file.display()))) {
        Ok(points) => {
            c.models += 1;
            for (key, n) in points {
                *c.counts.entry(normalise(&key, top)).or_insert(0) += n;
            }
        }
        Err(e) => {
            c.error.get_or_insert(format!("cannot read the counts of model {}: {e}", top.name));
        }
    }
}

/// The fields of a point's key, in order.
pub fn fields(key: &str) -> Vec<(&str, &str)> {
    key.split(KEY_START).filter(|f| !f.is_empty()).filter_map(|f| f.split_once(VALUE_START)).collect()
}

/// Verilator's coverage file: `(key, count)` per `C '<key>' <count>` line.
pub fn parse(text: &str) -> Result<Vec<(String, u64)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || format!("line {}: not a coverage point (C '<key>' <count>): {line:?}", i + 1);
        let rest = line.strip_prefix("C '").ok_or_else(bad)?;
        let (key, count) = rest.rsplit_once("' ").ok_or_else(bad)?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        out.push((key.to_string(), count));
    }
    Ok(out)
}

fn render(counts: &BTreeMap<String, u64>) -> String {
    let mut s = format!("{HEADER}\n");
    for (k, n) in counts {
        s.push_str(&format!("C '{k}' {n}\n"));
    }
    s
}

fn field(key: &str, value: &str) -> String {
    format!("{KEY_START}{key}{VALUE_START}{value}")
}

/// The module a point belongs to, from its `page` key (`v_user/<module>`; Verilator names a
/// parameterised module `<module>__<suffix>`, and no module of ours has `__` in its name).
pub fn module_of(key: &str) -> Option<&str> {
    fields(key).into_iter().find(|(k, _)| *k == "page").and_then(|(_, v)| page_module(v))
}

fn page_module(page: &str) -> Option<&str> {
    page.split_once('/').map(|(_, m)| m.split("__").next().unwrap_or(m))
}

/// The key a point is merged under: hierarchy dropped (or replaced by the top's name for a
/// point of the top's own module), file made relative to the repository.
fn normalise(key: &str, top: Top) -> String {
    let per_top = module_of(key) == Some(top.module);
    let mut out = String::with_capacity(key.len());
    for (k, v) in fields(key) {
        match k {
            "h" => {}
            "page" => {
                let (kind, _) = v.split_once('/').unwrap_or((v, ""));
                out.push_str(&field(k, &format!("{kind}/{}", page_module(v).unwrap_or(v))));
            }
            "f" => {
                let rel = v.rfind("/rtl/").map_or(v, |i| &v[i + 1..]);
                out.push_str(&field(k, rel));
            }
            _ => out.push_str(&field(k, v)),
        }
    }
    if per_top {
        out.push_str(&field("h", top.name));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(module: &str, label: &str, hier: &str) -> String {
        [("f", "/x/y/rtl/pu/a.sv"), ("l", "7"), ("t", "user"), ("page", &format!("v_user/{module}")), ("o", label)]
            .iter()
            .map(|(k, v)| field(k, v))
            .chain(std::iter::once(field("h", hier)))
            .collect()
    }

    #[test]
    fn parse_reads_points_and_rejects_other_lines() {
        let k = key("pam_fifo", "c_full", "TOP.pam_pu.u_buf.c_full");
        let text = format!("{HEADER}\nC '{k}' 12\n");
        assert_eq!(parse(&text).unwrap(), vec![(k, 12)]);
        assert!(parse("C 'x' many\n").unwrap_err().contains("line 1"));
        assert!(parse("garbage\n").is_err());
    }

    #[test]
    fn points_of_a_top_module_stay_per_top_and_others_merge() {
        let pu16 = Top::named("pu16").unwrap();
        let pu4 = Top::named("pu4").unwrap();
        let own = key("pam_pu", "c_st_out", "TOP.pam_pu.c_st_out");
        let child = key("pam_fifo__W11f", "c_full", "TOP.pam_pu.u_buf.c_full");
        let other = key("pam_fifo__W120", "c_full", "TOP.pam_pu.u_buf.c_full");
        assert_ne!(normalise(&own, pu16), normalise(&own, pu4));
        assert_eq!(normalise(&child, pu16), normalise(&other, pu4));
        assert_eq!(module_of(&normalise(&child, pu16)), Some("pam_fifo"));
        let n = normalise(&own, pu16);
        let f = fields(&n);
        assert!(f.contains(&("h", "pu16")));
        assert!(f.contains(&("f", "rtl/pu/a.sv")));
        assert_eq!(module_of(&n), Some("pam_pu"));
    }
}
