//! A Chrome/Perfetto trace (the JSON "Trace Event Format"): `{"traceEvents": [...]}` with
//! `ph: "X"` complete slices (`ts`, `dur` in microseconds) on tracks (one `tid` each),
//! `ph: "C"` counters and `ph: "M"` metadata naming the process and the tracks. Opens in
//! `ui.perfetto.dev` and `chrome://tracing`.
//!
//! # API
//!
//! [`Trace`] knows nothing of the engine: [`Trace::new`], [`Trace::track`] (a track by name),
//! [`Trace::slice`] (a top-level slice on a track), [`Trace::child`] (a slice inside another,
//! after its previous child), [`Trace::counter`], [`Trace::write`] / [`Trace::write_file`].
//! [`trace_from_run`] maps a run's [`IterationRecord`]s inside a [`Window`] of iterations onto
//! one: a track per GPU pipeline stage, per PIM tier and for migrations (see the component
//! names in [`super`]), the iteration as the parent slice, its components as children back to
//! back (the engine gives their sums, not their interleaving, so back to back is the honest
//! picture), and counters of running and waiting requests, KV blocks used and batch tokens.
//!
//! # Strict nesting, exactly (decision)
//!
//! Viewers rebuild the slice tree of a track from times alone, and Perfetto's JSON importer
//! turns microseconds into integer nanoseconds, truncating `ts * 1000` when the number is not
//! an integer; a child whose end is a float rounding above its parent's is then "not nested"
//! and dropped or mis-drawn. So every time is held as an integer count of 1/8 µs (125 ns): such
//! a number and its product by 1000 are exact in binary floating point, whatever the parser
//! does with it (exact decimal, double, truncation), and all the arithmetic (a child's end
//! clamped to its parent's, siblings back to back) is integer. A top-level slice's start and
//! end are rounded, not its duration, so slices that touch in the input touch in the trace
//! instead of overlapping by a quantum. 125 ns is far below anything a
//! serving trace shows (iterations take milliseconds); a component shorter than half of it
//! vanishes. Children are placed by [`Trace::child`] only, inside their parent by
//! construction; top-level slices on one track may not overlap ([`Trace::slice`] refuses).
//!
//! # Size (decision)
//!
//! A run of hours has millions of iterations and the viewers fail on files of hundreds of MB,
//! so [`trace_from_run`] keeps a window, by default the first 200 iterations: about
//! `200 x stages x (1 + components)` slices and `4 x 200` counter values.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::ReportError;
use crate::serve::engine::{IterationRecord, RunResult};

/// Time quanta per microsecond (see the module documentation: 125 ns, exact in binary).
const TICKS_PER_US: f64 = 8.0;
/// Largest time in ticks: below 2^53, so that ticks and their microseconds stay exact in f64.
const MAX_TICKS: f64 = (1u64 << 52) as f64;

/// A track (a `tid`) of a [`Trace`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackId(usize);

/// A slice of a [`Trace`], to hang children on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SliceId(usize);

#[derive(Clone, Debug)]
struct Slice {
    track: usize,
    name: String,
    start: u64,
    end: u64,
    args: Map<String, Value>,
    /// Where the next child starts (back to back after the previous one).
    cursor: u64,
}

#[derive(Clone, Debug)]
struct Counter {
    name: String,
    ts: u64,
    values: Vec<(String, f64)>,
}

/// A trace under construction: tracks, slices, counters. Times in microseconds in, quantised
/// to 1/8 µs (see the module documentation).
#[derive(Clone, Debug)]
pub struct Trace {
    process: String,
    tracks: Vec<String>,
    slices: Vec<Slice>,
    counters: Vec<Counter>,
    /// Per track, its top-level slices by (start, index) -> end, to refuse overlaps.
    tops: Vec<BTreeMap<(u64, usize), u64>>,
    /// Children that had no room left in their parent (clamped away entirely).
    dropped: u64,
}

fn ticks(us: f64, what: impl FnOnce() -> String) -> Result<u64, ReportError> {
    let t = (us * TICKS_PER_US).round();
    if !(us.is_finite() && us >= 0.0 && t <= MAX_TICKS) {
        return Err(ReportError::invalid(what(), format!("{us} us; allowed: a finite number in [0, 2^49]")));
    }
    Ok(t as u64)
}

