//! PIM time at full size, calibrated from the RTL (SERVING-SPEC §8): for each memory tier of a
//! node at its reference geometry (`hbm3-5.2`, `ddr4-3200`, `lpddr5-6400-cxl`, `ssd` in
//! `presets/tiers.yaml`), the time of one layer's local attention on a device, the RU merges,
//! the tier's link and migrations between tiers.
//!
//! # Where the figures come from
//! A reference device is far too large to Verilate, so each tier's time model is fitted on its
//! first Verilated scaled geometry (`hbm-s`, `ddr-s`, `lp5-s`, `ssd-s`: the presets whose
//! `reference:` is the tier), extrapolated by geometry, and the extrapolation is checked
//! against the RTL of a second Verilated geometry (`hbm-s2`, `ddr-s2`, `lp5-s2`, `ssd-s2`).
//! [`PimTiming::load_or_calibrate`] measures (or loads from the disk cache, [`cache`]):
//! 1. the device fit (`calibrate::fit_device`): 48 fitted and 16 held-out RTL runs of local
//!    attention for query groups 1..=4, PUs on their own clock, reads spaced by the compute
//!    cap, packed and random subsets, cold; the merge pipeline (from the RU fit) is taken out
//!    of each run and the rest fitted as `ps = c0 + c1 a + c2 b + c3 c`, the terms of
//!    [`crate::device::calibrated`] for DRAM (a = rows opened, b = column slots streamed, c =
//!    tokens of the busiest PU); for flash a = the busiest channel's pipeline time
//!    ([`model::channel_pipeline_ns`]), b = its tokens, no c (see below). A DRAM run's
//!    refreshes are a fitted term too, applied in expectation (one every tREFI). Why
//!    not `Calibration::measure`'s own fit is said at `fit_device`: the check showed it;
//! 2. the RU's merge time ([`calibrate::measure_ru`]): the Verilated `pam_ru` of the tier's
//!    lanes on its PU clock merging 1..=64 partials, `cycles = r0 + r1 n`;
//! 3. the check ([`calibrate::GeometryCheck`]): the second geometry in RTL, packed runs of
//!    1/16, 1/4 and all of 1024 stored tokens (fewer if the device holds fewer) for g = 1, 4
//!    and 8, and sparse runs of a random eighth of them for g = 1 and 8, each predicted from
//!    the first geometry's fit by the same extrapolation as the reference device;
//! 4. the migration interface ([`calibrate::measure_migration`]) for every ordered pair of
//!    tiers: the Verilated `mig_<src beat bytes>_<dst beat bytes>` moving 16 and 128 tokens,
//!    fitted as a fixed time plus a time per token.
//!
//! # The full-size device model (the derivation)
//! * **The compute cap is geometry-independent.** The device cap is a per-bank (DRAM:
//!   `cap_gflops / cap_banks`) or per-channel (flash: `cap_channels`) share, so a scaled
//!   device spaces its all-bank reads (flash: channel transfers) exactly as the reference
//!   does. Every geometry is measured at that spacing, and calibration refuses a preset whose
//!   spacing differs from its reference's ([`calibrate::cap_gap`]): the per-slot and per-row
//!   times then carry over unchanged.
//! * **DRAM: channels are independent, a channel is what the RTL simulates.** A reference
//!   device is `channels` command buses (HBM3: 64 of 4 bank groups x 4 banks; DDR4: 16 chips
//!   of 2 x 4; LPDDR5: 256 dies of 4 x 4), each streaming its bank groups in all-bank
//!   lockstep as the Verilated device (one command bus) does. The KV mapping spreads a
//!   device's tokens evenly over channels and bank groups (least-activated bank group; the
//!   caller passes imbalance as `busiest_pu`), and a group fills slot after slot across its
//!   PUs, every group at the same (row, column) slots. For `n` token-vectors on a device, a
//!   channel streams `slots = ceil(ceil(ceil(n / channels) / bank_groups) / PUs per group)`
//!   slots (at least the busiest PU's tokens: a slot feeds a PU one token) over
//!   `rows = ceil(slots / slots per row)` rows, and the busiest PU folds
//!   `max(busiest_pu, ceil(n / PUs))` tokens. The fitted coefficients apply to these
//!   features because a slot, a row and a PU token cost the same at any bank count (one
//!   all-bank ACT per row, `cols per token` reads at the cap's spacing per slot, one PU per
//!   bank or pair).
//! * **Flash: the whole SSD is what the RTL simulates.** The FTL deals a channel's tokens
//!   over its dies in turn, page after page, so each die reads
//!   `ceil(ceil(ceil(n / channels) / dies) / tokens per page)` pages (cold: a tR each; the
//!   other layers and heads of the step have used the page registers since) and the channel
//!   carries `ceil(n / channels)` tokens. A channel's time is a pipeline, not a sum: every
//!   die's first read starts at once, pages cross the bus round robin over the dies, and a
//!   die reads its next page once its register is free, so the channel is read-bound with
//!   few dies (the scaled `ssd-s`, 2 a channel) and bus-bound with many (the reference, 4).
//!   [`model::channel_pipeline_ns`] computes it (exactly for the first rounds, then by the
//!   steady period), and the fit scales it and adds per-token and per-run costs. The check
//!   showed why: `Calibration`'s additive flash terms (die array time plus channel
//!   transfers), fitted on `ssd-s`, predicted `ssd-s2` up to 1.36x its RTL time. The PU folds
//!   a token in 16 clocks while the bus brings one in hundreds of ns, so flash time has no PU
//!   term and `busiest_pu` does not change it.
//! * **Sparse loads** ([`TierTiming::device_ps_sparse`]): `n` drawn at random among `s`
//!   stored token-vectors touch, in expectation, `1 - (1 - n/s)^k` of the stored slots /
//!   rows / pages of `k` tokens each, instead of packing into the fewest. On flash the draw
//!   also loads the dies unevenly, and the slowest channel is set by its busiest die: a
//!   sparse flash load takes the expected maximum over the device's dies of the pages (and
//!   tokens) each must read, and over its channels of the tokens each bus carries
//!   ([`model::expected_max`]). With only the mean pages per die, the Verilated `ssd-s`
//!   (2 dies a channel, read-bound) under pam ran 15% longer than predicted.
//! * **Merges.** A Verilated device merges in a pipeline (every first-level RU merges its
//!   PUs' partials, then one device RU merges theirs, query after query, the levels
//!   overlapping); the fit takes that pipeline, computed from the RU fit, out of every run,
//!   and a prediction adds the target device's: at full size the first-level RUs (bank group
//!   / channel),
//!   then the fastest tree of the device's `device_rus` RUs (128 in an HBM logic die, 4 at a
//!   DIMM buffer, 8 in a CXL or SSD controller) over the `channels x bank groups` (flash:
//!   `channels`) partials, fan-in chosen for the least time. A pipeline of levels takes the
//!   sum of its levels for the first query and its slowest level for each further one.
//! * **One run per load.** [`TierTiming::device_ps`] times the load as one back-to-back
//!   stream: the (request, KV head) runs of a layer follow each other, and one run's PU drain
//!   and merges overlap the next run's stream, so the fixed costs show once.
//!
//! # Group sizes above the calibrated 4 (LLaMA3-70B's g = 8)
//! **Decision:** a PU holds all g query contexts (as `PimDevice` models it: g contexts side by
//! side share each K/V beat), so g > 4 streams the KV once and only the merge pipeline grows,
//! by its slowest level per query; no `ceil(g / 4)` passes. The check measures g = 8 in RTL at
//! the second geometry, so this extrapolation is itself checked.
//!
//! # Links and migrations
//! [`TierTiming::link_ps`] is the tier link's latency plus bytes over its bandwidth (query
//! out, partial back). [`PimTiming::migrate_ps`] spreads a migration over
//! `min(src devices, dst devices)` device pairs working in parallel (a position's K and V are
//! spread over the tier's devices by the mapping, and each memory controller has its
//! interface); each pair streams at the slowest of the interface's measured rate, the two
//! devices' links and, for a flash source, its array streaming bound (tR per page over its
//! dies), after the interface's fixed time and both links' latencies.

