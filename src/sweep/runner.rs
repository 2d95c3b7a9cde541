//! Running a sweep's points on this machine: the points of one shard (all of them by
//! default), skipping those an earlier run finished, `jobs` at a time, with a progress line
//! per event. A point that fails is reported and the others go on; their results stay.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::point::{self, write_atomic};
use super::spec::{describe, Part, Point, Sweep};
use super::SweepError;
use crate::serve::run;

/// `sweep.json`: what a sweep expanded to, written by every run of it (local or shard).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub file: String,
    pub commit: String,
    pub parts: Vec<Part>,
    pub points: Vec<ManifestPoint>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestPoint {
    pub index: usize,
    pub id: String,
    pub part: String,
    pub values: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Manifest {
    pub fn of(sweep: &Sweep, commit: &str) -> Manifest {
        Manifest {
            name: sweep.name.clone(),
            file: sweep.file.display().to_string(),
            commit: commit.into(),
            parts: sweep.parts.clone(),
            points: sweep
                .points
                .iter()
                .map(|p| ManifestPoint {
                    index: p.index,
                    id: p.id.clone(),
                    part: p.part.clone(),
                    values: p.values.clone(),
                })
                .collect(),
        }
    }

    pub fn read(out: &Path) -> Result<Manifest, SweepError> {
        let path = out.join("sweep.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            SweepError::Other(format!(
                "{}: {e}: not a sweep's output directory (run `pam sweep FILE --out DIR` first)",
                path.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| {
            SweepError::Other(format!("{}: not a sweep manifest ({e}); run `pam sweep` first", path.display()))
        })
    }

    pub fn write(&self, out: &Path) -> Result<(), SweepError> {
        write_atomic(&out.join("sweep.json"), &(serde_json::to_string_pretty(self).unwrap_or_default() + "\n"))
    }
}

/// Shard `index` of `count` (points dealt round-robin by index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}`: expected I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The shard of this Slurm array task (`SLURM_ARRAY_TASK_ID` less `SLURM_ARRAY_TASK_MIN`,
    /// of `SLURM_ARRAY_TASK_COUNT`), if this process is one.
    pub fn from_slurm_env() -> Option<Shard> {
        let var = |k: &str| std::env::var(k).ok()?.trim().parse::<usize>().ok();
        let (id, count) = (var("SLURM_ARRAY_TASK_ID")?, var("SLURM_ARRAY_TASK_COUNT")?);
        let index = id.checked_sub(var("SLURM_ARRAY_TASK_MIN").unwrap_or(0))?;
        (index < count).then_some(Shard { index, count })
    }
}

pub struct RunOptions {
    pub out: PathBuf,
    pub cache: PathBuf,
    pub jobs: usize,
    pub shard: Option<Shard>,
    /// Run only this point (by id), even if it is done: a replay.
    pub point: Option<String>,
}

/// What a run of a sweep did.
pub struct Outcome {
    pub selected: usize,
    pub ran: usize,
    pub skipped: usize,
    /// (point id, error) of the points that failed.
    pub failed: Vec<(String, String)>,
    pub wall_s: f64,
}

struct Progress {
    done: usize,
    running: usize,
    left: usize,
    skipped: usize,
    failed: usize,
    total: usize,
    host_s: Vec<f64>,
}

