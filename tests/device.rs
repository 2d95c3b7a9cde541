//! The DRAM-PIM devices of the HBM and DDR tiers, RTL in the loop.

use pam::device::check::{check, DeviceProblem, DIMS, SEQ};
use pam::device::memory::CommandCounts;
use pam::device::pim::{DeviceRun, PimDevice};
use pam::device::tier::TierPreset;
use pam::kv::location::PhysLoc;

fn device_matches_model(preset: TierPreset, seeds: std::ops::Range<u64>) {
    let mut dev = preset.open(None).unwrap();
    for seed in seeds {
        let p = DeviceProblem::generate(&preset, seed, &DIMS, (1, 120)).unwrap();
        let o = check(&mut dev, &p, false).unwrap();
        println!("{} seed {seed}: {} cycles {:?} commands {:?}", p.label(), o.cycles, o.breakdown, o.commands);
        assert!(o.mismatches.is_empty(), "{} seed {seed}: {:?}", p.label(), o.mismatches);
        // Every run opens rows (DRAM ACT) or reads pages (flash, counted as ACT), reads and writes.
        assert!(o.commands.act > 0 && o.commands.rd > 0 && o.commands.wr > 0, "{:?}", o.commands);
        // The checker must be able to fail: the same run with a flipped model bit is caught.
        if seed == 0 {
            let bad = check(&mut dev, &p, true).unwrap();
            assert!(bad.mismatches.iter().any(|m| m.contains("RTL vs model")));
            // In a group, every query's partial is checked: a fault in the last one is caught.
            let group = DeviceProblem::generate_group(&preset, seed, &DIMS, (1, 120), 3).unwrap();
            assert!(check(&mut dev, &group, false).unwrap().mismatches.is_empty());
            let bad = check(&mut dev, &group, true).unwrap();
            assert!(
                bad.mismatches.iter().any(|m| m.contains("partial of query 2: RTL vs model")),
                "{:?}",
                bad.mismatches
            );
        }
    }
}

#[test]
fn hbm_device_local_attention_matches_model() {
    device_matches_model(TierPreset::by_name("hbm-s").unwrap(), 0..3);
}

#[test]
fn ddr_device_local_attention_matches_model() {
    device_matches_model(TierPreset::by_name("ddr-s").unwrap(), 0..3);
}

#[test]
fn ssd_device_local_attention_matches_model() {
    device_matches_model(TierPreset::by_name("ssd-s").unwrap(), 0..2);
}

/// With the PUs on the tier's own clock, every beat crosses a dual-clock FIFO: the arithmetic
/// is the same (bit-exact with the model), the timing is the PU's.
#[test]
fn pus_on_their_own_clock_give_the_same_bits_and_their_own_timing() {
    for preset in [TierPreset::by_name("hbm-s").unwrap(), TierPreset::by_name("ddr-s").unwrap()] {
        let mut same = preset.open(None).unwrap();
        let mut own = preset.open_with_pu_clock(None).unwrap();
        let p = DeviceProblem::generate(&preset, 7, &[128], (200, 200)).unwrap();
        let a = check(&mut same, &p, false).unwrap();
        let b = check(&mut own, &p, false).unwrap();
        assert!(a.mismatches.is_empty() && b.mismatches.is_empty(), "{:?} {:?}", a.mismatches, b.mismatches);
        println!(
            "{}: PU on the memory clock {:.0} ns, on its own {} MHz clock {:.0} ns",
            preset.name(),
            a.ns,
            preset.pu_clock_mhz(),
            b.ns
        );
        // The PU clocks are slower than the memory clocks here: the run cannot get faster.
        assert!(b.ns >= a.ns, "{}: {} < {}", preset.name(), b.ns, a.ns);
    }
}

/// Writes the problem's tokens; returns where the selected ones are.
fn store(dev: &mut PimDevice, p: &DeviceProblem) -> Vec<PhysLoc> {
    dev.memory().reset_stats();
    for t in &p.tokens {
        dev.write_token(&t.loc, &t.k, &t.v).unwrap();
    }
    p.selected.iter().map(|&i| p.table.get(SEQ, i).unwrap()).collect()
}

/// One device run of the group `qs` over `locs` from cold page registers, with the reads it
/// issued (DRAM all-bank RDs, flash channel transfers). ACTs are not compared: how many rows
/// a stream opens also depends on what the previous one left open and on refreshes.
fn run_group(dev: &mut PimDevice, qs: &[Vec<u16>], locs: &[PhysLoc]) -> (DeviceRun, u64) {
    dev.memory().drop_caches().unwrap();
    let before = dev.counts();
    dev.load_queries(qs).unwrap();
    let run = dev.run(locs).unwrap();
    let after = dev.counts();
    assert!(!run.err && !dev.memory().error_flag());
    (run, after.rd - before.rd)
}

