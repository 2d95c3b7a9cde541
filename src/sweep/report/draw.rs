//! Draws a [`Chart`] as one SVG: the figure's title, its panels in a grid of up to two
//! columns, a legend on the right and a footer naming the sweep and the commit(s). Uses the
//! per-run plots' SVG setup ([`render_string`], the palette, the error type) so both kinds of
//! plot look alike.
//!
//! Categories (SLOs, batches, TP x PP, drift rates, systems) sit on a segmented axis, one
//! segment each; a category's bars share its segment side by side, each system in the same
//! slot of every category.

use std::path::Path;

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figures::{Chart, Kind, Panel};
use crate::serve::report::plots::{colour, plot_error, render_string, Area, NO_DATA};
use crate::serve::report::ReportError;

/// One panel's size, pixels.
pub const PANEL: (u32, u32) = (600, 360);
const LEGEND: u32 = 250;
const HEAD: u32 = 44;
const FOOT: u32 = 30;
/// Characters of legend text on one line (at 13 px, in the legend's width).
const LEGEND_CHARS: usize = 30;

/// The widest a figure gets before its panels go one per row, pixels (the page's width).
const MAX_WIDTH: u32 = 1450;

/// A panel's width: [`PANEL`], or wider so that every category's label fits under it.
fn panel_width(chart: &Chart) -> u32 {
    let need = chart
        .panels
        .iter()
        .map(|p| {
            let widest = p.categories.iter().map(|c| c.chars().count()).max().unwrap_or(0);
            // 12 px labels at about 0.6 em per character, a gap, and the y axis.
            p.categories.len() as f64 * (widest as f64 * 7.2 + 16.0) + 100.0
        })
        .fold(0.0, f64::max);
    PANEL.0.max(need.ceil().min(f64::from(MAX_WIDTH - LEGEND)) as u32)
}

/// Draws `chart` into `path` and returns the SVG.
pub fn draw(chart: &Chart, path: &Path) -> Result<String, ReportError> {
    let n = chart.panels.len().max(1);
    let width = panel_width(chart);
    let cols = if 2 * width + LEGEND <= MAX_WIDTH { n.min(2) } else { 1 };
    let rows = n.div_ceil(cols);
    let grid_w = u32::try_from(cols).unwrap_or(2) * width;
    let grid_h = u32::try_from(rows).unwrap_or(u32::MAX / PANEL.1 / 2) * PANEL.1;
    render_string(path, (grid_w + LEGEND, HEAD + grid_h + FOOT), |root| {
        let err = |what: &'static str| move |e| plot_error(path, what, e);
        let (head, rest) = root.split_vertically(HEAD);
        let (body, foot) = rest.split_vertically(grid_h);
        let title_style = ("sans-serif", 24).into_font().style(FontStyle::Bold);
        head.draw(&Text::new(chart.title.as_str(), (16, 12), title_style)).map_err(err("the title"))?;
        let mut footer = chart.provenance();
        if !chart.shared.is_empty() {
            footer = format!("{footer} · every panel: {}", chart.shared);
        }
        foot.draw(&Text::new(footer, (16, 8), ("sans-serif", 14).into_font().color(&RGBColor(0x44, 0x44, 0x44))))
            .map_err(err("the footer"))?;
        let (grid, legend) = body.split_horizontally(grid_w);
        if chart.panels.is_empty() {
            empty(&grid, path, chart)?;
        } else {
            for (area, panel) in grid.split_evenly((rows, cols)).iter().zip(&chart.panels) {
                draw_panel(area, path, chart, panel)?;
            }
        }
        draw_legend(&legend, path, chart)
    })
}

