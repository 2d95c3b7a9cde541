//! Checks shared by every trace format: token counts and arrival times, from CSV text or JSON
//! values. Each returns the problem as text (what was found, what is allowed); the caller adds
//! the file, line and field.

use serde_json::Value;

/// Which length a value is, for the messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tokens {
    Prompt,
    Output,
}

const TOKENS_ALLOWED: &str = "allowed: a whole number of tokens from 1 to 4294967295";
/// The largest arrival time in seconds whose nanoseconds fit in a u64 (about 584 years).
const MAX_SECONDS: f64 = 18_446_744_073.0;

/// A number as read from text or JSON, before the range checks.
enum Number {
    Unsigned(u64),
    Negative,
    Float(f64),
}

/// Parses CSV text as a number; `Err` for empty or non-numeric text.
fn text_number(text: &str) -> Result<Number, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the value is empty".into());
    }
    if let Ok(v) = text.parse::<u64>() {
        return Ok(Number::Unsigned(v));
    }
    if text.starts_with('-') && text[1..].bytes().all(|b| b.is_ascii_digit()) && text.len() > 1 {
        return Ok(Number::Negative);
    }
    // Rust also reads "inf" and "NaN": those are not numbers a trace means.
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Number::Float(v)),
        _ => Err(format!("`{}` is not a number", shorten(text))),
    }
}

/// Reads a JSON value as a number; `Err` for anything that is not a JSON number.
fn json_number(value: &Value) -> Result<Number, String> {
    match value {
        Value::Number(n) => {
            if let Some(v) = n.as_u64() {
                Ok(Number::Unsigned(v))
            } else if n.as_i64().is_some() {
                Ok(Number::Negative)
            } else {
                match n.as_f64() {
                    Some(v) if v.is_finite() => Ok(Number::Float(v)),
                    _ => Err(format!("`{n}` is not a finite number")),
                }
            }
        }
        Value::String(s) => Err(format!("found the string {}, not a number", shorten(&format!("{s:?}")))),
        Value::Null => Err("found null, not a number".into()),
        Value::Bool(b) => Err(format!("found `{b}`, not a number")),
        Value::Array(_) => Err("found an array, not a number".into()),
        Value::Object(_) => Err("found an object, not a number".into()),
    }
}

/// Cuts long values so that an error message stays one readable line.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

fn tokens_of(number: Number, shown: &str, kind: Tokens) -> Result<u32, String> {
    let value = match number {
        Number::Unsigned(v) => v,
        Number::Negative => return Err(format!("`{shown}` is negative; {TOKENS_ALLOWED}")),
        Number::Float(v) if v < 0.0 => return Err(format!("`{shown}` is negative; {TOKENS_ALLOWED}")),
        Number::Float(v) if v.fract() != 0.0 => {
            return Err(format!("`{shown}` is not a whole number; {TOKENS_ALLOWED}"));
        }
        Number::Float(v) if v > u32::MAX as f64 => return Err(format!("`{shown}` is too large; {TOKENS_ALLOWED}")),
        // A whole number written as a float ("374.0", as pandas writes integer columns).
        Number::Float(v) => v as u64,
    };
    match (value, kind) {
        (0, Tokens::Prompt) => Err(format!("zero prompt tokens: a request needs a prompt; {TOKENS_ALLOWED}")),
        (0, Tokens::Output) => {
            Err(format!("zero output tokens: a request must generate at least one token; {TOKENS_ALLOWED}"))
        }
        (v, _) => u32::try_from(v).map_err(|_| format!("`{shown}` is too large; {TOKENS_ALLOWED}")),
    }
}

/// A token count written as CSV text.
pub(crate) fn tokens_from_text(text: &str, kind: Tokens) -> Result<u32, String> {
    let number = text_number(text).map_err(|e| format!("{e}; {TOKENS_ALLOWED}"))?;
    tokens_of(number, &shorten(text.trim()), kind)
}

/// A token count given as a JSON value.
pub(crate) fn tokens_from_json(value: &Value, kind: Tokens) -> Result<u32, String> {
    let number = json_number(value).map_err(|e| format!("{e}; {TOKENS_ALLOWED}"))?;
    tokens_of(number, &shorten(&value.to_string()), kind)
}

/// Seconds written as CSV text (a float, like `4.314579`), as nanoseconds.
pub(crate) fn seconds_from_text(text: &str) -> Result<u64, String> {
    const ALLOWED: &str = "allowed: a time in seconds, a non-negative number like 4.314579";
    let shown = shorten(text.trim());
    let seconds = match text_number(text).map_err(|e| format!("{e}; {ALLOWED}"))? {
        Number::Unsigned(v) => v as f64,
        Number::Negative => return Err(format!("`{shown}` is negative; {ALLOWED}")),
        Number::Float(v) if v < 0.0 => return Err(format!("`{shown}` is negative; {ALLOWED}")),
        Number::Float(v) => v,
    };
    if seconds > MAX_SECONDS {
        return Err(format!("`{shown}` is too large; {ALLOWED} below {MAX_SECONDS}"));
    }
    Ok((seconds * 1e9).round() as u64)
}

