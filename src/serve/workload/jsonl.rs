//! LLMServingSim JSONL: flat requests and agentic sessions.

use std::io::BufRead;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::WorkloadError;
use super::value::{nanoseconds_from_json, shorten, show_ns, tokens_from_json, Tokens};
use super::{After, Request, SessionLink};

/// The fields of a line this module reads. Everything else (`input_tok_ids`, `output_tok_ids`,
/// anything new) is skipped without being kept. Values stay raw JSON so that a wrong one gets a
/// message of our own.
#[derive(Deserialize)]
struct RawLine {
    input_toks: Option<Value>,
    output_toks: Option<Value>,
    arrival_time_ns: Option<Value>,
    session_id: Option<Value>,
    sub_requests: Option<Value>,
}

/// Where a line is: the file and the 1-based line number.
struct At<'a> {
    path: &'a str,
    line: u64,
}

impl At<'_> {
    fn field(&self, field: impl Into<String>, problem: impl Into<String>) -> WorkloadError {
        WorkloadError::Field {
            path: self.path.to_string(),
            line: self.line,
            field: field.into(),
            problem: problem.into(),
        }
    }

    fn line(&self, problem: impl Into<String>) -> WorkloadError {
        WorkloadError::Line { path: self.path.to_string(), line: self.line, problem: problem.into() }
    }
}

const LINE_ALLOWED: &str = "allowed: one JSON object per line, either a request {\"input_toks\", \"output_toks\", \
                            \"arrival_time_ns\"} or a session {\"arrival_time_ns\", \"sub_requests\": [...]}";

/// Reads LLMServingSim JSONL from `reader`; `path` is only used in messages.
pub(crate) fn read_jsonl<R: BufRead>(path: &str, mut reader: R) -> Result<Vec<Request>, WorkloadError> {
    let mut requests: Vec<Request> = Vec::new();
    let mut sessions: u64 = 0;
    let mut previous: Option<(u64, u64)> = None;
    let mut buffer = Vec::new();
    let mut line: u64 = 0;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|source| WorkloadError::Io { path: path.to_string(), source })?;
        if read == 0 {
            break;
        }
        line += 1;
        if buffer.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = At { path, line };
        let raw: RawLine = serde_json::from_slice(&buffer).map_err(|e| json_error(&at, &buffer, &e))?;

        let arrival_value = raw.arrival_time_ns.as_ref().ok_or_else(|| {
            at.field("field arrival_time_ns", "missing; allowed: a whole, non-negative number of nanoseconds")
        })?;
        let arrival_ns = nanoseconds_from_json(arrival_value).map_err(|p| at.field("field arrival_time_ns", p))?;
        if let Some((before, before_line)) = previous {
            if arrival_ns < before {
                return Err(at.field(
                    "field arrival_time_ns",
                    format!(
                        "arrival at {} is before the previous line's {} (line {before_line}); allowed: arrivals in \
                         non-decreasing order",
                        show_ns(arrival_ns),
                        show_ns(before)
                    ),
                ));
            }
        }
        previous = Some((arrival_ns, line));

        match raw.sub_requests {
            None => {
                let (prompt_tokens, output_tokens) =
                    lengths(&at, "", raw.input_toks.as_ref(), raw.output_toks.as_ref())?;
                let id = requests.len() as u64;
                requests.push(Request { id, arrival_ns, prompt_tokens, output_tokens, session: None });
            }
            Some(subs) => {
                if raw.input_toks.is_some() || raw.output_toks.is_some() {
                    return Err(at.field(
                        "field sub_requests",
                        "a line with `sub_requests` is a session and has no `input_toks`/`output_toks` of its own; \
                         allowed: a request or a session per line",
                    ));
                }
                check_session_id(&at, raw.session_id.as_ref())?;
                read_session(&at, &subs, sessions, arrival_ns, &mut requests)?;
                sessions += 1;
            }
        }
    }
    if requests.is_empty() {
        return Err(WorkloadError::Empty { path: path.to_string(), detail: "no line holds a request".into() });
    }
    Ok(requests)
}

