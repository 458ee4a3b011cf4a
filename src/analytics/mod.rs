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

impl BucketSize {
    /// The query value (`1m`, `5m`, `1h`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Minute => "1m",
            Self::FiveMinutes => "5m",
            Self::Hour => "1h",
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            Self::Minute => 60,
            Self::FiveMinutes => 300,
            Self::Hour => 3600,
        }
    }

    /// As an adjective: "{adjective} buckets".
    pub fn adjective(self) -> &'static str {
        match self {
            Self::Minute => "1-minute",
            Self::FiveMinutes => "5-minute",
            Self::Hour => "1-hour",
        }
    }
}

/// Why the dashboard's picker values were refused. The page words these in
/// the reader's language; `Display` is the English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickerError {
    /// An unknown range (repeated, shortened).
    #[error("Unknown range “{0}”: choose 15m, 1h, 6h, 24h or all.")]
    Range(String),
    /// An unknown bucket (repeated, shortened).
    #[error("Unknown bucket “{0}”: choose auto, 1m, 5m or 1h.")]
    Bucket(String),
    /// An explicit bucket too fine for the range.
    #[error(
        "{} buckets over this range would draw {bars} bars, more than the {MAX_BARS} a \
         chart shows: choose a larger bucket or a shorter range.",
        bucket.adjective()
    )]
    TooManyBars { bucket: BucketSize, bars: i64 },
}

/// How much of a stream the dashboard's charts show, counted back from the
/// end of its timeline (its end, or now while it runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Last(Duration),
    Whole,
}

/// The picker's ranges, as query values (the page words them).
pub const SPANS: [&str; 5] = ["15m", "1h", "6h", "24h", "all"];

/// The picker's bucket sizes, as query values (`auto` picks one).
pub const BUCKETS: [&str; 4] = ["auto", "1m", "5m", "1h"];

impl Span {
    pub fn parse(text: &str) -> Result<Self, PickerError> {
        match text {
            "15m" => Ok(Self::Last(Duration::minutes(15))),
            "1h" => Ok(Self::Last(Duration::hours(1))),
            "6h" => Ok(Self::Last(Duration::hours(6))),
            "24h" => Ok(Self::Last(Duration::hours(24))),
            "all" => Ok(Self::Whole),
            other => Err(PickerError::Range(echo(other))),
        }
    }
}

/// A picker bucket: `auto` is `None`.
pub fn parse_bucket_choice(text: &str) -> Result<Option<BucketSize>, PickerError> {
    match text {
        "auto" => Ok(None),
        other => BucketSize::parse(other)
            .map(Some)
            .map_err(|_| PickerError::Bucket(echo(other))),
    }
}

/// A value from the query as an error message repeats it: short, so a long
/// one does not fill the page.
fn echo(text: &str) -> String {
    const MAX: usize = 24;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        text.chars().take(MAX - 1).chain(['…']).collect()
    }
}

/// The automatic bucket is the finest that keeps a chart to this many bars,
/// enough detail for a screen without drawing a bar per pixel.
pub const AUTO_BARS: i64 = 360;
/// The most bars a chart draws, whatever bucket was asked for.
pub const MAX_BARS: i64 = 1440;

/// What the charts show: `[from, to)` in buckets of `bucket`, both ends on
/// bucket boundaries (multiples of the bucket since 2000-01-01, as the
/// queries' `date_bin` counts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: PrimitiveDateTime,
    pub to: PrimitiveDateTime,
    pub bucket: BucketSize,
    /// The whole stream needed more than [`MAX_BARS`] hours: only its
    /// latest part is shown.
    pub clipped: bool,
}

impl Window {
    /// The start of every bucket, as unix seconds.
    pub fn starts(&self) -> impl Iterator<Item = i64> {
        let step = self.bucket.seconds();
        let (from, to) = (unix(self.from), unix(self.to));
        (0..)
            .map(move |k| from + k * step)
            .take_while(move |&t| t < to)
    }
}

/// The window `span` and `bucket` (`None`: automatic) pick on a stream whose
/// timeline runs from `start` to `end`. An explicit bucket too fine for the
/// range is refused with the reason; an automatic one never is.
pub fn window(
    span: Span,
    bucket: Option<BucketSize>,
    start: PrimitiveDateTime,
    end: PrimitiveDateTime,
) -> Result<Window, PickerError> {
    let from = match span {
        Span::Last(length) => end - length,
        Span::Whole => start.min(end - Duration::minutes(1)),
    };
    let bars = |b: BucketSize| {
        let (f, t) = aligned(from, end, b);
        (t - f).whole_seconds() / b.seconds()
    };
    let chosen = bucket.unwrap_or_else(|| {
        [
            BucketSize::Minute,
            BucketSize::FiveMinutes,
            BucketSize::Hour,
        ]
        .into_iter()
        .find(|&b| bars(b) <= AUTO_BARS)
        .unwrap_or(BucketSize::Hour)
    });
    let (mut from, to) = aligned(from, end, chosen);
    let n = bars(chosen);
    let mut clipped = false;
    if n > MAX_BARS {
        if bucket.is_some() {
            return Err(PickerError::TooManyBars {
                bucket: chosen,
                bars: n,
            });
        }
        from = to - Duration::seconds(MAX_BARS * chosen.seconds());
        clipped = true;
    }
    Ok(Window {
        from,
        to,
        bucket: chosen,
        clipped,
    })
}

