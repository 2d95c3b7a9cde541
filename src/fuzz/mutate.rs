//! Mutations of an input, and the mix of seed, generated and mutated inputs.
//!
//! Byte-level mutations (bit flips, bytes set, ranges deleted or copied, truncation) find what
//! no grammar thinks of; token-level ones (a word replaced by or an interesting token inserted:
//! huge numbers, negatives, NaN, inf, empty, Unicode, YAML anchors, aliases and tags, JSON
//! escapes, date-times at the edges of the calendar) reach the value checks behind the syntax;
//! line-level ones (duplicated, deleted, swapped or shuffled lines) give duplicated keys and
//! columns, missing ones, and arrivals going backwards. Structural insertions add the inputs
//! that cost parsers time or memory: YAML alias bombs, deep nesting, very long lines.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{grammar, seeds::seeds, Target, MAX_INPUT};

/// Tokens interesting to every parser.
const COMMON: &[&str] = &[
    "0",
    "1",
    "-1",
    "-0",
    "00",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "9223372036854775807",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "340282366920938463463374607431768211456",
    "1e308",
    "1e309",
    "-1e309",
    "4.9e-324",
    "0.1",
    "1.5",
    "374.0",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "",
    " ",
    "\t",
    "\0",
    "é",
    "😀",
    "\u{feff}",
    "\u{202e}",
    "\u{fffd}",
    "\r",
    "\n",
    "\r\n",
    "\\",
    "'",
    "\"",
];

const YAML: &[&str] = &[
    ": ",
    "- ",
    "#",
    "&a ",
    "*a",
    "&a [1, 2] ",
    "<<: *a\n",
    "<<: ",
    "!!str ",
    "!!int ",
    "!!float ",
    "!!binary ",
    "!!map ",
    "!!seq ",
    "!include x.yaml",
    "!x ",
    "? ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2000:\n",
    "|\n",
    ">-\n",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "~",
    "null",
    ".nan",
    ".inf",
    "-.inf",
    "0x10",
    "0o17",
    "0b101",
    "1_000",
    "+1",
    "1e3",
    "yes",
    "Off",
    "''",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\x\"",
    "{min: 1, max: 0}",
    "{min: 0, max: 18446744073709551615}",
    "[16, 4]",
    "[]",
    "{}",
    "name: t\n",
    "cap",
    "hbm-s",
    "ddr-s",
    "lp5-s",
    "ssd-s",
    "problems",
    "tokens",
    "head_dim",
    "capacity",
    "devices",
    "contexts",
    "target",
    "rd_gap",
    "timing",
    "geometry",
    "layers",
    "x: 1, y: 2",
];

const CSV: &[&str] = &[
    ",",
    ",,",
    "\"",
    "\"\"",
    "\"a,b\"",
    "\"1\n\"",
    "\n\n",
    "arrived_at",
    "num_prefill_tokens",
    "num_decode_tokens",
    "num_total_tokens",
    "TIMESTAMP",
    "ContextTokens",
    "GeneratedTokens",
    "2023-11-16 18:15:46.6805900",
    "2023-11-16T18:15:46Z",
    "2024-02-29 00:00:00",
    "2023-02-29 00:00:00",
    "0000-01-01 00:00:00",
    "9999-12-31 23:59:59.9999999999",
    "1970-01-01 00:00:00",
    "1969-12-31 23:59:59.5",
    "2023-11-16 24:00:00",
    "2023-11-16 18:15:46.",
    "18446744073.709551615",
    "18446744074",
    "0.0000000001",
    "1e-9",
    "5.8926549999999995",
];

const JSON: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "false",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\uDC00\\uD800\"",
    "1e400",
    "-1e400",
    "1.0",
    "12.5",
    "-0.0",
    "\"input_toks\": ",
    "\"output_toks\": ",
    "\"arrival_time_ns\": ",
    "\"sub_requests\": ",
    "\"tool_duration_ns\": ",
    "\"session_id\": ",
    "\"sub_requests\": []",
    "\"sub_requests\": [{}]",
    "\"sub_requests\": [1]",
    "\"session_id\": [1]",
    "\"session_id\": 1.5",
    "\"input_toks\": 1, ",
    "{\"input_toks\": 1, \"output_toks\": 1, \"arrival_time_ns\": 0}\n",
    "{\"arrival_time_ns\": 0, \"sub_requests\": [{\"input_toks\": 1, \"output_toks\": 1}]}\n",
];

