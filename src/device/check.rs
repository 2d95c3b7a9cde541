//! Local attention in a tier's device, RTL against the golden models.
//!
//! A [`DeviceProblem`] is a group of queries (one, or the g query heads of a KV head) and a set
//! of tokens placed by the host's mapping rule (least-activated bank group, after a random
//! activation history); [`check`] writes the tokens through the device's port, runs local
//! attention of every query over a random selection of them in one device run, and compares
//! each query's reduced partial bit for bit with the golden model, its normalised output with
//! float64, and every DRAM command with the timing rules (RTL checker and Rust checker on the
//! command log).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::memory::CommandCounts;
use super::pim::{PimDevice, RunBreakdown};
use super::tier::TierPreset;
use crate::error::SimError;
use crate::golden::{self, fp::fp16_of, fp::fp16_to_f64};
use crate::kv::block_table::{BlockTable, SeqKey};
use crate::kv::location::PhysLoc;
use crate::partial::Partial;

/// One token: where it lives and its FP16 K and V.
#[derive(Clone, Debug)]
pub struct PlacedToken {
    pub loc: PhysLoc,
    pub k: Vec<u16>,
    pub v: Vec<u16>,
}

#[derive(Clone, Debug)]
pub struct DeviceProblem {
    pub seed: u64,
    pub preset: TierPreset,
    /// The (1/sqrt(d)-scaled) queries of the group, sharing every K/V read.
    pub qs: Vec<Vec<u16>>,
    pub tokens: Vec<PlacedToken>,
    /// Indices into `tokens` that the query attends (sparse selection).
    pub selected: Vec<usize>,
    /// The host's block table: token position -> physical location.
    pub table: BlockTable,
}

/// The one sequence a device problem holds.
pub const SEQ: SeqKey = SeqKey { request: 0, layer: 0, kv_head: 0 };
/// Tokens per page of the block table.
pub const PAGE_TOKENS: usize = 16;

/// Head dimensions the device suite draws from.
pub const DIMS: [usize; 6] = [64, 128, 96, 40, 17, 256];

impl DeviceProblem {
    /// A random problem for `preset` with one query: head dimension (from `dims`, those that
    /// fit), token count (in `tokens`) and selection are drawn from the seed; tokens are placed
    /// by the tier's mapping rule (for DRAM after a random attention history).
    pub fn generate(
        preset: &TierPreset,
        seed: u64,
        dims: &[usize],
        tokens: (usize, usize),
    ) -> Result<DeviceProblem, SimError> {
        Self::generate_group(preset, seed, dims, tokens, 1)
    }