/// A group of `g` queries in one run against each query alone: the same bits (and the golden
/// model's), one stream's reads instead of g, less time than the g runs.
fn group_shares_the_stream(dev: &mut PimDevice, preset: &TierPreset, g: usize, tokens: usize) {
    let p = DeviceProblem::generate_group(preset, 11 + g as u64, &[128, 64], (tokens, tokens), g).unwrap();
    let locs = store(dev, &p);
    let (grouped, reads) = run_group(dev, &p.qs, &locs);
    assert!(grouped.partials.len() == g && reads > 0);
    let by_loc = |l: &PhysLoc| p.tokens.iter().find(|t| t.loc == *l).unwrap();
    let (mut singles_ps, mut singles_rd) = (0, 0);
    for (i, q) in p.qs.iter().enumerate() {
        let want = dev.golden(q, &locs, |l| (by_loc(l).k.as_slice(), by_loc(l).v.as_slice()));
        assert_eq!(grouped.partials[i], want, "{} g={g}: query {i} against the model", p.label());
        let (single, c) = run_group(dev, std::slice::from_ref(q), &locs);
        assert_eq!(single.partials, vec![want], "{} g={g}: query {i} alone", p.label());
        // The K/V reads are the group's: one query alone reads exactly what the group did.
        assert_eq!(c, reads, "{} g={g}: reads of query {i} alone", p.label());
        singles_ps += single.ps;
        singles_rd += c;
    }
    assert_eq!(dev.memory().timing_violations(), (0, 0));
    println!(
        "{} g={g}: one run {:.0} ns {:?}, {g} runs {:.0} ns; reads {} vs {singles_rd}",
        p.label(),
        grouped.ps as f64 / 1e3,
        grouped.cycles,
        singles_ps as f64 / 1e3,
        reads
    );
    assert_eq!(singles_rd, g as u64 * reads);
    assert!(grouped.ps < singles_ps, "{}: grouped {} ps, {g} runs {singles_ps} ps", p.label(), grouped.ps);
}

/// Grouped-query attention (spec §11): the g queries of a KV head share each K/V read.
#[test]
fn a_query_group_shares_one_stream() {
    for preset in TierPreset::verilated() {
        let mut dev = preset.open(None).unwrap();
        // 2 then 4: the device grows its PU contexts, then single queries use the first only.
        for g in [2, 4] {
            group_shares_the_stream(&mut dev, preset, g, 150);
        }
    }
}

/// With the PUs on their own clock, each beat crosses into the PU's domain once, then goes to
/// every context.
#[test]
fn a_query_group_shares_one_stream_across_clock_domains() {
    for preset in TierPreset::verilated() {
        let mut dev = preset.open_with_pu_clock(None).unwrap();
        group_shares_the_stream(&mut dev, preset, 3, 150);
    }
}

#[test]
fn a_query_group_needs_one_head_dimension() {
    let mut dev = TierPreset::by_name("hbm-s").unwrap().open(None).unwrap();
    assert!(dev.load_queries(&[vec![0u16; 64], vec![0u16; 32]]).is_err());
    assert!(dev.load_queries::<Vec<u16>>(&[]).is_err());
    assert!(dev.run(&[]).is_err(), "no group loaded");
}

/// One device's view of a statistics reset: what it streamed and what it got wrong.
struct ResetProbe {
    /// Stream clocks of the attention right after the writes, then again after reading back.
    streams: [u64; 2],
    mismatches: Vec<String>,
    /// Commands counted when the reset would come, and at the end.
    at_reset: CommandCounts,
    at_end: CommandCounts,
}

/// Writes every token of `p` to a fresh device, resets its statistics right after the last
/// write when `reset`, attends over all of them, reads every token back and attends again.
fn probe_reset(preset: &TierPreset, p: &DeviceProblem, reset: bool) -> ResetProbe {
    let mut dev = preset.open(None).unwrap();
    for t in &p.tokens {
        dev.write_token(&t.loc, &t.k, &t.v).unwrap();
    }
    let at_reset = dev.counts();
    if reset {
        dev.memory().reset_stats();
    }
    let locs: Vec<PhysLoc> = p.tokens.iter().map(|t| t.loc).collect();
    let by_loc = |l: &PhysLoc| p.tokens.iter().find(|t| t.loc == *l).unwrap();
    let want = dev.golden(&p.qs[0], &locs, |l| (by_loc(l).k.as_slice(), by_loc(l).v.as_slice()));
    let attend = |dev: &mut PimDevice, when: &str, mismatches: &mut Vec<String>| {
        dev.load_queries(&p.qs).unwrap();
        let run = dev.run(&locs).unwrap();
        if run.partials != [want.clone()] {
            mismatches.push(format!("attention {when}: RTL partial differs from the model"));
        }
        run.cycles.stream
    };
    let mut mismatches = Vec::new();
    let first = attend(&mut dev, "after the writes", &mut mismatches);
    for t in &p.tokens {
        if dev.read_token(&t.loc, p.dim()).unwrap() != (t.k.clone(), t.v.clone()) {
            mismatches.push(format!("token at {:?} reads back different bytes", t.loc));
        }
    }
    let second = attend(&mut dev, "after reading back", &mut mismatches);
    if dev.memory().timing_violations() != (0, 0) || dev.memory().error_flag() {
        mismatches.push(format!("violations {:?}, error flag", dev.memory().timing_violations()));
    }
    ResetProbe { streams: [first, second], mismatches, at_reset, at_end: dev.counts() }
}

