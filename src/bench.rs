//! `pam bench pu`: simulated PU cycles per second, driven from Rust through the FFI layer and
//! driven by a plain C++ Verilator testbench (`csrc/pu_bench.h`) on the same model and the
//! same stimulus, and their ratio.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::device::stimulus::{random_query, write_random_tokens};
use crate::error::SimError;
use crate::golden::fp::fp32_to_fp16;
use crate::rtl::beats::beats;
use crate::rtl::pu::PuSim;

pub struct PuBenchResult {
    pub rust_cycles: u64,
    pub rust_seconds: f64,
    pub cpp_cycles: u64,
    pub cpp_seconds: f64,
}

impl PuBenchResult {
    pub fn rust_rate(&self) -> f64 {
        self.rust_cycles as f64 / self.rust_seconds
    }
    pub fn cpp_rate(&self) -> f64 {
        self.cpp_cycles as f64 / self.cpp_seconds
    }
}

/// Rounds per driver; the fastest of each is reported.
pub const BENCH_ROUNDS: usize = 5;

pub fn bench_pu(lanes: usize, dim: usize, tokens: usize, repeats: u64, seed: u64) -> anyhow::Result<PuBenchResult> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut h = |a: f32| fp32_to_fp16(rng.random_range(-a..=a).to_bits());
    let q: Vec<u16> = (0..dim).map(|_| h(0.3)).collect();
    let k: Vec<u16> = (0..tokens * dim).map(|_| h(2.0)).collect();
    let v: Vec<u16> = (0..tokens * dim).map(|_| h(1.0)).collect();

    // The C++ testbench takes beats already laid out: query padded to whole beats, then per
    // token its k beats and its v beats.
    let nb = beats(dim, lanes);
    let pad = |x: &[u16]| {
        let mut o = x.to_vec();
        o.resize(nb * lanes, 0);
        o
    };
    let qp = pad(&q);
    let mut kv = Vec::with_capacity(tokens * 2 * nb * lanes);
    for t in 0..tokens {
        kv.extend(pad(&k[t * dim..(t + 1) * dim]));
        kv.extend(pad(&v[t * dim..(t + 1) * dim]));
    }

    // Rounds alternate between the two drivers and each keeps its fastest round, so that a
    // burst of load on the shared machine does not decide the ratio.
    let mut pu = PuSim::new(lanes, 666.0)?;
    let (mut rust_cycles, mut rust_seconds) = (0, f64::INFINITY);
    let (mut cpp_cycles, mut cpp_seconds) = (0, f64::INFINITY);
    for _ in 0..BENCH_ROUNDS {
        let start_cycles = pu.model().cycles();
        let t0 = Instant::now();
        let mut m_rust = 0;
        for _ in 0..repeats {
            pu.load_query(&q)?;
            m_rust = pu.run(&k, &v)?.partial.m;
        }
        let secs = t0.elapsed().as_secs_f64();
        if secs < rust_seconds {
            (rust_cycles, rust_seconds) = (pu.model().cycles() - start_cycles, secs);
        }
        let (cycles, secs, m_cpp) = crate::rtl::cpp_bench::run_pu(lanes, dim, tokens, &qp, &kv, repeats)?;
        anyhow::ensure!(
            m_cpp == m_rust,
            "the C++ testbench computed a different running max ({m_cpp:#x} vs {m_rust:#x}): not the same stimulus"
        );
        if secs < cpp_seconds {
            (cpp_cycles, cpp_seconds) = (cycles, secs);
        }
    }
    Ok(PuBenchResult { rust_cycles, rust_seconds, cpp_cycles, cpp_seconds })
}

/// One tier's streaming measurement.
pub struct BandwidthResult {
    pub preset: &'static str,
    pub tokens: usize,
    pub dim: usize,
    pub stream_cycles: u64,
    pub bytes: u64,
    /// Achieved bytes per second on the simulated (scaled) device.
    pub achieved: f64,
    pub bounds: crate::device::dram::bandwidth::Bounds,
    /// Bytes per second if the run took the pattern's least clocks for its rows and refreshes.
    pub run_bound: f64,
    pub refreshes: u64,
    /// The reference device's bounds (full geometry, same timing).
    pub reference: crate::device::dram::bandwidth::Bounds,
    pub wall_seconds: f64,
}