/// Whole nanoseconds given as a JSON value (`arrival_time_ns`, `tool_duration_ns`).
pub(crate) fn nanoseconds_from_json(value: &Value) -> Result<u64, String> {
    const ALLOWED: &str = "allowed: a whole, non-negative number of nanoseconds";
    let shown = shorten(&value.to_string());
    match json_number(value).map_err(|e| format!("{e}; {ALLOWED}"))? {
        Number::Unsigned(v) => Ok(v),
        Number::Negative => Err(format!("`{shown}` is negative; {ALLOWED}")),
        Number::Float(v) if v < 0.0 => Err(format!("`{shown}` is negative; {ALLOWED}")),
        Number::Float(v) if v.fract() != 0.0 => Err(format!("`{shown}` is not a whole number; {ALLOWED}")),
        Number::Float(v) if v >= u64::MAX as f64 => Err(format!("`{shown}` is too large; {ALLOWED}")),
        Number::Float(v) => Ok(v as u64),
    }
}

/// Shows nanoseconds as seconds, for messages about arrivals.
pub(crate) fn show_ns(ns: u64) -> String {
    format!("{}.{:09} s", ns / 1_000_000_000, ns % 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_counts_from_text() {
        assert_eq!(tokens_from_text(" 374 ", Tokens::Prompt), Ok(374));
        assert_eq!(tokens_from_text("374.0", Tokens::Prompt), Ok(374));
        assert_eq!(tokens_from_text("4294967295", Tokens::Output), Ok(u32::MAX));
        let err = |t: &str, k| tokens_from_text(t, k).unwrap_err();
        assert!(err("", Tokens::Prompt).contains("empty"));
        assert!(err("-3", Tokens::Prompt).contains("negative"));
        assert!(err("-3.5", Tokens::Prompt).contains("negative"));
        assert!(err("3.5", Tokens::Prompt).contains("not a whole number"));
        assert!(err("abc", Tokens::Prompt).contains("not a number"));
        assert!(err("NaN", Tokens::Prompt).contains("not a number"));
        assert!(err("inf", Tokens::Prompt).contains("not a number"));
        assert!(err("0", Tokens::Output).contains("zero output tokens"));
        assert!(err("0", Tokens::Prompt).contains("zero prompt tokens"));
        assert!(err("4294967296", Tokens::Prompt).contains("too large"));
        assert!(err("1e300", Tokens::Prompt).contains("too large"));
        assert!(err("abc", Tokens::Prompt).contains("allowed: a whole number of tokens"));
    }

    #[test]
    fn token_counts_from_json() {
        assert_eq!(tokens_from_json(&json!(12), Tokens::Prompt), Ok(12));
        assert_eq!(tokens_from_json(&json!(12.0), Tokens::Prompt), Ok(12));
        assert!(tokens_from_json(&json!(-1), Tokens::Prompt).unwrap_err().contains("negative"));
        assert!(tokens_from_json(&json!("12"), Tokens::Prompt).unwrap_err().contains("string"));
        assert!(tokens_from_json(&json!(1.5), Tokens::Prompt).unwrap_err().contains("whole"));
        assert!(tokens_from_json(&json!(0), Tokens::Output).unwrap_err().contains("zero output"));
    }

    #[test]
    fn seconds_and_nanoseconds() {
        assert_eq!(seconds_from_text("4.314579"), Ok(4_314_579_000));
        assert_eq!(seconds_from_text("3501.060254"), Ok(3_501_060_254_000));
        assert_eq!(seconds_from_text("0"), Ok(0));
        assert!(seconds_from_text("-0.5").unwrap_err().contains("negative"));
        assert!(seconds_from_text("-1").unwrap_err().contains("negative"));
        assert!(seconds_from_text("x").unwrap_err().contains("not a number"));
        assert!(seconds_from_text("1e20").unwrap_err().contains("too large"));
        assert_eq!(nanoseconds_from_json(&json!(46926808)), Ok(46_926_808));
        assert!(nanoseconds_from_json(&json!(-5)).unwrap_err().contains("negative"));
        assert!(nanoseconds_from_json(&json!(1e30)).unwrap_err().contains("too large"));
        assert_eq!(show_ns(4_314_579_000), "4.314579000 s");
    }

    #[test]
    fn long_values_are_shortened_on_char_boundaries() {
        let long = "é".repeat(100);
        let short = shorten(&long);
        assert!(short.ends_with("...") && short.chars().count() == 43);
    }
}
