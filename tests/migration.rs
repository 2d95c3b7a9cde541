//! The migration interface (rtl/mig, spec section 8) through its driver: every pair of
//! layouts and beat widths moves tokens byte for byte to the right target addresses; the
//! reorder unit saves source row switches; back-pressure and source latency lose nothing; the
//! interface never holds more than SLOTS tokens.

use pam::kv::location::PhysLoc;
use pam::migration::{
    arrival_row_switches, bench_migration, host_cpu_path_ns, load_token, store_token, BeatMemory, Descriptor, Layout,
    MigStats, MigrationIf, RunConfig, SLOTS,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const LAYOUTS: [Layout; 3] = [Layout::DramSingle, Layout::DramPair, Layout::Flash];
const WIDTHS: [(usize, usize); 3] = [(32, 32), (32, 8), (8, 32)];

fn loc(bg: u32, bank: u32, row: u32, col: u32) -> PhysLoc {
    PhysLoc { tier: 0, device: 0, bank_group: bg as u16, bank: bank as u16, row, col }
}

/// A random place for a token of `bytes` in `layout`, in a row of its own (`row`).
fn random_loc(rng: &mut ChaCha8Rng, layout: Layout, beat: usize, bytes: usize, row: u32) -> PhysLoc {
    let unit = rng.random_range(0..4);
    match layout {
        Layout::DramSingle => loc(unit, rng.random_range(0..4), row, rng.random_range(0..64)),
        Layout::DramPair => loc(unit, 2 * rng.random_range(0..2), row, rng.random_range(0..64)),
        Layout::Flash => {
            let slots = (16384 - bytes) / beat;
            loc(unit, rng.random_range(0..2), row, (rng.random_range(0..=slots) * beat) as u32)
        }
    }
}

/// Random moves between `sl` and `dl`, their data in a fresh source memory.
fn random_moves(
    rng: &mut ChaCha8Rng,
    n: usize,
    (sb, db): (usize, usize),
    sl: Layout,
    dl: Layout,
) -> (Vec<Descriptor>, Vec<Vec<u8>>, BeatMemory) {
    let mut src = BeatMemory::new();
    let mut moves = Vec::new();
    let mut data = Vec::new();
    for i in 0..n {
        let bytes = 32 * rng.random_range(1..=32usize);
        let s = random_loc(rng, sl, sb, bytes, 2 * i as u32);
        let d = random_loc(rng, dl, db, bytes, 2 * i as u32 + 1);
        let tok: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
        store_token(&mut src, sl, &s, sb, &tok);
        moves.push(Descriptor { src: s, src_layout: sl, dst: d, dst_layout: dl, token_bytes: bytes });
        data.push(tok);
    }
    (moves, data, src)
}

/// Every token arrived at its target, nothing else was written, each token's writes are
/// consecutive and in beat order, and at most SLOTS tokens were held.
fn check(moves: &[Descriptor], data: &[Vec<u8>], dst: &BeatMemory, st: &MigStats, db: usize, what: &str) {
    for (i, (mv, d)) in moves.iter().zip(data).enumerate() {
        let got = load_token(dst, mv.dst_layout, &mv.dst, db, mv.token_bytes);
        assert_eq!(got.as_ref(), Some(d), "{what}: token {i} ({mv:?})");
    }
    let beats: usize = moves.iter().map(|m| m.token_bytes / db).sum();
    assert_eq!(dst.len(), beats, "{what}: stray or missing target beats");
    assert_eq!(st.writes.len(), beats, "{what}: write count");
    let mut k = 0;
    while k < st.writes.len() {
        let tag = st.writes[k].tag as usize;
        let mv = &moves[tag];
        let n = mv.token_bytes / db;
        for j in 0..n {
            let w = &st.writes[k + j];
            assert_eq!((w.tag as usize, w.beat as usize, w.last), (tag, j, j + 1 == n), "{what}: write order");
            assert_eq!(w.addr, mv.dst_layout.beat_addr(&mv.dst, j, db), "{what}: write address");
        }
        k += n;
    }
    assert!(st.max_held as usize <= SLOTS, "{what}: held {} tokens", st.max_held);
}

#[test]
fn every_layout_pair_and_width_moves_tokens_exactly() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (sb, db) in WIDTHS {
        let mut mig = MigrationIf::new(sb, db).unwrap();
        for sl in LAYOUTS {
            for dl in LAYOUTS {
                let (moves, data, src) = random_moves(&mut rng, 12, (sb, db), sl, dl);
                let mut dst = BeatMemory::new();
                let st = mig.run(&moves, &src, &mut dst, &RunConfig { src_latency: 3, ..Default::default() }).unwrap();
                check(&moves, &data, &dst, &st, db, &format!("{sb}->{db} {sl:?}->{dl:?}"));
            }
        }
    }
}