pub mod cache;
pub mod calibrate;
pub mod model;
pub mod rtl;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use calibrate::{MigCalibration, TierCalibration};
use model::{best_tree, Geometry};

use crate::device::calibrated::{CHECK_RUNS, FIT_RUNS, MAX_GROUP};
use crate::device::tier::TierPreset;
use crate::error::SimError;
use crate::migration::MIG_CLOCK_MHZ;
use crate::rtl::pu::DMAX;

/// Hash of every RTL source and of `presets/tiers.yaml` (build.rs): part of every cache key.
pub const RTL_HASH: &str = env!("PAM_RTL_HASH");

/// Why PIM timing could not be had.
#[derive(Debug, thiserror::Error)]
pub enum PimError {
    #[error("tier '{name}' is not a tier preset; allowed: {allowed:?} (or a scaled preset of one, timed at its own geometry)")]
    UnknownTier { name: String, allowed: Vec<String> },
    #[error("tier {tier}: no Verilated preset names it as its reference (presets/tiers.yaml `reference:`)")]
    NoScaled { tier: String },
    #[error("head dimension {dim}: {reason}")]
    Dim { dim: usize, reason: String },
    #[error("preset {preset} (presets/tiers.yaml): {message}")]
    Geometry { preset: String, message: String },
    #[error("{what}: {source}")]
    Rtl {
        what: String,
        #[source]
        source: SimError,
    },
    #[error("calibration cache {}: {source}", path.display())]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no tiers to calibrate")]
    NoTiers,
}

