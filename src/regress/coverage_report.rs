//! The functional coverage report: per RTL block (module), the cover points a merged coverage
//! database hits out of those it has, against the floors of `rtl/coverage-floors.yaml`, with
//! every point no run reached listed with the reason it is not reached (or "not explained").
//!
//! A point is `<module>.<label>`, with `@<top>` for the points of a top's own module, which
//! count per parameterisation ([`crate::rtl::coverage`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::error::SimError;
use crate::rtl::coverage::{fields, parse};

/// One cover point of the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub block: String,
    pub name: String,
    pub file: String,
    pub line: u32,
    pub hits: u64,
}

/// The points of a coverage database (Verilator's format, as `pam regress --coverage` or
/// `verilator_coverage --write` writes it). Only user cover points (`page` `v_user/...`).
pub fn points(text: &str, source: &Path) -> Result<Vec<Point>, SimError> {
    let raw = parse(text).map_err(|e| SimError::Input(format!("{}: {e}", source.display())))?;
    let mut merged: BTreeMap<String, Point> = BTreeMap::new();
    for (key, hits) in raw {
        let f = fields(&key);
        let get = |k: &str| f.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        // A parameterised module's page is `<module>__<suffix>` in a model's own file.
        let Some(block) =
            get("page").and_then(|p| p.strip_prefix("v_user/")).map(|m| m.split("__").next().unwrap_or(m))
        else {
            continue;
        };
        let label = get("o").unwrap_or("?");
        let name = match get("h") {
            Some(top) if !top.contains('.') => format!("{block}.{label}@{top}"),
            _ => format!("{block}.{label}"),
        };
        let p = merged.entry(name.clone()).or_insert_with(|| Point {
            block: block.to_string(),
            name,
            file: get("f").unwrap_or("?").to_string(),
            line: get("l").and_then(|l| l.parse().ok()).unwrap_or(0),
            hits: 0,
        });
        p.hits += hits;
    }
    Ok(merged.into_values().collect())
}

/// `rtl/coverage-floors.yaml`.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Floors {
    /// Block -> the lowest share of its cover points, in percent, the regression must hit.
    pub floors: BTreeMap<String, f64>,
    /// Point name or glob (`*`, `?`) -> why no regression reaches it.
    #[serde(default)]
    pub explained: BTreeMap<String, String>,
}

impl Floors {
    pub fn load(path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SimError::Input(format!("cannot read {}: {e}", path.display())))?;
        let f: Floors =
            serde_saphyr::from_str(&text).map_err(|e| SimError::Input(format!("{}: {e}", path.display())))?;
        for (block, &v) in &f.floors {
            if !(0.0..=100.0).contains(&v) {
                let line =
                    text.lines().position(|l| l.trim_start().starts_with(&format!("{block}:"))).map_or(0, |i| i + 1);
                return Err(SimError::Input(format!(
                    "{}:{line}: floors.{block}: {v} is not a percentage (allowed: 0 to 100)",
                    path.display()
                )));
            }
        }
        Ok(f)
    }

    /// Why `point` is not reached, if the file says.
    pub fn explanation(&self, point: &str) -> Option<&str> {
        self.explained.iter().find(|(pat, _)| super::glob_match(pat, point)).map(|(_, why)| why.as_str())
    }
}

/// One block's figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub name: String,
    pub hit: usize,
    pub total: usize,
    pub floor: Option<f64>,
}

impl Block {
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            100.0 * self.hit as f64 / self.total as f64
        }
    }

    /// At or above its floor (a hundredth of a percent of slack for the decimal floors).
    pub fn meets_floor(&self) -> bool {
        self.floor.is_some_and(|f| self.percent() + 1e-2 >= f)
    }
}

#[derive(Clone, Debug)]
pub struct Report {
    pub blocks: Vec<Block>,
    /// Points with no hit and their explanation, if any.
    pub unreached: Vec<(Point, Option<String>)>,
    /// Why the check fails (empty: it passes).
    pub failures: Vec<String>,
}

pub fn evaluate(points: &[Point], floors: &Floors) -> Report {
    let mut by_block: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for p in points {
        let e = by_block.entry(&p.block).or_insert((0, 0));
        e.1 += 1;
        if p.hits > 0 {
            e.0 += 1;
        }
    }
    let blocks: Vec<Block> = by_block
        .iter()
        .map(|(&name, &(hit, total))| Block { name: name.into(), hit, total, floor: floors.floors.get(name).copied() })
        .collect();
    let mut failures = Vec::new();
    for b in &blocks {
        match b.floor {
            None => failures.push(format!("{}: no floor (add `{}: {:.1}` under floors)", b.name, b.name, floor_of(b))),
            Some(f) if !b.meets_floor() => {
                failures.push(format!("{}: {:.1}% of its cover points, below its floor {f:.1}%", b.name, b.percent()))
            }
            _ => {}
        }
    }
    for name in floors.floors.keys() {
        if !by_block.contains_key(name.as_str()) {
            failures.push(format!("{name}: has a floor but no cover point in the coverage data"));
        }
    }
    let unreached = points
        .iter()
        .filter(|p| p.hits == 0)
        .map(|p| (p.clone(), floors.explanation(&p.name).map(str::to_string)))
        .collect();
    Report { blocks, unreached, failures }
}

