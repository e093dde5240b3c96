//! Charts as inline SVG strings, drawn on the server: readable without
//! JavaScript, in print and by screen readers (`<title>`, `<desc>`).
//!
//! The functions take plain data (no statistics happen here; kept-core's
//! `stats::spc` computes limits and signals) and return SVG 1.1 with a fixed
//! `viewBox`, so CSS sets the width. Colours and dashes come from classes in
//! kept.css (the CSP forbids inline styles); lines also carry `fill="none"`
//! and their dash pattern as presentation attributes, so a chart saved on its
//! own still reads. Every piece of text is escaped: labels are user data.
//!
//! Values that are NaN, infinite or beyond ±[`MAX_ABS`] count as no data.

mod bars;
mod control;
#[cfg(test)]
mod tests;

use std::fmt::Write;

pub use bars::{sparkline_svg, stacked_bar_svg};
pub use control::control_chart_svg;

/// Larger magnitudes are treated as no data: they are errors, and they would
/// overflow the arithmetic of the axis range.
pub const MAX_ABS: f64 = 1e12;

/// How values are written on axes and in tooltips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartUnit {
    /// A proportion 0..1, shown as a percentage with one decimal: "91.2 %".
    Percent,
    /// A duration in seconds: "45 s", "12 min", "3.5 h", "2.1 d".
    Seconds,
    /// A plain number with at most two decimals.
    Number,
}

/// One point of a control chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlPoint {
    /// The x label, e.g. "2026-11-03" or "W45".
    pub label: String,
    /// `None`: no data that period, drawn as a break in the line.
    pub value: Option<f64>,
    /// The upper control limit at this point (a p-chart's vary per point).
    pub ucl: Option<f64>,
    pub lcl: Option<f64>,
    /// Why this point signals, e.g. "WE1 below the lower limit": a ring
    /// around the marker, the reason in its tooltip and in the `<desc>`.
    pub signal: Option<String>,
    /// A drill-down link for the point, built by the application (only
    /// relative, http and https links are followed).
    pub href: Option<String>,
}

/// A control chart: a series, its centre line, limits and target.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlChart {
    pub title: String,
    pub unit: ChartUnit,
    pub centre: Option<f64>,
    pub points: Vec<ControlPoint>,
    /// A dashed target line, if the metric has a target.
    pub target: Option<f64>,
}

/// One part of a stacked bar ("where time goes").
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub label: String,
    pub value: f64,
    /// The CSS class for the colour: "seg-us", "seg-customer", "seg-third",
    /// "seg-team".
    pub class: &'static str,
}

/// `value` written for people, in `unit`; "—" when it is not a number.
pub fn format_value(value: f64, unit: ChartUnit) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    match unit {
        ChartUnit::Percent => format!("{} %", unsigned_zero(format!("{:.1}", value * 100.0))),
        ChartUnit::Number => unsigned_zero(trim_zeros(format!("{value:.2}"))),
        ChartUnit::Seconds => duration(value),
    }
}

/// Seconds in the largest unit that keeps the number below the next unit's
/// size after rounding to one decimal, so 3599 s reads "1 h", not "60 min".
fn duration(seconds: f64) -> String {
    const UNITS: [(f64, &str, f64); 4] =
        [(1.0, "s", 60.0), (60.0, "min", 60.0), (3600.0, "h", 24.0), (86_400.0, "d", f64::INFINITY)];
    let magnitude = seconds.abs();
    let in_unit = |size: f64| (magnitude / size * 10.0).round() / 10.0;
    let (shown, suffix) = UNITS
        .iter()
        .map(|&(size, name, next)| (in_unit(size), name, next))
        .find(|&(shown, _, next)| shown < next)
        .map_or((in_unit(86_400.0), "d"), |(shown, name, _)| (shown, name));
    let sign = if seconds < 0.0 && shown > 0.0 { "-" } else { "" };
    format!("{sign}{} {suffix}", trim_zeros(format!("{shown:.1}")))
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
}

/// "-0" and "-0.0" read as zero.
fn unsigned_zero(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
        _ => s,
    }
}

/// A value that can be drawn.
fn plottable(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite() && x.abs() <= MAX_ABS)
}

/// Text for SVG content and attributes: escaped, and without the control
/// characters that XML does not allow even escaped.
fn text(s: &str) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() && !matches!(c, '\t' | '\n') { ' ' } else { c }).collect();
    kept_core::mail::escape_html(&clean)
}

/// Labels are shortened for the axis; the full text stays in the tooltip.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A coordinate with one decimal, never "-0.0".
fn num(x: f64) -> String {
    unsigned_zero(format!("{x:.1}"))
}

