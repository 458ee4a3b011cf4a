//! Durations in words, in the largest whole unit: "10 minutes", "1 day".

use super::{text_with, Locale};

/// `secs` in the largest whole unit: "10 minutes", "1 day", "90 seconds".
pub fn duration(locale: Locale, secs: i64) -> String {
    let (n, unit) = if secs != 0 && secs % 86_400 == 0 {
        (secs / 86_400, "day")
    } else if secs != 0 && secs % 3600 == 0 {
        (secs / 3600, "hour")
    } else if secs != 0 && secs % 60 == 0 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    let form = if n == 1 { "one" } else { "other" };
    text_with(
        locale,
        &format!("dur-{unit}-{form}"),
        &[("n", &n.to_string())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        for (secs, en, ja) in [
            (600, "10 minutes", "10分"),
            (1, "1 second", "1秒"),
            (86_400 * 14, "14 days", "14日"),
            (3600, "1 hour", "1時間"),
            (90, "90 seconds", "90秒"),
        ] {
            assert_eq!(duration(Locale::En, secs), en);
            assert_eq!(duration(Locale::Ja, secs), ja);
        }
    }
}
