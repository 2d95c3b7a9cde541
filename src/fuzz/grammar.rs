//! Grammar-aware inputs: scenarios and traces built field by field.
//!
//! Values are mostly in range, so that many inputs get through the parsers to the validators'
//! deeper checks (capacities, timing, targets); a per-input `noise` level decides how often a
//! field is dropped, duplicated, renamed, given a value out of range or of the wrong type. A
//! scenario is built as a tree and written in block or flow style, chosen node by node.

use std::collections::HashMap;
use std::fmt::Write as _;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Target;
use crate::device::tier::TierPreset;

/// A YAML node of a generated scenario.
#[derive(Clone, Debug)]
enum Node {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

fn s(v: impl ToString) -> Node {
    Node::Scalar(v.to_string())
}

/// Values of the wrong kind or out of every range, for any scalar field.
const BAD_SCALARS: &[&str] = &[
    "0",
    "-1",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "4294967296",
    "1.5",
    "-0.0",
    "1e309",
    ".nan",
    ".inf",
    "-.inf",
    "~",
    "null",
    "''",
    "\"\"",
    "x",
    "true",
    "0x10",
    "0o17",
    "1_000",
    "é",
    "\"\\u0000\"",
    "[]",
    "{}",
    "[1, [2]]",
    "{min: 1}",
    "!!binary aGVsbG8=",
];

/// Draws and noise of one input.
struct G<'a> {
    rng: &'a mut ChaCha8Rng,
    /// Probability of each kind of damage per field.
    noise: f64,
}

impl G<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    fn noisy(&mut self) -> bool {
        let p = self.noise;
        self.chance(p)
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.rng.random_range(0..from.len())]
    }

    /// A whole number in `lo..=hi`, small ones more often (log-uniform).
    fn small(&mut self, lo: u64, hi: u64) -> u64 {
        if lo >= hi {
            return lo;
        }
        let bits = 64 - (hi - lo).leading_zeros();
        let top = self.rng.random_range(0..=bits);
        let span = if top >= 64 { u64::MAX } else { (1u64 << top) - 1 };
        lo + self.rng.random_range(0..=span.min(hi - lo))
    }

    /// An integer field: in range unless noisy.
    fn int(&mut self, lo: u64, hi: u64) -> Node {
        if self.noisy() {
            return self.bad();
        }
        s(self.small(lo, hi))
    }

    /// A float field in `lo..=hi`, written with a random precision.
    fn float(&mut self, lo: f64, hi: f64) -> Node {
        if self.noisy() {
            return self.bad();
        }
        let v = lo + (hi - lo) * self.rng.random::<f64>();
        s(self.float_text(v))
    }

    fn float_text(&mut self, v: f64) -> String {
        match self.rng.random_range(0..4) {
            0 => format!("{v}"),
            1 => format!("{v:e}"),
            2 => format!("{:.1$}", v, self.rng.random_range(0..4)),
            _ => format!("{}", v.round()),
        }
    }

    fn bad(&mut self) -> Node {
        match self.rng.random_range(0..3) {
            0 => Node::Seq(vec![s(self.pick(BAD_SCALARS))]),
            _ => s(self.pick(BAD_SCALARS)),
        }
    }

    fn range(&mut self, lo: u64, hi: u64) -> Node {
        let (a, b) = (self.small(lo, hi), self.small(lo, hi));
        let (min, max) = if self.noisy() { (a.max(b), a.min(b)) } else { (a.min(b), a.max(b)) };
        let (min, max) =
            (if self.noisy() { self.bad() } else { s(min) }, if self.noisy() { self.bad() } else { s(max) });
        Node::Map(vec![("min".into(), min), ("max".into(), max)])
    }

    fn float_range(&mut self, lo: f64, hi: f64) -> Node {
        let (a, b) = (lo + (hi - lo) * self.rng.random::<f64>(), lo + (hi - lo) * self.rng.random::<f64>());
        let (min, max) = (self.float_text(a.min(b)), self.float_text(a.max(b)));
        Node::Map(vec![("min".into(), s(min)), ("max".into(), s(max))])
    }

    /// A map whose entries may be dropped, duplicated, renamed or reordered when noisy.
    fn map(&mut self, entries: Vec<(&str, Option<Node>)>) -> Node {
        let mut out = Vec::new();
        for (key, value) in entries {
            let Some(value) = value else { continue };
            if self.noisy() && self.chance(0.3) {
                continue;
            }
            let key = if self.noisy() && self.chance(0.2) { format!("{key}x") } else { key.to_string() };
            if self.noisy() && self.chance(0.2) {
                out.push((key.clone(), value.clone()));
            }
            out.push((key, value));
        }
        if self.noisy() {
            out.shuffle(self.rng);
        }
        Node::Map(out)
    }

    fn opt(&mut self, p: f64, make: impl FnOnce(&mut Self) -> Node) -> Option<Node> {
        self.chance(p).then(|| make(self))
    }
}

