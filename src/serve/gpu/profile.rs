//! Reading measured profile CSVs: the `csv` crate with serde, every problem mapped to
//! `path:line:column`.
//!
//! Why `csv`: it is the standard Rust CSV reader (RFC 4180 quoting, a header record, the
//! 1-based line of each record, records of unequal length reported as such), and its serde
//! support deserialises a row into a typed struct by header name, ignoring the columns a
//! backend does not use (Vidur's files have 50-odd). A deserialisation error carries the index
//! of the offending field, which gives the column. Values are then checked (finite, not
//! negative) with their column named.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use csv::{ErrorKind, StringRecord};
use serde::de::DeserializeOwned;

use super::error::GpuError;

/// A profile CSV read into typed rows, with each row's line.
pub(crate) struct CsvRows<T> {
    pub path: String,
    headers: HashMap<String, usize>,
    pub rows: Vec<(u64, T)>,
}

impl<T> CsvRows<T> {
    /// The 1-based column of a header name (1 when absent, which `read` has ruled out for the
    /// required columns).
    pub fn column(&self, name: &str) -> u64 {
        self.headers.get(name).map_or(1, |&i| i as u64 + 1)
    }

    /// An error at a row's line and a named column.
    pub fn error_at(&self, line: u64, column: &str, problem: impl Into<String>) -> GpuError {
        GpuError::malformed(&self.path, line, self.column(column), format!("{column}: {}", problem.into()))
    }

    /// Checks that a value is a finite number not below zero.
    pub fn non_negative(&self, line: u64, column: &str, v: f64) -> Result<f64, GpuError> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(self.error_at(line, column, format!("must be a finite number >= 0, found {v}")))
        }
    }
}

fn position_line(pos: Option<&csv::Position>) -> u64 {
    pos.map_or(1, csv::Position::line)
}

/// Describes a csv error as `path:line:column: problem`.
fn csv_error(path: &str, headers: &StringRecord, record: Option<&StringRecord>, e: csv::Error) -> GpuError {
    let name = |i: usize| headers.get(i).map_or_else(String::new, |h| format!(" ({h})"));
    match e.into_kind() {
        ErrorKind::Io(source) => GpuError::Io { path: path.to_string(), source },
        ErrorKind::Utf8 { pos, err } => GpuError::malformed(
            path,
            position_line(pos.as_ref()),
            err.field() as u64 + 1,
            format!("column {}{} is not UTF-8", err.field() + 1, name(err.field())),
        ),
        ErrorKind::UnequalLengths { pos, expected_len, len } => GpuError::malformed(
            path,
            position_line(pos.as_ref()),
            expected_len.min(len) + 1,
            format!("the row has {len} fields, the header {expected_len}"),
        ),
        ErrorKind::Deserialize { pos, err } => {
            let field = err.field().map_or(0, |f| f as usize);
            let found = record.and_then(|r| r.get(field)).map_or_else(String::new, |v| format!(", found `{v}`"));
            GpuError::malformed(
                path,
                position_line(pos.as_ref()),
                field as u64 + 1,
                format!("column {}{}: {}{found}", field + 1, name(field), err.kind()),
            )
        }
        other => GpuError::malformed(path, 1, 1, format!("{other:?}")),
    }
}

/// Reads `path` as a CSV with a header that has every `required` column, each row as a `T`
/// (by header name). A file without data rows is an error at line 2.
pub(crate) fn read<T: DeserializeOwned>(path: &Path, required: &[&str]) -> Result<CsvRows<T>, GpuError> {
    let p = path.display().to_string();
    let file = File::open(path).map_err(|source| GpuError::Io { path: p.clone(), source })?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(file);
    let headers = reader.headers().map_err(|e| csv_error(&p, &StringRecord::new(), None, e))?.clone();
    let index: HashMap<String, usize> = headers.iter().enumerate().map(|(i, h)| (h.to_string(), i)).collect();
    for name in required {
        if !index.contains_key(*name) {
            return Err(GpuError::malformed(
                &p,
                1,
                headers.len() as u64 + 1,
                format!("the header has no column `{name}` (it has {} columns)", headers.len()),
            ));
        }
    }
    let mut rows = Vec::new();
    let mut record = StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&p, &headers, None, e)),
        }
        let line = position_line(record.position());
        let row: T = record.deserialize(Some(&headers)).map_err(|e| csv_error(&p, &headers, Some(&record), e))?;
        rows.push((line, row));
    }
    if rows.is_empty() {
        return Err(GpuError::malformed(&p, 2, 1, "no measurement after the header"));
    }
    Ok(CsvRows { path: p, headers: index, rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Row {
        tokens: u32,
        time_us: f64,
    }

    fn temp(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("pam-gpu-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn err(name: &str, text: &str) -> String {
        let path = temp(name, text);
        match read::<Row>(&path, &["tokens", "time_us"]) {
            Ok(_) => panic!("{name} accepted"),
            Err(e) => e.to_string().replace(&path.display().to_string(), name),
        }
    }

    #[test]
    fn reads_rows_with_lines() {
        let path = temp("ok.csv", "layer,tokens,time_us\nx,1,2.5\nx,2,3\n");
        let t = read::<Row>(&path, &["tokens", "time_us"]).expect("read");
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].0, 3);
        assert_eq!(t.rows[1].1.tokens, 2);
        assert_eq!(t.rows[0].1.time_us, 2.5);
        assert_eq!(t.column("time_us"), 3);
    }

    #[test]
    fn errors_name_line_and_column() {
        assert!(err("a.csv", "layer,tokens,time_us\nx,1,2\nx,two,3\n").starts_with("a.csv:3:2: column 2 (tokens)"));
        assert!(err("b.csv", "layer,tokens,time_us\nx,1,2\nx,2\n").starts_with("b.csv:3:3: the row has 2 fields"));
        assert!(err("c.csv", "layer,tokens\nx,1\n").starts_with("c.csv:1:3: the header has no column `time_us`"));
        assert!(err("d.csv", "layer,tokens,time_us\n").starts_with("d.csv:2:1: no measurement"));
        assert!(err("e.csv", "tokens,time_us\n-1,2\n").starts_with("e.csv:2:1:"));
    }
}
