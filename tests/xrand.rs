//! X-randomised regressions (`pam regress --xrand`): models built with `--x-initial unique`
//! start from zeros by default and from seeded random values under X-randomisation, and a
//! register read before it is reset (`rtl/tb/pam_unreset_probe.sv`) is caught that way only.

use std::process::{Command, Output};

use pam::rtl::model::{Top, VModel};
use pam::rtl::xrand::{with_reset_seed, XInit};

fn pam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pam")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The probe's unreset `sum_q`, seen on `sum_o` after one idle cycle.
fn unreset_value(mut m: VModel) -> u64 {
    for (port, v) in [("rst_ni", 1), ("valid_i", 0), ("data_i", 0)] {
        let p = m.port(port).unwrap();
        m.set(p, v);
    }
    m.tick();
    m.get(m.port("sum_o").unwrap())
}

fn probe(x: XInit) -> VModel {
    VModel::with_x_init(Top::named("unreset_probe").unwrap(), 100.0, x).unwrap()
}

#[test]
fn initial_values_are_zero_by_default_and_drawn_from_the_seed_under_xrand() {
    assert_eq!(unreset_value(probe(XInit::Zeros)), 0);
    let seeds = [1u32, 2, 3, 0xDEAD_BEEF];
    let values: Vec<u64> = seeds.iter().map(|&s| unreset_value(probe(XInit::Random(s)))).collect();
    for (s, v) in seeds.iter().zip(&values) {
        assert_ne!(*v, 0, "seed {s}");
        assert_eq!(unreset_value(probe(XInit::Random(*s))), *v, "seed {s} is not repeatable");
    }
    let mut distinct = values.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), seeds.len(), "{values:x?}");

    // In a scope every model created gets a seed of its own; after it, zeros again.
    let top = Top::named("unreset_probe").unwrap();
    let (a, b) = with_reset_seed(Some(5), || {
        (unreset_value(VModel::new(top, 100.0).unwrap()), unreset_value(VModel::new(top, 100.0).unwrap()))
    });
    assert!(a != 0 && b != 0 && a != b, "{a:#x} {b:#x}");
    assert_eq!(with_reset_seed(Some(5), || unreset_value(VModel::new(top, 100.0).unwrap())), a);
    assert_eq!(unreset_value(VModel::new(top, 100.0).unwrap()), 0);
}

#[test]
fn unreset_register_passes_from_zeros_and_is_caught_under_xrand() {
    let o = pam(&["regress", "--suite", "unreset-probe", "--seeds", "8"]);
    let t = text(&o);
    assert!(o.status.success() && t.lines().any(|l| l == "8 passed, 0 failed"), "{t}");

    let o = pam(&["regress", "--suite", "unreset-probe", "--seeds", "8", "--xrand"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.lines().any(|l| l == "0 passed, 8 failed"), "{t}");
    let fails: Vec<&str> = t.lines().filter(|l| l.starts_with("FAIL unreset-probe/")).collect();
    assert_eq!(fails.len(), 8, "{t}");
    for f in &fails {
        assert!(f.contains(" reset_seed=0x") && f.contains("sum_o of ") && !f.contains("count_o"), "{f}");
    }
    let replays: Vec<&str> = t.lines().filter_map(|l| l.trim_start().strip_prefix("replay: ")).collect();
    assert_eq!(replays.len(), 8, "{t}");
    assert!(replays
        .iter()
        .all(|r| r.starts_with("pam regress --suite unreset-probe --replay 0x") && r.ends_with(" --xrand")));

    // The printed replay line repeats the failure exactly: same reset seed, same values.
    let args: Vec<&str> = replays[3].split_whitespace().skip(1).collect();
    let o = pam(&args);
    let again = text(&o);
    assert_eq!(o.status.code(), Some(1), "{again}");
    let replayed = again.lines().find(|l| l.starts_with("FAIL unreset-probe/replay ")).expect("replay fails");
    let after_name = |l: &str| l.split_once(' ').unwrap().1.split_once(' ').unwrap().1.to_string();
    assert_eq!(after_name(replayed), after_name(fails[3]), "{again}");
    // Without --xrand the same case passes: only the random start shows the bug.
    let o = pam(&args[..args.len() - 1]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn datapath_cases_pass_under_xrand_with_their_reset_seed_in_junit() {
    let d = std::env::temp_dir().join(format!("pam-xrand-{}", std::process::id()));
    let j = d.join("J.xml");
    let o = pam(&["regress", "--suite", "datapath", "--seeds", "6", "--xrand", "--junit", j.to_str().unwrap()]);
    let t = text(&o);
    assert!(o.status.success() && t.lines().any(|l| l == "6 passed, 0 failed"), "{t}");
    let x = std::fs::read_to_string(&j).unwrap();
    assert_eq!(x.matches("<property name=\"reset_seed\" value=\"0x").count(), 6, "{x}");
}
