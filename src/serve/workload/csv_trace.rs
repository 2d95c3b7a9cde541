//! The three CSV formats: Vidur/Splitwise, token counts only, and Azure.

use std::collections::VecDeque;
use std::io::{self, Read};

use super::datetime::{parse_datetime_ns, DATETIME_FORM};
use super::error::WorkloadError;
use super::value::{seconds_from_text, shorten, show_ns, tokens_from_text, Tokens};
use super::{Request, TraceFormat};

/// How a CSV format gives arrival times.
#[derive(Clone, Copy)]
enum ArrivalColumn {
    /// No arrival column: every request at t = 0.
    None,
    /// Seconds from the start of the trace (Splitwise `arrived_at`).
    Seconds(&'static str),
    /// A date-time, or plain seconds (Azure `TIMESTAMP`).
    Timestamp(&'static str),
}

/// The columns a CSV format needs.
struct Layout {
    arrival: ArrivalColumn,
    prompt: &'static str,
    output: &'static str,
}

fn layout(format: TraceFormat) -> Option<Layout> {
    Some(match format {
        TraceFormat::Splitwise => Layout {
            arrival: ArrivalColumn::Seconds("arrived_at"),
            prompt: "num_prefill_tokens",
            output: "num_decode_tokens",
        },
        TraceFormat::TokenCounts => {
            Layout { arrival: ArrivalColumn::None, prompt: "num_prefill_tokens", output: "num_decode_tokens" }
        }
        TraceFormat::Azure => Layout {
            arrival: ArrivalColumn::Timestamp("TIMESTAMP"),
            prompt: "ContextTokens",
            output: "GeneratedTokens",
        },
        TraceFormat::LlmServingSim => return None,
    })
}

/// A column found in the header: its 0-based index and name.
#[derive(Clone, Copy)]
struct Column {
    index: usize,
    name: &'static str,
}

impl Column {
    fn describe(self) -> String {
        format!("column {} ({})", self.index + 1, self.name)
    }
}

/// What the Azure TIMESTAMP column turned out to hold, decided by the first row.
#[derive(Clone, Copy)]
enum TimestampKind {
    /// Date-times; arrivals are relative to the first one (nanoseconds since 1970 kept here).
    DateTime { first_ns: i128 },
    /// Plain seconds, kept as they are.
    Seconds,
}

/// Reads a CSV trace of `format` (not [`TraceFormat::LlmServingSim`]) from `reader`; `path` is
/// only used in messages.
pub(crate) fn read_csv<R: Read>(path: &str, reader: R, format: TraceFormat) -> Result<Vec<Request>, WorkloadError> {
    let Some(layout) = layout(format) else {
        return Err(WorkloadError::invalid("trace format", format!("{format} is not a CSV format")));
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(Lines::new(reader));
    let header = match csv.headers() {
        Ok(header) => header.clone(),
        Err(e) => return Err(csv_error(path, e, csv.get_mut())),
    };
    let header_line = csv.get_mut().line_of(header.position());

    let wanted: Vec<&'static str> = match layout.arrival {
        ArrivalColumn::None => vec![layout.prompt, layout.output],
        ArrivalColumn::Seconds(name) | ArrivalColumn::Timestamp(name) => vec![name, layout.prompt, layout.output],
    };
    let names: Vec<&str> = header.iter().map(|h| h.trim_start_matches('\u{feff}')).collect();
    if names.iter().all(|n| n.is_empty()) {
        return Err(WorkloadError::Empty {
            path: path.to_string(),
            detail: format!("no header line; the {format} format starts with `{}`", wanted.join(",")),
        });
    }
    let find = |name: &'static str| -> Result<Column, WorkloadError> {
        let mut at = names.iter().enumerate().filter(|(_, n)| **n == name).map(|(i, _)| i);
        match (at.next(), at.next()) {
            (Some(index), None) => Ok(Column { index, name }),
            (Some(_), Some(second)) => Err(WorkloadError::Field {
                path: path.to_string(),
                line: header_line,
                field: format!("column {} ({name})", second + 1),
                problem: format!("the column `{name}` appears twice in the header; allowed: each column once"),
            }),
            (None, _) => Err(WorkloadError::Field {
                path: path.to_string(),
                line: header_line,
                field: "header".into(),
                problem: format!(
                    "missing column `{name}`; allowed: a {format} header with the columns `{}` in any order \
                     (others are ignored), found `{}`",
                    wanted.join(","),
                    shorten(&names.join(","))
                ),
            }),
        }
    };
    let arrival = match layout.arrival {
        ArrivalColumn::None => None,
        ArrivalColumn::Seconds(name) | ArrivalColumn::Timestamp(name) => Some(find(name)?),
    };
    let prompt = find(layout.prompt)?;
    let output = find(layout.output)?;

    let mut requests = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut timestamp_kind: Option<TimestampKind> = None;
    // The previous arrival and its line, to refuse arrivals going backwards.
    let mut previous: Option<(u64, u64)> = None;
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e, csv.get_mut())),
        }
        let line = csv.get_mut().line_of(record.position());
        let field_error = |column: Column, problem: String| WorkloadError::Field {
            path: path.to_string(),
            line,
            field: column.describe(),
            problem,
        };
        let text = |column: Column| record.get(column.index).unwrap_or("");

        let arrival_ns = match (layout.arrival, arrival) {
            (ArrivalColumn::Seconds(_), Some(column)) => {
                seconds_from_text(text(column)).map_err(|p| field_error(column, p))?
            }
            (ArrivalColumn::Timestamp(_), Some(column)) => {
                timestamp_ns(text(column), &mut timestamp_kind).map_err(|p| field_error(column, p))?
            }
            _ => 0,
        };
        if let (Some(column), Some((before, before_line))) = (arrival, previous) {
            if arrival_ns < before {
                return Err(field_error(
                    column,
                    format!(
                        "arrival at {} is before the previous request's {} (line {before_line}); \
                         allowed: arrivals in non-decreasing order",
                        show_ns(arrival_ns),
                        show_ns(before)
                    ),
                ));
            }
        }
        previous = Some((arrival_ns, line));
        let prompt_tokens = tokens_from_text(text(prompt), Tokens::Prompt).map_err(|p| field_error(prompt, p))?;
        let output_tokens = tokens_from_text(text(output), Tokens::Output).map_err(|p| field_error(output, p))?;
        requests.push(Request { id: requests.len() as u64, arrival_ns, prompt_tokens, output_tokens, session: None });
    }
    if requests.is_empty() {
        return Err(WorkloadError::Empty { path: path.to_string(), detail: "a header and no rows".into() });
    }
    Ok(requests)
}

