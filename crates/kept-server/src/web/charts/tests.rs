use super::control::label_stride;
use super::*;

/// A small XML well-formedness check, enough for what the charts emit:
/// one root `<svg>`, balanced tags, quoted and unique attributes, no raw
/// `<` in text or attributes, `&` only in the entities we write.
fn well_formed(svg: &str) -> Result<(), String> {
    fn entity_ok(rest: &str) -> bool {
        ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|e| rest.starts_with(e))
    }
    fn text_ok(t: &str) -> Result<(), String> {
        for (i, c) in t.char_indices() {
            match c {
                '<' => return Err(format!("raw < in {t:?}")),
                '&' if !entity_ok(&t[i..]) => return Err(format!("bare & in {t:?}")),
                c if c.is_control() && !matches!(c, '\t' | '\n') => return Err(format!("control char in {t:?}")),
                _ => {}
            }
        }
        Ok(())
    }
    fn name_ok(n: &str) -> bool {
        !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
    }
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        let before = &rest[..open];
        if stack.is_empty() && !before.trim().is_empty() {
            return Err(format!("text outside the root: {before:?}"));
        }
        text_ok(before)?;
        let after = &rest[open + 1..];
        let close = after.find('>').ok_or("unclosed tag")?;
        let tag = &after[..close];
        rest = &after[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(top) if top == name => continue,
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let (name, mut attrs) = body.split_once(' ').unwrap_or((body, ""));
        if !name_ok(name) {
            return Err(format!("bad tag name {name:?}"));
        }
        let mut seen = Vec::new();
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                break;
            }
            let (key, value_on) = attrs.split_once("=\"").ok_or(format!("unquoted attribute in <{tag}>"))?;
            let end = value_on.find('"').ok_or("unterminated attribute")?;
            if !name_ok(key) || seen.contains(&key) {
                return Err(format!("bad or repeated attribute {key:?} in <{tag}>"));
            }
            seen.push(key);
            text_ok(&value_on[..end])?;
            attrs = &value_on[end + 1..];
        }
        if stack.is_empty() {
            roots += 1;
            if name != "svg" {
                return Err(format!("root is <{name}>"));
            }
        }
        if !self_closing {
            stack.push(name);
        }
    }
    if !rest.trim().is_empty() {
        return Err(format!("trailing text {rest:?}"));
    }
    match (stack.is_empty(), roots) {
        (true, 1) => Ok(()),
        _ => Err(format!("unclosed {stack:?} or {roots} roots")),
    }
}

fn assert_svg(svg: &str) {
    if let Err(e) = well_formed(svg) {
        panic!("not well-formed: {e}\n{svg}");
    }
    for bad in ["NaN", "inf", "<script", "style="] {
        assert!(!svg.contains(bad), "{bad} in {svg}");
    }
    for needed in ["xmlns=\"http://www.w3.org/2000/svg\"", "viewBox=\"0 0 ", "role=\"img\"", "<title id=", "<desc id="]
    {
        assert!(svg.contains(needed), "{needed} missing in {svg}");
    }
}

fn point(label: &str, value: Option<f64>) -> ControlPoint {
    ControlPoint { label: label.into(), value, ucl: None, lcl: None, signal: None, href: None }
}

fn chart(points: Vec<ControlPoint>) -> ControlChart {
    ControlChart { title: "Promise kept".into(), unit: ChartUnit::Percent, centre: Some(0.94), points, target: None }
}

/// METRICS.md test vector C2: promise kept per week, week 9 below its LCL.
fn c2() -> ControlChart {
    let n = [120.0, 135.0, 110.0, 150.0, 140.0, 125.0, 130.0, 145.0, 115.0, 160.0];
    let kept = [114.0, 129.0, 104.0, 141.0, 133.0, 118.0, 124.0, 137.0, 98.0, 152.0];
    let pbar = 1250.0 / 1330.0;
    let points = n
        .iter()
        .zip(kept)
        .enumerate()
        .map(|(i, (n, k))| {
            let sigma = f64::sqrt(pbar * (1.0 - pbar) / n);
            let p = k / n;
            let lcl = (pbar - 3.0 * sigma).max(0.0);
            ControlPoint {
                label: format!("W{}", 45 + i),
                value: Some(p),
                ucl: Some((pbar + 3.0 * sigma).min(1.0)),
                lcl: Some(lcl),
                signal: (p < lcl).then(|| "WE1 below the lower limit".to_owned()),
                href: Some(format!("/cases?week={}&kept=no", 45 + i)),
            }
        })
        .collect();
    ControlChart {
        title: "Promise kept, team <Billing & \"Co\">".into(),
        unit: ChartUnit::Percent,
        centre: Some(pbar),
        points,
        target: Some(0.95),
    }
}

