//! The stacked bar ("where time goes") and the sparkline for table cells.

use std::fmt::Write;

use super::{ChartUnit, Fnv, Segment, class_name, format_value, num, open_svg, plottable, shorten, text};

const BAR_W: f64 = 640.0;
const BAR_H: f64 = 28.0;
const BAR_TOP: f64 = 4.0;
const LEGEND_TOP: f64 = 50.0;
const LEGEND_ROW: f64 = 20.0;
const LEGEND_COLUMNS: usize = 3;
/// Below this width a segment shows no share inside it (the legend has it).
const MIN_TEXT_W: f64 = 40.0;
/// Longer labels are shortened in the legend; the bar's tooltip has them whole.
const LEGEND_CHARS: usize = 18;

/// A horizontal bar split into `segments` in their order, with a legend
/// that names each part, its value and its share, so colour is never the
/// only key. Parts that are not finite or below zero are left out; a zero
/// part is listed in the legend but takes no room in the bar.
pub fn stacked_bar_svg(title: &str, unit: ChartUnit, segments: &[Segment]) -> String {
    let kept: Vec<(&Segment, f64)> =
        segments.iter().filter_map(|s| plottable(Some(s.value)).filter(|v| *v >= 0.0).map(|v| (s, v))).collect();
    let total: f64 = kept.iter().map(|(_, v)| v).sum();
    let share = |v: f64| if total > 0.0 { v / total } else { 0.0 };

    let parts: Vec<String> = kept
        .iter()
        .map(|(s, v)| {
            format!("{} {} ({})", s.label, format_value(*v, unit), format_value(share(*v), ChartUnit::Percent))
        })
        .collect();
    let desc = if total > 0.0 {
        format!("Total {}: {}.", format_value(total, unit), parts.join("; "))
    } else {
        "Nothing recorded.".to_owned()
    };
    let mut h = Fnv::new("bar");
    h.str(title);
    for (s, v) in &kept {
        h.str(&s.label);
        h.opt(Some(*v));
    }
    let rows = kept.len().div_ceil(LEGEND_COLUMNS).max(1);
    let height = (LEGEND_TOP + rows as f64 * LEGEND_ROW).ceil() as u32;
    let mut out = String::with_capacity(1024 + kept.len() * 300);
    open_svg(&mut out, "chart chart-bar", &h.id("kb"), (BAR_W as u32, height), title, &desc);

    let _ = write!(
        out,
        "<rect class=\"seg-track\" x=\"0.5\" y=\"{BAR_TOP}\" width=\"{}\" height=\"{BAR_H}\" fill=\"none\" \
         stroke=\"currentColor\"/>",
        num(BAR_W - 1.0)
    );
    if total <= 0.0 {
        let _ = write!(
            out,
            "<text class=\"chart-empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">Nothing recorded</text></svg>",
            num(BAR_W / 2.0),
            num(BAR_TOP + BAR_H / 2.0 + 4.0)
        );
        return out;
    }
    let mut x = 0.0;
    for ((s, v), part) in kept.iter().zip(&parts) {
        let w = share(*v) * BAR_W;
        if w <= 0.0 {
            continue;
        }
        let _ = write!(
            out,
            "<rect class=\"seg {}\" x=\"{}\" y=\"{BAR_TOP}\" width=\"{}\" height=\"{BAR_H}\"><title>{}</title></rect>",
            class_name(s.class),
            num(x),
            num(w),
            text(part)
        );
        if w >= MIN_TEXT_W {
            let _ = write!(
                out,
                "<text class=\"seg-text\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                num(x + w / 2.0),
                num(BAR_TOP + BAR_H / 2.0 + 4.0),
                text(&format_value(share(*v), ChartUnit::Percent))
            );
        }
        x += w;
    }
    let column = BAR_W / LEGEND_COLUMNS as f64;
    for (i, (s, v)) in kept.iter().enumerate() {
        let key = format!(
            "{} {} ({})",
            shorten(&s.label, LEGEND_CHARS),
            format_value(*v, unit),
            format_value(share(*v), ChartUnit::Percent)
        );
        let lx = (i % LEGEND_COLUMNS) as f64 * column;
        let ly = LEGEND_TOP + (i / LEGEND_COLUMNS) as f64 * LEGEND_ROW;
        let _ = write!(
            out,
            "<rect class=\"seg {}\" x=\"{}\" y=\"{}\" width=\"12\" height=\"12\"/>\
             <text class=\"seg-legend\" x=\"{}\" y=\"{}\">{}</text>",
            class_name(s.class),
            num(lx + 1.0),
            num(ly - 10.0),
            num(lx + 18.0),
            num(ly),
            text(&key)
        );
    }
    out.push_str("</svg>");
    out
}