fn us_of(ticks: u64) -> f64 {
    ticks as f64 / TICKS_PER_US
}

fn args_map(args: Value) -> Map<String, Value> {
    match args {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => Map::from_iter([("value".to_string(), other)]),
    }
}

impl Trace {
    /// An empty trace of one process named `process`.
    pub fn new(process: impl Into<String>) -> Trace {
        Trace {
            process: process.into(),
            tracks: Vec::new(),
            slices: Vec::new(),
            counters: Vec::new(),
            tops: Vec::new(),
            dropped: 0,
        }
    }

    /// The track named `name`, created (after the existing ones, which is also the order the
    /// viewers show) if it does not exist.
    pub fn track(&mut self, name: &str) -> TrackId {
        if let Some(i) = self.tracks.iter().position(|t| t == name) {
            return TrackId(i);
        }
        self.tracks.push(name.to_string());
        self.tops.push(BTreeMap::new());
        TrackId(self.tracks.len() - 1)
    }

    /// A top-level slice on `track` from `start_us` for `dur_us`, with `args` (a JSON object;
    /// `null` for none). It may not overlap another top-level slice of the track.
    pub fn slice(
        &mut self,
        track: TrackId,
        name: &str,
        start_us: f64,
        dur_us: f64,
        args: Value,
    ) -> Result<SliceId, ReportError> {
        let Some(tops) = self.tops.get_mut(track.0) else {
            return Err(ReportError::invalid(format!("track of slice {name:?}"), "not a track of this trace"));
        };
        let start = ticks(start_us, || format!("start of slice {name:?}"))?;
        ticks(dur_us, || format!("duration of slice {name:?}"))?;
        // The end is rounded, not the duration: rounding is monotonic, so slices that touch
        // or are apart in the input stay so (a rounded duration could push an end past the
        // next slice's rounded start).
        let end = ticks(start_us + dur_us, || format!("end of slice {name:?}"))?.max(start);
        let overlaps = |(&(s, _), &e): (&(u64, usize), &u64)| s < end && start < e;
        let before = tops.range(..(start, usize::MAX)).next_back();
        let after = tops.range((start, 0)..).next();
        if let Some(((s, _), e)) = before.into_iter().chain(after).find(|&kv| overlaps(kv)) {
            return Err(ReportError::invalid(
                format!("slice {name:?} on track {:?}", self.tracks[track.0]),
                format!(
                    "[{}, {}] us overlaps a slice at [{}, {}] us on the same track",
                    us_of(start),
                    us_of(end),
                    us_of(*s),
                    us_of(*e)
                ),
            ));
        }
        let id = self.slices.len();
        tops.insert((start, id), end);
        self.slices.push(Slice {
            track: track.0,
            name: name.to_string(),
            start,
            end,
            args: args_map(args),
            cursor: start,
        });
        Ok(SliceId(id))
    }

    /// A slice inside `parent`, right after its previous child (or at its start), lasting
    /// `dur_us` or what is left of the parent, whichever is shorter. `None` when nothing is
    /// left (or the duration rounds to nothing): the child is dropped and counted in
    /// [`Trace::dropped`].
    pub fn child(
        &mut self,
        parent: SliceId,
        name: &str,
        dur_us: f64,
        args: Value,
    ) -> Result<Option<SliceId>, ReportError> {
        let Some(p) = self.slices.get(parent.0) else {
            return Err(ReportError::invalid(format!("parent of slice {name:?}"), "not a slice of this trace"));
        };
        let dur = ticks(dur_us, || format!("duration of slice {name:?} in {:?}", p.name))?;
        let (track, start) = (p.track, p.cursor);
        // The clamp that keeps nesting strict whatever the durations add up to.
        let end = start.saturating_add(dur).min(p.end);
        if end <= start {
            self.dropped += 1;
            return Ok(None);
        }
        self.slices[parent.0].cursor = end;
        let id = self.slices.len();
        self.slices.push(Slice { track, name: name.to_string(), start, end, args: args_map(args), cursor: start });
        Ok(Some(SliceId(id)))
    }