/// The marker groups in point order (points without data have none).
fn marks(svg: &str) -> Vec<&str> {
    svg.split("<g class=\"chart-mark").skip(1).map(|g| &g[..g.find("</g>").unwrap_or(g.len())]).collect()
}

fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let from = element.find(&format!(" {name}=\""))? + name.len() + 3;
    element[from..].split('"').next()
}

#[test]
fn format_value_writes_each_unit() {
    let cases = [
        (0.912, ChartUnit::Percent, "91.2 %"),
        (1.0, ChartUnit::Percent, "100.0 %"),
        (-0.0001, ChartUnit::Percent, "0.0 %"),
        (45.0, ChartUnit::Seconds, "45 s"),
        (4.5, ChartUnit::Seconds, "4.5 s"),
        (720.0, ChartUnit::Seconds, "12 min"),
        (12_600.0, ChartUnit::Seconds, "3.5 h"),
        (181_440.0, ChartUnit::Seconds, "2.1 d"),
        (59.97, ChartUnit::Seconds, "1 min"),
        (3599.0, ChartUnit::Seconds, "1 h"),
        (-90.0, ChartUnit::Seconds, "-1.5 min"),
        (0.0, ChartUnit::Seconds, "0 s"),
        (1.23456, ChartUnit::Number, "1.23"),
        (2.5, ChartUnit::Number, "2.5"),
        (2.0, ChartUnit::Number, "2"),
        (-0.001, ChartUnit::Number, "0"),
        (1234.5, ChartUnit::Number, "1234.5"),
        (f64::NAN, ChartUnit::Number, "—"),
        (f64::INFINITY, ChartUnit::Seconds, "—"),
    ];
    for (value, unit, want) in cases {
        assert_eq!(format_value(value, unit), want, "{value} as {unit:?}");
    }
}

#[test]
fn control_chart_is_well_formed_and_titled() {
    let svg = control_chart_svg(&c2());
    assert_svg(&svg);
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
    let id = attr(&svg, "aria-labelledby").unwrap();
    assert!(
        svg.contains(&format!("<title id=\"{id}\">Promise kept, team &lt;Billing &amp; &quot;Co&quot;&gt;</title>"))
    );
    assert!(svg.contains("target 95.0 %"), "the target line is labelled");
    assert!(svg.contains("class=\"chart-centre\""));
}

#[test]
fn labels_and_titles_are_escaped() {
    let mut c = chart(vec![point("<b>&\"x\"", Some(0.5)), point("a'b", Some(0.6))]);
    c.title = "<script>alert(1)</script>".into();
    c.points[0].signal = Some("WE1 <low> & \"odd\"".into());
    let svg = control_chart_svg(&c);
    assert_svg(&svg);
    assert!(!svg.contains("<b>") && !svg.contains("<low>"));
    assert!(svg.contains("&lt;b&gt;&amp;&quot;x&quot;"), "{svg}");
    assert!(svg.contains("a&#39;b"));
    assert!(svg.contains("WE1 &lt;low&gt; &amp; &quot;odd&quot;"));

    let bar = stacked_bar_svg(
        "<Team & \"A\">",
        ChartUnit::Seconds,
        &[Segment { label: "<us>".into(), value: 60.0, class: "seg-us\" onclick=\"x" }],
    );
    assert_svg(&bar);
    assert!(bar.contains("&lt;Team &amp; &quot;A&quot;&gt;") && bar.contains("&lt;us&gt;"));
    assert!(!bar.contains("onclick=") && bar.contains("class=\"seg seg-usonclickx\""));

    let mut c = chart(vec![point("ctrl\u{1}\u{7f}char", Some(0.5))]);
    c.title = "bell\u{7}".into();
    assert_svg(&control_chart_svg(&c));
}