#[test]
fn reorder_saves_row_switches() {
    // 4 banks x 2 rows x 4 tokens of 8 beats, arriving in random order.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut slots: Vec<(u32, u32, u32)> =
        (0..4).flat_map(|b| (0..2).flat_map(move |r| (0..4).map(move |k| (b, r, k)))).collect();
    for i in (1..slots.len()).rev() {
        slots.swap(i, rng.random_range(0..=i));
    }
    let mut src = BeatMemory::new();
    let mut moves = Vec::new();
    let mut data = Vec::new();
    for (i, &(b, r, k)) in slots.iter().enumerate() {
        let s = loc(0, b, r, 8 * k);
        let d = loc(1, i as u32 % 2, 0, 256 * (i as u32 / 2));
        let tok: Vec<u8> = (0..256).map(|_| rng.random()).collect();
        store_token(&mut src, Layout::DramSingle, &s, 32, &tok);
        moves.push(Descriptor {
            src: s,
            src_layout: Layout::DramSingle,
            dst: d,
            dst_layout: Layout::Flash,
            token_bytes: 256,
        });
        data.push(tok);
    }
    let mut mig = MigrationIf::new(32, 32).unwrap();
    let mut dst = BeatMemory::new();
    let cfg = RunConfig { src_latency: 20, src_row_miss: 30, ..Default::default() };
    let st = mig.run(&moves, &src, &mut dst, &cfg).unwrap();
    check(&moves, &data, &dst, &st, 32, "reorder");
    let arrival = arrival_row_switches(&moves, 32);
    println!(
        "source row switches: arrival order {arrival}, reorder unit {} ({} open-row hits, {} cycles)",
        st.row_switches, st.rtl_row_hits, st.cycles
    );
    assert!(st.row_switches < arrival, "reorder {} vs arrival {arrival}", st.row_switches);
}

#[test]
fn backpressure_and_source_latency_lose_nothing() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    for (sb, db) in WIDTHS {
        let mut mig = MigrationIf::new(sb, db).unwrap();
        for (i, (sl, dl)) in
            [(Layout::DramPair, Layout::DramSingle), (Layout::Flash, Layout::DramPair)].into_iter().enumerate()
        {
            let (moves, data, src) = random_moves(&mut rng, 24, (sb, db), sl, dl);
            let cfg = RunConfig {
                src_latency: 17,
                src_jitter: 9,
                src_row_miss: 5,
                rd_ready_pct: 60,
                wr_ready_pct: 25,
                seed: 100 + i as u64,
            };
            let mut dst = BeatMemory::new();
            let st = mig.run(&moves, &src, &mut dst, &cfg).unwrap();
            check(&moves, &data, &dst, &st, db, &format!("{sb}->{db} {sl:?}->{dl:?} back-pressure"));
            // With the target this slow the window fills up, and stays within SLOTS.
            assert_eq!(st.max_held as usize, SLOTS, "{sb}->{db}: the window never filled");
        }
    }
}

#[test]
fn bench_beats_the_host_path() {
    let b = bench_migration(64, 128, 3).unwrap();
    for p in &b.phases {
        println!(
            "{}: {} cycles, host {:.0} ns, row switches {} (arrival {})",
            p.name, p.cycles, p.host_ns, p.row_switches, p.arrival_row_switches
        );
    }
    println!("interface {:.0} ns, host {:.0} ns, {:.1}x", b.rtl_ns, b.host_ns, b.speedup);
    assert!(b.speedup > 20.0);
    assert!((host_cpu_path_ns(2, 512) - 2.0 * host_cpu_path_ns(1, 512)).abs() < 1e-6);
}