    /// Counter `name` takes `values` (one series each) at `ts_us`.
    pub fn counter(&mut self, name: &str, ts_us: f64, values: &[(&str, f64)]) -> Result<(), ReportError> {
        let ts = ticks(ts_us, || format!("time of counter {name:?}"))?;
        if let Some((k, v)) = values.iter().find(|(_, v)| !v.is_finite()) {
            return Err(ReportError::invalid(
                format!("counter {name:?} series {k:?}"),
                format!("{v}; allowed: finite"),
            ));
        }
        let values = values.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        self.counters.push(Counter { name: name.to_string(), ts, values });
        Ok(())
    }

    /// The tracks' names, in `tid` order (`tid` = index + 1).
    pub fn tracks(&self) -> &[String] {
        &self.tracks
    }

    /// Slices so far (top-level and children).
    pub fn slice_count(&self) -> usize {
        self.slices.len()
    }

    /// Counter events so far.
    pub fn counter_count(&self) -> usize {
        self.counters.len()
    }

    /// Children dropped because their parent had no room left.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Writes the trace as JSON, one event per line. Slices come sorted by start, a parent
    /// before its children (longer first at equal starts, then in the order made), since some
    /// importers rebuild the tree in file order.
    pub fn write(&self, mut w: impl Write) -> std::io::Result<()> {
        const PID: u32 = 1;
        w.write_all(b"{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n")?;
        let mut first = true;
        let mut event = |w: &mut dyn Write, v: Value| -> std::io::Result<()> {
            if !first {
                w.write_all(b",\n")?;
            }
            first = false;
            serde_json::to_writer(&mut *w, &v).map_err(std::io::Error::other)
        };
        event(
            &mut w,
            json!({"ph": "M", "name": "process_name", "pid": PID, "tid": 0, "args": {"name": self.process}}),
        )?;
        for (i, name) in self.tracks.iter().enumerate() {
            let tid = i + 1;
            event(&mut w, json!({"ph": "M", "name": "thread_name", "pid": PID, "tid": tid, "args": {"name": name}}))?;
            event(
                &mut w,
                json!({"ph": "M", "name": "thread_sort_index", "pid": PID, "tid": tid, "args": {"sort_index": tid}}),
            )?;
        }
        let mut order: Vec<usize> = (0..self.slices.len()).collect();
        order.sort_by_key(|&i| (self.slices[i].start, std::cmp::Reverse(self.slices[i].end), i));
        for i in order {
            let s = &self.slices[i];
            event(
                &mut w,
                json!({
                    "ph": "X", "name": s.name, "pid": PID, "tid": s.track + 1,
                    "ts": us_of(s.start), "dur": us_of(s.end - s.start), "args": s.args,
                }),
            )?;
        }
        let mut counters: Vec<&Counter> = self.counters.iter().collect();
        counters.sort_by_key(|c| c.ts);
        for c in counters {
            let args: Map<String, Value> = c.values.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            event(&mut w, json!({"ph": "C", "name": c.name, "pid": PID, "ts": us_of(c.ts), "args": args}))?;
        }
        w.write_all(b"\n]}\n")
    }

    /// [`Trace::write`] into the file `path`.
    pub fn write_file(&self, path: &Path) -> Result<(), ReportError> {
        let file = std::fs::File::create(path).map_err(|e| ReportError::write(path, e))?;
        let mut w = std::io::BufWriter::new(file);
        self.write(&mut w).and_then(|()| w.flush()).map_err(|e| ReportError::write(path, e))
    }
}

/// Which iterations a trace shows: `iterations` of them from iteration `start` (the engine's
/// step index, every pipeline stage of each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub iterations: u64,
}

impl Default for Window {
    /// The first 200 iterations.
    fn default() -> Self {
        Window { start: 0, iterations: 200 }
    }
}

impl Window {
    pub fn contains(&self, iteration: u64) -> bool {
        iteration >= self.start && iteration - self.start < self.iterations
    }
}

/// Where a component of the breakdown is drawn (see the names in [`super`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Place<'a> {
    Gpu,
    /// On a tier's track: (tier, part).
    Tier(&'a str, &'a str),
    /// On the migrations track: the part.
    Migration(&'a str),
}