const SPARK_W: f64 = 100.0;
const SPARK_H: f64 = 24.0;
const SPARK_PAD: f64 = 3.0;
/// Values listed in a sparkline's `<desc>`; the latest ones if more.
const SPARK_DESC_MAX: usize = 60;

/// A small trend line for a table cell: breaks at gaps, a dot on the
/// latest value and on points standing alone between gaps.
pub fn sparkline_svg(values: &[Option<f64>], unit: ChartUnit) -> String {
    let data: Vec<f64> = values.iter().filter_map(|v| plottable(*v)).collect();
    let low = data.iter().copied().fold(f64::INFINITY, f64::min);
    let high = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let title = match data.last() {
        None => "Trend: no data".to_owned(),
        Some(last) => format!(
            "Trend over {} periods: latest {}, low {}, high {}",
            values.len(),
            format_value(*last, unit),
            format_value(low, unit),
            format_value(high, unit)
        ),
    };
    let skip = values.len().saturating_sub(SPARK_DESC_MAX);
    let listed: Vec<String> =
        values[skip..].iter().map(|v| plottable(*v).map_or("no data".to_owned(), |v| format_value(v, unit))).collect();
    let desc = if skip > 0 {
        format!("Last {SPARK_DESC_MAX} values: {}.", listed.join(", "))
    } else {
        format!("Values: {}.", listed.join(", "))
    };
    let mut h = Fnv::new("spark");
    h.str(&format!("{unit:?}"));
    for v in values {
        h.opt(plottable(*v));
    }
    let mut out = String::with_capacity(512 + values.len() * 24);
    open_svg(&mut out, "chart chart-spark", &h.id("ks"), (SPARK_W as u32, SPARK_H as u32), &title, &desc);
    if data.is_empty() {
        let _ = write!(
            out,
            "<line class=\"spark-none\" x1=\"{SPARK_PAD}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"currentColor\" \
             stroke-dasharray=\"2 3\"/></svg>",
            num(SPARK_W - SPARK_PAD),
            num(SPARK_H / 2.0),
            num(SPARK_H / 2.0)
        );
        return out;
    }
    let inner_w = SPARK_W - 2.0 * SPARK_PAD;
    let x = |i: usize| {
        if values.len() > 1 { SPARK_PAD + inner_w * i as f64 / (values.len() - 1) as f64 } else { SPARK_W / 2.0 }
    };
    let span = high - low;
    let y = |v: f64| {
        if span > 0.0 { SPARK_H - SPARK_PAD - (v - low) / span * (SPARK_H - 2.0 * SPARK_PAD) } else { SPARK_H / 2.0 }
    };
    let mut run: Vec<(f64, f64)> = Vec::new();
    let flush = |run: &mut Vec<(f64, f64)>, out: &mut String| {
        match run.as_slice() {
            [] => {}
            [(px, py)] => {
                let _ = write!(out, "<circle class=\"spark-dot\" cx=\"{}\" cy=\"{}\" r=\"1.5\"/>", num(*px), num(*py));
            }
            many => {
                let pts: Vec<String> = many.iter().map(|(px, py)| format!("{},{}", num(*px), num(*py))).collect();
                let _ = write!(
                    out,
                    "<polyline class=\"spark-line\" points=\"{}\" fill=\"none\" stroke=\"currentColor\"/>",
                    pts.join(" ")
                );
            }
        }
        run.clear();
    };
    for (i, v) in values.iter().enumerate() {
        match plottable(*v) {
            Some(v) => run.push((x(i), y(v))),
            None => flush(&mut run, &mut out),
        }
    }
    flush(&mut run, &mut out);
    if let Some((i, v)) = values.iter().enumerate().rev().find_map(|(i, v)| plottable(*v).map(|v| (i, v))) {
        let _ = write!(out, "<circle class=\"spark-last\" cx=\"{}\" cy=\"{}\" r=\"2.5\"/>", num(x(i)), num(y(v)));
    }
    out.push_str("</svg>");
    out
}