#[test]
fn signal_rings_mark_exactly_the_signalling_points() {
    let c = c2();
    let svg = control_chart_svg(&c);
    let groups = marks(&svg);
    assert_eq!(groups.len(), c.points.len());
    for (p, g) in c.points.iter().zip(&groups) {
        assert_eq!(g.contains("class=\"chart-signal\""), p.signal.is_some(), "{}: {g}", p.label);
        assert_eq!(g.starts_with(" chart-mark-signal\""), p.signal.is_some());
    }
    assert_eq!(c.points.iter().filter(|p| p.signal.is_some()).count(), 1, "C2 has one signal, week 9");
    let ring = groups[8];
    assert!(ring.contains("W53: 85.2 % (UCL 100.0 %, LCL 87.3 %) — signal: WE1 below the lower limit"), "{ring}");
    let (ring_at, dot_at) = (ring.find("chart-signal").unwrap(), ring.find("chart-point").unwrap());
    assert_eq!(attr(&ring[ring_at..], "cx"), attr(&ring[dot_at..], "cx"), "the ring is around its point");
    // Listed for screen readers too, and keyed in the legend.
    let desc = &svg[svg.find("<desc").unwrap()..svg.find("</desc>").unwrap()];
    assert!(desc.contains("Signals: W53: 85.2 %, WE1 below the lower limit."), "{desc}");
    assert!(svg.contains(">signal</text>"));

    let quiet = control_chart_svg(&chart(vec![point("a", Some(0.5)), point("b", Some(0.6))]));
    assert!(!quiet.contains("chart-signal") && quiet.contains("No signals."));
}

#[test]
fn points_link_to_their_drill_down() {
    let svg = control_chart_svg(&c2());
    assert_eq!(svg.matches("<a xlink:href=").count(), 10);
    assert!(svg.contains("<a xlink:href=\"/cases?week=45&amp;kept=no\"><g class=\"chart-mark\">"));
    assert_eq!(safe_href("javascript:alert(1)"), None);
    assert_eq!(safe_href(" JavaScript:alert(1)"), None);
    assert_eq!(safe_href("data:text/html,x"), None);
    assert_eq!(safe_href(""), None);
    assert_eq!(safe_href("https://example.com/a?b=1&c").as_deref(), Some("https://example.com/a?b=1&amp;c"));
    assert_eq!(safe_href("/cases/1#x:y").as_deref(), Some("/cases/1#x:y"));
    let mut c = chart(vec![point("a", Some(0.5))]);
    c.points[0].href = Some("javascript:alert(1)".into());
    assert!(!control_chart_svg(&c).contains("<a "));
}

#[test]
fn gaps_break_the_line() {
    let values = [Some(0.5), Some(0.6), None, Some(0.7), Some(0.8), None, None, Some(0.9)];
    let points = values.iter().enumerate().map(|(i, v)| point(&format!("d{i}"), *v)).collect();
    let svg = control_chart_svg(&chart(points));
    assert_svg(&svg);
    let lines: Vec<&str> = svg.split("<polyline class=\"chart-series\" points=\"").skip(1).collect();
    assert_eq!(lines.len(), 2, "two runs of two; the lone last point has a marker only");
    for line in lines {
        assert_eq!(line.split('"').next().unwrap().split(' ').count(), 2);
    }
    assert_eq!(marks(&svg).len(), 5);
    assert!(svg.contains("3 without data."));

    let alone = control_chart_svg(&chart(vec![point("a", Some(0.5)), point("b", None), point("c", Some(0.6))]));
    assert!(!alone.contains("chart-series\" points") && marks(&alone).len() == 2);
}

#[test]
fn limits_are_step_lines_that_break_where_missing() {
    let mut c = c2();
    let svg = control_chart_svg(&c);
    let lcl = svg.split("class=\"chart-limit chart-lcl\" d=\"").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(lcl.matches('M').count(), 1);
    assert_eq!(lcl.matches('H').count(), 10, "flat across each of the ten slots: {lcl}");
    assert_eq!(lcl.matches('V').count(), 9, "n differs every week, so the limit steps each time: {lcl}");
    assert!(svg.contains("stroke-dasharray=\"6 4\""));

    c.points[4].ucl = None;
    let svg = control_chart_svg(&c);
    let ucl = svg.split("class=\"chart-limit chart-ucl\" d=\"").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(ucl.matches('M').count(), 2, "a break at the point without a limit: {ucl}");
    assert_eq!(ucl.matches('H').count(), 9);
    assert!(!svg.contains("W49: 91.0 % (UCL"), "the tooltip has no UCL where there is none");
}