/// The reader under `csv`, keeping the bytes from the start of the current record on.
///
/// `csv` gives each record the position where it began to read it, which is before the blank
/// lines it skips (and before the `\n` of a `\r\n` it ended the previous record at). The line
/// an editor shows is that line plus the line breaks before the record's first byte, which
/// needs those bytes: this keeps them, from the start of the record being read to what `csv`
/// has buffered, so the memory stays that of a record and a buffer.
struct Lines<R> {
    inner: R,
    kept: VecDeque<u8>,
    /// Offset in the file of `kept[0]`.
    kept_from: u64,
}

impl<R> Lines<R> {
    fn new(inner: R) -> Self {
        Lines { inner, kept: VecDeque::new(), kept_from: 0 }
    }

    /// The 1-based line of the first byte of the record `csv` placed at `position`; bytes
    /// before `position` are dropped. Records are asked for in order.
    fn line_of(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else { return 0 };
        let skip = position.byte().saturating_sub(self.kept_from).min(self.kept.len() as u64);
        self.kept.drain(..skip as usize);
        self.kept_from += skip;
        let breaks = self.kept.iter().take_while(|b| matches!(b, b'\r' | b'\n')).filter(|&&b| b == b'\n').count();
        position.line() + breaks as u64
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.kept.extend(&out[..n]);
        Ok(n)
    }
}

/// An Azure TIMESTAMP as nanoseconds from the start of the trace. The first row decides
/// whether the file holds date-times (made relative to the first) or plain seconds.
fn timestamp_ns(text: &str, kind: &mut Option<TimestampKind>) -> Result<u64, String> {
    let kind = match *kind {
        Some(k) => k,
        None => {
            let k = if let Some(first_ns) = parse_datetime_ns(text) {
                TimestampKind::DateTime { first_ns }
            } else if text.trim().is_empty() || text.trim().parse::<f64>().is_ok() {
                TimestampKind::Seconds
            } else {
                return Err(format!(
                    "`{}` is neither a date-time nor a number of seconds; allowed: {DATETIME_FORM}, or seconds",
                    shorten(text)
                ));
            };
            *kind = Some(k);
            k
        }
    };
    match kind {
        TimestampKind::Seconds => seconds_from_text(text),
        TimestampKind::DateTime { first_ns } => {
            let Some(ns) = parse_datetime_ns(text) else {
                return Err(format!(
                    "`{}` is not a date-time; allowed: {DATETIME_FORM}, as in the first row",
                    shorten(text)
                ));
            };
            match u64::try_from(ns - first_ns) {
                Ok(relative) => Ok(relative),
                Err(_) if ns < first_ns => Err(format!(
                    "`{}` is before the first request's time; allowed: arrivals in non-decreasing order",
                    shorten(text)
                )),
                Err(_) => Err(format!("`{}` is more than 584 years after the first request", shorten(text))),
            }
        }
    }
}