/// Tokens of head dimension `dim` one device of `preset` holds (`None`: they do not fit),
/// remembered: the validator's answer, so that generated capacities are mostly right.
fn capacity(preset: &str, dim: usize) -> Option<usize> {
    thread_local! {
        static CACHE: std::cell::RefCell<HashMap<(String, usize), Option<usize>>> = Default::default();
    }
    CACHE.with(|c| {
        *c.borrow_mut()
            .entry((preset.to_string(), dim))
            .or_insert_with(|| TierPreset::verilated_named(preset).ok().and_then(|p| p.capacity(dim).ok()))
    })
}

fn presets() -> Vec<&'static str> {
    TierPreset::verilated_names()
}

/// A scenario: some of the datapath, tiers and system sections, in block or flow style.
pub fn scenario(rng: &mut ChaCha8Rng) -> String {
    let noise = match rng.random_range(0..10) {
        0..=4 => 0.0,
        5..=7 => 0.03,
        _ => 0.15,
    };
    let mut g = G { rng, noise };
    let mut top = vec![];
    let name = match g.rng.random_range(0..8) {
        0 => "\"\"".to_string(),
        1 => "\"é 😀 \\t\"".to_string(),
        _ => format!("fuzz_{}", g.rng.random::<u16>()),
    };
    top.push(("name", Some(s(name))));
    let description = g.opt(0.2, |g| s(format!("'a description, with: {} punctuation'", g.rng.random::<u8>())));
    top.push(("description", description));
    let seed = g.opt(0.5, |g| g.int(0, u64::MAX));
    top.push(("seed", seed));
    let mut sections = g.rng.random_range(0..8u8);
    if sections == 0 && g.chance(0.8) {
        sections = 1 << g.rng.random_range(0..3);
    }
    if sections & 1 != 0 {
        let d = datapath(&mut g);
        top.push(("datapath", Some(d)));
    }
    if sections & 2 != 0 {
        let t = tiers(&mut g);
        top.push(("tiers", Some(t)));
    }
    if sections & 4 != 0 {
        let sys = system(&mut g);
        top.push(("system", Some(sys)));
    }
    let root = g.map(top);
    let mut out = String::new();
    if g.chance(0.2) {
        out.push_str("# generated by pam fuzz\n");
    }
    if g.chance(0.05) {
        out.push_str("---\n");
    }
    if let Node::Map(entries) = &root {
        emit_block_map(&mut g, &mut out, 0, entries);
    }
    out
}