/// The whole grid of a figure without rows: a frame and why.
fn empty(area: &Area<'_>, path: &Path, chart: &Chart) -> Result<(), ReportError> {
    let err = |what: &'static str| move |e| plot_error(path, what, e);
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (i32::try_from(w).unwrap_or(0), i32::try_from(h).unwrap_or(0));
    area.draw(&Rectangle::new([(12, 12), (w - 12, h - 12)], RGBColor(0x99, 0x99, 0x99).stroke_width(1)))
        .map_err(err("the frame"))?;
    let why = chart.empty.as_deref().unwrap_or(NO_DATA);
    let style = TextStyle::from(("sans-serif", 16)).pos(Pos::new(HPos::Center, VPos::Center));
    for (i, line) in wrap(why, 60).iter().enumerate() {
        let y = h / 2 - 20 + 22 * i32::try_from(i).unwrap_or(0);
        area.draw(&Text::new(line.as_str(), (w / 2, y), style.clone())).map_err(err("the note"))?;
    }
    Ok(())
}

fn draw_panel(area: &Area<'_>, path: &Path, chart: &Chart, panel: &Panel) -> Result<(), ReportError> {
    let what = |part: &str| format!("{part} of panel {:?}", panel.title);
    let n = i32::try_from(panel.categories.len()).unwrap_or(i32::MAX).max(1);
    // One segment per category (plotters' integer ranges are inclusive); a lone category gets
    // an empty segment on each side, as in the per-run breakdown.
    let (segments, ends) = if n <= 1 { (-1..1, (-1, 2)) } else { (0..n - 1, (0, n)) };
    let stack = |m: &super::figures::Mark| if m.value.is_finite() { m.value.max(0.0) } else { 0.0 };
    let highest = panel.marks.iter().map(stack).fold(0.0, f64::max);
    let highest = chart.reference.as_ref().map_or(highest, |(r, _)| highest.max(*r));
    let top = if highest > 0.0 { highest * 1.22 } else { 1.0 };
    let mut ctx = ChartBuilder::on(area)
        .caption(panel.title.as_str(), ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(42)
        .y_label_area_size(66)
        .build_cartesian_2d(segments.into_segmented(), 0.0..top)
        .map_err(|e| plot_error(path, &what("the axes"), e))?;
    let label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => {
            usize::try_from(*i).ok().and_then(|i| panel.categories.get(i)).cloned().unwrap_or_default()
        }
        _ => String::new(),
    };
    let decimals = if top >= 20.0 {
        0
    } else if top >= 2.0 {
        1
    } else {
        2
    };
    let y_label = |v: &f64| format!("{v:.decimals$}");
    ctx.configure_mesh()
        .disable_x_mesh()
        .y_label_formatter(&y_label)
        .x_labels(panel.categories.len() + 2)
        .x_label_formatter(&label)
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .draw()
        .map_err(|e| plot_error(path, &what("the grid"), e))?;

    let at = |c: usize| SegmentValue::Exact(i32::try_from(c).unwrap_or(i32::MAX - 1));
    let centre = |c: usize| SegmentValue::CenterOf(i32::try_from(c).unwrap_or(i32::MAX - 1));
    let series_colour = |s: usize| colour(chart.series.get(s).map_or(s, |x| x.1));
    let note_style = TextStyle::from(("sans-serif", 11)).pos(Pos::new(HPos::Center, VPos::Bottom));
    match chart.kind {
        Kind::Bars => {
            let x0 = ctx.backend_coord(&(at(0), 0.0)).0;
            let x1 = ctx.backend_coord(&(at(1), 0.0)).0;
            let segment = f64::from((x1 - x0).max(1));
            let mut in_panel: Vec<usize> = panel.marks.iter().map(|m| m.series).collect();
            in_panel.sort_unstable();
            in_panel.dedup();
            let per_category = (0..panel.categories.len())
                .map(|c| panel.marks.iter().filter(|m| m.category == c).count())
                .max()
                .unwrap_or(0);
            let slots = if per_category <= 1 { 1 } else { in_panel.len() };
            let pad = segment * 0.1;
            let slot = (segment - 2.0 * pad) / slots as f64;
            // Notes turn upright when they are wider than a bar (0.6 em per character).
            let widest = panel.marks.iter().map(|m| m.note.chars().count()).max().unwrap_or(0);
            let upright = widest as f64 * 11.0 * 0.6 > slot;
            for m in &panel.marks {
                let j = if slots == 1 { 0 } else { in_panel.iter().position(|&s| s == m.series).unwrap_or(0) };
                let left = pad + j as f64 * slot;
                let right = (segment - left - slot).max(0.0);
                let margin = |r: &mut Rectangle<_>| {
                    r.set_margin(0, 0, left.round() as u32, right.round() as u32);
                };
                let (a, b) = (m.category, m.category + 1);
                let fill = series_colour(m.series);
                let mut bars = Vec::new();
                if m.segments.is_empty() {
                    let style = if m.flagged { fill.mix(0.3).filled() } else { fill.filled() };
                    let mut bar = Rectangle::new([(at(a), 0.0), (at(b), stack(m))], style);
                    margin(&mut bar);
                    bars.push(bar);
                    if m.flagged {
                        let mut frame = Rectangle::new([(at(a), 0.0), (at(b), stack(m))], fill.stroke_width(1));
                        margin(&mut frame);
                        bars.push(frame);
                    }
                } else {
                    let mut base = 0.0;
                    for &(c, v) in &m.segments {
                        let mut bar = Rectangle::new([(at(a), base), (at(b), base + v)], colour(c).filled());
                        margin(&mut bar);
                        bars.push(bar);
                        base += v;
                    }
                }
                ctx.draw_series(bars).map_err(|e| plot_error(path, &what("the bars"), e))?;
                if !m.note.is_empty() {
                    let dx = (left + slot / 2.0).round() as i32;
                    let style = if upright {
                        TextStyle::from(("sans-serif", 11))
                            .transform(FontTransform::Rotate270)
                            .pos(Pos::new(HPos::Left, VPos::Center))
                    } else {
                        note_style.clone()
                    };
                    let text = EmptyElement::at((at(a), stack(m))) + Text::new(m.note.clone(), (dx, -3), style);
                    ctx.plotting_area().draw(&text).map_err(|e| plot_error(path, &what("a note"), e))?;
                }
            }
        }
        Kind::Lines => {
            for (s, _) in chart.series.iter().enumerate() {
                let mut points: Vec<_> = panel.marks.iter().filter(|m| m.series == s && m.value.is_finite()).collect();
                if points.is_empty() {
                    continue;
                }
                points.sort_by_key(|m| m.category);
                let colour = series_colour(s);
                let line: Vec<_> = points.iter().map(|m| (centre(m.category), m.value)).collect();
                ctx.draw_series(LineSeries::new(line, colour.stroke_width(2)))
                    .map_err(|e| plot_error(path, &what("a line"), e))?;
                for m in points {
                    let p = || (centre(m.category), m.value);
                    let drawn = if m.flagged {
                        ctx.draw_series([Cross::new(p(), 7, RED.stroke_width(3))])
                    } else {
                        ctx.draw_series([Circle::new(p(), 4, colour.filled())])
                    };
                    drawn.map_err(|e| plot_error(path, &what("a marker"), e))?;
                    if !m.note.is_empty() {
                        let text = EmptyElement::at(p()) + Text::new(m.note.clone(), (0, -10), note_style.clone());
                        ctx.plotting_area().draw(&text).map_err(|e| plot_error(path, &what("a note"), e))?;
                    }
                }
            }
        }
    }
    if let Some((r, _)) = chart.reference.as_ref() {
        let r = *r;
        let line = vec![(SegmentValue::Exact(ends.0), r), (SegmentValue::Exact(ends.1), r)];
        ctx.draw_series(DashedLineSeries::new(line, 6, 4, BLACK.stroke_width(1)))
            .map_err(|e| plot_error(path, &what("the reference line"), e))?;
    }
    let note = match (&panel.note, panel.marks.is_empty()) {
        (Some(n), _) => Some(n.as_str()),
        (None, true) => Some(NO_DATA),
        (None, false) => None,
    };
    if let Some(note) = note {
        let style = TextStyle::from(("sans-serif", 12)).color(&RGBColor(0xA0, 0x20, 0x20));
        for (i, line) in wrap(note, 80).iter().enumerate() {
            let y = 4 + 15 * i32::try_from(i).unwrap_or(0);
            let text =
                EmptyElement::at((SegmentValue::Exact(ends.0), top)) + Text::new(line.clone(), (6, y), style.clone());
            ctx.plotting_area().draw(&text).map_err(|e| plot_error(path, &what("the note"), e))?;
        }
    }
    Ok(())
}

