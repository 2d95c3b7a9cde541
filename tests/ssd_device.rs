//! The SSD-PIM tier's memory side: the Verilated flash device behind the `MemorySide` trait.
//!
//! Tests run with tR = 300 clocks and tPROG = 600 (the preset keeps 30 us) and the preset's
//! bus gap (14 clocks per 32-byte beat at 2400 MT/s, 1 GHz).

use std::collections::HashMap;

use pam::device::flash::{FlashPreset, SsdDevSim};
use pam::device::memory::{Beat, MemorySide};
use pam::kv::location::PhysLoc;
use pam::kv::placement::FlashPlacer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const T_R: u32 = 300;
const T_PROG: u32 = 600;

fn device() -> SsdDevSim {
    let preset = FlashPreset::named("ssd-s").unwrap();
    let mut d = SsdDevSim::new(&preset).unwrap();
    d.configure(T_R, T_PROG, preset.xfer_gap()).unwrap();
    d
}

fn random_kv(rng: &mut ChaCha8Rng, dim: usize) -> (Vec<u16>, Vec<u16>) {
    // Any bit pattern: the memory moves bytes, it does not look at them.
    ((0..dim).map(|_| rng.random()).collect(), (0..dim).map(|_| rng.random()).collect())
}

/// Places `n` tokens with the flash mapping rule and writes random K/V for them.
fn fill(d: &mut SsdDevSim, dim: usize, n: usize, seed: u64) -> Vec<(PhysLoc, Vec<u16>, Vec<u16>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut placer = FlashPlacer::new(d.preset().shape(dim), 2, 0).unwrap();
    let out: Vec<_> = (0..n)
        .map(|_| {
            let loc = placer.place().unwrap();
            let (k, v) = random_kv(&mut rng, dim);
            d.write_token(&loc, &k, &v).unwrap();
            (loc, k, v)
        })
        .collect();
    d.flush().unwrap();
    out
}

/// The beats a PU must receive for a token: K beats then V beats, 16 lanes, zero padded.
fn token_beats(k: &[u16], v: &[u16], lanes: usize) -> Vec<Vec<u32>> {
    let nb = k.len().div_ceil(lanes);
    let mut out = Vec::new();
    for src in [k, v] {
        for b in 0..nb {
            let mut w = vec![0u32; lanes / 2];
            for (i, &e) in src.iter().skip(b * lanes).take(lanes).enumerate() {
                w[i / 2] |= (e as u32) << (16 * (i % 2));
            }
            out.push(w);
        }
    }
    out
}

/// Streams `locs` and returns (clocks, beats per PU in arrival order, clocks the callback saw).
fn stream(d: &mut SsdDevSim, dim: usize, locs: &[PhysLoc], stall_every: usize) -> (u64, Vec<Vec<Vec<u32>>>, u64) {
    let mut got = vec![Vec::new(); d.pus()];
    let mut calls = 0u64;
    let cycles = d
        .stream(dim, locs, &mut |beats: &[Beat]| {
            calls += 1;
            let mut per_channel = HashMap::new();
            for b in beats {
                got[b.pu].push(b.words.to_vec());
                *per_channel.entry(b.pu / 4).or_insert(0) += 1;
            }
            assert!(per_channel.values().all(|&n| n == 1), "a channel delivered two beats in one clock");
            stall_every == 0 || !calls.is_multiple_of(stall_every as u64)
        })
        .unwrap();
    (cycles, got, calls)
}

#[test]
fn tokens_written_are_read_back_identical() {
    let mut d = device();
    // Head dimension 100: 7 beats of K and 7 of V, the last of each padded.
    let toks = fill(&mut d, 100, 40, 1);
    for (loc, k, v) in &toks {
        let (rk, rv) = d.read_token(loc, 100).unwrap();
        assert_eq!((&rk, &rv), (k, v), "token at {loc:?}");
    }
    // Rewriting a token in a programmed page is a read-modify-write: its neighbours survive.
    // (With the page registers dropped, the page is read from the array.)
    d.drop_caches().unwrap();
    d.reset_stats();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (k2, v2) = random_kv(&mut rng, 100);
    d.write_token(&toks[8].0, &k2, &v2).unwrap();
    assert_eq!(d.read_token(&toks[8].0, 100).unwrap(), (k2, v2));
    assert_eq!(d.read_token(&toks[0].0, 100).unwrap(), (toks[0].1.clone(), toks[0].2.clone()));
    let c = d.counts();
    println!("write/read counts {c:?}");
    assert!(c.act >= 1 && c.wr >= 1 && c.rd > 0);
    assert_eq!(d.timing_violations(), (0, 0));
    assert!(!d.error_flag());
}