/// One tier's load in one layer of one step, on the busiest device of the tier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierLoad {
    /// (position, KV head) pairs on the busiest device.
    pub token_vectors: u64,
    /// Token-vectors on that device's busiest PU (0: the balanced share).
    pub busiest_pu: u64,
    /// Queries per KV head (GQA g = q_heads / kv_heads).
    pub group: u32,
}

/// One tier's full-size time model: the reference preset, the fit and its provenance.
#[derive(Clone, Debug)]
pub struct TierTiming {
    preset: TierPreset,
    /// The Verilated geometry fitted (the tier's first).
    fitted: Geometry,
    geometry: Geometry,
    dim: usize,
    /// Token-vectors one device holds at `dim` (asked every step; a placer is built to know).
    capacity: u64,
    pub calibration: TierCalibration,
    /// Loaded from the disk cache rather than measured by this call.
    pub cached: bool,
    pub cache_file: PathBuf,
}

impl TierTiming {
    /// The reference preset.
    pub fn preset(&self) -> &TierPreset {
        &self.preset
    }

    /// Devices per node (from the preset).
    pub fn devices(&self) -> usize {
        self.preset.devices_per_node()
    }

    pub fn pus_per_device(&self) -> u64 {
        self.geometry.pus()
    }

    /// One device's local attention for one layer (ps): the load packed as the KV mapping
    /// places consecutive tokens, down to one partial per query (see the module doc).
    pub fn device_ps(&self, load: &TierLoad) -> f64 {
        self.predict(load, None)
    }

    /// As [`Self::device_ps`] for a sparse load: the token-vectors drawn at random among
    /// `stored` on the device, so they touch more rows (pages) than packed ones.
    pub fn device_ps_sparse(&self, load: &TierLoad, stored: u64) -> f64 {
        self.predict(load, Some(stored.max(load.token_vectors)))
    }

    fn predict(&self, load: &TierLoad, stored: Option<u64>) -> f64 {
        self.calibration.fit.predict(
            &self.geometry,
            false,
            self.preset.device_rus as u64,
            load.token_vectors,
            load.busiest_pu,
            stored,
            load.group.max(1),
        )
    }