#[test]
fn percent_axis_stays_within_zero_and_one() {
    assert_eq!(y_range(&[0.85, 1.0], ChartUnit::Percent).1, 1.0);
    assert_eq!(y_range(&[0.0, 0.1], ChartUnit::Percent).0, 0.0);
    let (lo, hi) = y_range(&[0.9, 0.9], ChartUnit::Percent);
    assert!(lo < 0.9 && hi > 0.9 && hi <= 1.0);
    // Values outside [0, 1] are a mistake upstream, but still drawn.
    assert!(y_range(&[1.2], ChartUnit::Percent).1 > 1.2);
    let svg = control_chart_svg(&c2());
    assert!(!svg.contains(">110.0 %<") && !svg.contains(">105.0 %<"));
    assert!(svg.contains(">100.0 %</text>"));
}

#[test]
fn ticks_are_round_values_inside_the_range() {
    assert_eq!(ticks(0.0, 10.0, ChartUnit::Number), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!(ticks(0.8, 1.0, ChartUnit::Percent).len(), 5);
    let t = ticks(0.0, 7200.0, ChartUnit::Seconds);
    assert!(t.iter().all(|s| s % 1800.0 == 0.0), "{t:?}");
    let t = ticks(0.0, 30.0 * 86_400.0, ChartUnit::Seconds);
    assert!(t.iter().all(|s| s % 86_400.0 == 0.0) && t.len() >= 3, "{t:?}");
    assert!(ticks(1.0, 1.0, ChartUnit::Number).is_empty());
    for (lo, hi) in [(-3.0, 7.0), (0.001, 0.0013), (1e-9, 2e-9), (-1e12, 1e12)] {
        let t = ticks(lo, hi, ChartUnit::Number);
        assert!((2..=12).contains(&t.len()) && t.iter().all(|x| *x >= lo && *x <= hi * (1.0 + 1e-9)), "{t:?}");
    }
}

#[test]
fn x_labels_are_thinned() {
    let points = (0..60).map(|i| point(&format!("2026-11-{:02}", i % 30 + 1), Some(0.5))).collect();
    let svg = control_chart_svg(&chart(points));
    assert!(svg.matches("class=\"chart-xlabel\"").count() <= 8);
    assert_eq!(label_stride(5, 3, 112.0), 1);
    assert_eq!(label_stride(16, 10, 36.0), 2, "ten characters (72 units) need two slots of 36");
    assert_eq!(label_stride(100, 2, 5.6), 13);
    let long = control_chart_svg(&chart(vec![point("a very long label indeed", Some(0.5))]));
    assert!(long.contains(">a very long…</text>") && long.contains("<title>a very long label indeed: "));
}

#[test]
fn degenerate_charts_render() {
    let empty = control_chart_svg(&chart(vec![]));
    assert_svg(&empty);
    assert!(empty.contains("No data to chart") && empty.contains("no periods"));

    let none = control_chart_svg(&chart(vec![point("a", None), point("b", Some(f64::NAN))]));
    assert_svg(&none);
    assert!(none.contains("No data to chart") && none.contains("a to b; no data."));

    let one = control_chart_svg(&chart(vec![point("only", Some(0.93))]));
    assert_svg(&one);
    assert_eq!(marks(&one).len(), 1);
    assert!(one.contains("latest 93.0 % (only)"));

    for unit in [ChartUnit::Percent, ChartUnit::Seconds, ChartUnit::Number] {
        let mut flat = chart((0..5).map(|i| point(&i.to_string(), Some(0.0))).collect());
        flat.unit = unit;
        flat.centre = Some(0.0);
        let svg = control_chart_svg(&flat);
        assert_svg(&svg);
        assert!(svg.matches("class=\"chart-tick\"").count() >= 2, "{unit:?}: {svg}");
    }

    let wild = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300, f64::MIN_POSITIVE];
    let mut c = chart(wild.iter().enumerate().map(|(i, v)| point(&i.to_string(), Some(*v))).collect());
    c.centre = Some(f64::NAN);
    c.target = Some(f64::INFINITY);
    c.points[0].ucl = Some(f64::INFINITY);
    let svg = control_chart_svg(&c);
    assert_svg(&svg);
    assert_eq!(marks(&svg).len(), 1, "only the finite, sane value is drawn");
}