/// The sub-requests of one session, appended to `requests`. The first arrives at the session's
/// arrival; each later one `after` the previous, delayed by the previous one's tool duration.
fn read_session(
    at: &At<'_>,
    subs: &Value,
    session: u64,
    arrival_ns: u64,
    requests: &mut Vec<Request>,
) -> Result<(), WorkloadError> {
    const ALLOWED: &str = "allowed: a non-empty array of {\"input_toks\", \"output_toks\", \"tool_duration_ns\"}";
    let subs = match subs {
        Value::Array(subs) if !subs.is_empty() => subs,
        Value::Array(_) => return Err(at.field("field sub_requests", format!("an empty array; {ALLOWED}"))),
        _ => return Err(at.field("field sub_requests", format!("not an array; {ALLOWED}"))),
    };
    let mut before: Option<(u64, u64, u64)> = None; // (id, arrival lower bound, tool duration)
    for (turn, sub) in subs.iter().enumerate() {
        let prefix = format!("sub_requests[{turn}].");
        let Value::Object(fields) = sub else {
            return Err(at.field(format!("field sub_requests[{turn}]"), format!("not an object; {ALLOWED}")));
        };
        let (prompt_tokens, output_tokens) =
            lengths(at, &prefix, present(fields, "input_toks"), present(fields, "output_toks"))?;
        let tool_ns = match present(fields, "tool_duration_ns") {
            None => 0,
            Some(v) => nanoseconds_from_json(v).map_err(|p| at.field(format!("field {prefix}tool_duration_ns"), p))?,
        };
        let id = requests.len() as u64;
        let (after, arrival) = match before {
            None => (None, arrival_ns),
            Some((request, previous_arrival, delay_ns)) => {
                (Some(After { request, delay_ns }), previous_arrival.saturating_add(delay_ns))
            }
        };
        let turn = u32::try_from(turn).unwrap_or(u32::MAX);
        requests.push(Request {
            id,
            arrival_ns: arrival,
            prompt_tokens,
            output_tokens,
            session: Some(SessionLink { session, turn, after }),
        });
        before = Some((id, arrival, tool_ns));
    }
    Ok(())
}

/// A field of an object, `None` when absent or null.
fn present<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(name).filter(|v| !v.is_null())
}

/// The prompt and output lengths of a request, `prefix` naming where it sits in the line.
fn lengths(
    at: &At<'_>,
    prefix: &str,
    input: Option<&Value>,
    output: Option<&Value>,
) -> Result<(u32, u32), WorkloadError> {
    let get = |value: Option<&Value>, name: &str, kind| {
        let field = format!("field {prefix}{name}");
        match value {
            None => Err(at.field(field, "missing; allowed: a whole number of tokens from 1 to 4294967295")),
            Some(v) => tokens_from_json(v, kind).map_err(|p| at.field(field, p)),
        }
    };
    Ok((get(input, "input_toks", Tokens::Prompt)?, get(output, "output_toks", Tokens::Output)?))
}

/// `session_id` is optional and only checked: requests are linked by position, not by it.
fn check_session_id(at: &At<'_>, id: Option<&Value>) -> Result<(), WorkloadError> {
    match id {
        None | Some(Value::String(_)) => Ok(()),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(()),
        Some(other) => Err(at.field(
            "field session_id",
            format!(
                "`{}` is neither a string nor a whole number; allowed: a string or a whole number",
                shorten(&other.to_string())
            ),
        )),
    }
}

