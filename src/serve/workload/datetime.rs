//! The date-times of the Azure LLM inference traces (`2023-11-16 18:15:46.6805900`), read
//! without a date-time dependency: only differences between them matter, so they are taken as
//! UTC on the proleptic Gregorian calendar, with no leap seconds.

/// What a `TIMESTAMP` may look like, for error messages.
pub(crate) const DATETIME_FORM: &str = "`YYYY-MM-DD HH:MM:SS[.fraction]` (like `2023-11-16 18:15:46.6805900`; \
                                        `T` for the space and a final `Z` are accepted)";

/// Nanoseconds since 1970-01-01 00:00:00 of `YYYY-MM-DD[ T]HH:MM:SS[.digits][Z]`, or `None`
/// when the text is not of that form or names no real date. Digits past nanoseconds are cut.
pub(crate) fn parse_datetime_ns(text: &str) -> Option<i128> {
    let b = text.trim().as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    if !(at(4, b"-") && at(7, b"-") && at(10, b" T") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = b.get(19..)?;
    let mut nanos: i64 = 0;
    if let Some((b'.', fraction)) = rest.split_first() {
        let count = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        for (i, &c) in fraction[..count].iter().take(9).enumerate() {
            nanos += i64::from(c - b'0') * 10i64.pow(8 - i as u32);
        }
        rest = &fraction[count..];
    }
    if !(rest.is_empty() || rest == b"Z") {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(i128::from(seconds) * 1_000_000_000 + i128::from(nanos))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: i128 = 1_000_000_000;

    #[test]
    fn known_instants() {
        assert_eq!(parse_datetime_ns("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_datetime_ns("1970-01-02T00:00:01Z"), Some(86_401 * NS));
        // 2023-11-16 18:15:46 UTC is Unix time 1700158546.
        assert_eq!(parse_datetime_ns("2023-11-16 18:15:46.6805900"), Some(1_700_158_546 * NS + 680_590_000));
        assert_eq!(parse_datetime_ns("2000-02-29 00:00:00"), Some(951_782_400 * NS));
        assert_eq!(parse_datetime_ns("1969-12-31 23:59:59.5"), Some(-NS / 2));
        // Digits past nanoseconds are cut.
        assert_eq!(parse_datetime_ns("1970-01-01 00:00:00.1234567899"), Some(123_456_789));
    }

    #[test]
    fn malformed_or_impossible_dates() {
        for bad in [
            "",
            "2023-11-16",
            "2023-11-16 18:15",
            "2023/11/16 18:15:46",
            "2023-13-01 00:00:00",
            "2023-02-29 00:00:00",
            "2023-04-31 00:00:00",
            "2023-11-16 24:00:00",
            "2023-11-16 18:60:00",
            "2023-11-16 18:15:60",
            "2023-11-16 18:15:46.",
            "2023-11-16 18:15:46.5x",
            "2023-11-16 18:15:46+01:00",
            "2023-1a-16 18:15:46",
            "éééééééééééééééééééééé",
        ] {
            assert_eq!(parse_datetime_ns(bad), None, "{bad}");
        }
    }
}