/// Fills whole rows of a scaled DRAM device with tokens, then every PU streams all of them.
/// `own_pu_clock`: the PUs run on the tier's PU clock behind dual-clock FIFOs instead of on the
/// memory clock.
pub fn bench_bandwidth(
    preset: &crate::device::dram::preset::DramPreset,
    reference: &crate::device::dram::preset::DramPreset,
    dim: usize,
    tokens: usize,
    seed: u64,
    own_pu_clock: bool,
) -> anyhow::Result<BandwidthResult> {
    use crate::device::dram::bandwidth::bounds;
    use crate::device::dram::DramDevSim;
    use crate::device::pim::PimDevice;
    use crate::kv::placement::{DramPlacer, GroupPolicy};

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mem = Box::new(DramDevSim::new(preset)?);
    let mut dev = if own_pu_clock { PimDevice::with_pu_clock(mem, preset.pu_clock_mhz)? } else { PimDevice::new(mem)? };
    let mut placer = DramPlacer::new(preset.shape(dim), GroupPolicy::RoundRobin, 0, 0)?;
    anyhow::ensure!(
        tokens <= placer.capacity(),
        "{} holds {} tokens of head dimension {dim}",
        preset.name,
        placer.capacity()
    );
    let place = |_: &mut ChaCha8Rng| placer.place().map_err(|e| SimError::Input(e.to_string()));
    let locs: Vec<_> =
        write_random_tokens(&mut dev, &mut rng, tokens, dim, place)?.into_iter().map(|(loc, _)| loc).collect();
    dev.load_query(&random_query(&mut rng, dim))?;
    let ref0 = dev.counts().refresh;
    let t0 = Instant::now();
    let run = dev.run(&locs)?;
    let wall_seconds = t0.elapsed().as_secs_f64();
    let refreshes = dev.counts().refresh - ref0;
    let shape = preset.shape(dim);
    let cols = shape.slots_per_row() * shape.cols_per_token();
    let bytes = (tokens * shape.token_beats * preset.col_bytes()) as u64;
    let achieved = bytes as f64 / (run.cycles.stream as f64 * preset.tck_ps * 1e-12);
    let gap = preset.timing.ccd_l;
    let rows = tokens.div_ceil(shape.slots_per_row() * shape.pus_per_group() * preset.bank_groups) as u64;
    let least = crate::device::dram::bandwidth::pattern_clocks(preset, cols, gap, rows, refreshes);
    Ok(BandwidthResult {
        run_bound: bytes as f64 / (least as f64 * preset.tck_ps * 1e-12),
        refreshes,
        preset: preset.name,
        tokens,
        dim,
        stream_cycles: run.cycles.stream,
        bytes,
        achieved,
        bounds: bounds(preset, cols, gap),
        reference: bounds(reference, reference.shape(dim).slots_per_row() * reference.shape(dim).cols_per_token(), gap),
        wall_seconds,
    })
}

/// The SSD tier's streaming measurement and what bounds it.
pub struct FlashBandwidthResult {
    pub tokens: usize,
    pub pages: usize,
    pub stream_cycles: u64,
    pub bytes: u64,
    pub achieved: f64,
    /// Channels x one beat per bus gap.
    pub bus_bound: f64,
    /// Channels x dies x one page per (tR + the page's transfer): a die has one page
    /// register, so its next read starts once the page has left over the bus.
    pub tr_bound: f64,
    /// The smaller of the two per channel, summed.
    pub bound: f64,
    pub wall_seconds: f64,
}

/// Fills `pages_per_die` pages of every die of the scaled SSD with tokens, then streams them
/// all to the PUs from the flash array (page registers emptied first).
pub fn bench_flash_bandwidth(
    preset: &crate::device::flash::FlashPreset,
    dim: usize,
    pages_per_die: usize,
    seed: u64,
) -> anyhow::Result<FlashBandwidthResult> {
    use crate::device::tier::TierPreset;

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let tier = TierPreset::by_name(preset.name)
        .ok_or_else(|| anyhow::anyhow!("no preset {}", preset.name))?
        .with_kind(preset.clone());
    let mut dev = tier.open(None)?;
    let mut placer = crate::kv::placement::FlashPlacer::new(preset.shape(dim), 2, 0)?;
    let per_page = preset.page_bytes / preset.token_bytes(dim);
    let pages = pages_per_die * preset.channels * preset.dies_per_channel;
    let tokens = pages * per_page;
    let place = |_: &mut ChaCha8Rng| placer.place().map_err(|e| SimError::Input(e.to_string()));
    let locs: Vec<_> =
        write_random_tokens(&mut dev, &mut rng, tokens, dim, place)?.into_iter().map(|(loc, _)| loc).collect();
    dev.memory().drop_caches()?;
    dev.load_query(&random_query(&mut rng, dim))?;
    let t0 = Instant::now();
    let run = dev.run(&locs)?;
    let wall_seconds = t0.elapsed().as_secs_f64();
    let bytes = (tokens * preset.token_bytes(dim)) as u64;
    let tck = preset.tck_ps() * 1e-12;
    let achieved = bytes as f64 / (run.cycles.stream as f64 * tck);
    let bus = preset.beat_bytes() as f64 / (preset.xfer_gap() as f64 * tck);
    let die = preset.page_bytes as f64 / (preset.t_r_ns * 1e-9 + preset.page_bytes as f64 / bus);
    let ch = preset.channels as f64;
    Ok(FlashBandwidthResult {
        tokens,
        pages,
        stream_cycles: run.cycles.stream,
        bytes,
        achieved,
        bus_bound: ch * bus,
        tr_bound: ch * preset.dies_per_channel as f64 * die,
        bound: preset.stream_bound(),
        wall_seconds,
    })
}

/// One policy's decode run.
pub struct PolicyResult {
    pub policy: &'static str,
    pub mean_step_ns: f64,
    pub attention_ns: Vec<f64>,
    pub migrated: usize,
    pub split: Vec<f64>,
    pub mismatches: usize,
}

