//! The DRAM bank model and the timing checker: the RTL (`pam_dram_lab`: banks, bus and
//! `pam_dram_timing_check`) against the Rust rules (`pam::device::dram::timing::check`).
//!
//! 1. Legal streaming on the HBM3 and DDR4 presets passes both checkers, data round-trips.
//! 2. For every rule, a sequence breaking it is caught by both checkers, with that rule, at
//!    that command; the same sequence made legal (usually one cycle later) passes both.
//! 3. Random command sequences: both checkers report the same violations, bit for bit, and the
//!    banks hold what a shadow memory says.
//! 4. `DramTiming::validate` rejects each self-contradictory timing.

use std::collections::BTreeSet;

use pam::device::dram::timing::{check, CmdKind, DramTiming, Rule, Violation};
use pam::rtl::dram_lab::{DramLab, LabCmd, COLS, NB, NBANK, NBG, ROWS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Issues one command and checks the checker's outputs agree with each other.
fn issue(lab: &mut DramLab, cycle: u64, c: LabCmd) {
    let s = lab.issue_at(cycle, c).unwrap();
    assert_eq!(s.viol, !s.rules.is_empty(), "viol_o vs viol_rules_o at cycle {cycle}: {s:?}");
    assert_eq!(s.kind, Ok(s.rules.first()), "viol_kind_o is not the first broken rule at cycle {cycle}: {s:?}");
}

fn pairs(v: &[Violation]) -> Vec<(usize, Rule)> {
    v.iter().map(|v| (v.index, v.rule)).collect()
}

/// Offending commands (what viol_count_o counts).
fn offending(v: &[Violation]) -> u64 {
    v.iter().map(|v| v.index).collect::<BTreeSet<_>>().len() as u64
}

/// Runs `seq` (absolute cycles) on a fresh lab; returns the lab and the Rust checker's verdict.
fn run(t: &DramTiming, seq: &[(u64, LabCmd)]) -> (DramLab, Vec<Violation>) {
    let mut lab = DramLab::new(t).unwrap();
    for &(cycle, c) in seq {
        issue(&mut lab, cycle, c);
    }
    let rust = check(t, NBG, NBANK, lab.log());
    (lab, rust)
}

fn data_of(b: usize, row: u32, col: u32) -> u64 {
    let mut x = (b as u64) << 40 ^ (row as u64) << 20 ^ col as u64 ^ 0x9E37_79B9_7F4A_7C15;
    x = (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

fn bank_addr(b: usize) -> (u16, u16) {
    ((b / NBANK) as u16, (b % NBANK) as u16)
}

// ---------------------------------------------------------------------------------------------
// 1. Legal streaming
// ---------------------------------------------------------------------------------------------

/// Writes every column of every bank with single-bank WRs alternating bank groups, then streams
/// the rows back with all-bank RDs at tCCD_L (and single-bank RDs on odd columns), refreshing
/// as it goes; every spacing is the minimum the timing allows for that pair of commands.
fn stream(t: &DramTiming) {
    let mut lab = DramLab::new(t).unwrap();
    let (t64, mut refs) = (|x: u32| x as u64, 0);
    let mut last_ref = 0;
    let mut now = 0; // earliest cycle for the next ACT or REF (all banks closed)
    let mut last_act: Option<u64> = None;
    let mut refresh = |lab: &mut DramLab, now: &mut u64, last_ref: &mut u64| {
        issue(lab, *now, LabCmd::refresh());
        *last_ref = *now;
        *now += t64(t.rfc);
        refs += 1;
    };
    refresh(&mut lab, &mut now, &mut last_ref);
    // Bank order alternating bank groups: consecutive WRs are tCCD_S apart, same-group ones
    // two WRs apart.
    let order: Vec<usize> = (0..NBANK).flat_map(|k| (0..NBG).map(move |g| g * NBANK + k)).collect();
    let wr_gap = t64(t.ccd_s).max(t64(t.ccd_l).div_ceil(2));
    let mut open_row = |lab: &mut DramLab, now: &mut u64, last_ref: &mut u64, row: u32| -> u64 {
        if *now - *last_ref >= t64(t.refi) / 2 {
            let at = *now;
            issue(lab, at, LabCmd::refresh());
            *last_ref = at;
            *now = at + t64(t.rfc);
        }
        let at = last_act.map_or(*now, |a| (*now).max(a + t64(t.rc)));
        issue(lab, at, LabCmd::act_all(row));
        last_act = Some(at);
        at
    };
    for row in 0..ROWS as u32 {
        let act = open_row(&mut lab, &mut now, &mut last_ref, row);
        let mut at = act + t64(t.rcd);
        for col in 0..COLS as u32 {
            for &b in &order {
                let (bg, bank) = bank_addr(b);
                issue(&mut lab, at, LabCmd::wr(bg, bank, col, data_of(b, row, col)));
                at += wr_gap;
            }
        }
        let pre = (act + t64(t.ras)).max(at - wr_gap + t64(t.wr));
        issue(&mut lab, pre, LabCmd::pre_all());
        now = pre + t64(t.rp);
    }
    let mut passes = 0;
    while passes < 2 || refs < 4 {
        for row in 0..ROWS as u32 {
            let act = open_row(&mut lab, &mut now, &mut last_ref, row);
            let mut at = act + t64(t.rcd);
            for col in 0..COLS as u32 {
                if col % 2 == 0 {
                    issue(&mut lab, at, LabCmd::rd_all(col));
                    assert_eq!(lab.read(), Some(data_of(0, row, col)), "rdata_o follows bank 0 on an all-bank RD");
                    for b in 0..NB {
                        assert_eq!(lab.bank_read(b), Some(data_of(b, row, col)), "bank {b} row {row} col {col}");
                    }
                    at += t64(t.ccd_l);
                } else {
                    for b in 0..NB {
                        let (bg, bank) = bank_addr(b);
                        issue(&mut lab, at, LabCmd::rd(bg, bank, col));
                        assert_eq!(lab.read(), Some(data_of(b, row, col)), "bank {b} row {row} col {col}");
                        for o in (0..NB).filter(|&o| o != b) {
                            assert_eq!(lab.bank_read(o), None, "bank {o} answered a RD to bank {b}");
                        }
                        at += t64(t.ccd_l);
                    }
                }
                // No read data without a RD.
                lab.idle(1);
                assert_eq!(lab.read(), None);
            }
            let last_rd = at - t64(t.ccd_l);
            let pre = (act + t64(t.ras)).max(last_rd + t64(t.rtp));
            issue(&mut lab, pre, LabCmd::pre_all());
            assert_eq!(lab.bank_open(), 0);
            now = pre + t64(t.rp);
        }
        passes += 1;
        if lab.cycle() > 200_000 {
            break;
        }
    }
    let rust = check(t, NBG, NBANK, lab.log());
    assert_eq!(pairs(lab.violations()), vec![], "RTL checker flagged a legal stream");
    assert_eq!(pairs(&rust), vec![], "Rust checker flagged a legal stream");
    assert_eq!(lab.viol_count(), 0);
    assert_eq!(lab.bank_err(), 0);
    let nref = lab.log().iter().filter(|c| c.kind == CmdKind::Ref).count();
    assert!(nref >= 4, "stream should refresh several times, did {nref}");
}

#[test]
fn legal_stream_hbm3() {
    stream(&pam::device::dram::preset::DramPreset::named("hbm3-5.2").unwrap().timing);
}

#[test]
fn legal_stream_ddr4() {
    stream(&pam::device::dram::preset::DramPreset::named("ddr4-3200").unwrap().timing);
}

// ---------------------------------------------------------------------------------------------
// 2. One case per rule
// ---------------------------------------------------------------------------------------------

/// Small, distinct values so that each case breaks exactly one rule.
const T: DramTiming = DramTiming {
    rcd: 3,
    rp: 3,
    ras: 6,
    rc: 10,
    rrd_s: 2,
    rrd_l: 3,
    faw: 12,
    ccd_s: 2,
    ccd_l: 3,
    wr: 4,
    rtp: 2,
    refi: 100,
    rfc: 8,
};

// Banks: A and B in bank group 0, C and D in bank group 1.
const A: (u16, u16) = (0, 0);
const B: (u16, u16) = (0, 1);
const C: (u16, u16) = (1, 0);
const D: (u16, u16) = (1, 1);

fn act(b: (u16, u16)) -> LabCmd {
    LabCmd::act(b.0, b.1, 1)
}
fn rd(b: (u16, u16)) -> LabCmd {
    LabCmd::rd(b.0, b.1, 2)
}
fn wr(b: (u16, u16)) -> LabCmd {
    LabCmd::wr(b.0, b.1, 2, 0xDA7A)
}
fn pre(b: (u16, u16)) -> LabCmd {
    LabCmd::pre(b.0, b.1)
}

struct Case {
    name: &'static str,
    t: DramTiming,
    rule: Rule,
    /// The sequence breaking `rule` at command `index`, and nothing else.
    bad: Vec<(u64, LabCmd)>,
    index: usize,
    /// A legal sequence as close to `bad` as possible.
    good: Vec<(u64, LabCmd)>,
    /// The banks' sticky protocol errors after `bad`.
    bank_err: u32,
}

/// `good` is `bad` with its offending command one cycle later.
fn late(name: &'static str, t: DramTiming, rule: Rule, bad: Vec<(u64, LabCmd)>, index: usize) -> Case {
    let mut good = bad.clone();
    good[index].0 += 1;
    Case { name, t, rule, bad, index, good, bank_err: 0 }
}

fn cases() -> Vec<Case> {
    let faw_t = DramTiming { faw: 40, ..T };
    let rrd_t = DramTiming { rrd_l: 12, ..T };
    vec![
        late("rcd", T, Rule::Rcd, vec![(0, act(A)), (2, rd(A))], 1),
        late("rcd_wr", T, Rule::Rcd, vec![(0, act(A)), (2, wr(A))], 1),
        late("ras", T, Rule::Ras, vec![(0, act(A)), (5, pre(A))], 1),
        late("rp", T, Rule::Rp, vec![(0, act(A)), (8, pre(A)), (10, act(A))], 2),
        late("rc", T, Rule::Rc, vec![(0, act(A)), (6, pre(A)), (9, act(A))], 2),
        late("wr", T, Rule::Wr, vec![(0, act(A)), (3, wr(A)), (6, pre(A))], 2),
        late("rtp", T, Rule::Rtp, vec![(0, act(A)), (5, rd(A)), (6, pre(A))], 2),
        late("rrd_l", T, Rule::RrdL, vec![(0, act(A)), (2, act(B))], 1),
        late("rrd_s", T, Rule::RrdS, vec![(0, act(A)), (1, act(C))], 1),
        late(
            "faw",
            T,
            Rule::Faw,
            vec![(0, act(A)), (3, act(B)), (6, act(C)), (7, pre(A)), (9, act(D)), (11, act(A))],
            5,
        ),
        late("ccd_l", T, Rule::CcdL, vec![(0, act(A)), (3, act(B)), (6, rd(A)), (8, wr(B))], 3),
        late("ccd_s", T, Rule::CcdS, vec![(0, act(A)), (2, act(C)), (5, wr(A)), (6, rd(C))], 3),
        late("rfc", T, Rule::Rfc, vec![(0, LabCmd::refresh()), (7, act(A))], 1),
        late("rfc_ref", T, Rule::Rfc, vec![(0, LabCmd::refresh()), (7, LabCmd::refresh())], 1),
        late("rp_ref", T, Rule::Rp, vec![(0, act(A)), (6, pre(A)), (8, LabCmd::refresh())], 2),
        // Later is worse here: the legal variant refreshes one cycle earlier.
        Case {
            name: "refi",
            t: T,
            rule: Rule::Refi,
            bad: vec![(0, LabCmd::refresh()), (900, LabCmd::refresh()), (1801, LabCmd::refresh())],
            index: 2,
            good: vec![(0, LabCmd::refresh()), (900, LabCmd::refresh()), (1800, LabCmd::refresh())],
            bank_err: 0,
        },
        Case {
            name: "refi_from_reset",
            t: T,
            rule: Rule::Refi,
            bad: vec![(901, act(A))],
            index: 0,
            good: vec![(900, act(A))],
            bank_err: 0,
        },
        Case {
            name: "prot_closed",
            t: T,
            rule: Rule::ProtClosed,
            bad: vec![(0, act(A)), (5, rd(B))],
            index: 1,
            good: vec![(0, act(A)), (5, rd(A))],
            bank_err: 0b0010,
        },
        Case {
            name: "prot_closed_after_pre",
            t: T,
            rule: Rule::ProtClosed,
            bad: vec![(0, act(A)), (6, pre(A)), (8, wr(A))],
            index: 2,
            good: vec![(0, act(A)), (8, wr(A))],
            bank_err: 0b0001,
        },
        Case {
            name: "prot_open",
            t: T,
            rule: Rule::ProtOpen,
            bad: vec![(0, act(A)), (20, act(A))],
            index: 1,
            good: vec![(0, act(A)), (10, pre(A)), (20, act(A))],
            bank_err: 0b0001,
        },
        Case {
            name: "prot_open_all",
            t: T,
            rule: Rule::ProtOpen,
            bad: vec![(0, act(D)), (20, LabCmd::act_all(3))],
            index: 1,
            good: vec![(0, act(D)), (10, pre(D)), (20, LabCmd::act_all(3))],
            bank_err: 0b1000,
        },
        Case {
            name: "prot_ref",
            t: T,
            rule: Rule::ProtRef,
            bad: vec![(0, act(C)), (10, LabCmd::refresh())],
            index: 1,
            good: vec![(0, act(C)), (10, LabCmd::pre_all()), (13, LabCmd::refresh())],
            bank_err: 0b0100,
        },
        // All-bank commands.
        Case {
            name: "ccd_l_all_bank",
            t: T,
            rule: Rule::CcdL,
            bad: vec![(0, LabCmd::act_all(1)), (3, rd(A)), (5, LabCmd::rd_all(2))],
            index: 2,
            // The same spacing to a single bank of the other group is legal (tCCD_S).
            good: vec![(0, LabCmd::act_all(1)), (3, rd(A)), (5, rd(C))],
            bank_err: 0,
        },
        Case {
            name: "rrd_l_all_bank",
            t: rrd_t,
            rule: Rule::RrdL,
            bad: vec![(0, act(C)), (6, pre(C)), (10, LabCmd::act_all(2))],
            index: 2,
            // A single ACT in the other group needs only tRRD_S.
            good: vec![(0, act(C)), (6, pre(C)), (10, act(A))],
            bank_err: 0,
        },
        late("rcd_all_bank", T, Rule::Rcd, vec![(0, LabCmd::act_all(0)), (2, LabCmd::wr_all(1, 7))], 1),
        // An all-bank ACT is one activation for tFAW: the fifth ACT counts it once.
        // (Counted per bank, the ACT of A would already be the fifth.)
        Case {
            name: "faw_all_bank_counts_once",
            t: faw_t,
            rule: Rule::Faw,
            bad: vec![
                (0, LabCmd::act_all(1)),
                (6, LabCmd::pre_all()),
                (10, act(A)),
                (13, act(B)),
                (15, act(C)),
                (39, act(D)),
            ],
            index: 5,
            good: vec![
                (0, LabCmd::act_all(1)),
                (6, LabCmd::pre_all()),
                (10, act(A)),
                (13, act(B)),
                (15, act(C)),
                (40, act(D)),
            ],
            bank_err: 0,
        },
    ]
}

#[test]
fn every_rule_is_caught_by_both_checkers() {
    let cases = cases();
    let covered: BTreeSet<Rule> = cases.iter().map(|c| c.rule).collect();
    assert_eq!(covered.len(), Rule::ALL.len(), "a rule has no case");
    for c in &cases {
        let (lab, rust) = run(&c.t, &c.bad);
        let want = vec![(c.index, c.rule)];
        assert_eq!(pairs(lab.violations()), want, "{}: RTL checker", c.name);
        assert_eq!(pairs(&rust), want, "{}: Rust checker", c.name);
        assert_eq!(lab.violations()[0].cycle, c.bad[c.index].0, "{}: cycle", c.name);
        assert_eq!(lab.viol_count(), 1, "{}: viol_count_o", c.name);
        assert_eq!(lab.bank_err(), c.bank_err, "{}: bank err_o", c.name);

        let (lab, rust) = run(&c.t, &c.good);
        assert_eq!(pairs(lab.violations()), vec![], "{}: RTL checker on the legal variant", c.name);
        assert_eq!(pairs(&rust), vec![], "{}: Rust checker on the legal variant", c.name);
        assert_eq!(lab.viol_count(), 0, "{}: viol_count_o on the legal variant", c.name);
        assert_eq!(lab.bank_err(), 0, "{}: bank err_o on the legal variant", c.name);
    }
}

#[test]
fn several_rules_at_once_and_priority() {
    // ACT A, then an all-bank RD one cycle later: bank A too early (RCD), the other banks
    // closed (PROT_CLOSED), and tCCD is not involved. viol_kind_o names PROT_CLOSED.
    let (lab, rust) = run(&T, &[(0, act(A)), (1, LabCmd::rd_all(0))]);
    let want = vec![(1, Rule::ProtClosed), (1, Rule::Rcd)];
    assert_eq!(pairs(lab.violations()), want);
    assert_eq!(pairs(&rust), want);
    assert_eq!(lab.viol_count(), 1);
    assert_eq!(lab.bank_err(), 0b1110);
}

// ---------------------------------------------------------------------------------------------
// 3. Random sequences: RTL and Rust agree, banks hold what they should
// ---------------------------------------------------------------------------------------------

fn random_timing(rng: &mut ChaCha8Rng) -> DramTiming {
    let mut r = |lo: u32, hi: u32| rng.random_range(lo..=hi);
    let mut t = DramTiming {
        rcd: r(1, 6),
        rp: r(1, 6),
        ras: r(1, 10),
        rc: r(1, 16),
        rrd_s: r(1, 4),
        rrd_l: r(1, 6),
        faw: r(1, 24),
        ccd_s: r(1, 4),
        ccd_l: r(1, 6),
        wr: r(1, 8),
        rtp: r(1, 6),
        refi: r(4, 40),
        rfc: r(1, 8),
    };
    // Half the time make it self-consistent; the checkers must agree on any timing.
    if rng.random_bool(0.5) {
        t.ras = t.ras.max(t.rcd);
        t.rc = t.rc.max(t.ras + t.rp);
        t.ccd_l = t.ccd_l.max(t.ccd_s);
        t.rrd_l = t.rrd_l.max(t.rrd_s);
        t.refi = t.refi.max(t.rfc + 1);
        t.validate().unwrap();
    }
    t
}

/// What the banks should hold: open row per bank and written words.
struct Shadow {
    open: [Option<u32>; NB],
    mem: Vec<Option<u64>>,
    err: u32,
}

impl Shadow {
    fn new() -> Self {
        Shadow { open: [None; NB], mem: vec![None; NB * ROWS * COLS], err: 0 }
    }
}

#[test]
fn random_sequences_agree() {
    let mut seen: BTreeSet<Rule> = BTreeSet::new();
    let (mut commands, mut clean) = (0usize, 0usize);
    for seed in 0..24u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(0xD5A3_0000 + seed);
        let t = random_timing(&mut rng);
        let mut lab = DramLab::new(&t).unwrap();
        let mut sh = Shadow::new();
        for _ in 0..800 {
            lab.idle(if rng.random_bool(0.4) { rng.random_range(1..=4) } else { 0 });
            let kind = match rng.random_range(0..100) {
                0..30 => CmdKind::Act,
                30..50 => CmdKind::Rd,
                50..65 => CmdKind::Wr,
                65..90 => CmdKind::Pre,
                90..96 => CmdKind::Ref,
                _ => CmdKind::Nop,
            };
            let c = LabCmd {
                kind,
                all: rng.random_bool(0.3),
                bg: rng.random_range(0..NBG as u16),
                bank: rng.random_range(0..NBANK as u16),
                row: rng.random_range(0..ROWS as u32),
                col: rng.random_range(0..COLS as u32),
                wdata: rng.random(),
            };
            let cycle = lab.cycle();
            issue(&mut lab, cycle, c);
            // Banks addressed, and what each should do.
            let every = c.all || kind == CmdKind::Ref;
            let single = c.bg as usize * NBANK + c.bank as usize;
            for b in (0..NB).filter(|&b| every || b == single) {
                let at = |row: u32| (b * ROWS + row as usize) * COLS + c.col as usize;
                match (kind, sh.open[b]) {
                    (CmdKind::Act, None) => sh.open[b] = Some(c.row),
                    (CmdKind::Act | CmdKind::Ref, Some(_)) | (CmdKind::Rd | CmdKind::Wr, None) => sh.err |= 1 << b,
                    (CmdKind::Wr, Some(row)) => sh.mem[at(row)] = Some(c.wdata),
                    (CmdKind::Pre, _) => sh.open[b] = None,
                    _ => {}
                }
            }
            for b in 0..NB {
                let reads = kind == CmdKind::Rd && (every || b == single) && sh.open[b].is_some();
                let got = lab.bank_read(b);
                assert_eq!(got.is_some(), reads, "seed {seed} cycle {cycle} bank {b}: rvalid");
                if let (Some(got), Some(row)) = (got, sh.open[b]) {
                    let at = (b * ROWS + row as usize) * COLS + c.col as usize;
                    if let Some(want) = sh.mem[at] {
                        assert_eq!(got, want, "seed {seed} cycle {cycle} bank {b} row {row} col {}", c.col);
                    }
                }
                let open = lab.bank_open() >> b & 1 != 0;
                assert_eq!(open, sh.open[b].is_some(), "seed {seed} cycle {cycle} bank {b}: open_o");
                if let Some(row) = sh.open[b] {
                    assert_eq!(lab.bank_open_row(b), row, "seed {seed} cycle {cycle} bank {b}: open_row_o");
                }
            }
            assert_eq!(lab.bank_err(), sh.err, "seed {seed} cycle {cycle}: err_o");
        }
        let rust = check(&t, NBG, NBANK, lab.log());
        let rtl = lab.violations();
        if let Some(i) = (0..rtl.len().min(rust.len())).find(|&i| rtl[i] != rust[i]) {
            panic!("seed {seed} ({t:?}): first difference RTL {:?} vs Rust {:?}", rtl[i], rust[i]);
        }
        assert_eq!(rtl.len(), rust.len(), "seed {seed} ({t:?}): number of violations");
        assert_eq!(lab.viol_count(), offending(&rust), "seed {seed}: viol_count_o");
        seen.extend(rust.iter().map(|v| v.rule));
        commands += lab.log().len();
        clean += lab.log().len() - offending(&rust) as usize;
    }
    let missing: Vec<Rule> = Rule::ALL.into_iter().filter(|r| !seen.contains(r)).collect();
    assert!(missing.is_empty(), "random sequences never broke {missing:?}");
    assert!(clean * 5 > commands, "only {clean} of {commands} random commands were legal");
}

// ---------------------------------------------------------------------------------------------
// 4. validate
// ---------------------------------------------------------------------------------------------

#[test]
fn validate_rejects_contradictions() {
    for base in [
        pam::device::dram::preset::DramPreset::named("hbm3-5.2").unwrap().timing,
        pam::device::dram::preset::DramPreset::named("ddr4-3200").unwrap().timing,
        T,
    ] {
        base.validate().unwrap();
        let bad: Vec<(DramTiming, &str)> = vec![
            (DramTiming { rc: base.ras + base.rp - 1, ..base }, "rc (tRC)"),
            (DramTiming { ras: base.rcd - 1, ..base }, "ras (tRAS)"),
            (DramTiming { ccd_l: base.ccd_s - 1, ..base }, "ccd_l (tCCD_L)"),
            (DramTiming { rrd_l: base.rrd_s - 1, ..base }, "rrd_l (tRRD_L)"),
            (DramTiming { refi: base.rfc, ..base }, "refi (tREFI)"),
            (DramTiming { rfc: base.refi + 1, ..base }, "refi (tREFI)"),
        ];
        for (t, field) in bad {
            let e = t.validate().expect_err(field);
            assert!(e.contains(field) && e.contains("must be"), "{field}: {e}");
        }
        let fields = base.fields();
        for (i, (name, jedec, _)) in fields.iter().enumerate() {
            for v in [0, 65_536] {
                let mut t = base;
                let slot = [
                    &mut t.rcd,
                    &mut t.rp,
                    &mut t.ras,
                    &mut t.rc,
                    &mut t.rrd_s,
                    &mut t.rrd_l,
                    &mut t.faw,
                    &mut t.ccd_s,
                    &mut t.ccd_l,
                    &mut t.wr,
                    &mut t.rtp,
                    &mut t.refi,
                    &mut t.rfc,
                ];
                *slot.into_iter().nth(i).unwrap() = v;
                assert_eq!(t.fields()[i].2, v, "fields() order");
                let e = t.validate().expect_err(name);
                assert!(e.contains(&format!("{name} ({jedec}) = {v}")), "{name} = {v}: {e}");
            }
        }
    }
}
