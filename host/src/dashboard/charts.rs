//! Inline SVG charts drawn from a [`Series`]: the budget burn-down
//! (`<svg class="burndown">`) and the burn-rate sparkline
//! (`<svg class="burnrate">`). Plain SVG, no script; gaps are "no data".

use super::html::{escape, percent, short_time};
use super::series::Series;
use std::fmt::Write;

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 96.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 6.0;
const BOTTOM: f64 = 18.0;

const GREEN: &str = "#17803d";
const AMBER: &str = "#b06800";
const RED: &str = "#c0262d";
const BLUE: &str = "#1a4fa0";

/// The budget burn-down: budget remaining over the SLO window, with the
/// zero line; below −200% the line stays at the bottom edge.
pub fn burndown(series: &Series) -> String {
    let values = known(series);
    // Down to the next multiple of 50%, for a round axis label.
    let lowest = values.iter().copied().fold(0.0, f64::min).max(-2.0);
    let lo = (lowest * 2.0).floor() / 2.0;
    let color = match values.last() {
        Some(v) if *v > 0.25 => GREEN,
        Some(v) if *v > 0.0 => AMBER,
        _ => RED,
    };
    draw(&Chart {
        class: "burndown",
        label: "Error budget remaining over the SLO window",
        series,
        lo,
        hi: 1.0,
        reference: (0.0, "0%"),
        color,
        y_label: percent_label,
    })
}

/// The 1-hour burn rate over the last day, with the line at 1×: above it
/// the budget runs out before the window ends.
pub fn burn_rate(series: &Series) -> String {
    let values = known(series);
    let peak = values.iter().copied().fold(0.0, f64::max);
    let color = match values.last() {
        Some(v) if *v >= 1.0 => RED,
        _ => BLUE,
    };
    draw(&Chart {
        class: "burnrate",
        label: "1-hour burn rate over the last day",
        series,
        lo: 0.0,
        hi: (peak * 1.1).ceil().max(2.0),
        reference: (1.0, "1×"),
        color,
        y_label: rate_label,
    })
}

fn known(series: &Series) -> Vec<f64> {
    series
        .points
        .iter()
        .filter_map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .collect()
}

fn percent_label(v: f64) -> String {
    let text = percent(v);
    text.strip_suffix(".00%")
        .map_or(text.clone(), |whole| format!("{whole}%"))
}

fn rate_label(v: f64) -> String {
    let text = if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    format!("{}×", text.strip_suffix(".0").unwrap_or(&text))
}

struct Chart<'a> {
    class: &'static str,
    label: &'static str,
    series: &'a Series,
    lo: f64,
    hi: f64,
    reference: (f64, &'static str),
    color: &'static str,
    y_label: fn(f64) -> String,
}

impl Chart<'_> {
    fn x(&self, minute: i64) -> f64 {
        let span = (self.series.to - self.series.from) as f64;
        let share = if span > 0.0 {
            (minute - self.series.from) as f64 / span
        } else {
            1.0
        };
        LEFT + share.clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        let v = v.clamp(self.lo, self.hi);
        TOP + (self.hi - v) / (self.hi - self.lo) * (HEIGHT - TOP - BOTTOM)
    }
}

