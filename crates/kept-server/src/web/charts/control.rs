//! The control chart: series, centre, step limits, target and signals.

use std::fmt::Write;

use super::{ChartUnit, ControlChart, ControlPoint, Fnv, format_value, num, open_svg, plottable, safe_href, shorten};
use super::{text, ticks, y_range};

const W: f64 = 640.0;
const H: f64 = 280.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 624.0;
const TOP: f64 = 32.0;
const BOTTOM: f64 = 246.0;
/// At most this many x labels, fewer if they would overlap.
const MAX_X_LABELS: usize = 8;
const LABEL_CHARS: usize = 12;
/// Approximate advance of one character at the chart's 11-unit font.
const CHAR_W: f64 = 6.4;

/// Which limit of a point a step line follows.
type Limit = fn(&ControlPoint) -> Option<f64>;

/// The chart as an inline SVG string.
pub fn control_chart_svg(chart: &ControlChart) -> String {
    let unit = chart.unit;
    let id = chart_id(chart);
    let mut out = String::with_capacity(4096 + chart.points.len() * 400);
    open_svg(&mut out, "chart chart-control", &id, (W as u32, H as u32), &chart.title, &describe(chart));

    let values: Vec<f64> = chart.points.iter().filter_map(|p| plottable(p.value)).collect();
    if values.is_empty() {
        frame(&mut out);
        let _ = write!(
            out,
            "<text class=\"chart-empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">No data to chart</text></svg>",
            num((LEFT + RIGHT) / 2.0),
            num((TOP + BOTTOM) / 2.0)
        );
        return out;
    }

    let mut extent = values;
    extent.extend(chart.points.iter().flat_map(|p| [plottable(p.ucl), plottable(p.lcl)]).flatten());
    extent.extend(plottable(chart.centre));
    extent.extend(plottable(chart.target));
    let (lo, hi) = y_range(&extent, unit);
    let y = |v: f64| BOTTOM - (v - lo) / (hi - lo) * (BOTTOM - TOP);
    let slot = (RIGHT - LEFT) / chart.points.len() as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);

    legend(&mut out, chart);
    for t in ticks(lo, hi, unit) {
        let ty = num(y(t));
        let _ = write!(
            out,
            "<line class=\"chart-grid\" x1=\"{LEFT}\" x2=\"{RIGHT}\" y1=\"{ty}\" y2=\"{ty}\" stroke=\"currentColor\"/>\
             <text class=\"chart-tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            num(LEFT - 6.0),
            num(y(t) + 4.0),
            text(&format_value(t, unit))
        );
    }
    frame(&mut out);
    x_labels(&mut out, &chart.points, slot, x);

    let limits: [(&str, Limit); 2] = [("chart-limit chart-ucl", |p| p.ucl), ("chart-limit chart-lcl", |p| p.lcl)];
    for (class, limit) in limits {
        let d = step_path(&chart.points, limit, slot, x, y);
        if !d.is_empty() {
            let _ = write!(
                out,
                "<path class=\"{class}\" d=\"{d}\" fill=\"none\" stroke=\"currentColor\" stroke-dasharray=\"6 4\"/>"
            );
        }
    }
    if let Some(c) = plottable(chart.centre) {
        let cy = num(y(c));
        let _ = write!(
            out,
            "<line class=\"chart-centre\" x1=\"{LEFT}\" x2=\"{RIGHT}\" y1=\"{cy}\" y2=\"{cy}\" stroke=\"currentColor\"/>\
             <text class=\"chart-line-label\" x=\"{}\" y=\"{}\">centre {}</text>",
            num(LEFT + 4.0),
            num(y(c) - 4.0),
            text(&format_value(c, unit))
        );
    }
    if let Some(t) = plottable(chart.target) {
        let ty = num(y(t));
        let _ = write!(
            out,
            "<line class=\"chart-target\" x1=\"{LEFT}\" x2=\"{RIGHT}\" y1=\"{ty}\" y2=\"{ty}\" stroke=\"currentColor\" \
             stroke-dasharray=\"2 3\"/><text class=\"chart-line-label chart-target-label\" x=\"{}\" y=\"{}\" \
             text-anchor=\"end\">target {}</text>",
            num(RIGHT - 4.0),
            num(y(t) - 4.0),
            text(&format_value(t, unit))
        );
    }
    for run in runs(&chart.points, x, y) {
        if run.len() >= 2 {
            let pts: Vec<String> = run.iter().map(|(px, py)| format!("{},{}", num(*px), num(*py))).collect();
            let _ = write!(
                out,
                "<polyline class=\"chart-series\" points=\"{}\" fill=\"none\" stroke=\"currentColor\"/>",
                pts.join(" ")
            );
        }
    }
    for (i, p) in chart.points.iter().enumerate() {
        if let Some(v) = plottable(p.value) {
            marker(&mut out, p, v, unit, (x(i), y(v)));
        }
    }
    out.push_str("</svg>");
    out
}

