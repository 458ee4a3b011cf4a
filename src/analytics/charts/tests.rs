use super::format::{fmt_coord, fmt_tick};
use super::layout::{Frame, MAX_X_LABELS};
use super::svg::esc;
use super::theme::{palette, PALETTE};
use super::ticks::{nice_ticks, time_ticks};
use super::Reader;
use super::*;
use crate::i18n::{I18n, Locale, Zone};

/// 12:05:00 UTC on the day of 1_700_000_000 (2023-11-14).
const AT_1205: i64 = 1_700_000_000 - 1_700_000_000 % 86_400 + 12 * 3600 + 5 * 60;

fn legend() -> Vec<LegendEntry> {
    vec![
        LegendEntry {
            stamp_id: 1,
            name: ":smile:".into(),
            image_url: "/media/stamps/01_smile.svg".into(),
        },
        LegendEntry {
            stamp_id: 2,
            name: "<b>&\"love\"'s</b>".into(),
            image_url: "/media/stamps/04_love.svg?a=1&b=2".into(),
        },
    ]
}

fn part(stamp_id: i32, count: i64) -> StackPart {
    StackPart { stamp_id, count }
}

#[test]
fn nice_ticks_are_round_ascending_and_cover_max() {
    for max in [
        0.37, 1.0, 3.0, 4.0, 7.0, 9.5, 10.0, 42.0, 120.0, 999.0, 1000.0, 12_345.0, 8.1e6,
    ] {
        let ticks = nice_ticks(max);
        assert!((4..=6).contains(&ticks.len()), "{max}: {ticks:?}");
        assert_eq!(ticks[0], 0.0, "{max}: {ticks:?}");
        let step = ticks[1];
        let mantissa = step / 10f64.powf(step.log10().floor());
        assert!(
            [1.0, 2.0, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-6),
            "{max}: step {step}"
        );
        for (i, pair) in ticks.windows(2).enumerate() {
            assert!(pair[1] > pair[0], "{max}: {ticks:?}");
            let expected = (i + 1) as f64 * step;
            assert!((pair[1] - expected).abs() < step * 1e-9, "{max}: {ticks:?}");
        }
        let top = *ticks.last().unwrap();
        assert!(top >= max, "{max}: {ticks:?}");
        assert!(top - step < max, "{max}: needless extra tick {ticks:?}");
    }
    assert_eq!(nice_ticks(3.0), vec![0.0, 1.0, 2.0, 3.0]);
    assert_eq!(nice_ticks(120.0), vec![0.0, 50.0, 100.0, 150.0]);
    for bad in [0.0, -5.0, f64::NAN, f64::INFINITY] {
        let ticks = nice_ticks(bad);
        assert!(ticks.len() >= 2 && ticks[0] == 0.0, "{bad}: {ticks:?}");
    }
}