#[test]
fn stream_delivers_every_beat_to_its_pu_in_order() {
    let mut d = device();
    let dim = 128;
    // 300 tokens of 512 B: 32 per page, so every die of every channel holds two pages.
    let toks = fill(&mut d, dim, 300, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let selected: Vec<_> = toks.iter().filter(|_| rng.random_bool(0.6)).cloned().collect();
    let locs: Vec<PhysLoc> = selected.iter().map(|t| t.0).collect();
    let by_loc: HashMap<PhysLoc, (Vec<u16>, Vec<u16>)> =
        selected.iter().map(|(l, k, v)| (*l, (k.clone(), v.clone()))).collect();
    for stall in [0, 3] {
        d.drop_caches().unwrap();
        d.reset_stats();
        let (cycles, got, calls) = stream(&mut d, dim, &locs, stall);
        assert_eq!(calls, cycles, "the callback runs once per device clock");
        let sched = d.schedule(&locs, dim);
        assert_eq!(sched.iter().map(Vec::len).sum::<usize>(), locs.len());
        let mut busy_pus = 0;
        for (pu, list) in sched.iter().enumerate() {
            let want: Vec<Vec<u32>> = list.iter().flat_map(|l| token_beats(&by_loc[l].0, &by_loc[l].1, 16)).collect();
            assert_eq!(got[pu].len(), want.len(), "PU {pu}: beat count");
            assert!(got[pu] == want, "PU {pu}: beats differ from the tokens' K and V");
            for l in list {
                assert_eq!(d.pu_of(l, dim), pu);
            }
            busy_pus += (!list.is_empty()) as usize;
        }
        assert_eq!(busy_pus, d.pus(), "the mapping spreads tokens over every PU");
        let (rtl, host) = d.timing_violations();
        println!("stream of {} tokens (stall every {stall}): {cycles} clocks, counts {:?}", locs.len(), d.counts());
        assert_eq!((rtl, host), (0, 0));
        assert_eq!(d.counts().rd, (locs.len() * 16) as u64);
        assert!(!d.error_flag());
    }
}

/// Writes one token per location listed, then streams them from empty page registers.
fn timed(d: &mut SsdDevSim, locs: &[PhysLoc]) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for l in locs {
        let (k, v) = random_kv(&mut rng, 128);
        d.write_token(l, &k, &v).unwrap();
    }
    d.drop_caches().unwrap();
    d.reset_stats();
    let (cycles, _, _) = stream(d, 128, locs, 0);
    assert_eq!(d.timing_violations(), (0, 0));
    cycles
}

fn loc(ch: u16, die: u16, page: u32, slot: u32) -> PhysLoc {
    PhysLoc { tier: 2, device: 0, bank_group: ch, bank: die, row: page, col: slot * 512 }
}