fn dictionary(target: Target) -> &'static [&'static str] {
    match target {
        Target::Scenario => YAML,
        Target::Jsonl => JSON,
        _ => CSV,
    }
}

/// Input `rng`'s draws make for `target`: a seed as it is, a generated input, or either
/// mutated 1 to 8 times.
pub fn make_input(rng: &mut ChaCha8Rng, target: Target) -> Vec<u8> {
    let seeds = seeds(target);
    let seed = |rng: &mut ChaCha8Rng| seeds[rng.random_range(0..seeds.len())].as_bytes().to_vec();
    let roll = rng.random_range(0..100);
    let mut data = match roll {
        0..10 => return seed(rng),
        10..30 => return grammar::trace(rng, target).into_bytes(),
        30..55 => grammar::trace(rng, target).into_bytes(),
        _ => seed(rng),
    };
    // Mostly few mutations, so that inputs stay close to valid; sometimes many.
    let count = match rng.random_range(0..10) {
        0..6 => 1,
        6..8 => 2,
        _ => rng.random_range(3..=8),
    };
    for _ in 0..count {
        mutate(rng, &mut data, target);
    }
    data.truncate(MAX_INPUT);
    data
}

/// The spans of the lines of `data`, each with its line break.
fn lines(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < data.len() {
        out.push((start, data.len()));
    }
    out
}