#[test]
fn stacked_bar_splits_the_width_by_share() {
    let segments = [
        Segment { label: "us".into(), value: 7200.0, class: "seg-us" },
        Segment { label: "customer".into(), value: 3600.0, class: "seg-customer" },
        Segment { label: "third party".into(), value: 0.0, class: "seg-third" },
        Segment { label: "another team".into(), value: 3600.0, class: "seg-team" },
        Segment { label: "broken".into(), value: f64::NAN, class: "seg-team" },
        Segment { label: "negative".into(), value: -5.0, class: "seg-team" },
    ];
    let svg = stacked_bar_svg("Where time goes", ChartUnit::Seconds, &segments);
    assert_svg(&svg);
    let widths: Vec<f64> = svg
        .split("<rect class=\"seg ")
        .skip(1)
        .filter(|r| r.contains("<title>"))
        .map(|r| attr(r, "width").unwrap().parse().unwrap())
        .collect();
    assert_eq!(widths, vec![320.0, 160.0, 160.0]);
    assert!(svg.contains("<title>us 2 h (50.0 %)</title>"));
    assert!(svg.contains(">third party 0 s (0.0 %)</text>"), "a zero part is listed, not drawn");
    assert!(!svg.contains("broken") && !svg.contains("negative"));
    assert!(svg.contains("Total 4 h: us 2 h (50.0 %); customer 1 h (25.0 %);"));

    for segments in [&[][..], &segments[2..3], &segments[4..]] {
        let svg = stacked_bar_svg("Nothing", ChartUnit::Number, segments);
        assert_svg(&svg);
        assert!(svg.contains("Nothing recorded"));
    }
}

#[test]
fn sparkline_breaks_at_gaps_and_marks_the_latest() {
    let svg = sparkline_svg(&[Some(1.0), Some(2.0), None, Some(3.0), Some(2.0), None, Some(4.0)], ChartUnit::Number);
    assert_svg(&svg);
    assert_eq!(svg.matches("<polyline").count(), 2);
    assert_eq!(svg.matches("spark-dot").count(), 1, "the lone last value");
    assert_eq!(svg.matches("spark-last").count(), 1);
    assert!(svg.contains("latest 4, low 1, high 4") && svg.contains("Values: 1, 2, no data, 3"));

    for values in [&[][..], &[None, Some(f64::NAN)][..], &[Some(5.0)][..], &[Some(2.0), Some(2.0), Some(2.0)][..]] {
        let svg = sparkline_svg(values, ChartUnit::Seconds);
        assert_svg(&svg);
    }
    let long: Vec<Option<f64>> = (0..200).map(|i| Some(f64::from(i))).collect();
    assert!(sparkline_svg(&long, ChartUnit::Number).contains("Last 60 values: 140, "));
}

#[test]
fn ids_follow_the_content() {
    let a = control_chart_svg(&chart(vec![point("a", Some(0.5))]));
    let b = control_chart_svg(&chart(vec![point("a", Some(0.6))]));
    assert_eq!(a, control_chart_svg(&chart(vec![point("a", Some(0.5))])), "the same input renders the same bytes");
    assert_ne!(attr(&a, "aria-labelledby"), attr(&b, "aria-labelledby"));
}

/// Random charts, in the spirit of a property test (kept-server has no
/// proptest): any input renders well-formed SVG without panicking.
#[test]
fn any_input_renders_well_formed() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pool = [0.0, -0.0, 1.0, 0.5, 1e-300, 1e300, -7.25, 86_400.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    let labels = ["", "<", "&amp;", "\"'", "2026-11-03", "ä€😀", "\u{0}\u{1b}"];
    for round in 0..400 {
        let value = |r: u64| match r % 4 {
            0 => None,
            1 => Some(pool[(r / 4) as usize % pool.len()]),
            _ => Some((r >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 0.5),
        };
        let n = (next() % 40) as usize;
        let unit = [ChartUnit::Percent, ChartUnit::Seconds, ChartUnit::Number][round % 3];
        let points: Vec<ControlPoint> = (0..n)
            .map(|_| ControlPoint {
                label: labels[(next() % 7) as usize].repeat((next() % 3) as usize + 1),
                value: value(next()),
                ucl: value(next()),
                lcl: value(next()),
                signal: (next() % 5 == 0).then(|| labels[(next() % 7) as usize].to_owned()),
                href: (next() % 3 == 0).then(|| labels[(next() % 7) as usize].to_owned()),
            })
            .collect();
        let c = ControlChart {
            title: labels[round % 7].into(),
            unit,
            centre: value(next()),
            points,
            target: value(next()),
        };
        assert_svg(&control_chart_svg(&c));
        let series: Vec<Option<f64>> = c.points.iter().map(|p| p.value).collect();
        assert_svg(&sparkline_svg(&series, unit));
        let segments: Vec<Segment> = c
            .points
            .iter()
            .map(|p| Segment { label: p.label.clone(), value: p.value.unwrap_or(f64::NAN), class: "seg-us" })
            .collect();
        assert_svg(&stacked_bar_svg(&c.title, unit, &segments));
    }
}
