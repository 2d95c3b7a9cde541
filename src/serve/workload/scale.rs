//! Load scaling: a trace replayed faster or slower, cut to a count, or to a time window.

use serde::{Deserialize, Serialize};

use super::error::WorkloadError;
use super::synth::ArrivalProcess;
use super::{After, Request, SessionLink, Workload};

/// A half-open window `[start_ns, end_ns)` of arrival times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub start_ns: u64,
    pub end_ns: u64,
}

/// How to reshape a workload's load, applied in this order: the time `window` (in the trace's
/// own time), then the `rate_factor`, then `max_requests`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadScaling {
    /// Keep only the requests that arrive in this window, with times made relative to its start.
    pub window: Option<TimeWindow>,
    /// Replay at this many times the trace's rate (arrival times divided by it); 1 keeps them.
    pub rate_factor: f64,
    /// Keep at most this many requests, the first ones.
    pub max_requests: Option<usize>,
}

impl Default for LoadScaling {
    fn default() -> Self {
        LoadScaling { window: None, rate_factor: 1.0, max_requests: None }
    }
}

impl LoadScaling {
    /// Applies the scaling to `workload`.
    pub fn apply(&self, workload: Workload) -> Result<Workload, WorkloadError> {
        let mut workload = workload;
        if let Some(w) = self.window {
            workload = workload.window(w.start_ns, w.end_ns)?;
        }
        workload = workload.scale_rate(self.rate_factor)?;
        if let Some(n) = self.max_requests {
            workload = workload.limit(n);
        }
        Ok(workload)
    }
}

impl Workload {
    /// Replays the workload at `k` times its rate: every arrival time is divided by `k` (and
    /// rounded to the nanosecond). Tool durations between the sub-requests of a session are
    /// not load and stay as they are. `k` must be finite and above 0.
    pub fn scale_rate(mut self, k: f64) -> Result<Workload, WorkloadError> {
        if !(k.is_finite() && k > 0.0) {
            return Err(WorkloadError::invalid("rate factor", format!("{k}; allowed: a finite number above 0")));
        }
        if k != 1.0 {
            // `as` saturates, so a tiny `k` cannot overflow.
            reflow(&mut self.requests, |arrival| (arrival as f64 / k).round() as u64);
        }
        Ok(self)
    }

    /// Keeps the first `n` requests. A session cut in the middle keeps its first sub-requests:
    /// a dependency always points to an earlier request, so none is left dangling.
    pub fn limit(mut self, n: usize) -> Workload {
        self.requests.truncate(n);
        self
    }

    /// Keeps the requests that arrive in `[start_ns, end_ns)`, with arrival times made relative
    /// to `start_ns`, and numbers them again from 0. A session is kept or dropped whole, by the
    /// arrival of its first sub-request.
    pub fn window(self, start_ns: u64, end_ns: u64) -> Result<Workload, WorkloadError> {
        if start_ns > end_ns {
            return Err(WorkloadError::invalid(
                "time window",
                format!("start {start_ns} ns after end {end_ns} ns; allowed: start <= end"),
            ));
        }
        let mut keep = vec![false; self.requests.len()];
        for (i, r) in self.requests.iter().enumerate() {
            keep[i] = match r.after() {
                None => (start_ns..end_ns).contains(&r.arrival_ns),
                Some(after) => keep.get(after.request as usize).copied().unwrap_or(false),
            };
        }
        let mut requests = renumber(self.requests, &keep);
        reflow(&mut requests, |arrival| arrival.saturating_sub(start_ns));
        Ok(Workload { requests })
    }

    /// Gives the requests new arrival times from `process` and `seed`, keeping their lengths
    /// and order: for a token-count trace without arrivals, or to replay a trace's lengths
    /// under another arrival process. The sub-requests of sessions keep their dependencies; the
    /// first of each session gets a new arrival like any other request.
    pub fn with_arrivals(mut self, process: &ArrivalProcess, seed: u64) -> Result<Workload, WorkloadError> {
        let independent = self.requests.iter().filter(|r| r.after().is_none()).count();
        let mut arrivals = process.arrivals(independent, seed)?.into_iter();
        reflow(&mut self.requests, |old| arrivals.next().unwrap_or(old));
        Ok(self)
    }
}

/// Maps every independent request's arrival through `map`, in order, and sets each dependent
/// request's arrival to its lower bound: its predecessor's arrival plus the delay.
pub(crate) fn reflow(requests: &mut [Request], mut map: impl FnMut(u64) -> u64) {
    for i in 0..requests.len() {
        let arrival = match requests[i].after() {
            None => map(requests[i].arrival_ns),
            Some(After { request, delay_ns }) => requests
                .get(request as usize)
                .filter(|_| (request as usize) < i)
                .map_or(requests[i].arrival_ns, |before| before.arrival_ns.saturating_add(delay_ns)),
        };
        requests[i].arrival_ns = arrival;
    }
}

/// Keeps the requests marked in `keep` (a set closed under dependencies) and numbers them, and
/// their sessions, again from 0.
fn renumber(requests: Vec<Request>, keep: &[bool]) -> Vec<Request> {
    let mut new_id: Vec<Option<u64>> = vec![None; requests.len()];
    let mut new_session: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for (i, mut r) in requests.into_iter().enumerate() {
        if !keep.get(i).copied().unwrap_or(false) {
            continue;
        }
        let id = out.len() as u64;
        new_id[i] = Some(id);
        r.id = id;
        if let Some(link) = r.session {
            let sessions = new_session.len() as u64;
            let session = *new_session.entry(link.session).or_insert(sessions);
            let after = link
                .after
                .and_then(|a| new_id.get(a.request as usize).copied().flatten().map(|request| After { request, ..a }));
            r.session = Some(SessionLink { session, after, ..link });
        }
        out.push(r);
    }
    out
}