#[test]
fn esc_escapes_all_five() {
    assert_eq!(esc(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    assert_eq!(esc("plain :smile: ✓"), "plain :smile: ✓");
}

#[test]
fn times_are_on_the_readers_clock() {
    let utc = Reader::default();
    let fmt_hhmm = |t: i64| utc.hhmm(t);
    // 1_700_000_000 % 86_400 = 80_000 s = 22:13:20.
    assert_eq!(fmt_hhmm(1_700_000_000), "22:13");
    assert_eq!(fmt_hhmm(AT_1205), "12:05");
    assert_eq!(fmt_hhmm(AT_1205 + 59), "12:05");
    assert_eq!(fmt_hhmm(0), "00:00");
    assert_eq!(fmt_hhmm(-60), "23:59");
}

#[test]
fn tick_labels_are_compact() {
    assert_eq!(fmt_tick(0.0, 500.0), "0");
    assert_eq!(fmt_tick(1500.0, 500.0), "1.5k");
    assert_eq!(fmt_tick(2000.0, 500.0), "2k");
    assert_eq!(fmt_tick(0.2, 0.2), "0.2");
    assert_eq!(fmt_tick(40.0, 10.0), "40");
    assert_eq!(fmt_tick(3_000_000.0, 1_000_000.0), "3M");
}

#[test]
fn stacked_has_one_rect_per_nonzero_segment() {
    let buckets = vec![
        StackBucket {
            start_unix: AT_1205,
            parts: vec![part(1, 120), part(2, 30), part(2, 0)],
        },
        StackBucket {
            start_unix: AT_1205 + 60,
            parts: vec![part(2, 7), part(99, 3), part(1, -4)],
        },
        StackBucket {
            start_unix: AT_1205 + 120,
            parts: vec![],
        },
    ];
    let svg = stacked_reactions(
        &buckets,
        &legend(),
        "Reactions <live>",
        WIDTH,
        &Reader::default(),
    );
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.ends_with("</svg>"));
    assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
    assert!(svg.contains(r#"role="img""#));
    assert_eq!(svg.matches("<rect").count(), 4);
    assert!(svg.contains(":smile:"));
    assert!(svg.contains("&lt;b&gt;&amp;&quot;love&quot;&#39;s&lt;/b&gt;"));
    assert!(!svg.contains("<b>"));
    assert!(svg.contains("Reactions &lt;live&gt;"));
    assert!(svg.contains(r#"href="/media/stamps/01_smile.svg""#));
    assert!(svg.contains(r#"href="/media/stamps/04_love.svg?a=1&amp;b=2""#));
    assert_eq!(svg.matches("<image").count(), 2);
    assert!(svg.contains(r#"width="18" height="18""#));
    assert!(svg.contains("<title>12:05 :smile: 120</title>"));
    assert!(svg.contains("<title>12:06 stamp #99 3</title>"));
    assert!(svg.contains(&format!(r#"fill="{}""#, palette(0))));
    assert!(svg.contains(&format!(r#"fill="{}""#, palette(1))));
    assert!(!svg.to_lowercase().contains("<script"));
    assert!(!svg.contains("No reactions yet"));
}

#[test]
fn stacked_x_label_for_bucket_at_1205() {
    let buckets = [StackBucket {
        start_unix: AT_1205,
        parts: vec![part(1, 5)],
    }];
    let svg = stacked_reactions(&buckets, &legend(), "Reactions", WIDTH, &Reader::default());
    let expected = format!(">{}</text>", Reader::default().hhmm(AT_1205));
    assert_eq!(expected, ">12:05</text>");
    assert!(svg.contains(&expected), "{svg}");
}

#[test]
fn stacked_labels_at_most_eight_buckets() {
    let buckets: Vec<StackBucket> = (0..60)
        .map(|i| StackBucket {
            start_unix: AT_1205 + i * 60,
            parts: vec![part(1, i + 1)],
        })
        .collect();
    let svg = stacked_reactions(&buckets, &legend(), "Reactions", WIDTH, &Reader::default());
    let x_labels = svg
        .matches(r#"text-anchor="middle" font-size="12""#)
        .count();
    assert!((1..=MAX_X_LABELS).contains(&x_labels), "{x_labels}");
    assert_eq!(svg.matches("<rect").count(), 60);
}

#[test]
fn stacked_wraps_a_long_legend() {
    let legend: Vec<LegendEntry> = (0..20)
        .map(|i| LegendEntry {
            stamp_id: i,
            name: format!(":stamp_number_{i}:"),
            image_url: format!("/media/stamps/{i}.svg"),
        })
        .collect();
    let buckets = [StackBucket {
        start_unix: AT_1205,
        parts: (0..20).map(|i| part(i, 10)).collect(),
    }];
    let svg = stacked_reactions(&buckets, &legend, "Reactions", WIDTH, &Reader::default());
    assert!(
        !svg.contains(r#"viewBox="0 0 960 300""#),
        "taller than one row"
    );
    assert_eq!(svg.matches("<rect").count(), 20);
    assert_eq!(palette(0), palette(PALETTE.len()));
}

#[test]
fn stacked_empty_states() {
    let svg = stacked_reactions(&[], &legend(), "Reactions", WIDTH, &Reader::default());
    assert!(svg.starts_with("<svg") && svg.contains("No reactions yet"));
    assert_eq!(svg.matches("<rect").count(), 0);

    let zeros = [StackBucket {
        start_unix: AT_1205,
        parts: vec![part(1, 0)],
    }];
    let svg = stacked_reactions(&zeros, &legend(), "Reactions", WIDTH, &Reader::default());
    assert!(svg.contains("No reactions yet") && svg.contains(">12:05<"));
    assert_eq!(svg.matches("<rect").count(), 0);
}

#[test]
fn line_chart_draws_a_path() {
    let points: Vec<(i64, f64)> = (0..=30)
        .map(|i| (AT_1205 - 300 + i * 60, (i * 7 % 23) as f64))
        .collect();
    let svg = line_chart(
        &points,
        "Messages / min",
        "#4fc3ff",
        WIDTH,
        &Reader::default(),
    );
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert!(svg.contains(r##"<path d="M56 "##), "{svg}");
    assert!(svg.contains(r##"stroke="#4fc3ff""##));
    assert!(svg.contains(">12:05</text>"), "{svg}");
    assert!(svg.contains("Messages / min"));
    assert!(!svg.contains("No data yet"));
    assert!(!svg.to_lowercase().contains("<script"));
}

#[test]
fn line_chart_empty_states() {
    for points in [
        vec![],
        vec![(AT_1205, 3.0)],
        vec![(AT_1205, 1.0), (AT_1205, 2.0)],
    ] {
        let svg = line_chart(&points, "Viewers", "#ff4f6d", WIDTH, &Reader::default());
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("No data yet"), "{points:?}");
        assert!(!svg.contains("stroke=\"#ff4f6d\""));
    }
}

#[test]
fn line_chart_escapes_color_and_title() {
    let points = [(AT_1205, 1.5), (AT_1205 + 60, 2.25)];
    let svg = line_chart(
        &points,
        "a\"b",
        "red\" onload=\"x",
        WIDTH,
        &Reader::default(),
    );
    assert!(!svg.contains("onload=\""));
    assert!(svg.contains("a&quot;b"));
}

#[test]
fn time_ticks_are_round_and_few() {
    let t0 = AT_1205 - 300 + 17;
    let ticks = time_ticks(t0, t0 + 3 * 3600, MAX_X_LABELS);
    assert!(!ticks.is_empty() && ticks.len() <= MAX_X_LABELS);
    assert!(ticks.iter().all(|t| t % 1800 == 0 && *t >= t0));
    assert_eq!(
        time_ticks(AT_1205 + 10, AT_1205 + 20, MAX_X_LABELS),
        vec![AT_1205 + 10, AT_1205 + 20]
    );
    assert!(time_ticks(0, 40 * 86_400, MAX_X_LABELS).len() <= MAX_X_LABELS);
}

#[test]
fn coordinates_have_at_most_one_decimal() {
    assert_eq!(fmt_coord(12.0), "12");
    assert_eq!(fmt_coord(12.34), "12.3");
    assert_eq!(fmt_coord(-0.01), "0");
}

/// Every `font-size="…"` in the chart, as numbers.
fn font_sizes(svg: &str) -> Vec<f64> {
    svg.split(r#"font-size=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn charts_are_drawn_at_the_width_asked_with_text_of_12_units_or_more() {
    let buckets: Vec<StackBucket> = (0..30)
        .map(|i| StackBucket {
            start_unix: AT_1205 + i * 60,
            parts: vec![part(1, i + 1), part(2, 3)],
        })
        .collect();
    let points: Vec<(i64, f64)> = (0..30).map(|i| (AT_1205 + i * 60, i as f64)).collect();
    for width in [360.0, 440.0, WIDTH] {
        let frame = Frame::new(width);
        for svg in [
            stacked_reactions(
                &buckets,
                &legend(),
                "Reactions per minute",
                width,
                &Reader::default(),
            ),
            line_chart(
                &points,
                "Chat messages per minute",
                "#4fc3ff",
                width,
                &Reader::default(),
            ),
            line_chart(
                &[],
                "Peak viewers per minute",
                "#3ddc84",
                width,
                &Reader::default(),
            ),
        ] {
            let view_box = format!(r#"viewBox="0 0 {} "#, fmt_coord(width));
            assert!(svg.contains(&view_box), "{width}: {svg}");
            let sizes = font_sizes(&svg);
            assert!(!sizes.is_empty());
            assert!(sizes.iter().all(|&s| s >= 12.0), "{width}: {sizes:?}");
            let x_labels = svg
                .matches(r#"text-anchor="middle" font-size="12""#)
                .count();
            assert!(x_labels <= frame.max_x_labels(), "{width}: {x_labels}");
        }
    }
    assert_eq!(Frame::new(360.0).max_x_labels(), 3);
    assert_eq!(Frame::new(WIDTH).max_x_labels(), MAX_X_LABELS);
    assert_eq!(
        Frame::new(10.0).width,
        280.0,
        "clamped to what the layout can draw"
    );
    assert_eq!(Frame::new(f64::NAN).width, WIDTH);
}

#[test]
fn one_line_chart_at_two_widths_uses_two_gradient_ids() {
    let points = [(AT_1205, 1.0), (AT_1205 + 60, 2.0)];
    let id = |svg: &str| {
        let open = "linearGradient id=\"";
        let start = svg.find(open).unwrap() + open.len();
        svg[start..].split('"').next().unwrap().to_owned()
    };
    let wide = line_chart(&points, "Chat", "#4fc3ff", WIDTH, &Reader::default());
    let narrow = line_chart(&points, "Chat", "#4fc3ff", 360.0, &Reader::default());
    assert_ne!(id(&wide), id(&narrow));
    assert!(narrow.contains(&format!("url(#{})", id(&narrow))));
}

#[test]
fn a_japanese_reader_in_tokyo_gets_japanese_words_and_tokyo_times() {
    let reader = Reader {
        i18n: I18n(Locale::Ja),
        zone: Zone::named("Asia/Tokyo").unwrap(),
    };
    let buckets = vec![StackBucket {
        start_unix: AT_1205,
        parts: vec![],
    }];
    let svg = stacked_reactions(&buckets, &legend(), "リアクション", WIDTH, &reader);
    assert!(svg.contains(">21:05</text>"), "{svg}");
    assert!(svg.contains(&reader.i18n.t("chart-no-reactions")));
    assert!(!svg.contains("No reactions yet"));
    let points = [(AT_1205, 1.0), (AT_1205 + 3600, 2.0)];
    let svg = line_chart(&points, "チャット", "#4fc3ff", WIDTH, &reader);
    assert!(
        svg.contains("Asia/Tokyo") && svg.contains(">21:10</text>"),
        "{svg}"
    );
}