fn draw_legend(area: &Area<'_>, path: &Path, chart: &Chart) -> Result<(), ReportError> {
    let err = |what: &'static str| move |e| plot_error(path, what, e);
    let text = ("sans-serif", 13);
    let mut y = 40;
    let entry = |y: &mut i32, label: &str, key: &dyn Fn(i32) -> Result<(), ReportError>| {
        key(*y)?;
        for line in wrap(label, LEGEND_CHARS) {
            area.draw(&Text::new(line, (40, *y), text)).map_err(err("the legend"))?;
            *y += 16;
        }
        *y += 6;
        Ok::<(), ReportError>(())
    };
    if chart.components.is_empty() {
        for (name, c) in &chart.series {
            let c = colour(*c);
            match chart.kind {
                Kind::Bars => entry(&mut y, name, &|y| {
                    area.draw(&Rectangle::new([(12, y), (28, y + 12)], c.filled())).map_err(err("the legend"))
                })?,
                Kind::Lines => entry(&mut y, name, &|y| {
                    area.draw(&PathElement::new(vec![(8, y + 6), (32, y + 6)], c.stroke_width(2)))
                        .map_err(err("the legend"))?;
                    area.draw(&Circle::new((20, y + 6), 4, c.filled())).map_err(err("the legend"))
                })?,
            }
        }
    } else {
        for (i, name) in chart.components.iter().enumerate() {
            entry(&mut y, name, &|y| {
                area.draw(&Rectangle::new([(12, y), (28, y + 12)], colour(i).filled())).map_err(err("the legend"))
            })?;
        }
    }
    if let Some((_, label)) = &chart.reference {
        entry(&mut y, label, &|y| {
            area.draw(&DashedPathElement::new(vec![(8, y + 6), (32, y + 6)], 6, 4, BLACK.stroke_width(1)))
                .map_err(err("the legend"))
        })?;
    }
    // A flag is explained only where some mark carries it.
    let flagged = chart.panels.iter().any(|p| p.marks.iter().any(|m| m.flagged));
    if let Some(meaning) = chart.flag_meaning.as_ref().filter(|_| flagged) {
        match chart.kind {
            Kind::Lines => entry(&mut y, meaning, &|y| {
                area.draw(&Cross::new((20, y + 6), 6, RED.stroke_width(3))).map_err(err("the legend"))
            })?,
            Kind::Bars => entry(&mut y, meaning, &|y| {
                let c = RGBColor(0x66, 0x66, 0x66);
                area.draw(&Rectangle::new([(12, y), (28, y + 12)], c.mix(0.3).filled())).map_err(err("the legend"))?;
                area.draw(&Rectangle::new([(12, y), (28, y + 12)], c.stroke_width(1))).map_err(err("the legend"))
            })?,
        }
    }
    Ok(())
}

/// `text` in lines of at most `width` characters (longer words stay whole).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_and_width() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("averyveryverylongword x", 5), ["averyveryverylongword", "x"]);
        assert!(wrap("  ", 5).is_empty());
    }
}
