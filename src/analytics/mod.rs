//! Reaction and chat analytics per tenant: parameter rules, CSV rendering
//! and (in [`charts`]) server-side SVG. Read-only and off the hot path; the
//! numbers come from rollups the writers maintain (`store::analytics`).

pub mod charts;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// A series bucket size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketSize {
    Minute,
    FiveMinutes,
    Hour,
}

impl BucketSize {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "1m" => Ok(Self::Minute),
            "5m" => Ok(Self::FiveMinutes),
            "1h" => Ok(Self::Hour),
            other => Err(format!("unknown bucket {other:?}: use 1m, 5m or 1h")),
        }
    }

    /// The Postgres interval literal (a fixed string, safe in SQL text).
    pub fn interval(self) -> &'static str {
        match self {
            Self::Minute => "1 minute",
            Self::FiveMinutes => "5 minutes",
            Self::Hour => "1 hour",
        }
    }

    /// The longest range a series may cover at this size.
    pub fn max_range(self) -> Duration {
        match self {
            Self::Minute => Duration::days(31),
            Self::FiveMinutes => Duration::days(93),
            Self::Hour => Duration::days(3 * 366),
        }
    }
}

/// Parses an RFC 3339 time into the UTC wall time the tables hold.
pub fn parse_time(name: &str, text: &str) -> Result<PrimitiveDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| {
            let t = t.to_offset(time::UtcOffset::UTC);
            PrimitiveDateTime::new(t.date(), t.time())
        })
        .map_err(|_| format!("{name} must be an RFC 3339 time such as 2026-11-23T12:00:00Z"))
}

/// Checks a range: `from` before `to`, and not longer than `max`.
pub fn check_range(
    from: PrimitiveDateTime,
    to: PrimitiveDateTime,
    max: Duration,
) -> Result<(), String> {
    if from >= to {
        return Err("from must be before to".into());
    }
    if to - from > max {
        return Err(format!(
            "the range may cover at most {} days at this bucket size",
            max.whole_days()
        ));
    }
    Ok(())
}

/// The current UTC wall time.
pub fn now() -> PrimitiveDateTime {
    let t = OffsetDateTime::now_utc();
    PrimitiveDateTime::new(t.date(), t.time())
}

/// Builds CSV text (RFC 4180 quoting).
pub struct Csv {
    out: String,
}

impl Csv {
    pub fn new(header: &[&str]) -> Self {
        let mut csv = Csv { out: String::new() };
        csv.row(header.iter().map(|h| h.to_string()));
        csv
    }

    pub fn row<I: IntoIterator<Item = String>>(&mut self, fields: I) {
        let line: Vec<String> = fields.into_iter().map(|f| quote(&f)).collect();
        self.out.push_str(&line.join(","));
        self.out.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn quote(field: &str) -> String {
    // A leading = + - @ would be a formula in spreadsheets: neutralise it.
    let field = if field.starts_with(['=', '+', '-', '@']) && field.parse::<f64>().is_err() {
        format!("'{field}")
    } else {
        field.to_owned()
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_ranges() {
        assert_eq!(BucketSize::parse("5m"), Ok(BucketSize::FiveMinutes));
        assert!(BucketSize::parse("2m").is_err());
        let a = parse_time("from", "2026-11-01T00:00:00Z").unwrap();
        let b = parse_time("to", "2026-12-05T00:00:00+09:00").unwrap();
        assert!(check_range(b, a, BucketSize::Minute.max_range()).is_err());
        assert!(
            check_range(a, b, BucketSize::Minute.max_range()).is_err(),
            "over 31 days at 1m"
        );
        assert!(check_range(a, b, BucketSize::Hour.max_range()).is_ok());
        assert!(parse_time("from", "yesterday").is_err());
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut csv = Csv::new(&["a", "b"]);
        csv.row(["x,y".to_string(), "say \"hi\"".to_string()]);
        csv.row(["=cmd()".to_string(), "-5".to_string()]);
        assert_eq!(
            csv.finish(),
            "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n'=cmd(),-5\r\n"
        );
    }
}