    /// RU tree merge of `partials` partial results inside the tier (e.g. one per device
    /// holding tokens), `group` queries each: the fastest tree of the device-level RUs,
    /// pipelined over the queries. The merges inside one device are in [`Self::device_ps`].
    pub fn merge_ps(&self, partials: u64, group: u32) -> f64 {
        let ru = &self.calibration.fit.ru;
        best_tree(partials, self.preset.device_rus as u64, ru, group.max(1)).1
    }

    /// Latency + bytes / bandwidth of the tier's link (query out, partial back).
    pub fn link_ps(&self, bytes: u64) -> f64 {
        self.preset.link.latency_ps as f64 + bytes as f64 / self.preset.link.bandwidth * 1e12
    }

    /// K + V of one head, dimension d, FP16.
    pub fn token_vector_bytes(&self) -> u64 {
        4 * self.dim as u64
    }

    /// Token-vectors one device holds at this head dimension.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Token-vectors per second of the whole node's tier attending full devices for `group`
    /// queries per KV head.
    pub fn node_token_vectors_per_s(&self, group: u32) -> f64 {
        let n = self.capacity();
        let t = self.device_ps(&TierLoad { token_vectors: n, busiest_pu: 0, group });
        self.devices() as f64 * n as f64 / (t * 1e-12).max(1e-30)
    }
}

/// The migration interface between two tiers, as measured.
#[derive(Clone, Debug)]
pub struct MigrationTiming {
    pub src: usize,
    pub dst: usize,
    pub calibration: MigCalibration,
    pub cached: bool,
    pub cache_file: PathBuf,
}

/// Every tier's time model, the migrations between them, and where they came from.
#[derive(Clone, Debug)]
pub struct PimTiming {
    pub tiers: Vec<TierTiming>,
    pub dim: usize,
    pub migrations: Vec<MigrationTiming>,
    /// Provenance: the RTL hash of the keys, the cache directory, the seed, host seconds.
    pub rtl_hash: &'static str,
    pub cache_dir: PathBuf,
    pub seed: u64,
    pub wall_s: f64,
}

/// The cache directory a run uses: `$PAM_CACHE`, else `.cache/pam` under the current one.
pub fn default_cache_dir() -> PathBuf {
    std::env::var_os("PAM_CACHE").map_or_else(|| PathBuf::from(".cache/pam"), PathBuf::from)
}

/// The reference presets (what `tiers` may name).
pub fn reference_names() -> Vec<String> {
    TierPreset::all().iter().filter(|p| p.reference == p.name()).map(|p| p.name().to_string()).collect()
}

/// A seed of its own for each thing measured, so adding a tier changes no other's figures.
fn sub_seed(seed: u64, what: &str) -> u64 {
    cache::fnv64(format!("{seed} {what}").as_bytes())
}