/// Only links the application built: relative, http or https. Anything
/// with another scheme (`javascript:`, `data:`) is not linked.
fn safe_href(href: &str) -> Option<String> {
    let h = href.trim();
    let scheme_end = h.find([':', '/', '?', '#']);
    let ok = match scheme_end {
        Some(i) if h[i..].starts_with(':') => {
            let scheme = h[..i].to_ascii_lowercase();
            scheme == "http" || scheme == "https"
        }
        _ => !h.is_empty(),
    };
    ok.then(|| text(h))
}

/// A CSS class name from a `Segment`: letters, digits, `-` and `_` only.
fn class_name(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).collect()
}

/// A stable id prefix from the chart's content (FNV-1a), so two different
/// charts on one page do not share `aria-labelledby` targets and the same
/// input always renders the same bytes.
struct Fnv(u64);

impl Fnv {
    fn new(kind: &str) -> Self {
        let mut h = Self(0xcbf2_9ce4_8422_2325);
        h.str(kind);
        h
    }
    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
        self.bytes(&[0xff]);
    }
    fn opt(&mut self, v: Option<f64>) {
        self.bytes(&v.map_or([0xfe; 8], f64::to_le_bytes));
    }
    fn id(&self, kind: &str) -> String {
        format!("{kind}-{:012x}", self.0 & 0xffff_ffff_ffff)
    }
}

/// The opening `<svg>` with its accessible name and description.
fn open_svg(out: &mut String, class: &str, id: &str, (w, h): (u32, u32), title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" \
         class=\"{class}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-t\" aria-describedby=\"{id}-d\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        text(title),
        text(desc)
    );
}

/// The y range `[lo, hi]` for `values`: never empty, padded 8 % (room for a
/// signal's ring), and kept
/// inside [0, 1] on a percent chart whose values all lie there.
fn y_range(values: &[f64], unit: ChartUnit) -> (f64, f64) {
    let lo0 = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi0 = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo0.is_finite() || !hi0.is_finite() {
        return (0.0, 1.0);
    }
    let (mut lo, mut hi) = (lo0, hi0);
    // Below what each unit's labels can tell apart, widen around the middle.
    let (min_span, half) = match unit {
        ChartUnit::Percent => (0.004, 0.05),
        ChartUnit::Seconds => (4.0, (lo.abs().max(hi.abs()) * 0.1).max(5.0)),
        ChartUnit::Number => (0.04, (lo.abs().max(hi.abs()) * 0.1).max(0.5)),
    };
    if hi - lo < min_span {
        let mid = (lo + hi) / 2.0;
        (lo, hi) = (mid - half, mid + half);
    }
    let pad = (hi - lo) * 0.08;
    (lo, hi) = (lo - pad, hi + pad);
    if unit == ChartUnit::Percent {
        if lo0 >= 0.0 {
            lo = lo.max(0.0);
        }
        if hi0 <= 1.0 {
            hi = hi.min(1.0);
        }
    }
    (lo, hi)
}

/// Three to seven round tick values inside `[lo, hi]`.
fn ticks(lo: f64, hi: f64, unit: ChartUnit) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let step = nice_step(span / 5.0, unit);
    let mut out = Vec::new();
    let mut k = (lo / step).ceil();
    while out.len() < 12 {
        let t = k * step;
        if t > hi + step * 1e-9 {
            break;
        }
        // Exact multiples print cleanly; "0" never as "-0".
        out.push(if t == 0.0 { 0.0 } else { t });
        k += 1.0;
    }
    out
}

/// The smallest round step at least `raw`: 1-2-5 decades, or clock steps
/// (15 s, 5 min, 6 h, 1 d …) for durations.
fn nice_step(raw: f64, unit: ChartUnit) -> f64 {
    const CLOCK: [f64; 19] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10_800.0, 21_600.0,
        43_200.0, 86_400.0, 172_800.0,
    ];
    if unit == ChartUnit::Seconds && (1.0..=CLOCK[CLOCK.len() - 1]).contains(&raw) {
        return CLOCK.iter().copied().find(|&s| s >= raw).unwrap_or(raw);
    }
    if unit == ChartUnit::Seconds && raw > 86_400.0 {
        return 86_400.0 * nice_step(raw / 86_400.0, ChartUnit::Number);
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let factor = [1.0, 2.0, 5.0, 10.0].into_iter().find(|&f| f >= norm * (1.0 - 1e-12)).unwrap_or(10.0);
    factor * magnitude
}