pub(crate) fn place(component: &str) -> Place<'_> {
    if let Some(rest) = component.strip_prefix("tier/") {
        // A name without a part ("tier/DDR5") is the tier's whole work.
        return match rest.split_once('/') {
            Some((tier, part)) if !tier.is_empty() => Place::Tier(tier, part),
            _ => Place::Tier(rest, rest),
        };
    }
    match component.strip_prefix("migration/") {
        Some(part) => Place::Migration(part),
        None => Place::Gpu,
    }
}

fn iteration_args(i: &IterationRecord) -> Value {
    json!({
        "iteration": i.iteration, "stage": i.stage, "decode_seqs": i.decode_seqs,
        "prefill_seqs": i.prefill_seqs, "prefill_tokens": i.prefill_tokens, "running": i.running,
        "waiting": i.waiting, "preempted": i.preempted, "kv_blocks_used": i.kv_blocks_used,
    })
}

/// The trace of `run`'s iterations inside `window`: one track per GPU pipeline stage
/// (`GPU stage <s>`), per PIM tier (`tier <name>`, `stage <s> tier <name>` with several stages,
/// since stages overlap in time) and for migrations, made when first used; per iteration and
/// stage a parent slice `iteration <n>` with its components back to back inside; counters
/// `requests` (running, waiting), `kv_blocks` (used) and `batch_tokens` (tokens) at each
/// iteration's start on the first stage.
pub fn trace_from_run(run: &RunResult, window: &Window) -> Result<Trace, ReportError> {
    let mut trace = Trace::new(format!("{} on {} (pam serve)", run.model, run.backend));
    let pp = run.config.pp.max(1);
    for s in 0..pp {
        trace.track(&format!("GPU stage {s}"));
    }
    let tier_track = |stage: u32, tier: &str| {
        if pp > 1 {
            format!("stage {stage} tier {tier}")
        } else {
            format!("tier {tier}")
        }
    };
    let migration_track = |stage: u32| if pp > 1 { format!("stage {stage} migrations") } else { "migrations".into() };
    for it in run.iterations.iter().filter(|i| window.contains(i.iteration)) {
        let (start_us, dur_us) = (it.start_ns as f64 / 1e3, it.duration_ns as f64 / 1e3);
        let name = format!("iteration {}", it.iteration);
        let gpu = trace.track(&format!("GPU stage {}", it.stage));
        let parent = trace.slice(gpu, &name, start_us, dur_us, iteration_args(it))?;
        // The parent slice of the iteration on each other track, made when it has a part.
        let mut others: Vec<(String, SliceId)> = Vec::new();
        for (component, us) in it.components() {
            let context = |e: ReportError| match e {
                ReportError::Invalid { what, problem } => ReportError::Invalid {
                    what: format!("{what} (iteration {} stage {})", it.iteration, it.stage),
                    problem,
                },
                other => other,
            };
            let (track, part) = match place(&component) {
                Place::Gpu => {
                    trace.child(parent, &component, us, Value::Null).map_err(context)?;
                    continue;
                }
                Place::Tier(tier, part) => (tier_track(it.stage, tier), part),
                Place::Migration(part) => (migration_track(it.stage), part),
            };
            let p = match others.iter().find(|(t, _)| *t == track) {
                Some(&(_, p)) => p,
                None => {
                    let id = trace.track(&track);
                    let p = trace.slice(id, &name, start_us, dur_us, iteration_args(it)).map_err(context)?;
                    others.push((track, p));
                    p
                }
            };
            trace.child(p, part, us, Value::Null).map_err(context)?;
        }
        if it.stage == 0 {
            let running = f64::from(it.running);
            trace.counter("requests", start_us, &[("running", running), ("waiting", f64::from(it.waiting))])?;
            trace.counter("kv_blocks", start_us, &[("used", it.kv_blocks_used as f64)])?;
            let tokens = it.prefill_tokens + u64::from(it.decode_seqs);
            trace.counter("batch_tokens", start_us, &[("tokens", tokens as f64)])?;
        }
    }
    Ok(trace)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::serve::engine::{EngineConfig, RunResult};

    /// Checks a written trace: per track, every X slice either ends before the next starts or
    /// holds it entirely, with `ts * 1000` turned into ns by `to_ns`. Returns the X events.
    pub(crate) fn check_nesting(json: &Value, to_ns: fn(f64) -> i64) -> Vec<Value> {
        let events = json["traceEvents"].as_array().expect("traceEvents");
        let xs: Vec<Value> = events.iter().filter(|e| e["ph"] == "X").cloned().collect();
        let mut by_track: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
        for e in &xs {
            let ts = to_ns(e["ts"].as_f64().expect("ts"));
            let end = ts + to_ns(e["dur"].as_f64().expect("dur"));
            by_track.entry(e["tid"].as_i64().expect("tid")).or_default().push((ts, end));
        }
        for (tid, mut slices) in by_track {
            slices.sort_by_key(|&(s, e)| (s, std::cmp::Reverse(e)));
            let mut open: Vec<i64> = Vec::new();
            for (s, e) in slices {
                while open.last().is_some_and(|&top| top <= s) {
                    open.pop();
                }
                if let Some(&top) = open.last() {
                    assert!(e <= top, "track {tid}: slice [{s}, {e}] ns crosses its parent's end {top}");
                }
                open.push(e);
            }
        }
        xs
    }

    fn parse(trace: &Trace) -> Value {
        let mut out = Vec::new();
        trace.write(&mut out).expect("write");
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn children_nest_whatever_the_rounding() {
        let mut t = Trace::new("p");
        let track = t.track("a");
        assert_eq!(t.track("a"), track, "one track per name");
        // Awkward decimals whose sum exceeds the parent: the last children are clamped.
        let parent = t.slice(track, "it", 0.1, 10.0001, json!({"k": 1})).expect("parent");
        for d in [3.3333333, 3.3333333, 3.3333334, 5.0, 1.0] {
            let _ = t.child(parent, "c", d, Value::Null).expect("child");
        }
        let next = t.slice(track, "it2", 10.1001, 0.3, Value::Null).expect("back to back");
        let grandchild_parent = t.child(next, "c", 0.2, Value::Null).expect("child").expect("room");
        t.child(grandchild_parent, "g", 0.7, Value::Null).expect("grandchild");
        // 10.0001 us is 80 ticks, each 3.333 us child 27: the third is clamped to 26 and the
        // last two have no room.
        assert_eq!(t.dropped(), 2, "the fourth and fifth children had no room");
        let v = parse(&t);
        let exact = |us: f64| (us * 1000.0).round() as i64;
        let truncated = |us: f64| (us * 1000.0) as i64;
        let xs = check_nesting(&v, exact);
        assert_eq!(check_nesting(&v, truncated).len(), xs.len());
        assert_eq!(xs.len(), 2 + 3 + 2);
        // Parent first at equal starts, children back to back.
        assert_eq!(xs[0]["name"], "it");
        assert_eq!(xs[1]["ts"], xs[0]["ts"]);
        let end = |e: &Value| e["ts"].as_f64().expect("ts") + e["dur"].as_f64().expect("dur");
        assert_eq!(end(&xs[1]), xs[2]["ts"].as_f64().expect("ts"));
        assert_eq!(end(&xs[3]), end(&xs[0]), "the clamped child ends with its parent");
    }

    #[test]
    fn slices_back_to_back_in_nanoseconds_stay_apart() {
        let mut t = Trace::new("p");
        let track = t.track("a");
        // Durations of odd nanoseconds: rounding each duration would overlap the next slice.
        let mut at = 0u64;
        for i in 0..2000u64 {
            let dur = 1_234_567 + 62 * (i % 3);
            t.slice(track, "s", at as f64 / 1e3, dur as f64 / 1e3, Value::Null).expect("no overlap");
            at += dur;
        }
        check_nesting(&parse(&t), |us| (us * 1000.0) as i64);
    }

    #[test]
    fn bad_times_and_overlaps_are_refused() {
        let mut t = Trace::new("p");
        let track = t.track("a");
        let s = t.slice(track, "x", 10.0, 5.0, Value::Null).expect("slice");
        for (start, dur) in [(12.0, 1.0), (5.0, 6.0), (14.9, 3.0), (0.0, 100.0)] {
            let err = t.slice(track, "y", start, dur, Value::Null).expect_err("overlap");
            assert!(err.to_string().contains("overlaps"), "{err}");
        }
        t.slice(track, "y", 15.0, 1.0, Value::Null).expect("touching is fine");
        t.slice(track, "y", 0.0, 10.0, Value::Null).expect("before is fine");
        for bad in [f64::NAN, -1.0, f64::INFINITY, 1e300] {
            assert!(t.slice(track, "z", bad, 1.0, Value::Null).is_err());
            assert!(t.child(s, "z", bad, Value::Null).is_err());
            assert!(t.counter("c", bad, &[("v", 1.0)]).is_err());
        }
        assert!(t.counter("c", 1.0, &[("v", f64::NAN)]).is_err());
        assert!(t.slice(TrackId(7), "z", 0.0, 1.0, Value::Null).is_err());
        assert!(t.child(SliceId(99), "z", 1.0, Value::Null).is_err());
    }

    #[test]
    fn component_names_choose_the_track() {
        assert_eq!(place("dense"), Place::Gpu);
        assert_eq!(place("tier/DDR5/attention"), Place::Tier("DDR5", "attention"));
        assert_eq!(place("tier/HBM"), Place::Tier("HBM", "HBM"));
        assert_eq!(place("migration/DDR5->HBM"), Place::Migration("DDR5->HBM"));
    }

    fn record(iteration: u64, stage: u32, start_ns: u64, duration_ns: u64) -> IterationRecord {
        IterationRecord {
            iteration,
            stage,
            start_ns,
            duration_ns,
            decode_seqs: 3,
            prefill_seqs: 1,
            prefill_tokens: 100,
            running: 4,
            waiting: 2,
            preempted: 0,
            kv_blocks_used: 17,
            // The parts overshoot the stage's time by rounding: the last is clamped.
            dense_us: duration_ns as f64 * 0.6e-3,
            attention_us: duration_ns as f64 * 0.3e-3,
            all_reduce_us: 0.0,
            pp_transfer_us: if stage == 0 { 0.3333 } else { 0.0 },
            lm_head_us: duration_ns as f64 * 0.1e-3 + 0.0004,
            extra: Vec::new(),
        }
    }

    /// A run of `n` steps on two stages, 1 ms and 0.9999995 ms each.
    pub(crate) fn fake_run(n: u64) -> RunResult {
        let mut iterations = Vec::new();
        for i in 0..n {
            iterations.push(record(i, 0, i * 1_000_000, 1_000_000));
            iterations.push(record(i, 1, (i + 1) * 1_000_000, 999_999));
        }
        RunResult {
            model: "m".into(),
            backend: "b".into(),
            config: EngineConfig { pp: 2, ..EngineConfig::default() },
            num_blocks: 100,
            requests: Vec::new(),
            iterations,
        }
    }

    #[test]
    fn the_window_limits_the_trace() {
        let run = fake_run(1000);
        let window = Window { start: 100, iterations: 50 };
        let trace = trace_from_run(&run, &window).expect("trace");
        let v = parse(&trace);
        let xs = check_nesting(&v, |us| (us * 1000.0) as i64);
        let parents: Vec<&Value> =
            xs.iter().filter(|e| e["name"].as_str().is_some_and(|n| n.starts_with("iter"))).collect();
        assert_eq!(parents.len(), 2 * 50, "one parent per iteration and stage");
        assert!(parents.iter().all(|e| (100..150).contains(&e["args"]["iteration"].as_u64().expect("iteration"))));
        // Stage 0: dense, attention, pp_transfer, lm_head; stage 1 has no transfer.
        assert_eq!(xs.len(), 100 + 50 * 4 + 50 * 3);
        let events = v["traceEvents"].as_array().expect("events");
        assert_eq!(events.iter().filter(|e| e["ph"] == "C").count(), 3 * 50);
        let names: Vec<&str> =
            events.iter().filter(|e| e["name"] == "thread_name").filter_map(|e| e["args"]["name"].as_str()).collect();
        assert_eq!(names, ["GPU stage 0", "GPU stage 1"]);
        // The default window: the first 200.
        let all = trace_from_run(&run, &Window::default()).expect("trace");
        assert_eq!(all.counter_count(), 3 * 200);
        // A window past the end: an empty but valid trace.
        let none = trace_from_run(&run, &Window { start: 5000, iterations: 10 }).expect("trace");
        assert_eq!(none.slice_count(), 0);
        check_nesting(&parse(&none), |us| (us * 1000.0).round() as i64);
    }
}