fn chart_id(chart: &ControlChart) -> String {
    let mut h = Fnv::new("control");
    h.str(&chart.title);
    h.opt(chart.centre);
    h.opt(chart.target);
    for p in &chart.points {
        h.str(&p.label);
        h.opt(p.value);
        h.opt(p.ucl);
        h.opt(p.lcl);
        h.str(p.signal.as_deref().unwrap_or(""));
    }
    h.id("kc")
}

/// What a screen reader hears: the span, the latest value, the lines, and
/// every signal with its reason.
fn describe(chart: &ControlChart) -> String {
    let unit = chart.unit;
    let with_data: Vec<(&ControlPoint, f64)> =
        chart.points.iter().filter_map(|p| plottable(p.value).map(|v| (p, v))).collect();
    let (Some(first), Some(last)) = (chart.points.first(), chart.points.last()) else {
        return "Control chart with no periods.".to_owned();
    };
    let mut d = format!("Control chart of {} periods, {} to {}", chart.points.len(), first.label, last.label);
    match with_data.last() {
        None => d.push_str("; no data."),
        Some((p, v)) => {
            let _ = write!(d, "; latest {} ({}).", format_value(*v, unit), p.label);
        }
    }
    let gaps = chart.points.len() - with_data.len();
    if gaps > 0 && !with_data.is_empty() {
        let _ = write!(d, " {gaps} without data.");
    }
    if let Some(c) = plottable(chart.centre) {
        let _ = write!(d, " Centre line {}.", format_value(c, unit));
    }
    if let Some(t) = plottable(chart.target) {
        let _ = write!(d, " Target {}.", format_value(t, unit));
    }
    let signals: Vec<String> = chart
        .points
        .iter()
        .filter_map(|p| {
            let why = p.signal.as_deref()?;
            let value = plottable(p.value).map_or("no data".to_owned(), |v| format_value(v, unit));
            Some(format!("{}: {value}, {why}", p.label))
        })
        .collect();
    if signals.is_empty() {
        d.push_str(" No signals.");
    } else {
        let _ = write!(d, " Signals: {}.", signals.join("; "));
    }
    d
}

/// A key at the top naming only the lines this chart has, each drawn with
/// its own shape so the chart reads in greyscale.
fn legend(out: &mut String, chart: &ControlChart) {
    let has_limits = chart.points.iter().any(|p| plottable(p.ucl).is_some() || plottable(p.lcl).is_some());
    let has_signal = chart.points.iter().any(|p| p.signal.is_some() && plottable(p.value).is_some());
    let items = [
        (true, "values", "chart-series", ""),
        (plottable(chart.centre).is_some(), "centre", "chart-centre", ""),
        (has_limits, "control limits", "chart-limit", " stroke-dasharray=\"6 4\""),
        (plottable(chart.target).is_some(), "target", "chart-target", " stroke-dasharray=\"2 3\""),
    ];
    let mut lx = LEFT;
    out.push_str("<g class=\"chart-legend\">");
    for (shown, label, class, dash) in items {
        if shown {
            let _ = write!(
                out,
                "<line class=\"{class}\" x1=\"{}\" x2=\"{}\" y1=\"12\" y2=\"12\" stroke=\"currentColor\"{dash}/>\
                 <text x=\"{}\" y=\"16\">{label}</text>",
                num(lx),
                num(lx + 20.0),
                num(lx + 24.0)
            );
            lx += 24.0 + label.len() as f64 * CHAR_W + 16.0;
        }
    }
    if has_signal {
        let _ = write!(
            out,
            "<circle class=\"chart-signal\" cx=\"{}\" cy=\"12\" r=\"6\" fill=\"none\" stroke=\"currentColor\"/>\
             <text x=\"{}\" y=\"16\">signal</text>",
            num(lx + 8.0),
            num(lx + 18.0)
        );
    }
    out.push_str("</g>");
}