/// A `serde_json` error on one line, with the column where parsing stopped.
fn json_error(at: &At<'_>, line: &[u8], error: &serde_json::Error) -> WorkloadError {
    let message = error.to_string();
    let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
    let first = line.iter().find(|b| !b.is_ascii_whitespace());
    match error.classify() {
        serde_json::error::Category::Data if first != Some(&b'{') => {
            at.line(format!("not a JSON object ({message}); {LINE_ALLOWED}"))
        }
        serde_json::error::Category::Data => {
            at.field(format!("column {}", error.column()), format!("{message}; {LINE_ALLOWED}"))
        }
        _ => at.field(format!("column {}", error.column()), format!("malformed JSON: {message}; {LINE_ALLOWED}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Request>, WorkloadError> {
        read_jsonl("w.jsonl", text.as_bytes())
    }

    #[test]
    fn flat_requests_skip_token_ids() {
        let r = read(
            "{\"input_toks\": 3, \"output_toks\": 2, \"arrival_time_ns\": 5, \"input_tok_ids\": [1, 2, 3]}\n\n\
             {\"input_toks\": 4, \"output_toks\": 1, \"arrival_time_ns\": 5, \"output_tok_ids\": [9]}\r\n",
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[1].id, r[1].arrival_ns, r[1].prompt_tokens, r[1].output_tokens), (1, 5, 4, 1));
    }

    #[test]
    fn sessions_chain_their_sub_requests() {
        let r = read(
            "{\"session_id\": \"s0\", \"arrival_time_ns\": 100, \"sub_requests\": [\
               {\"input_toks\": 10, \"output_toks\": 5, \"tool_duration_ns\": 7},\
               {\"input_toks\": 20, \"output_toks\": 6, \"tool_duration_ns\": 9},\
               {\"input_toks\": 30, \"output_toks\": 7, \"tool_duration_ns\": 0}]}\n\
             {\"input_toks\": 1, \"output_toks\": 1, \"arrival_time_ns\": 100}\n\
             {\"arrival_time_ns\": 200, \"sub_requests\": [{\"input_toks\": 1, \"output_toks\": 1}]}\n",
        )
        .unwrap();
        assert_eq!(r.len(), 5);
        assert_eq!(r[0].session, Some(SessionLink { session: 0, turn: 0, after: None }));
        assert_eq!(
            r[1].session,
            Some(SessionLink { session: 0, turn: 1, after: Some(After { request: 0, delay_ns: 7 }) })
        );
        assert_eq!(
            r[2].session,
            Some(SessionLink { session: 0, turn: 2, after: Some(After { request: 1, delay_ns: 9 }) })
        );
        assert_eq!([r[0].arrival_ns, r[1].arrival_ns, r[2].arrival_ns], [100, 107, 116]);
        assert_eq!(r[3].session, None);
        assert_eq!(r[4].session, Some(SessionLink { session: 1, turn: 0, after: None }));
    }

    #[test]
    fn errors_name_line_and_field() {
        let err = |text: &str| read(text).unwrap_err().to_string();
        let ok = "{\"input_toks\": 1, \"output_toks\": 1, \"arrival_time_ns\": 9}\n";
        let e = err(&format!("{ok}{{\"input_toks\": 1, \"output_toks\": 1}}\n"));
        assert!(e.starts_with("w.jsonl:2: field arrival_time_ns: missing"), "{e}");
        let e = err(&format!("{ok}{{\"input_toks\": 1, \"output_toks\": 1, \"arrival_time_ns\": 8}}\n"));
        assert!(e.starts_with("w.jsonl:2: field arrival_time_ns: arrival at 0.000000008 s is before"), "{e}");
        let e = err(&format!("{ok}{{\"input_toks\": 1, \"output_toks\": 1, \"arrival_time_ns\": 9\n"));
        assert!(e.starts_with("w.jsonl:2: column ") && e.contains("malformed JSON"), "{e}");
        let e = err("[1, 2]\n");
        assert!(e.starts_with("w.jsonl:1: not a JSON object"), "{e}");
        let e = err("{\"arrival_time_ns\": 1, \"sub_requests\": [{\"input_toks\": 1, \"output_toks\": -2}]}");
        assert!(e.starts_with("w.jsonl:1: field sub_requests[0].output_toks: `-2` is negative"), "{e}");
        let e = err("{\"arrival_time_ns\": 1, \"sub_requests\": []}");
        assert!(e.contains("field sub_requests: an empty array"), "{e}");
        let e = err("{\"arrival_time_ns\": 1, \"session_id\": [1], \"sub_requests\": [{\"input_toks\": 1, \"output_toks\": 1}]}");
        assert!(e.contains("field session_id"), "{e}");
        let e = err("{\"arrival_time_ns\": 1, \"input_toks\": 1, \"output_toks\": 1, \"input_toks\": 2}");
        assert!(e.contains("duplicate field"), "{e}");
        assert!(err("\n \n").contains("no line holds a request"));
    }
}