fn datapath(g: &mut G<'_>) -> Node {
    let lanes = |g: &mut G<'_>| {
        let options: &[&[u64]] = &[&[16, 4], &[16], &[4], &[4, 16], &[8], &[], &[16, 16]];
        let pick = if g.noisy() { g.pick(options) } else { g.pick(&options[..4]) };
        Node::Seq(pick.iter().map(|&x| s(x)).collect())
    };
    let problems = g.small(1, 1000);
    let dim_hi = if g.noisy() { 300 } else { 256 };
    let tokens_hi = if g.chance(0.1) { 1 << 21 } else { 600 };
    let tiles_hi = if g.chance(0.1) { 300 } else { 8 };
    let amplitude_hi = if g.chance(0.1) { 300.0 } else { 40.0 };
    let entries = vec![
        ("problems", Some(if g.noisy() { g.bad() } else { s(problems) })),
        ("pu_lanes", Some(lanes(g))),
        ("ru_lanes", Some(lanes(g))),
        ("head_dim", Some(g.range(1, dim_hi))),
        ("tokens", Some(g.range(0, tokens_hi))),
        ("tiles", Some(g.range(1, tiles_hi))),
        ("amplitude", Some(g.float_range(0.001, amplitude_hi))),
        ("clock_mhz", g.opt(0.3, |g| g.float(0.5, 10_000.0))),
        ("waves", g.opt(0.3, |g| g.int(0, problems))),
    ];
    g.map(entries)
}

fn dims(g: &mut G<'_>) -> Node {
    let all = [1u64, 16, 17, 32, 40, 64, 96, 128, 256];
    let n = g.rng.random_range(1..=3);
    let mut v: Vec<Node> = (0..n).map(|_| s(g.pick(&all))).collect();
    if g.noisy() {
        let bad = [s(0), s(257), s(1000), Node::Seq(vec![])];
        v.push(bad[g.rng.random_range(0..bad.len())].clone());
    }
    Node::Seq(v)
}

fn tiers(g: &mut G<'_>) -> Node {
    let n = g.rng.random_range(1..=4);
    let names = presets();
    let mut out = Vec::new();
    for _ in 0..n {
        let name = if g.noisy() { g.pick(&["ddr4-3200", "hbm3-5.2", "", "HBM-S", "ssd"]) } else { g.pick(&names) };
        let preset = TierPreset::verilated_named(name).ok();
        let dram = preset.as_ref().and_then(|p| p.as_dram().cloned());
        let dim_list = g.opt(0.7, dims);
        // The tightest capacity over the listed dimensions, so that `tokens.max` mostly fits.
        let listed: Vec<usize> = match &dim_list {
            Some(Node::Seq(v)) => {
                v.iter().filter_map(|d| if let Node::Scalar(x) = d { x.parse().ok() } else { None }).collect()
            }
            _ => crate::device::check::DIMS.to_vec(),
        };
        let cap = listed.iter().filter_map(|&d| capacity(name, d)).min().unwrap_or(64).max(1) as u64;
        let tokens_hi = if g.chance(0.1) { cap * 2 + 100_000 } else { cap };
        let geometry = match &dram {
            Some(d) if g.chance(0.2) => {
                let mut v = vec![d.bank_groups, d.banks_per_group, d.banks_per_pu, d.rows, d.cols, d.pu_lanes];
                if g.noisy() {
                    let i = g.rng.random_range(0..v.len());
                    v[i] = g.pick(&[0, 1, 3, 1 << 20]);
                }
                let keys = ["bank_groups", "banks_per_group", "banks_per_pu", "rows", "cols", "lanes"];
                Some(g.map(keys.iter().zip(v).map(|(k, x)| (*k, Some(s(x)))).collect()))
            }
            None if g.chance(0.05) => Some(Node::Map(vec![("rows".into(), s(64))])),
            _ => None,
        };
        let timing = match &dram {
            Some(d) if g.chance(0.3) => {
                let chosen: Vec<_> = d.timing.fields().into_iter().filter(|_| g.chance(0.3)).collect();
                let mut entries = Vec::new();
                for (key, _, v) in chosen {
                    let value = match g.rng.random_range(0..10) {
                        0 => g.bad(),
                        1 => s(g.small(0, 70_000)),
                        2 => s(v + g.small(0, 8) as u32),
                        _ => s(v),
                    };
                    entries.push((key, Some(value)));
                }
                if g.noisy() {
                    entries.push(("trcd", Some(s(10))));
                }
                Some(g.map(entries))
            }
            None if g.chance(0.05) => Some(Node::Map(vec![("rcd".into(), s(10))])),
            _ => None,
        };
        let rd_gap = g.opt(0.2, |g| match g.rng.random_range(0..4) {
            0 => s("cap"),
            1 => g.bad(),
            _ => s(g.small(0, 70_000)),
        });
        let entries = vec![
            ("preset", Some(s(name))),
            ("problems", Some(g.int(1, 12))),
            ("tokens", Some(g.range(1, tokens_hi))),
            ("head_dim", dim_list),
            ("geometry", geometry),
            ("timing", timing),
            ("rd_gap", rd_gap),
        ];
        out.push(g.map(entries));
    }
    Node::Seq(out)
}