/// A `csv` reader error with the file and line.
fn csv_error<R>(path: &str, error: csv::Error, lines: &mut Lines<R>) -> WorkloadError {
    let line = lines.line_of(error.position());
    match error.into_kind() {
        csv::ErrorKind::Io(source) => WorkloadError::Io { path: path.to_string(), source },
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => WorkloadError::Line {
            path: path.to_string(),
            line,
            problem: format!(
                "{len} fields where the header has {expected_len}; allowed: every row has the header's columns"
            ),
        },
        csv::ErrorKind::Utf8 { err, .. } => WorkloadError::Field {
            path: path.to_string(),
            line,
            field: format!("column {}", err.field() + 1),
            problem: "bytes that are not UTF-8; allowed: UTF-8 text".into(),
        },
        other => WorkloadError::Line { path: path.to_string(), line, problem: format!("unreadable CSV: {other:?}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, format: TraceFormat) -> Result<Vec<Request>, WorkloadError> {
        read_csv("t.csv", text.as_bytes(), format)
    }

    #[test]
    fn splitwise_rows() {
        let r = read(
            "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,374,44\n4.314579,396,109\n",
            TraceFormat::Splitwise,
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[1].id, r[1].arrival_ns, r[1].prompt_tokens, r[1].output_tokens), (1, 4_314_579_000, 396, 109));
    }

    /// The line of the bad value (`x`) in the message, as an editor counts lines.
    fn line_of_error(text: &str) -> String {
        let e = read(text, TraceFormat::TokenCounts).unwrap_err().to_string();
        e.split(':').nth(1).unwrap().to_string()
    }

    #[test]
    fn lines_are_counted_as_an_editor_does() {
        let h = "num_prefill_tokens,num_decode_tokens";
        assert_eq!(line_of_error(&format!("{h}\n1,1\n2,x\n")), "3");
        assert_eq!(line_of_error(&format!("{h}\r\n1,1\r\n2,x\r\n")), "3");
        assert_eq!(line_of_error(&format!("\n\n{h}\n\n1,1\n\n\n2,x")), "8");
        assert_eq!(line_of_error(&format!("\r\n{h}\r\n\r\n1,1\r\n\r\n2,x")), "6");
        assert_eq!(line_of_error(&format!("{h}\n\"1\n\",1\n2,x\n")), "4");
        assert_eq!(line_of_error("\n\nnum_prefill_tokens\n1\n"), "3");
        // Blank lines across the csv reader's 8 KiB buffer.
        let blank = "\n".repeat(20_000);
        assert_eq!(line_of_error(&format!("{h}\n{}1,1\n{blank}2,x\n", "1,1\n".repeat(3000))), "23003");
    }

    #[test]
    fn columns_in_any_order_with_extras_and_quotes() {
        let r = read(
            "pd_ratio,num_decode_tokens,num_prefill_tokens\r\n\"1.5\", 10 ,\"15\"\r\n\r\n2,3,6\r\n",
            TraceFormat::TokenCounts,
        )
        .unwrap();
        assert_eq!(
            r.iter().map(|r| (r.prompt_tokens, r.output_tokens, r.arrival_ns)).collect::<Vec<_>>(),
            [(15, 10, 0), (6, 3, 0)]
        );
        // A byte-order mark before the header.
        let r = read("\u{feff}num_prefill_tokens,num_decode_tokens\n7,8\n", TraceFormat::TokenCounts).unwrap();
        assert_eq!((r[0].prompt_tokens, r[0].output_tokens), (7, 8));
    }

    #[test]
    fn azure_datetimes_are_relative_to_the_first() {
        let text = "TIMESTAMP,ContextTokens,GeneratedTokens\n\
                    2023-11-16 18:15:46.6805900,374,44\n\
                    2023-11-16 18:15:50.0000000,396,109\n";
        let r = read(text, TraceFormat::Azure).unwrap();
        assert_eq!(r[0].arrival_ns, 0);
        assert_eq!(r[1].arrival_ns, 3_319_410_000);
        let seconds = read("TIMESTAMP,ContextTokens,GeneratedTokens\n1.5,1,1\n2,1,1\n", TraceFormat::Azure).unwrap();
        assert_eq!(seconds[0].arrival_ns, 1_500_000_000);
        let mixed = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,1\n5.0,1,1\n";
        let err = read(mixed, TraceFormat::Azure).unwrap_err().to_string();
        assert!(err.starts_with("t.csv:3: column 1 (TIMESTAMP)") && err.contains("as in the first row"), "{err}");
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let err = |text: &str, format| read(text, format).unwrap_err().to_string();
        let e = err("arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,1\n1,2\n", TraceFormat::Splitwise);
        assert!(e.starts_with("t.csv:3: 2 fields where the header has 3"), "{e}");
        let e = err("arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,1\n1,2,\n", TraceFormat::Splitwise);
        assert!(e.starts_with("t.csv:3: column 3 (num_decode_tokens): the value is empty"), "{e}");
        let e = err("arrived_at,num_prefill_tokens,num_decode_tokens\n", TraceFormat::Splitwise);
        assert!(e.contains("no request"), "{e}");
        let e = err("", TraceFormat::Splitwise);
        assert!(e.contains("no header"), "{e}");
        let e = err("num_prefill_tokens,num_prefill_tokens,num_decode_tokens\n1,1,1\n", TraceFormat::TokenCounts);
        assert!(e.starts_with("t.csv:1: column 2 (num_prefill_tokens): the column"), "{e}");
        let e = read_csv("t.csv", &b"num_prefill_tokens,num_decode_tokens\n1,\xff\n"[..], TraceFormat::TokenCounts)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:2: column 2: bytes that are not UTF-8"), "{e}");
    }
}