fn draw(c: &Chart) -> String {
    let mut svg = format!(
        "<svg class=\"{class}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{label}\"><title>{label}</title>",
        class = c.class,
        label = escape(c.label),
    );
    let (bottom, right) = (HEIGHT - BOTTOM, WIDTH - RIGHT);
    let _ = write!(
        svg,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{w}\" height=\"{h}\" fill=\"#fafbfc\" stroke=\"#d8dce3\"/>",
        w = right - LEFT,
        h = bottom - TOP,
    );
    let (ref_value, ref_label) = c.reference;
    let ry = c.y(ref_value);
    let _ = write!(
        svg,
        "<line class=\"reference\" x1=\"{LEFT}\" y1=\"{ry:.1}\" x2=\"{right}\" y2=\"{ry:.1}\" \
         stroke=\"#8a94a3\" stroke-dasharray=\"3 3\"/>"
    );
    let text = |svg: &mut String, x: f64, y: f64, anchor: &str, body: &str| {
        let _ = write!(
            svg,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"9\" fill=\"#5c6675\" text-anchor=\"{anchor}\">{}</text>",
            escape(body)
        );
    };
    text(&mut svg, LEFT - 4.0, TOP + 7.0, "end", &(c.y_label)(c.hi));
    text(&mut svg, LEFT - 4.0, bottom, "end", &(c.y_label)(c.lo));
    if ry > TOP + 10.0 && ry < bottom - 10.0 {
        text(&mut svg, LEFT - 4.0, ry + 3.0, "end", ref_label);
    }
    for (minute, anchor) in [(c.series.from, "start"), (c.series.to, "end")] {
        let time = jiff::Timestamp::from_second(minute.saturating_mul(60))
            .map(short_time)
            .unwrap_or_default();
        text(&mut svg, c.x(minute), HEIGHT - 5.0, anchor, &time);
    }
    let points: Vec<(i64, Option<f64>)> = c
        .series
        .points
        .iter()
        .map(|&(m, v)| (m, v.filter(|v| v.is_finite())))
        .collect();
    if points.iter().all(|(_, v)| v.is_none()) {
        text(
            &mut svg,
            (LEFT + right) / 2.0,
            (TOP + bottom) / 2.0 + 3.0,
            "middle",
            "no data",
        );
    } else {
        let mut path = String::new();
        for (i, &(minute, value)) in points.iter().enumerate() {
            let Some(v) = value else { continue };
            let (x, y) = (c.x(minute), c.y(v));
            let joined = i > 0 && points[i - 1].1.is_some();
            let _ = write!(path, "{}{x:.1} {y:.1} ", if joined { "L" } else { "M" });
            let alone = !joined && points.get(i + 1).is_none_or(|(_, v)| v.is_none());
            if alone {
                // A lone point between gaps draws no line: mark it.
                let _ = write!(
                    svg,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"1.8\" fill=\"{}\"/>",
                    c.color
                );
            }
        }
        let _ = write!(
            svg,
            "<path class=\"line\" d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\" \
             stroke-linejoin=\"round\"/>",
            path.trim_end(),
            c.color
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(i64, Option<f64>)]) -> Series {
        Series {
            from: 0,
            to: 100,
            points: points.to_vec(),
        }
    }

    #[test]
    fn a_burndown_is_an_svg_of_class_burndown_with_one_path() {
        let svg = burndown(&series(&[
            (0, Some(1.0)),
            (50, Some(0.5)),
            (100, Some(0.2)),
        ]));
        assert!(svg.starts_with("<svg class=\"burndown\""));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<path").count(), 1);
        assert!(svg.contains("d=\"M44.0 6.0 L"), "{svg}");
        assert!(svg.contains(AMBER), "20% left is a warning");
    }

    #[test]
    fn gaps_break_the_line_and_lone_points_are_dots() {
        let svg = burn_rate(&series(&[
            (0, Some(0.0)),
            (10, Some(0.5)),
            (20, None),
            (30, Some(3.0)),
            (40, None),
        ]));
        assert!(svg.starts_with("<svg class=\"burnrate\""));
        let path = svg.split(" d=\"").nth(1).and_then(|d| d.split('"').next());
        assert_eq!(path.map(|d| d.matches('M').count()), Some(2), "{svg}");
        assert_eq!(
            svg.matches("<circle").count(),
            1,
            "the 3× point stands alone"
        );
        assert!(
            svg.contains(RED),
            "the latest known rate, 3×, burns too fast"
        );
    }

    #[test]
    fn without_data_the_chart_says_so() {
        let svg = burndown(&series(&[(0, None), (100, None)]));
        assert!(svg.contains(">no data</text>"));
        assert!(!svg.contains("<path"));
    }

    #[test]
    fn values_out_of_range_stay_inside_the_plot() {
        let svg = burndown(&series(&[(0, Some(-50.0)), (100, Some(f64::NAN))]));
        assert!(svg.contains(">-200%</text>"), "{svg}");
        let overspent = burndown(&series(&[(0, Some(1.0)), (100, Some(-0.34))]));
        assert!(
            overspent.contains(">-50%</text>"),
            "a round axis label: {overspent}"
        );
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