fn system(g: &mut G<'_>) -> Node {
    let names = presets();
    let kv = g.small(1, 4);
    let q = kv * g.small(1, 4);
    let layers = g.small(1, 4);
    let dim = g.pick(&[16u64, 32, 40, 64, 100, 128, 256]);
    let model = vec![
        (
            "layers",
            Some(if g.chance(0.02) { s(g.pick(&["0", "4294967297", "18446744073709551615"])) } else { s(layers) }),
        ),
        ("q_heads", Some(if g.noisy() { s(q + 1) } else { s(q) })),
        ("kv_heads", Some(if g.chance(0.02) { s("18446744073709551615") } else { s(kv) })),
        ("head_dim", Some(if g.noisy() { g.bad() } else { s(dim) })),
    ];
    let model = g.map(model);
    let contexts: Vec<u64> = (0..g.rng.random_range(1..=4)).map(|_| g.small(1, 1000)).collect();
    let steps = g.small(1, 50);
    let n = g.rng.random_range(1..=4usize);
    let need = (contexts.iter().sum::<u64>() + steps * contexts.len() as u64) * layers * kv;
    // Capacities the devices hold, the slower tiers taking what the faster ones cannot.
    let mut left = need;
    let mut tier_nodes = Vec::new();
    for i in 0..n {
        let name = if i + 1 == n && g.chance(0.8) { "ssd-s" } else { g.pick(&names) };
        let name = if g.noisy() { g.pick(&["ssd", "nvme", "ddr-s "]) } else { name };
        let most = if g.noisy() { 12 } else { 3 };
        let devices = if g.chance(0.3) { g.small(1, most) } else { 1 };
        let holds = capacity(name, dim as usize).unwrap_or(100) as u64 * devices;
        let share = if i + 1 == n { left } else { left.min(holds) * g.rng.random_range(1..=4) / 4 };
        let capacity = if g.noisy() { holds + 1 } else { share.min(holds) };
        left = left.saturating_sub(capacity);
        let model = g.opt(0.2, |g| s(g.pick(&["rtl", "calibrated", "verilog"])));
        let dev = (devices != 1 || g.chance(0.1)).then(|| s(devices));
        let entries = vec![
            ("preset", Some(s(name))),
            ("capacity", Some(if g.chance(0.02) { g.bad() } else { s(capacity) })),
            ("devices", dev),
            ("model", model),
        ];
        tier_nodes.push(g.map(entries));
    }
    let target = g.opt(0.5, |g| {
        if n == 3 && g.chance(0.3) {
            Node::Map(vec![("x".into(), g.float(0.1, 10.0)), ("y".into(), g.float(0.1, 10.0))])
        } else {
            let len = if g.noisy() { n + 1 } else { n };
            Node::Seq((0..len).map(|_| g.float(0.1, 10.0)).collect())
        }
    });
    let migration = g.opt(0.6, |g| {
        let valid = if dim.is_multiple_of(16) { g.pick(&["interface", "host"]) } else { "host" };
        s(if g.noisy() { g.pick(&["interface", "dma"]) } else { valid })
    });
    let entries = vec![
        ("model", Some(model)),
        ("contexts", Some(Node::Seq(contexts.iter().map(|&c| s(c)).collect()))),
        ("steps", Some(if g.noisy() { g.bad() } else { s(steps) })),
        ("drift", g.opt(0.4, |g| g.float(0.0, 1.0))),
        ("fraction", g.opt(0.4, |g| g.float(0.001, 1.0))),
        ("tiers", Some(Node::Seq(tier_nodes))),
        ("merge_tier", g.opt(0.2, |g| g.int(0, n as u64 - 1))),
        ("policy", Some(s(if g.noisy() { "fifo" } else { g.pick(&crate::scenario::POLICIES) }))),
        ("target", target),
        ("migration", migration),
        ("scores", g.opt(0.5, |g| s(g.pick(&["synthetic", "exact", "label", "oracle"])))),
    ];
    g.map(entries)
}