impl PimTiming {
    /// Calibrates (or loads from the cache) every tier; `tiers` are reference preset names (a
    /// scaled preset is timed by its reference's calibration at its own geometry),
    /// fastest first.
    pub fn load_or_calibrate(tiers: &[&str], dim: usize, cache_dir: &Path, seed: u64) -> Result<PimTiming, PimError> {
        let started = Instant::now();
        if tiers.is_empty() {
            return Err(PimError::NoTiers);
        }
        if dim == 0 || dim > DMAX {
            return Err(PimError::Dim { dim, reason: format!("must be 1..={DMAX} (the PU's buffer)") });
        }
        let mut out = Vec::new();
        let mut firsts = Vec::new();
        for &named in tiers {
            // A scaled (Verilated) preset is timed by its reference's calibration at its own
            // geometry: what the RTL-in-the-loop comparison checks against.
            let at = TierPreset::by_name(named)
                .ok_or_else(|| PimError::UnknownTier { name: named.to_string(), allowed: reference_names() })?;
            let name = at.reference;
            let preset = TierPreset::by_name(name)
                .filter(|p| p.reference == p.name())
                .ok_or_else(|| PimError::UnknownTier { name: name.to_string(), allowed: reference_names() })?;
            let scaled: Vec<TierPreset> = TierPreset::verilated().filter(|p| p.reference == name).cloned().collect();
            let first = scaled.first().ok_or_else(|| PimError::NoScaled { tier: name.to_string() })?;
            let geo = |p: &TierPreset| {
                Geometry::of(p, dim).map_err(|e| PimError::Geometry { preset: p.name().to_string(), message: e })
            };
            let (geometry, fitted) = (geo(&preset)?, geo(first)?);
            for p in &scaled[1..] {
                geo(p)?;
            }
            let key = format!(
                "pim-tier v{} rtl {RTL_HASH} dim {dim} seed {seed} runs {FIT_RUNS}+{CHECK_RUNS} groups {MAX_GROUP} \
                 check {:?} x {} reference {:?} scaled {:?}",
                cache::FORMAT_VERSION,
                calibrate::CHECK_GROUPS,
                calibrate::CHECK_TOKENS,
                preset,
                scaled
            );
            let file = cache::path_of(cache_dir, &format!("tier-{name}-d{dim}"), &key);
            let (calibration, cached) = match cache::load::<TierCalibration>(&file, &key) {
                Some(c) => (c, true),
                None => {
                    let c = calibrate::calibrate_tier(&preset, &scaled, dim, sub_seed(seed, name))?;
                    cache::store(&file, &key, &c)?;
                    (c, false)
                }
            };
            firsts.push(first.clone());
            let geometry = if at.name() == preset.name() { geometry } else { geo(&at)? };
            let capacity = at.device_capacity(dim).map_or(0, |c| c as u64);
            out.push(TierTiming { preset: at, fitted, geometry, dim, capacity, calibration, cached, cache_file: file });
        }
        let mut migrations = Vec::new();
        for (i, src) in firsts.iter().enumerate() {
            for (j, dst) in firsts.iter().enumerate().filter(|(j, _)| *j != i) {
                let key = format!(
                    "pim-mig v{} rtl {RTL_HASH} dim {dim} seed {seed} clock {MIG_CLOCK_MHZ} runs {:?} src {:?} dst {:?}",
                    cache::FORMAT_VERSION,
                    calibrate::MIG_RUNS,
                    src,
                    dst
                );
                let file = cache::path_of(cache_dir, &format!("mig-{}-{}-d{dim}", src.name(), dst.name()), &key);
                let (calibration, cached) = match cache::load::<MigCalibration>(&file, &key) {
                    Some(c) => (c, true),
                    None => {
                        let what = format!("mig {} {}", src.name(), dst.name());
                        let c = calibrate::measure_migration(src, dst, dim, sub_seed(seed, &what))?;
                        cache::store(&file, &key, &c)?;
                        (c, false)
                    }
                };
                migrations.push(MigrationTiming { src: i, dst: j, calibration, cached, cache_file: file });
            }
        }
        Ok(PimTiming {
            tiers: out,
            dim,
            migrations,
            rtl_hash: RTL_HASH,
            cache_dir: cache_dir.to_path_buf(),
            seed,
            wall_s: started.elapsed().as_secs_f64(),
        })
    }

    /// Whether every figure came from the cache.
    pub fn all_cached(&self) -> bool {
        self.tiers.iter().all(|t| t.cached) && self.migrations.iter().all(|m| m.cached)
    }

    /// Bytes per ps one device pair moves from tier `src` to `dst`, and the fixed ps.
    fn migration_rate(&self, src: usize, dst: usize) -> Option<(f64, f64)> {
        let m = self.migrations.iter().find(|m| m.src == src && m.dst == dst)?;
        let (s, d) = (self.tiers.get(src)?.preset(), self.tiers.get(dst)?.preset());
        let mut rate = m.calibration.bytes_per_ps().min(s.link.bandwidth / 1e12).min(d.link.bandwidth / 1e12);
        if let Some(f) = s.as_flash() {
            rate = rate.min(f.stream_bound() / 1e12);
        }
        Some((rate, m.calibration.fixed_ps + (s.link.latency_ps + d.link.latency_ps) as f64))
    }