/// The floor a block's figure sets: its percentage rounded down to a tenth.
fn floor_of(b: &Block) -> f64 {
    (b.percent() * 10.0 + 1e-9).floor() / 10.0
}

impl Report {
    /// A summary line per block, then the unreached points, then the verdict.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let (hit, total) = self.blocks.iter().fold((0, 0), |(h, t), b| (h + b.hit, t + b.total));
        for b in &self.blocks {
            let floor = b.floor.map_or("  none".to_string(), |f| format!("{f:5.1}%"));
            let verdict = if b.meets_floor() { "ok" } else { "BELOW FLOOR" };
            writeln!(
                s,
                "coverage {:<24} {:>4}/{:<4} {:6.1}%  floor {floor}  {verdict}",
                b.name,
                b.hit,
                b.total,
                b.percent()
            )
            .unwrap();
        }
        let pct = if total == 0 { 100.0 } else { 100.0 * hit as f64 / total as f64 };
        writeln!(s, "coverage {:<24} {hit:>4}/{total:<4} {pct:6.1}%", "all blocks").unwrap();
        let explained = self.unreached.iter().filter(|(_, w)| w.is_some()).count();
        writeln!(s, "unreached cover points: {} ({explained} explained)", self.unreached.len()).unwrap();
        for (p, why) in &self.unreached {
            writeln!(
                s,
                "  {} ({}:{}): {}",
                p.name,
                p.file,
                p.line,
                why.as_deref().unwrap_or("NOT EXPLAINED (add stimulus, or the reason under `explained`)")
            )
            .unwrap();
        }
        for f in &self.failures {
            writeln!(s, "FAIL {f}").unwrap();
        }
        s
    }

    /// The floors file for today's figures, keeping `old`'s explanations.
    pub fn floors_yaml(&self, old: &Floors) -> String {
        let mut s = String::from(
            "# Functional coverage floors (scripts/coverage.sh, `make test`): per RTL block, the share of its\n\
             # cover points (percent) that the regression of `make regress` reaches; the check fails below it.\n\
             # Written by `pam coverage --write-floors` from a run, rounded down to a tenth.\n\
             # `explained`: why a point no regression reaches is not reached (point name or glob).\n\
             floors:\n",
        );
        for b in &self.blocks {
            writeln!(s, "  {}: {:.1}", b.name, floor_of(b)).unwrap();
        }
        s.push_str(if old.explained.is_empty() { "explained: {}\n" } else { "explained:\n" });
        for (pat, why) in &old.explained {
            writeln!(s, "  \"{pat}\": {}", yaml_string(why)).unwrap();
        }
        s
    }
}

fn yaml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(block: &str, name: &str, hits: u64) -> Point {
        Point { block: block.into(), name: name.into(), file: "rtl/x.sv".into(), line: 1, hits }
    }

    #[test]
    fn a_block_below_its_floor_fails_and_unreached_points_are_listed() {
        let pts = vec![point("a", "a.c_x", 3), point("a", "a.c_y", 0), point("b", "b.c_z", 1)];
        let mut floors = Floors::default();
        floors.floors.insert("a".into(), 50.0);
        floors.floors.insert("b".into(), 100.0);
        floors.explained.insert("a.c_*".into(), "never".into());
        let r = evaluate(&pts, &floors);
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        assert_eq!(r.unreached.len(), 1);
        assert_eq!(r.unreached[0].1.as_deref(), Some("never"));
        floors.floors.insert("a".into(), 60.0);
        let r = evaluate(&pts, &floors);
        assert_eq!(r.failures.len(), 1);
        assert!(r.failures[0].starts_with("a: 50.0%"));
        assert!(r.render().contains("BELOW FLOOR"));
    }

    #[test]
    fn missing_and_stale_floors_fail() {
        let pts = vec![point("a", "a.c_x", 1)];
        let mut floors = Floors::default();
        floors.floors.insert("gone".into(), 10.0);
        let r = evaluate(&pts, &floors);
        assert_eq!(r.failures.len(), 2);
        let written = r.floors_yaml(&floors);
        let back: Floors = serde_saphyr::from_str(&written).unwrap();
        assert_eq!(back.floors.get("a"), Some(&100.0));
    }

    #[test]
    fn points_of_a_top_are_named_with_it() {
        let text = "# SystemC::Coverage-3\n\
            C '\u{1}f\u{2}rtl/pu/pam_pu.sv\u{1}l\u{2}9\u{1}page\u{2}v_user/pam_pu\u{1}o\u{2}c_st_out\u{1}h\u{2}pu16' 4\n\
            C '\u{1}f\u{2}rtl/common/pam_fifo.sv\u{1}l\u{2}5\u{1}page\u{2}v_user/pam_fifo\u{1}o\u{2}c_full' 0\n";
        let p = points(text, Path::new("x.dat")).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "pam_fifo.c_full");
        assert_eq!(p[1].name, "pam_pu.c_st_out@pu16");
        assert_eq!((p[1].line, p[1].hits), (9, 4));
    }
}