fn clock(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

impl Progress {
    fn line(&self, elapsed: f64, jobs: usize, event: &str) -> String {
        let eta = if self.host_s.is_empty() {
            "time left: after the first point".to_string()
        } else {
            let mean = self.host_s.iter().sum::<f64>() / self.host_s.len() as f64;
            let work = (self.left as f64 + 0.5 * self.running as f64) * mean / jobs.max(1) as f64;
            format!("~{} left", clock(work))
        };
        format!(
            "  [{}/{} done{}{}, {} running, {} left; {} elapsed, {eta}] {event}",
            self.done + self.skipped,
            self.total,
            if self.skipped > 0 { format!(" ({} skipped)", self.skipped) } else { String::new() },
            if self.failed > 0 { format!(", {} FAILED", self.failed) } else { String::new() },
            self.running,
            self.left,
            clock(elapsed),
        )
    }
}

/// Calibrates (or loads from the cache) the PIM timing of every distinct node among `points`,
/// one after the other, so that parallel points and array tasks only read the cache.
pub fn warm_cache(points: &[&Point], cache: &Path) -> Result<(), SweepError> {
    let mut seen = BTreeSet::new();
    for p in points {
        let s = p.serving().map_err(|e| SweepError::Other(e.to_string()))?;
        let names: Vec<String> = s.node.tiers.iter().map(|t| t.name().to_string()).collect();
        if seen.insert((names, s.model.head_dim, p.seed)) {
            run::pim_timing(&s, cache, p.seed)?;
        }
    }
    Ok(())
}

/// A poisoned lock still holds valid counts: a point's panic is not the progress line's.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs the sweep's selected points.
pub fn run(sweep: &Sweep, o: &RunOptions, commit: &str) -> Result<Outcome, SweepError> {
    let started = Instant::now();
    std::fs::create_dir_all(&o.out).map_err(|err| SweepError::Io { path: o.out.clone(), err })?;
    Manifest::of(sweep, commit).write(&o.out)?;
    let selected: Vec<&Point> = match (&o.point, o.shard) {
        (Some(id), _) => {
            let p = sweep.points.iter().find(|p| &p.id == id).ok_or_else(|| {
                SweepError::Other(format!("--point {id}: no such point in {} (see sweep.json)", sweep.file.display()))
            })?;
            vec![p]
        }
        (None, Some(sh)) => sweep.shard(sh.index, sh.count).collect(),
        (None, None) => sweep.points.iter().collect(),
    };
    let (todo, done): (Vec<&Point>, Vec<&Point>) =
        selected.iter().partition(|p| o.point.is_some() || !point::is_done(&o.out, &p.id));
    println!(
        "sweep {}: {} points{}, {} to run, {} already done; {} job(s); results in {}",
        sweep.name,
        selected.len(),
        o.shard.map_or(String::new(), |s| format!(" (shard {}/{} of {})", s.index, s.count, sweep.points.len())),
        todo.len(),
        done.len(),
        o.jobs,
        o.out.display()
    );
    warm_cache(&todo, &o.cache)?;
    let progress = Mutex::new(Progress {
        done: 0,
        running: 0,
        left: todo.len(),
        skipped: done.len(),
        failed: 0,
        total: selected.len(),
        host_s: Vec::new(),
    });
    let queue = Mutex::new(todo.iter().copied().collect::<VecDeque<&Point>>());
    let failed = Mutex::new(Vec::new());
    let jobs = o.jobs.max(1).min(todo.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let Some(p) = lock(&queue).pop_front() else { break };
                {
                    let mut g = lock(&progress);
                    g.left -= 1;
                    g.running += 1;
                }
                let t = Instant::now();
                let r = point::run(&sweep.name, p, &o.out, &o.cache, commit);
                let host = t.elapsed().as_secs_f64();
                let mut g = lock(&progress);
                g.running -= 1;
                let event = match r {
                    Ok(rows) => {
                        g.done += 1;
                        g.host_s.push(host);
                        format!("{} ({}): {} rows in {:.1} s", p.id, describe(&p.values), rows.len(), host)
                    }
                    Err(e) => {
                        g.failed += 1;
                        lock(&failed).push((p.id.clone(), e.to_string()));
                        format!("{} FAILED: {e}", p.id)
                    }
                };
                println!("{}", g.line(started.elapsed().as_secs_f64(), jobs, &event));
            });
        }
    });
    let failed = failed.into_inner().unwrap_or_else(|e| e.into_inner());
    let ran = lock(&progress).done;
    Ok(Outcome { selected: selected.len(), ran, skipped: done.len(), failed, wall_s: started.elapsed().as_secs_f64() })
}