    /// Time to migrate `positions` token positions of `bytes_per_position` each from tier
    /// `src` to tier `dst` through the migration interface (RTL-calibrated throughput of the
    /// mig_<src>_<dst> top for that beat-width pair) and the slower of the two links; ps.
    /// Zero for no positions or `src == dst`; infinite for a tier index out of range.
    pub fn migrate_ps(&self, src: usize, dst: usize, positions: u64, bytes_per_position: u64) -> f64 {
        let bytes = positions.saturating_mul(bytes_per_position);
        if bytes == 0 || src == dst {
            return 0.0;
        }
        let Some((rate, fixed)) = self.migration_rate(src, dst) else {
            return f64::INFINITY;
        };
        let pairs = self.tiers[src].devices().min(self.tiers[dst].devices()).max(1) as f64;
        fixed + bytes as f64 / (rate * pairs)
    }

    /// Printable report: per tier the fit, the held-out error, the extrapolation check and the
    /// node-level throughput; the migrations; whether each came from the cache.
    pub fn report(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "pam calibrate: head dim {}, seed {}, RTL hash {}, cache {}",
            self.dim,
            self.seed,
            self.rtl_hash,
            self.cache_dir.display()
        );
        for t in &self.tiers {
            report_tier(&mut o, t);
        }
        if !self.migrations.is_empty() {
            let _ = writeln!(o, "migrations (interface per device pair; min(src, dst devices) pairs in parallel):");
        }
        for m in &self.migrations {
            let c = &m.calibration;
            let (rate, fixed) = self.migration_rate(m.src, m.dst).unwrap_or((0.0, 0.0));
            let (s, d) = (&self.tiers[m.src], &self.tiers[m.dst]);
            let _ = writeln!(
                o,
                "  {:>4} -> {:<4} {} ({} -> {}): interface {:.2} GB/s + {:.0} ns; with links and source {:.2} GB/s a pair + {:.0} ns; 1 GB in {:.3} ms  [{}]",
                s.preset().label(),
                d.preset().label(),
                c.top,
                c.src,
                c.dst,
                c.bytes_per_ps() * 1e3,
                c.fixed_ps / 1e3,
                rate * 1e3,
                fixed / 1e3,
                self.migrate_ps(m.src, m.dst, 1 << 20, 1 << 10) / 1e9,
                provenance(m.cached, c.measure_s, &m.cache_file),
            );
        }
        let _ =
            writeln!(o, "total {:.1} s{}", self.wall_s, if self.all_cached() { " (all from the cache)" } else { "" });
        o
    }
}

fn provenance(cached: bool, measure_s: f64, file: &Path) -> String {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if cached {
        format!("cached: {name}, measured in {measure_s:.1} s")
    } else {
        format!("measured in {measure_s:.1} s, cached as {name}")
    }
}

