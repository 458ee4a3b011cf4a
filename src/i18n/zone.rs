//! The reader's time zone, for times the server writes into pages (the
//! analytics charts and their captions). The browser names it: `zone.js`,
//! loaded by every page, keeps the `tz` cookie equal to
//! `Intl.DateTimeFormat().resolvedOptions().timeZone`. Without the cookie
//! (a first visit, no JavaScript) times are in UTC and say so.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The cookie `zone.js` sets.
pub const COOKIE: &str = "tz";
/// IANA names are short; anything longer is not one.
const MAX_NAME: usize = 64;

/// A named time zone (the IANA database is built into the binary).
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Default for Zone {
    fn default() -> Self {
        Zone::utc()
    }
}

/// A wall-clock reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallTime {
    pub year: i16,
    pub month: i8,
    pub day: i8,
    pub hour: i8,
    pub minute: i8,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// The zone an IANA `name` (`Asia/Tokyo`) names, if it is one.
    pub fn named(name: &str) -> Option<Zone> {
        let plausible = !name.is_empty()
            && name.len() <= MAX_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'));
        if !plausible {
            return None;
        }
        let tz = TimeZone::get(name).ok()?;
        Some(Zone {
            name: name.to_owned(),
            tz,
        })
    }

    /// The zone of the request's `tz` cookie, else UTC.
    pub fn of(headers: &HeaderMap) -> Zone {
        crate::cookies::value(headers, COOKIE)
            // The browser's cookie API encodes the slash.
            .and_then(|value| Zone::named(&value.replace("%2F", "/").replace("%2f", "/")))
            .unwrap_or_default()
    }

    /// The IANA name, shown next to times.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Seconds east of UTC at `unix`.
    pub fn offset_at(&self, unix: i64) -> i64 {
        match Timestamp::from_second(unix) {
            Ok(t) => i64::from(self.tz.to_offset(t).seconds()),
            Err(_) => 0,
        }
    }

    /// The wall clock at `unix` (seconds since the epoch).
    pub fn wall(&self, unix: i64) -> WallTime {
        let t = Timestamp::from_second(unix).unwrap_or(Timestamp::UNIX_EPOCH);
        let z = t.to_zoned(self.tz.clone());
        WallTime {
            year: z.year(),
            month: z.month(),
            day: z.day(),
            hour: z.hour(),
            minute: z.minute(),
        }
    }

    /// `HH:MM` at `unix`.
    pub fn hhmm(&self, unix: i64) -> String {
        let w = self.wall(unix);
        format!("{:02}:{:02}", w.hour, w.minute)
    }

    /// `YYYY-MM-DD` at `unix`.
    pub fn date(&self, unix: i64) -> String {
        let w = self.wall(unix);
        format!("{:04}-{:02}-{:02}", w.year, w.month, w.day)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Zone {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Zone::of(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderValue};

    #[test]
    fn tokyo_is_nine_hours_ahead_and_new_york_keeps_summer_time() {
        // 2026-11-23 12:05 UTC
        let t = 1_763_899_500 + 365 * 86_400;
        let tokyo = Zone::named("Asia/Tokyo").unwrap();
        assert_eq!(tokyo.hhmm(t), "21:05");
        let utc = Zone::utc();
        assert_eq!(
            (utc.date(t), utc.hhmm(t)),
            ("2026-11-23".into(), "12:05".into())
        );
        let ny = Zone::named("America/New_York").unwrap();
        assert_eq!(ny.offset_at(t), -5 * 3600);
        assert_eq!(ny.offset_at(t - 60 * 86_400), -4 * 3600);
        // Just before midnight UTC is the next day in Tokyo.
        let late = t + 11 * 3600 + 50 * 60;
        assert_eq!(
            (tokyo.date(late), tokyo.hhmm(late)),
            ("2026-11-24".into(), "08:55".into())
        );
    }

    #[test]
    fn the_cookie_names_the_zone_and_nonsense_is_utc() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("lang=ja; tz=Asia%2FTokyo"),
        );
        assert_eq!(Zone::of(&headers).name(), "Asia/Tokyo");
        headers.insert(header::COOKIE, HeaderValue::from_static("tz=Mars/Olympus"));
        assert_eq!(Zone::of(&headers).name(), "UTC");
        headers.insert(header::COOKIE, HeaderValue::from_static("tz=../../etc"));
        assert_eq!(Zone::of(&headers).name(), "UTC");
        assert_eq!(Zone::of(&HeaderMap::new()).name(), "UTC");
        assert!(Zone::named(&"A/".repeat(40)).is_none());
    }
}