/// The same decode run (seed, model, arrivals, drifting importance) under the online scheduler
/// towards `target`, without scheduling, and with L-PIM placement.
pub fn bench_policies(target: (f64, f64), steps: usize, seed: u64) -> anyhow::Result<Vec<PolicyResult>> {
    use crate::migration::MigrationPath;
    use crate::sched::{LPim, NoSchedule, Policy, Scheduler, SchedulerConfig, Target};
    use crate::system::decode::{DecodeConfig, ModelShape, PamSystem};
    use crate::system::pamattention::TierConfig;
    use crate::system::scores::ScoreKind;

    let cfg = DecodeConfig {
        model: ModelShape { layers: 1, q_heads: 2, kv_heads: 1, head_dim: 64 },
        contexts: vec![400, 300],
        steps,
        scores: ScoreKind::Synthetic,
        drift: 0.05,
        fraction: 0.125,
        tiers: TierConfig::scaled(&["hbm-s", "ddr-s", "ssd-s"], &[150, 300, 4000])?,
        merge_tier: 0,
        migration: MigrationPath::Interface,
        seed,
    };
    let mut out = Vec::new();
    let policies: [(&'static str, Box<dyn Policy>); 3] = [
        ("pam", Box::new(Scheduler::new(SchedulerConfig::new(Target::new(target.0, target.1)?)))),
        ("none", Box::new(NoSchedule)),
        ("lpim", Box::new(LPim)),
    ];
    for (name, policy) in policies {
        let mut sys = PamSystem::new(cfg.clone(), policy)?;
        let r = sys.run()?;
        // Steady state: the first step's rebalancing of the prompt is left out.
        let tail = &r.steps[1.min(r.steps.len() - 1)..];
        let mut attention = vec![0.0; 3];
        for s in tail {
            for (a, x) in attention.iter_mut().zip(&s.attention_ns) {
                *a += x / tail.len() as f64;
            }
        }
        out.push(PolicyResult {
            policy: name,
            mean_step_ns: tail.iter().map(|s| s.latency_ns).sum::<f64>() / tail.len() as f64,
            attention_ns: attention,
            migrated: tail.iter().map(|s| s.tokens_migrated).sum(),
            split: r.splits.last().cloned().unwrap_or_else(|| vec![0.0; 3]),
            mismatches: r.mismatches.len(),
        });
    }
    Ok(out)
}

/// One side of [`bench_calibrated`].
pub struct ModelRun {
    pub models: &'static str,
    /// Wall time of the decode run, and of opening the tiers (calibration included).
    pub run_s: f64,
    pub open_s: f64,
    /// Simulated local attention per tier, summed over the run (ns).
    pub attention_ns: Vec<f64>,
    pub mismatches: usize,
    pub max_rel_err_f64: f64,
    pub splits: Vec<Vec<f64>>,
}

/// The same decode run (a small model over the three tiers) with every tier in RTL and with
/// every tier on the calibrated fast model: host time, simulated attention time per tier.
pub fn bench_calibrated(steps: usize, seed: u64) -> anyhow::Result<Vec<ModelRun>> {
    use crate::device::attention::DeviceModel;
    use crate::migration::MigrationPath;
    use crate::sched::{Scheduler, SchedulerConfig, Target};
    use crate::system::decode::{DecodeConfig, ModelShape, PamSystem};
    use crate::system::pamattention::TierConfig;
    use crate::system::scores::ScoreKind;

    let mut out = Vec::new();
    for (name, model) in [("rtl", DeviceModel::Rtl), ("calibrated", DeviceModel::Calibrated)] {
        let cfg = DecodeConfig {
            model: ModelShape { layers: 2, q_heads: 4, kv_heads: 2, head_dim: 64 },
            contexts: vec![600, 400, 250],
            steps,
            scores: ScoreKind::Synthetic,
            drift: 0.05,
            fraction: 0.125,
            tiers: TierConfig::scaled(&["hbm-s", "ddr-s", "ssd-s"], &[600, 1200, 20000])?
                .into_iter()
                .map(|t| TierConfig { model, ..t })
                .collect(),
            merge_tier: 0,
            migration: MigrationPath::Interface,
            seed,
        };
        let policy = Box::new(Scheduler::new(SchedulerConfig::new(Target::new(6.0, 3.0)?)));
        let t0 = std::time::Instant::now();
        let mut sys = PamSystem::new(cfg, policy)?;
        let open_s = t0.elapsed().as_secs_f64();
        let t1 = std::time::Instant::now();
        let r = sys.run()?;
        let run_s = t1.elapsed().as_secs_f64();
        let mut attention_ns = vec![0.0; 3];
        for s in &r.steps {
            for (a, x) in attention_ns.iter_mut().zip(&s.attention_ns) {
                *a += x;
            }
        }
        out.push(ModelRun {
            models: name,
            run_s,
            open_s,
            attention_ns,
            mismatches: r.mismatches.len(),
            max_rel_err_f64: r.max_rel_err_f64,
            splits: r.splits,
        });
    }
    Ok(out)
}