fn report_tier(o: &mut String, t: &TierTiming) {
    let p = t.preset();
    let c = &t.calibration;
    let f = &c.fit;
    let _ = writeln!(
        o,
        "{} {}: {} devices per node, {} PUs each, {} device RUs; fitted on {} (reads every {} clocks: the compute cap, as at full size)  [{}]",
        p.label(),
        p.name(),
        t.devices(),
        t.pus_per_device(),
        p.device_rus,
        f.scaled,
        f.gap,
        provenance(t.cached, c.measure_s, &t.cache_file)
    );
    let terms = if p.as_flash().is_some() {
        ["const", "per ns of channel pipeline", "per channel token", "(no PU term)", "per refresh (g: merges)"]
    } else {
        ["const", "per row", "per slot", "per busiest-PU token", "per refresh (g: merges)"]
    };
    let coef: Vec<String> = f.coef.iter().zip(terms).map(|(v, n)| format!("{:.1} ps {n}", v)).collect();
    let _ = writeln!(o, "  fit ({} tokens): {}; refreshes x{:.4}", f.tokens, coef.join(", "), f.refresh);
    let _ = writeln!(
        o,
        "  held-out ({CHECK_RUNS} RTL runs of {}): mean |err| {:.2}%, max {:.2}%, summed {:.2}%",
        f.scaled,
        100.0 * f.mean_rel_err,
        100.0 * f.max_rel_err,
        100.0 * f.total_rel_err
    );
    let rtl_levels = |g| model::pipeline_ps(&model::device_levels(&t.fitted, true, 1, &f.ru, g), &f.ru, g);
    let _ = writeln!(
        o,
        "  RU: {:.1} + {:.2} n cycles of {:.0} ps (max residual {:.1}); {}'s merges g=1 / next query: RU fit {:.0} / {:.0} ns, device runs {:.0} / {:.0} ns",
        f.ru.fixed_cycles,
        f.ru.per_partial_cycles,
        f.ru.period_ps,
        f.ru.max_resid_cycles,
        f.scaled,
        rtl_levels(1) / 1e3,
        (rtl_levels(2) - rtl_levels(1)) / 1e3,
        f.reduce_ps[0] / 1e3,
        f.reduce_ps[1] / 1e3
    );
    match &c.check {
        Some(k) => {
            let _ = writeln!(
                o,
                "  check on {} (RTL, fit of {} extrapolated): predicted / measured mean {:.3}, worst {:.3} over {} runs",
                k.scaled,
                f.scaled,
                k.mean_ratio,
                k.worst_ratio,
                k.points.len()
            );
            for pt in &k.points {
                let how =
                    pt.stored.map_or("packed".to_string(), |s| format!("1/{:.0} of {s}", s as f64 / pt.tokens as f64));
                let _ = writeln!(
                    o,
                    "    {:>5} tokens {:<12} g={}  busiest PU {:>4}: predicted {:>10.1} ns, RTL {:>10.1} ns, ratio {:.3}",
                    pt.tokens,
                    how,
                    pt.group,
                    pt.busiest_pu,
                    pt.predicted_ps / 1e3,
                    pt.measured_ps / 1e3,
                    pt.ratio()
                );
            }
        }
        None => {
            let _ = writeln!(o, "  check: no second Verilated geometry of this tier");
        }
    }
    let n = t.capacity();
    let full = |g| t.device_ps(&TierLoad { token_vectors: n, busiest_pu: 0, group: g });
    let _ = writeln!(
        o,
        "  full size: a full device ({n} token-vectors of {} B) in {:.3} ms (g=1), {:.3} ms (g=8); node {:.3e} token-vectors/s (g=1), {:.3e} (g=8)",
        t.token_vector_bytes(),
        full(1) / 1e9,
        full(8) / 1e9,
        t.node_token_vectors_per_s(1),
        t.node_token_vectors_per_s(8)
    );
    let small = TierLoad { token_vectors: 4096, busiest_pu: 0, group: 8 };
    let _ = writeln!(
        o,
        "  4096 token-vectors g=8: {:.2} us packed, {:.2} us as 1/8 of 32768; merge of {} devices' partials {:.3} us; link {} ({:.0} ns + {:.0} GB/s)",
        t.device_ps(&small) / 1e6,
        t.device_ps_sparse(&small, 8 * 4096) / 1e6,
        t.devices(),
        t.merge_ps(t.devices() as u64, 8) / 1e6,
        p.link.name,
        p.link.latency_ps as f64 / 1e3,
        p.link.bandwidth / 1e9
    );
}

/// `pam calibrate`: calibrates or loads `tiers` and returns the report.
pub fn calibrate_command(
    tiers: &[String],
    dim: usize,
    cache_dir: Option<&Path>,
    seed: u64,
) -> Result<String, PimError> {
    let dir = cache_dir.map_or_else(default_cache_dir, Path::to_path_buf);
    let names: Vec<&str> = tiers.iter().map(String::as_str).collect();
    Ok(PimTiming::load_or_calibrate(&names, dim, &dir, seed)?.report())
}