/// `from` down and `to` up to bucket boundaries, at least one bucket apart.
fn aligned(
    from: PrimitiveDateTime,
    to: PrimitiveDateTime,
    bucket: BucketSize,
) -> (PrimitiveDateTime, PrimitiveDateTime) {
    let step = bucket.seconds();
    let floor = |t: PrimitiveDateTime| t - Duration::seconds(unix(t).rem_euclid(step));
    let from = floor(from);
    let mut to_floor = floor(to);
    if to_floor < to || to_floor <= from {
        to_floor += Duration::seconds(step);
    }
    (from, to_floor.max(from + Duration::seconds(step)))
}

/// Unix seconds of a UTC wall time.
pub fn unix(t: PrimitiveDateTime) -> i64 {
    t.assume_utc().unix_timestamp()
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
    fn picker_values_parse_or_say_what_is_allowed() {
        assert_eq!(Span::parse("1h"), Ok(Span::Last(Duration::hours(1))));
        assert_eq!(Span::parse("all"), Ok(Span::Whole));
        for key in SPANS {
            assert!(Span::parse(key).is_ok(), "{key}");
        }
        for key in BUCKETS {
            assert!(parse_bucket_choice(key).is_ok(), "{key}");
        }
        assert_eq!(parse_bucket_choice("auto"), Ok(None));
        assert_eq!(parse_bucket_choice("5m"), Ok(Some(BucketSize::FiveMinutes)));
        let err = Span::parse("2d").unwrap_err().to_string();
        assert_eq!(err, "Unknown range “2d”: choose 15m, 1h, 6h, 24h or all.");
        let err = Span::parse(&"x".repeat(1000)).unwrap_err().to_string();
        assert!(err.len() < 100, "{err}");
        let err = parse_bucket_choice("10s").unwrap_err().to_string();
        assert!(err.contains("auto, 1m, 5m or 1h"), "{err}");
    }

    #[test]
    fn windows_end_at_the_timeline_end_on_bucket_boundaries() {
        let at = |s: &str| parse_time("t", s).unwrap();
        let end = at("2026-11-23T12:34:20Z");
        let start = at("2026-11-23T09:00:30Z");
        let w = window(Span::Last(Duration::hours(1)), None, start, end).unwrap();
        assert_eq!(
            (w.from, w.to, w.bucket, w.clipped),
            (
                at("2026-11-23T11:34:00Z"),
                at("2026-11-23T12:35:00Z"),
                BucketSize::Minute,
                false
            )
        );
        assert_eq!(w.starts().count(), 61);
        assert_eq!(w.starts().next(), Some(unix(w.from)));

        // Whole stream: from its start; auto keeps to AUTO_BARS.
        let w = window(Span::Whole, None, start, end).unwrap();
        assert_eq!(
            (w.from, w.bucket),
            (at("2026-11-23T09:00:00Z"), BucketSize::Minute)
        );
        let w = window(Span::Last(Duration::hours(24)), None, start, end).unwrap();
        assert_eq!(w.bucket, BucketSize::FiveMinutes);
        assert!(w.starts().count() as i64 <= AUTO_BARS);
        let w = window(
            Span::Last(Duration::hours(24)),
            Some(BucketSize::Hour),
            start,
            end,
        )
        .unwrap();
        assert_eq!(
            (w.from, w.to),
            (at("2026-11-22T12:00:00Z"), at("2026-11-23T13:00:00Z"))
        );

        // An explicit bucket too fine for the range is refused, with why.
        let long = at("2026-10-01T00:00:00Z");
        let err = window(Span::Whole, Some(BucketSize::Minute), long, end)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("1-minute buckets over this range would draw"),
            "{err}"
        );
        assert!(err.contains("more than the 1440 a chart shows"), "{err}");
        // Automatic: a stream longer than MAX_BARS hours shows its latest part.
        let w = window(Span::Whole, None, at("2026-01-01T00:00:00Z"), end).unwrap();
        assert_eq!((w.bucket, w.clipped), (BucketSize::Hour, true));
        assert_eq!(w.starts().count() as i64, MAX_BARS);
        assert_eq!(w.to, at("2026-11-23T13:00:00Z"));

        // A timeline that ends on a boundary still gets one bucket.
        let edge = at("2026-11-23T12:00:00Z");
        let w = window(Span::Whole, Some(BucketSize::Hour), edge, edge).unwrap();
        assert_eq!((w.from, w.to), (at("2026-11-23T11:00:00Z"), edge));
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