    /// As [`Self::generate`] with `queries` queries attending the same tokens; the first query
    /// and everything else are those of the one-query problem of the same seed.
    pub fn generate_group(
        preset: &TierPreset,
        seed: u64,
        dims: &[usize],
        tokens: (usize, usize),
        queries: usize,
    ) -> Result<DeviceProblem, SimError> {
        if queries == 0 {
            return Err(SimError::Input("a device problem needs at least one query".into()));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let fits: Vec<usize> = dims.iter().copied().filter(|&d| preset.fits(d).is_ok()).collect();
        if fits.is_empty() {
            return Err(SimError::Input(format!("no head dimension of {dims:?} fits {}", preset.name())));
        }
        let dim = fits[rng.random_range(0..fits.len())];
        let n = rng.random_range(tokens.0.max(1)..=tokens.1.max(1));
        let frac = [1.0, 0.5, 0.125][rng.random_range(0..3)];
        let amp = [0.5f32, 2.0, 8.0][rng.random_range(0..3)];
        let mut placer = preset.placer(dim)?;
        let mut placed = Vec::with_capacity(n);
        let mut table = BlockTable::new(PAGE_TOKENS);
        for _ in 0..n {
            let loc = placer.place(&mut rng)?;
            table.set(SEQ, placed.len(), loc);
            let k = (0..dim).map(|_| fp16_of(rng.random_range(-amp..=amp))).collect();
            let v = (0..dim).map(|_| fp16_of(rng.random_range(-1.0f32..=1.0))).collect();
            placed.push(PlacedToken { loc, k, v });
        }
        let scale = 1.0 / (dim as f32).sqrt();
        let query = |rng: &mut ChaCha8Rng| (0..dim).map(|_| fp16_of(rng.random_range(-amp..=amp) * scale)).collect();
        let mut qs = vec![query(&mut rng)];
        let mut selected: Vec<usize> = (0..n).filter(|_| rng.random_bool(frac)).collect();
        if selected.is_empty() {
            selected.push(rng.random_range(0..n));
        }
        // Drawn last, so that a group extends the one-query problem of its seed.
        qs.extend((1..queries).map(|_| query(&mut rng)));
        Ok(DeviceProblem { seed, preset: preset.clone(), qs, tokens: placed, selected, table })
    }

    pub fn dim(&self) -> usize {
        self.qs[0].len()
    }

    pub fn label(&self) -> String {
        let (name, d, n, s, g) =
            (self.preset.name(), self.dim(), self.tokens.len(), self.selected.len(), self.qs.len());
        format!("{name}_d{d}_n{n}_s{s}_g{g}")
    }
}

#[derive(Clone, Debug, Default)]
pub struct DeviceOutcome {
    pub mismatches: Vec<String>,
    /// The device's reduced partial of every query of the group.
    pub partials: Vec<Partial>,
    /// The largest of the group's queries.
    pub rel_err_f64: Option<f64>,
    /// Every query of the group.
    pub within_bound: bool,
    /// Memory clocks of the local-attention run (writes excluded).
    pub cycles: u64,
    pub breakdown: RunBreakdown,
    pub ns: f64,
    /// Commands of the whole case (writes, reads back and the run).
    pub commands: CommandCounts,
    pub rtl_violations: u64,
    pub rust_violations: usize,
}

/// Runs `p` on `dev` (a device of `p.preset`'s geometry) from power-on ([`PimDevice::power_on`],
/// so what `dev` held before is not to be read afterwards) and compares everything.
pub fn check(dev: &mut PimDevice, p: &DeviceProblem, inject_fault: bool) -> Result<DeviceOutcome, SimError> {
    // Every case starts from the same state, whatever ran before it on this device, so that its
    // cycles and commands (not only its bits) are reproduced by a replay of its seed alone.
    dev.power_on()?;
    for t in &p.tokens {
        dev.write_token(&t.loc, &t.k, &t.v)?;
    }
    let mut out = DeviceOutcome::default();
    // The bytes a PU reads are the bytes the host wrote: read a few back through the port.
    for t in p.tokens.iter().step_by(p.tokens.len().div_ceil(3).max(1)) {
        if dev.read_token(&t.loc, p.dim())? != (t.k.clone(), t.v.clone()) {
            out.mismatches.push(format!("token at {:?} reads back different bytes", t.loc));
        }
    }
    // Attention reads stored tokens: nothing of the writes may linger in a page register.
    dev.memory().drop_caches()?;
    dev.load_queries(&p.qs)?;
    // The device is told where the selected tokens are by the host's block table.
    let locs: Vec<PhysLoc> =
        p.selected.iter().map(|&i| p.table.get(SEQ, i).expect("placed tokens are in the table")).collect();
    let run = dev.run(&locs)?;
    out.cycles = run.cycles.total();
    out.ns = run.ps as f64 / 1000.0;
    out.breakdown = run.cycles.clone();
    if run.partials.len() != p.qs.len() {
        out.mismatches.push(format!("{} partials for {} queries", run.partials.len(), p.qs.len()));
    }
    if run.err || dev.memory().error_flag() {
        out.mismatches.push("the device raised an error flag".into());
    }

    let by_loc = |l: &PhysLoc| p.tokens.iter().find(|t| t.loc == *l).expect("selected tokens were placed");
    let k: Vec<f64> = p.selected.iter().flat_map(|&i| p.tokens[i].k.iter().map(|&x| fp16_to_f64(x))).collect();
    let v: Vec<f64> = p.selected.iter().flat_map(|&i| p.tokens[i].v.iter().map(|&x| fp16_to_f64(x))).collect();
    out.within_bound = true;
    for (i, (q, got)) in p.qs.iter().zip(&run.partials).enumerate() {
        let mut want = dev.golden(q, &locs, |l| (by_loc(l).k.as_slice(), by_loc(l).v.as_slice()));
        // The last query's, so that a group's later contexts are shown to be checked too.
        want.m ^= (inject_fault && i + 1 == p.qs.len()) as u32;
        if let Some(d) = got.diff(&want) {
            out.mismatches.push(format!("device partial of query {i}: RTL vs model {d}"));
        }
        let q: Vec<f64> = q.iter().map(|&x| fp16_to_f64(x)).collect();
        if let Some(r) = golden::reference::attention(&q, &k, &v) {
            let (o16, _) = golden::ru::finalize(got);
            let o: Vec<f64> = o16.iter().map(|&x| fp16_to_f64(x)).collect();
            let e = golden::reference::rel_err(&o, &r.out);
            out.rel_err_f64 = Some(out.rel_err_f64.map_or(e, |m: f64| m.max(e)));
            if !golden::reference::within_bound(&o, &r) {
                out.within_bound = false;
                out.mismatches.push(format!("query {i}: normalised output outside the accuracy bound against float64"));
            }
        }
    }

    out.partials = run.partials;
    out.commands = dev.counts();
    let (rtl, host) = dev.memory().timing_violations();
    out.rtl_violations = rtl;
    out.rust_violations = host as usize;
    if rtl != 0 || host != 0 {
        out.mismatches.push(format!("timing violations: RTL checker {rtl}, host checker {host}"));
    }
    Ok(out)
}