/// The spans of the "words" of `data`: runs of letters, digits and `_.+-`, where values are.
fn words(data: &[u8]) -> Vec<(usize, usize)> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-' | b':' | b' ');
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        if is_word(data[i]) && data[i] != b' ' && data[i] != b':' {
            let start = i;
            // Date-times hold spaces and colons; plain words stop at them.
            let stop_at_space = !data[i].is_ascii_digit();
            while i < data.len() && is_word(data[i]) && !(stop_at_space && matches!(data[i], b' ' | b':')) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// `levels` of YAML anchors, each a list of `width` aliases of the one before: the
/// "billion laughs", width^levels scalars once expanded. In a flow sequence so that it can
/// stand as the value of any field.
pub fn alias_bomb(levels: usize, width: usize) -> String {
    let mut out = String::from("[&l0 [x");
    out.push_str(&", x".repeat(width.saturating_sub(1)));
    out.push(']');
    for l in 1..levels {
        out.push_str(&format!(", &l{l} [*l{}", l - 1));
        out.push_str(&format!(", *l{}", l - 1).repeat(width.saturating_sub(1)));
        out.push(']');
    }
    out.push(']');
    out
}

fn interesting(rng: &mut ChaCha8Rng, target: Target) -> Vec<u8> {
    let dict = if rng.random_bool(0.5) { COMMON } else { dictionary(target) };
    dict[rng.random_range(0..dict.len())].as_bytes().to_vec()
}

/// Something that costs a parser time or memory, for `target`.
fn heavy(rng: &mut ChaCha8Rng, target: Target) -> Vec<u8> {
    let depth = rng.random_range(10..=5000);
    match (target, rng.random_range(0..4)) {
        (Target::Scenario, 0) => alias_bomb(rng.random_range(2..=12), rng.random_range(2..=10)).into_bytes(),
        (Target::Scenario, 1) => format!("{}1{}", "[".repeat(depth), "]".repeat(depth)).into_bytes(),
        (Target::Scenario, 2) => "{a: ".repeat(depth).into_bytes(),
        (Target::Jsonl, 0) => format!("{}1{}", "[".repeat(depth), "]".repeat(depth)).into_bytes(),
        (Target::Jsonl, 1) => "{\"a\":".repeat(depth).into_bytes(),
        _ => {
            // A very long line: a digit run (huge numbers) or a repeated chunk.
            let len = rng.random_range(1_000..=100_000);
            if rng.random_bool(0.5) {
                "9".repeat(len).into_bytes()
            } else {
                let chunk = interesting(rng, target);
                chunk.repeat(len / chunk.len().max(1)).into_iter().take(len).collect()
            }
        }
    }
}

/// One mutation of `data` in place.
pub fn mutate(rng: &mut ChaCha8Rng, data: &mut Vec<u8>, target: Target) {
    let len = data.len();
    let at = |rng: &mut ChaCha8Rng| rng.random_range(0..=len);
    match rng.random_range(0..16) {
        // A bit flipped.
        0 if len > 0 => {
            let i = rng.random_range(0..len);
            data[i] ^= 1 << rng.random_range(0..8);
        }
        // A byte set: any, or one that means something to the syntax.
        1 if len > 0 => {
            let i = rng.random_range(0..len);
            const SYNTAX: &[u8] = b"\n\r\t ,:{}[]-#&*!|>'\"\\0\xff\x80";
            data[i] = if rng.random_bool(0.5) { rng.random() } else { SYNTAX[rng.random_range(0..SYNTAX.len())] };
        }
        // A range deleted.
        2 if len > 0 => {
            let i = rng.random_range(0..len);
            let n = rng.random_range(1..=16.min(len - i));
            data.drain(i..i + n);
        }
        // An interesting token inserted.
        3 | 4 => {
            let i = at(rng);
            let token = interesting(rng, target);
            data.splice(i..i, token);
        }
        // A word (a value, a key, a number) replaced by an interesting token.
        5..=7 => {
            let w = words(data);
            if w.is_empty() {
                return;
            }
            let (a, b) = w[rng.random_range(0..w.len())];
            let token = if rng.random_bool(0.05) { heavy(rng, target) } else { interesting(rng, target) };
            data.splice(a..b, token);
        }
        // A line duplicated (a duplicated key, column or request) or deleted.
        8 | 9 => {
            let l = lines(data);
            if l.is_empty() {
                return;
            }
            let (a, b) = l[rng.random_range(0..l.len())];
            if rng.random_bool(0.5) {
                let line = data[a..b].to_vec();
                data.splice(b..b, line);
            } else {
                data.drain(a..b);
            }
        }
        // Two lines swapped, or all shuffled (arrivals going backwards, header not first).
        10 => {
            let l = lines(data);
            if l.len() < 2 {
                return;
            }
            let mut pieces: Vec<Vec<u8>> = l.iter().map(|&(a, b)| data[a..b].to_vec()).collect();
            if let Some(last) = pieces.last_mut() {
                if !last.ends_with(b"\n") {
                    last.push(b'\n');
                }
            }
            if rng.random_bool(0.7) {
                let (i, j) = (rng.random_range(0..pieces.len()), rng.random_range(0..pieces.len()));
                pieces.swap(i, j);
            } else {
                pieces.shuffle(rng);
            }
            *data = pieces.concat();
        }
        // Truncated.
        11 if len > 0 => data.truncate(rng.random_range(0..len)),
        // A range copied elsewhere.
        12 if len > 0 => {
            let a = rng.random_range(0..len);
            let b = rng.random_range(a..=len.min(a + 256));
            let chunk = data[a..b].to_vec();
            let i = at(rng);
            data.splice(i..i, chunk);
        }
        // Spliced with another seed: this one's head, the other's tail.
        13 => {
            let seeds = seeds(target);
            let other = seeds[rng.random_range(0..seeds.len())].as_bytes();
            let cut = at(rng);
            let from = rng.random_range(0..=other.len());
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        // Something heavy inserted: an alias bomb, deep nesting, a very long line.
        14 => {
            let i = at(rng);
            let token = heavy(rng, target);
            data.splice(i..i, token);
        }
        // A line's indentation changed (YAML structure), or its line break made CRLF.
        _ => {
            let l = lines(data);
            if l.is_empty() {
                return;
            }
            let (a, b) = l[rng.random_range(0..l.len())];
            match rng.random_range(0..3) {
                0 => {
                    data.splice(a..a, *b"  ");
                }
                1 if data[a..b].starts_with(b" ") => {
                    data.remove(a);
                }
                _ if data[a..b].ends_with(b"\n") => {
                    data.insert(b - 1, b'\r');
                }
                _ => {}
            }
        }
    }
}