/// `reset_stats` is a measurement boundary only: a write still in flight when it is called
/// lands, the stored tokens and the timing the next stream sees are those without it, and the
/// counts afterwards are exactly the commands issued since.
#[test]
fn reset_stats_keeps_what_the_memory_holds_and_its_timing() {
    for preset in TierPreset::verilated() {
        let p = DeviceProblem::generate(preset, 21, &[128], (150, 150)).unwrap();
        let plain = probe_reset(preset, &p, false);
        let reset = probe_reset(preset, &p, true);
        println!(
            "{}: stream clocks without reset_stats {:?}, with {:?}; mismatches with {:?}",
            p.label(),
            plain.streams,
            reset.streams,
            reset.mismatches
        );
        assert!(plain.mismatches.is_empty(), "{}: {:?}", p.label(), plain.mismatches);
        assert!(reset.mismatches.is_empty(), "{}: {:?}", p.label(), reset.mismatches);
        assert_eq!(reset.streams, plain.streams, "{}: stream clocks", p.label());
        let (a, b) = (&plain.at_end, &plain.at_reset);
        let since = CommandCounts {
            act: a.act - b.act,
            rd: a.rd - b.rd,
            wr: a.wr - b.wr,
            pre: a.pre - b.pre,
            refresh: a.refresh - b.refresh,
        };
        assert_eq!(reset.at_end, since, "{}: counts after reset_stats", p.label());
    }
}

/// What a device case reports is its own: on a device that first ran another case (rows left
/// open, refresh part-way, flash page registers holding pages, four PU contexts), the case gives
/// the partials, clocks, time and commands it gives on a fresh device, so that a replay of one
/// regression seed reproduces the case as the suite ran it, whichever worker ran it after what.
#[test]
fn a_case_runs_the_same_whatever_ran_before_it_on_the_device() {
    for preset in TierPreset::verilated() {
        // Seeds for which, without the power-on, the DRAM cases took other clocks and commands
        // and the flash case issued other page reads.
        let case = DeviceProblem::generate_group(preset, 2, &DIMS, (150, 300), 2).unwrap();
        let before = DeviceProblem::generate_group(preset, 102, &DIMS, (300, 300), 4).unwrap();
        let fresh = check(&mut preset.open(None).unwrap(), &case, false).unwrap();
        let mut used = preset.open(None).unwrap();
        assert!(check(&mut used, &before, false).unwrap().mismatches.is_empty());
        let after = check(&mut used, &case, false).unwrap();
        println!(
            "{} after {}: {} cycles {:.1} ns {:?}",
            case.label(),
            before.label(),
            after.cycles,
            after.ns,
            after.commands
        );
        for o in [&fresh, &after] {
            assert!(o.mismatches.is_empty(), "{}: {:?}", case.label(), o.mismatches);
            assert_eq!(o.partials.len(), case.qs.len());
        }
        assert_eq!(after.partials, fresh.partials, "{}: partials", case.label());
        assert_eq!(
            (after.cycles, format!("{:?}", after.breakdown), after.ns, &after.commands),
            (fresh.cycles, format!("{:?}", fresh.breakdown), fresh.ns, &fresh.commands),
            "{}: cycles, their breakdown, time and commands",
            case.label()
        );
    }
}

/// A run that fails half-way leaves PUs inside their RUN (here a location outside the device
/// is found after every PU took its RUN); the next case starts from power-on all the same.
#[test]
fn a_case_after_a_failed_run_is_unaffected() {
    for preset in TierPreset::verilated() {
        let case = DeviceProblem::generate(preset, 2, &DIMS, (150, 300)).unwrap();
        let fresh = check(&mut preset.open(None).unwrap(), &case, false).unwrap();
        let mut dev = preset.open(None).unwrap();
        dev.load_queries(&case.qs).unwrap();
        let inside = case.tokens[0].loc;
        assert!(dev.run(&[inside, PhysLoc { row: u32::MAX, ..inside }]).is_err());
        let after = check(&mut dev, &case, false).unwrap();
        assert!(after.mismatches.is_empty(), "{}: {:?}", case.label(), after.mismatches);
        assert_eq!(after.partials, fresh.partials, "{}: partials", case.label());
        assert_eq!((after.cycles, &after.commands), (fresh.cycles, &fresh.commands), "{}", case.label());
    }
}