#[test]
fn stream_timing_reflects_tr_and_the_channel_rate() {
    let mut d = device();
    let gap = d.timing().2 as u64;
    let t_r = T_R as u64;
    let b = 16u64; // beats of one token of head dimension 128

    // One page: tR, then every beat one bus slot after the other.
    let one = timed(&mut d, &[loc(0, 0, 3, 0), loc(0, 0, 3, 1)]);
    println!("one page, 2 tokens ({} beats): {one} clocks (tR {t_r} + beats x gap {})", 2 * b, 2 * b * gap);
    assert!(one >= t_r + (2 * b - 1) * gap && one <= t_r + 2 * b * gap + 10, "{one}");

    // Two dies of one channel: their tR overlap, the bus serialises the transfers.
    let two_dies = timed(&mut d, &[loc(1, 0, 5, 0), loc(1, 1, 5, 0)]);
    println!(
        "two dies of one channel, 1 token each: {two_dies} clocks (serial reads would be {})",
        2 * t_r + 2 * b * gap
    );
    assert!(two_dies >= t_r + (2 * b - 1) * gap && two_dies <= t_r + 2 * b * gap + 10, "{two_dies}");
    assert!(two_dies + t_r - 20 < 2 * t_r + 2 * b * gap, "the second die's tR is hidden");

    // Two channels: the transfers run in parallel.
    let two_ch = timed(&mut d, &[loc(2, 0, 7, 0), loc(3, 0, 7, 0)]);
    println!("two channels, 1 token each: {two_ch} clocks");
    assert!(two_ch >= t_r + (b - 1) * gap && two_ch <= t_r + b * gap + 10, "{two_ch}");
    assert!(two_ch + (b - 1) * gap <= two_dies + 10);

    // Two pages of one die: the reads cannot overlap (one page register).
    let one_die = timed(&mut d, &[loc(0, 1, 9, 0), loc(0, 1, 10, 0)]);
    println!("two pages of one die, 1 token each: {one_die} clocks");
    assert!(one_die >= 2 * t_r + 2 * (b - 1) * gap && one_die <= 2 * t_r + 2 * b * gap + 20, "{one_die}");
}

#[test]
fn illegal_sequences_are_flagged() {
    let mut d = device();
    let toks = fill(&mut d, 64, 8, 4);
    d.drop_caches().unwrap();
    d.reset_stats();
    d.debug_no_wait(true);
    // Without waiting, transfers start while the die is still reading and follow each other
    // every clock: both checkers must see both kinds.
    let locs: Vec<PhysLoc> = toks.iter().map(|t| t.0).collect();
    let (cycles, _, _) = stream(&mut d, 64, &locs, 0);
    let (rtl, host) = d.timing_violations();
    println!(
        "no-wait stream: {cycles} clocks, {rtl} RTL and {host} host violations, kinds {:b}",
        d.rtl_violation_kinds()
    );
    assert!(rtl > 0 && host > 0);
    assert_eq!(rtl, host, "both checkers count the same violations");
    assert_eq!(d.rtl_violation_kinds(), 0b11);
    d.debug_no_wait(false);
    d.reset_stats();
    assert_eq!(d.timing_violations(), (0, 0));
}

#[test]
fn presets_and_impossible_geometry() {
    let r = FlashPreset::named("ssd").unwrap();
    r.validate().unwrap();
    FlashPreset::named("ssd-s").unwrap().validate().unwrap();
    assert_eq!((r.t_r_cycles(), r.xfer_gap(), r.cap_xfer_gap(), r.pus()), (30_000, 14, 15, 64));
    assert_eq!(FlashPreset::named("ssd-s").unwrap().pus(), 16);
    let bad = |f: &dyn Fn(&mut FlashPreset), field: &str| {
        let mut p = FlashPreset::named("ssd-s").unwrap();
        f(&mut p);
        let e = p.validate().unwrap_err();
        assert!(e.contains(field), "{e}");
        assert!(SsdDevSim::new(&p).is_err());
    };
    bad(&|p| p.channels = 0, "channels");
    bad(&|p| p.dies_per_channel = 0, "dies_per_channel");
    bad(&|p| p.pages_per_die = 0, "pages_per_die");
    bad(&|p| p.page_bytes = 512, "page_bytes");
    bad(&|p| p.page_bytes = 16400, "page_bytes");
    bad(&|p| p.t_r_ns = 0.0, "t_r_ns");
    bad(&|p| p.channel_mts = 0.0, "channel_mts");
    // A valid preset the build has no model for.
    assert!(SsdDevSim::new(&FlashPreset::named("ssd").unwrap()).is_err());
    let mut d = device();
    assert!(d.configure(0, 1, 1).is_err());
    assert!(d.write_token(&loc(4, 0, 0, 0), &[0; 8], &[0; 8]).is_err(), "channel outside the device");
    assert!(d.write_token(&loc(0, 0, 0, 0), &[0; 300], &[0; 300]).is_err(), "head dimension too large");
}