/// Writes a node on one line in flow style.
fn flow(node: &Node) -> String {
    match node {
        Node::Scalar(v) => v.clone(),
        Node::Seq(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Node::Map(entries) => {
            format!("{{{}}}", entries.iter().map(|(k, v)| format!("{k}: {}", flow(v))).collect::<Vec<_>>().join(", "))
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Writes the entries of a map in block style at `indent`; nested collections in block or
/// flow style at random.
fn emit_block_map(g: &mut G<'_>, out: &mut String, indent: usize, entries: &[(String, Node)]) {
    for (i, (key, value)) in entries.iter().enumerate() {
        // A map entry of a block sequence starts on the dash's line.
        if !(i == 0 && out.ends_with("- ")) {
            pad(out, indent);
        }
        emit_value(g, out, indent, key, value);
    }
}

fn emit_value(g: &mut G<'_>, out: &mut String, indent: usize, key: &str, value: &Node) {
    let comment = if g.chance(0.05) { "   # a comment" } else { "" };
    match value {
        Node::Scalar(_) => {
            let _ = writeln!(out, "{key}: {}{comment}", flow(value));
        }
        Node::Seq(items) if !items.is_empty() && g.chance(0.5) => {
            let _ = writeln!(out, "{key}:{comment}");
            for item in items {
                pad(out, indent + 2);
                out.push_str("- ");
                match item {
                    Node::Map(entries) if !entries.is_empty() && g.chance(0.6) => {
                        emit_block_map(g, out, indent + 4, entries);
                    }
                    other => {
                        let _ = writeln!(out, "{}", flow(other));
                    }
                }
            }
        }
        Node::Map(entries) if !entries.is_empty() && g.chance(0.6) => {
            let _ = writeln!(out, "{key}:{comment}");
            emit_block_map(g, out, indent + 2, entries);
        }
        other => {
            let _ = writeln!(out, "{key}: {}{comment}", flow(other));
        }
    }
}

/// A CSV field, quoted or padded at random.
fn csv_field(g: &mut G<'_>, v: &str) -> String {
    match g.rng.random_range(0..20) {
        0 => format!("\"{v}\""),
        1 => format!(" {v} "),
        _ => v.to_string(),
    }
}

/// A token count as CSV text: mostly whole, sometimes `374.0` (as pandas writes), sometimes bad.
fn tokens_text(g: &mut G<'_>) -> String {
    if g.noisy() {
        return g.pick(&["0", "-3", "3.5", "", "1e10", "4294967296", "NaN", "inf", "x", "4294967295"]).to_string();
    }
    let v = g.small(1, 8192);
    if g.chance(0.1) {
        format!("{v}.0")
    } else {
        v.to_string()
    }
}

/// Builds a CSV file of `columns` (each row's values made by `row`), with extra columns,
/// shuffled order, CRLF, blank lines and a byte-order mark at random.
fn csv_file(
    g: &mut G<'_>,
    columns: &[&str],
    extras: &[&str],
    mut row: impl FnMut(&mut G<'_>) -> Vec<String>,
) -> String {
    let mut names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    for e in extras {
        if g.chance(0.3) {
            names.push(e.to_string());
        }
    }
    if g.noisy() {
        match g.rng.random_range(0..3) {
            0 => {
                names.remove(g.rng.random_range(0..columns.len()));
            }
            1 => names.push(g.pick(columns).to_string()),
            _ => names.push(String::new()),
        }
    }
    let mut order: Vec<usize> = (0..names.len()).collect();
    if g.chance(0.3) {
        order.shuffle(g.rng);
    }
    let eol = if g.chance(0.15) { "\r\n" } else { "\n" };
    let mut out = String::new();
    if g.chance(0.05) {
        out.push('\u{feff}');
    }
    if g.chance(0.05) {
        out.push_str(eol);
    }
    let header: Vec<String> = order.iter().map(|&i| csv_field(g, &names[i])).collect();
    out.push_str(&header.join(","));
    out.push_str(eol);
    let rows = if g.chance(0.03) { 0 } else { g.small(1, 40) };
    for _ in 0..rows {
        let mut values = row(g);
        while values.len() < names.len() {
            values.push(format!("{:.3}", g.rng.random::<f64>() * 100.0));
        }
        if g.noisy() && g.chance(0.2) {
            values.pop();
        }
        let fields: Vec<String> = order.iter().filter_map(|&i| values.get(i)).map(|v| csv_field(g, v)).collect();
        out.push_str(&fields.join(","));
        out.push_str(eol);
        if g.chance(0.03) {
            out.push_str(eol);
        }
    }
    if g.chance(0.1) {
        out.truncate(out.trim_end().len());
    }
    out
}

/// Seconds as a Splitwise trace writes them, moving forward (backwards when noisy).
fn next_seconds(g: &mut G<'_>, t: &mut f64) -> String {
    let gap = g.rng.random::<f64>() * if g.chance(0.05) { 1e6 } else { 3.0 };
    if g.noisy() {
        *t -= gap;
    } else if !g.chance(0.1) {
        *t += gap;
    }
    let v = *t;
    match g.rng.random_range(0..5) {
        0 => format!("{v}"),
        1 => format!("{v:e}"),
        2 => format!("{}", v.floor()),
        _ => format!("{v:.6}"),
    }
}

/// A trace of `target`'s format.
pub fn trace(rng: &mut ChaCha8Rng, target: Target) -> String {
    let noise = match rng.random_range(0..10) {
        0..=4 => 0.0,
        5..=7 => 0.02,
        _ => 0.1,
    };
    let mut g = G { rng, noise };
    match target {
        Target::Scenario => scenario(g.rng),
        Target::VidurCsv => {
            let mut t = 0.0;
            csv_file(&mut g, &["arrived_at", "num_prefill_tokens", "num_decode_tokens"], &["pd_ratio", "id"], |g| {
                vec![next_seconds(g, &mut t), tokens_text(g), tokens_text(g)]
            })
        }
        Target::TokensCsv => {
            csv_file(&mut g, &["num_prefill_tokens", "num_decode_tokens"], &["num_total_tokens", "pd_ratio"], |g| {
                vec![tokens_text(g), tokens_text(g)]
            })
        }
        Target::AzureCsv => {
            let datetimes = g.chance(0.7);
            // Nanoseconds since 1970; the years around the real traces, and far ones.
            let mut ns: i128 = if g.chance(0.8) {
                1_700_000_000_000_000_000 + i128::from(g.rng.random::<u32>()) * 1_000_000_000
            } else {
                i128::from(g.rng.random_range(-62_000_000_000i64..250_000_000_000)) * 1_000_000_000
            };
            let mut t = 0.0;
            csv_file(&mut g, &["TIMESTAMP", "ContextTokens", "GeneratedTokens"], &["Extra"], |g| {
                let stamp = if datetimes {
                    let step = i128::from(g.small(0, 10_000_000_000));
                    ns += if g.noisy() { -step } else { step };
                    datetime_text(g, ns)
                } else {
                    next_seconds(g, &mut t)
                };
                vec![stamp, tokens_text(g), tokens_text(g)]
            })
        }
        Target::Jsonl => jsonl(&mut g),
    }
}

/// A date-time in one of the forms Azure traces use (fraction of 0 to 10 digits, `T`, `Z`).
fn datetime_text(g: &mut G<'_>, ns: i128) -> String {
    let secs = ns.div_euclid(1_000_000_000) as i64;
    let nanos = ns.rem_euclid(1_000_000_000) as u64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let sep = if g.chance(0.1) { 'T' } else { ' ' };
    let digits = g.rng.random_range(0..=10usize);
    let fraction = if digits == 0 {
        String::new()
    } else {
        let full = format!("{nanos:09}0");
        format!(".{}", &full[..digits])
    };
    let zone = if g.chance(0.1) { "Z" } else { "" };
    format!("{y:04}-{m:02}-{d:02}{sep}{:02}:{:02}:{:02}{fraction}{zone}", rest / 3600, rest / 60 % 60, rest % 60)
}

/// The date of a day count from 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A JSON number for a JSONL field: whole, sometimes written as a float, bad when noisy.
fn json_number(g: &mut G<'_>, lo: u64, hi: u64) -> String {
    if g.noisy() {
        return g
            .pick(&["-1", "0", "1.5", "1e400", "\"12\"", "null", "true", "[]", "{}", "18446744073709551616", "-0"])
            .to_string();
    }
    let v = g.small(lo, hi);
    if g.chance(0.05) {
        format!("{v}.0")
    } else {
        v.to_string()
    }
}

fn json_object(g: &mut G<'_>, mut fields: Vec<(String, String)>) -> String {
    if g.chance(0.3) {
        fields.shuffle(g.rng);
    }
    let sep = if g.chance(0.5) { ", " } else { "," };
    let colon = if g.chance(0.5) { ": " } else { ":" };
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\"{colon}{v}")).collect();
    format!("{{{}}}", body.join(sep))
}

fn jsonl(g: &mut G<'_>) -> String {
    let mut out = String::new();
    let mut t: u64 = g.small(0, 1 << 40);
    let lines = if g.chance(0.03) { 0 } else { g.small(1, 20) };
    for _ in 0..lines {
        let step = g.small(0, 1_000_000_000);
        t = if g.noisy() { t.saturating_sub(step) } else { t.saturating_add(step) };
        let arrival = if g.noisy() { json_number(g, 0, u64::MAX) } else { t.to_string() };
        let mut fields = vec![("arrival_time_ns".to_string(), arrival)];
        if g.chance(0.3) {
            if g.chance(0.7) {
                let id = if g.chance(0.5) {
                    format!("\"s{}\"", g.rng.random::<u16>())
                } else {
                    g.small(0, 1000).to_string()
                };
                fields.push(("session_id".into(), id));
            }
            let subs: Vec<String> = (0..if g.noisy() { 0 } else { g.small(1, 5) })
                .map(|_| {
                    let mut f = vec![
                        ("input_toks".into(), json_number(g, 1, 8192)),
                        ("output_toks".into(), json_number(g, 1, 2048)),
                    ];
                    match g.rng.random_range(0..4) {
                        0 => {}
                        1 => f.push(("tool_duration_ns".into(), "null".into())),
                        _ => f.push(("tool_duration_ns".into(), json_number(g, 0, 10_000_000_000))),
                    }
                    json_object(g, f)
                })
                .collect();
            fields.push(("sub_requests".into(), format!("[{}]", subs.join(", "))));
        } else {
            fields.push(("input_toks".into(), json_number(g, 1, 8192)));
            fields.push(("output_toks".into(), json_number(g, 1, 2048)));
            if g.chance(0.3) {
                let ids: Vec<String> = (0..g.small(0, 8)).map(|_| g.rng.random::<u16>().to_string()).collect();
                fields.push(("input_tok_ids".into(), format!("[{}]", ids.join(", "))));
                fields.push(("output_tok_ids".into(), "[]".into()));
            }
        }
        if g.noisy() {
            fields.remove(g.rng.random_range(0..fields.len()));
        }
        out.push_str(&json_object(g, fields));
        out.push_str(if g.chance(0.1) { "\r\n" } else { "\n" });
        if g.chance(0.03) {
            out.push_str("  \n");
        }
    }
    out
}