fn frame(out: &mut String) {
    let _ = write!(
        out,
        "<path class=\"chart-axis\" d=\"M{LEFT} {TOP}V{BOTTOM}H{RIGHT}\" fill=\"none\" stroke=\"currentColor\"/>"
    );
}

/// Every `stride`-th label, with `stride` large enough that at most
/// [`MAX_X_LABELS`] show and neighbours do not overlap.
fn x_labels(out: &mut String, points: &[ControlPoint], slot: f64, x: impl Fn(usize) -> f64) {
    let widest = points.iter().map(|p| p.label.chars().count().min(LABEL_CHARS)).max().unwrap_or(0);
    let stride = label_stride(points.len(), widest, slot);
    for (i, p) in points.iter().enumerate().step_by(stride) {
        let _ = write!(
            out,
            "<text class=\"chart-xlabel\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            num(x(i)),
            num(BOTTOM + 16.0),
            text(&shorten(&p.label, LABEL_CHARS))
        );
    }
}

pub(super) fn label_stride(n: usize, widest_chars: usize, slot: f64) -> usize {
    let by_count = n.div_ceil(MAX_X_LABELS).max(1);
    let width = widest_chars as f64 * CHAR_W + 8.0;
    let by_width = if slot > 0.0 { (width / slot).ceil().max(1.0) as usize } else { 1 };
    by_count.max(by_width)
}

/// A limit as a step line: flat across each point's slot, a riser where it
/// changes, a break where a point has no limit.
fn step_path(
    points: &[ControlPoint],
    limit: Limit,
    slot: f64,
    x: impl Fn(usize) -> f64,
    y: impl Fn(f64) -> f64,
) -> String {
    let mut d = String::new();
    let mut prev: Option<f64> = None;
    for (i, p) in points.iter().enumerate() {
        let (left, right) = (x(i) - slot / 2.0, x(i) + slot / 2.0);
        match plottable(limit(p)) {
            Some(l) => {
                let ly = y(l);
                match prev {
                    Some(py) if num(py) == num(ly) => {}
                    Some(_) => {
                        let _ = write!(d, "V{}", num(ly));
                    }
                    None => {
                        let _ = write!(d, "M{} {}", num(left), num(ly));
                    }
                }
                let _ = write!(d, "H{}", num(right));
                prev = Some(ly);
            }
            None => prev = None,
        }
    }
    d
}

/// The series split at points without data.
fn runs(points: &[ControlPoint], x: impl Fn(usize) -> f64, y: impl Fn(f64) -> f64) -> Vec<Vec<(f64, f64)>> {
    let mut all = Vec::new();
    let mut run = Vec::new();
    for (i, p) in points.iter().enumerate() {
        match plottable(p.value) {
            Some(v) => run.push((x(i), y(v))),
            None if !run.is_empty() => all.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        all.push(run);
    }
    all
}

/// A point's marker with its tooltip; a ring when it signals; a link when
/// it has a drill-down.
fn marker(out: &mut String, p: &ControlPoint, v: f64, unit: ChartUnit, (px, py): (f64, f64)) {
    let mut tip = format!("{}: {}", p.label, format_value(v, unit));
    let limits: Vec<String> = [("UCL", p.ucl), ("LCL", p.lcl)]
        .into_iter()
        .filter_map(|(name, l)| plottable(l).map(|l| format!("{name} {}", format_value(l, unit))))
        .collect();
    if !limits.is_empty() {
        let _ = write!(tip, " ({})", limits.join(", "));
    }
    if let Some(why) = &p.signal {
        let _ = write!(tip, " — signal: {why}");
    }
    let href = p.href.as_deref().and_then(safe_href);
    if let Some(h) = &href {
        let _ = write!(out, "<a xlink:href=\"{h}\">");
    }
    let (cx, cy) = (num(px), num(py));
    let class = if p.signal.is_some() { "chart-mark chart-mark-signal" } else { "chart-mark" };
    let _ = write!(out, "<g class=\"{class}\"><title>{}</title>", text(&tip));
    if p.signal.is_some() {
        let _ = write!(
            out,
            "<circle class=\"chart-signal\" cx=\"{cx}\" cy=\"{cy}\" r=\"8\" fill=\"none\" stroke=\"currentColor\"/>"
        );
    }
    let _ = write!(out, "<circle class=\"chart-point\" cx=\"{cx}\" cy=\"{cy}\" r=\"3.5\"/></g>");
    if href.is_some() {
        out.push_str("</a>");
    }
}
