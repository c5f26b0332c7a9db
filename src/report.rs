//! The page's main charts of an export, drawn for `batchlab report --charts DIR` as PNG and SVG
//! files (plotters): accuracy and training loss against epochs, accuracy against training time,
//! steps to the target against the batch size (with perfect scaling), and throughput against the
//! batch size. One line per run (its series, or its batch size), in the page's colours
//! (Okabe & Ito 2008).
//!
//! Owns how an export becomes chart files; must not train, read settings from flags, or decide
//! where files go (cli.rs does).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::export::SweepExport;
use crate::record::EpochRecord;
use crate::schedule::LrPolicy;
use crate::settings::policy_name;
use crate::summary::{DIVERGENCE_LOSS, EvalSet, RunSummary};

/// Width and height of every chart, in pixels (PNG) or user units (SVG).
pub const CHART_SIZE: (u32, u32) = (900, 560);

/// The page's line colours (www/charts/palette.js): Okabe & Ito's colours for colour blindness,
/// grey last.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xb2),
    RGBColor(0xe6, 0x9f, 0x00),
    RGBColor(0x00, 0x9e, 0x73),
    RGBColor(0xcc, 0x79, 0xa7),
    RGBColor(0x56, 0xb4, 0xe9),
    RGBColor(0xd5, 0x5e, 0x00),
    RGBColor(0xf0, 0xe4, 0x42),
    RGBColor(0x99, 0x99, 0x99),
];

/// One line of a chart: its legend label and its points (in data units).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The legend's label.
    pub label: String,
    /// `(x, y)` points in drawing order; non-finite points are left out when drawn.
    pub points: Vec<(f64, f64)>,
    /// Over several seeds: the lowest and highest value at each point (drawn as a light band).
    pub band: Vec<(f64, f64, f64)>,
    /// Its colour's index in the page's palette (`None`: grey, a reference line).
    pub colour: Option<usize>,
    /// Drawn dashed: the second arm (`baseline`), or a reference line.
    pub dashed: bool,
}

/// A chart to draw: its file name (without extension), title, axes and lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File name without extension, e.g. `accuracy-epoch`.
    pub name: &'static str,
    /// The title above the plot.
    pub title: String,
    /// The x axis' label.
    pub x_label: &'static str,
    /// The y axis' label.
    pub y_label: String,
    /// Logarithmic x axis (base 10).
    pub x_log: bool,
    /// Logarithmic y axis (base 10).
    pub y_log: bool,
    /// The lines: one per batch size and arm (the mean over the seeds), and reference lines.
    pub lines: Vec<Line>,
}

/// The runs of one batch size and arm (every seed).
struct Group<'a> {
    batch_size: usize,
    /// The arm's index (0: `lrpolicy`, 1: `baseline`).
    arm: usize,
    lr_policy: LrPolicy,
    runs: Vec<&'a RunSummary>,
}

/// A group's label: its batch size, its arm when the sweep has two, and the seeds it averages.
fn group_label(group: &Group, arms: usize, what: Option<&str>) -> String {
    let mut label = match what {
        Some(what) => what.to_string(),
        None => format!("batch size {}", group.batch_size),
    };
    if arms > 1 {
        label += &format!(" ({} lr)", policy_name(group.lr_policy));
    }
    if group.runs.len() > 1 {
        label += &format!(", mean of {} seeds", group.runs.len());
    }
    label
}

/// Mean, lowest and highest of the finite `values` (none when there are none).
fn spread(values: &[f64]) -> Option<(f64, f64, f64)> {
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return None;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    Some((mean, lo, hi))
}

/// The charts of `export` (those with no point are left out). With several seeds each line is
/// the mean over them, with their range as a band; with a baseline, its lines are dashed.
pub fn charts(export: &SweepExport) -> Vec<Chart> {
    let summaries: Vec<&RunSummary> = export.runs.iter().map(|r| &r.summary).collect();
    let on_validation = summaries
        .iter()
        .any(|s| s.target_on == EvalSet::Validation);
    let measured = if on_validation { "validation" } else { "test" };
    // Arms in the order of their first run; batch sizes ascending, each its own colour.
    let mut arms: Vec<LrPolicy> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    for s in &summaries {
        if !arms.contains(&s.lr_policy) {
            arms.push(s.lr_policy);
        }
        sizes.push(s.batch_size);
    }
    sizes.sort_unstable();
    sizes.dedup();
    // Of one seed's attempts at a batch size and arm (a run cut short, then restarted on the
    // page), the latest.
    let mut latest: Vec<&RunSummary> = Vec::new();
    for &s in &summaries {
        let same = |r: &&RunSummary| r.lr_policy == s.lr_policy && r.batch_size == s.batch_size && r.seed == s.seed;
        match latest.iter().position(same) {
            Some(i) => latest[i] = s,
            None => latest.push(s),
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    for (arm, &policy) in arms.iter().enumerate() {
        for &b in &sizes {
            let runs: Vec<&RunSummary> = latest
                .iter()
                .copied()
                .filter(|s| s.lr_policy == policy && s.batch_size == b)
                .collect();
            if !runs.is_empty() {
                groups.push(Group { batch_size: b, arm, lr_policy: policy, runs });
            }
        }
    }
    let colour_of = |b: usize| sizes.iter().position(|&s| s == b);
    // Per epoch: each group's mean over its seeds' records at that epoch.
    let per_epoch = |y: &dyn Fn(&EpochRecord) -> Option<f64>, x: &dyn Fn(&EpochRecord) -> f64| {
        groups
            .iter()
            .map(|g| {
                let records: Vec<&EpochRecord> = export
                    .results
                    .iter()
                    .map(|r| &r.record)
                    .filter(|r| {
                        g.runs
                            .iter()
                            .any(|s| r.batch_size == s.batch_size && r.series == s.series)
                    })
                    .collect();
                let mut epochs: Vec<usize> = records.iter().map(|r| r.epoch).collect();
                epochs.sort_unstable();
                epochs.dedup();
                let mut points = Vec::new();
                let mut band = Vec::new();
                for epoch in epochs {
                    let at: Vec<&&EpochRecord> = records.iter().filter(|r| r.epoch == epoch).collect();
                    let xs: Vec<f64> = at.iter().map(|r| x(r)).collect();
                    let ys: Vec<f64> = at.iter().filter_map(|r| y(r)).collect();
                    if let (Some((mx, ..)), Some((my, lo, hi))) = (spread(&xs), spread(&ys)) {
                        points.push((mx, my));
                        band.push((mx, lo, hi));
                    }
                }
                Line {
                    label: group_label(g, arms.len(), None),
                    points,
                    band: if g.runs.len() > 1 { band } else { Vec::new() },
                    colour: colour_of(g.batch_size),
                    dashed: g.arm > 0,
                }
            })
            .collect::<Vec<_>>()
    };
    let accuracy = |r: &EpochRecord| {
        if on_validation {
            r.val_accuracy.map(|a| 100.0 * a)
        } else {
            Some(100.0 * r.test_accuracy)
        }
    };
    let mut charts = vec![
        Chart {
            name: "accuracy-epoch",
            title: format!("{measured} accuracy after each epoch"),
            x_label: "epoch",
            y_label: format!("{measured} accuracy (%)"),
            x_log: false,
            y_log: false,
            lines: per_epoch(&accuracy, &|r| r.epoch as f64),
        },
        Chart {
            name: "loss-epoch",
            title: "training loss (mean cross-entropy of each epoch)".into(),
            x_label: "epoch",
            y_label: "training loss (nats)".into(),
            x_log: false,
            y_log: true,
            // Past the divergence bound a loss says only that the run diverged.
            lines: per_epoch(
                &|r| (r.train_loss.is_finite() && r.train_loss <= DIVERGENCE_LOSS).then_some(r.train_loss),
                &|r| r.epoch as f64,
            ),
        },
        Chart {
            name: "accuracy-time",
            title: format!("{measured} accuracy against training time"),
            x_label: "training time (s)",
            y_label: format!("{measured} accuracy (%)"),
            x_log: false,
            y_log: false,
            lines: per_epoch(&accuracy, &|r| r.train_seconds),
        },
    ];
    // Across batch sizes: one line per arm, each batch size's mean over its seeds (steps to the
    // target only where every seed reached it, as the findings count it).
    let across = |y: &dyn Fn(&[&RunSummary]) -> Option<Vec<f64>>, what: &str| {
        arms.iter()
            .enumerate()
            .map(|(arm, &policy)| {
                let mut points = Vec::new();
                let mut band = Vec::new();
                let mut seeds = 1;
                for g in groups.iter().filter(|g| g.lr_policy == policy) {
                    seeds = seeds.max(g.runs.len());
                    if let Some((mean, lo, hi)) = y(&g.runs).and_then(|v| spread(&v)) {
                        points.push((g.batch_size as f64, mean));
                        band.push((g.batch_size as f64, lo, hi));
                    }
                }
                let mut label = what.to_string();
                if arms.len() > 1 {
                    label += &format!(" ({} lr)", policy_name(policy));
                }
                if seeds > 1 {
                    label += &format!(", mean of {seeds} seeds");
                }
                Line {
                    label,
                    points,
                    band: if seeds > 1 { band } else { Vec::new() },
                    colour: Some(0),
                    dashed: arm > 0,
                }
            })
            .collect::<Vec<_>>()
    };
    let mut steps = across(
        &|runs| runs.iter().map(|r| r.target_steps.map(|s| s as f64)).collect(),
        "steps to target",
    );
    // Perfect scaling from the smallest batch size that reached the target: steps ∝ 1/B.
    let smallest = steps
        .iter()
        .flat_map(|l| l.points.first().copied())
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((b0, s0)) = smallest {
        let largest = sizes.last().copied().unwrap_or(1) as f64;
        steps.push(Line {
            label: "perfect scaling (steps × B constant)".into(),
            points: vec![(b0, s0), (largest, s0 * b0 / largest)],
            band: Vec::new(),
            colour: None,
            dashed: true,
        });
    }
    let target = summaries.first().map_or(0.0, |s| s.target);
    charts.push(Chart {
        name: "steps-to-target",
        title: format!("steps to {:.0} % {measured} accuracy", 100.0 * target),
        x_label: "batch size",
        y_label: "optimiser steps".into(),
        x_log: true,
        y_log: true,
        lines: steps,
    });
    charts.push(Chart {
        name: "throughput",
        title: "throughput (training samples per second)".into(),
        x_label: "batch size",
        y_label: "samples/s".into(),
        x_log: true,
        y_log: true,
        lines: across(
            &|runs| {
                let v: Vec<f64> = runs.iter().map(|r| r.samples_per_second).filter(|&s| s > 0.0).collect();
                (!v.is_empty()).then_some(v)
            },
            "throughput",
        ),
    });
    charts.retain(|c| c.lines.iter().any(|l| l.colour.is_some() && !l.points.is_empty()));
    charts
}

/// Why a chart could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ChartError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

/// Writes every chart of `export` into `dir` (created if missing) as `<name>.png` and
/// `<name>.svg`; returns the files written.
///
/// # Errors
/// [`ChartError`] when the folder or a file cannot be written.
pub fn write_charts(export: &SweepExport, dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    std::fs::create_dir_all(dir).map_err(|e| ChartError {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    // Text in the PNG files needs a font: DejaVu Sans, built in (SVG files name the family).
    let _ = register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    let mut written = Vec::new();
    for chart in charts(export) {
        let png = dir.join(format!("{}.png", chart.name));
        let fail = |path: &Path, e: &dyn std::fmt::Display| ChartError {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        {
            let root = BitMapBackend::new(&png, CHART_SIZE).into_drawing_area();
            draw(&root, &chart).map_err(|e| fail(&png, &e))?;
            root.present().map_err(|e| fail(&png, &e))?;
        }
        let svg = dir.join(format!("{}.svg", chart.name));
        {
            let root = SVGBackend::new(&svg, CHART_SIZE).into_drawing_area();
            draw(&root, &chart).map_err(|e| fail(&svg, &e))?;
            root.present().map_err(|e| fail(&svg, &e))?;
        }
        written.push(png);
        written.push(svg);
    }
    Ok(written)
}

/// A tick label: the value (on a logarithmic axis, the value whose base-10 logarithm `value`
/// is), with at most 3 significant digits; past 10⁵ or below 10⁻³ in scientific notation.
fn tick(value: f64, log: bool) -> String {
    let v = if log { 10f64.powf(value) } else { value };
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        return format!("{v:.1e}");
    }
    let digits = if v == 0.0 { 0 } else { (2 - v.abs().log10().floor() as i32).max(0) as usize };
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Where the ticks of an axis from `lo` to `hi` go: on a logarithmic axis (`lo`, `hi` the
/// logarithms) at 1, 2 and 5 × 10^k (every power of 10 alone when the axis spans more than 3
/// decades); on a linear one, 4 to 10 ticks 1, 2 or 5 × 10^k apart.
fn ticks(lo: f64, hi: f64, log: bool, whole: bool) -> Vec<f64> {
    if log && hi - lo >= 1.0 {
        let mantissas: &[f64] = if hi - lo > 3.0 { &[1.0] } else { &[1.0, 2.0, 5.0] };
        let mut points = Vec::new();
        for decade in (lo.floor() as i32)..=(hi.ceil() as i32) {
            for m in mantissas {
                let p = (m * 10f64.powi(decade)).log10();
                if (lo..=hi).contains(&p) {
                    points.push(p);
                }
            }
        }
        return points;
    }
    // Less than a decade: evenly spaced values, placed at their logarithms.
    if log {
        let (a, b) = (10f64.powf(lo), 10f64.powf(hi));
        return ticks(a, b, false, whole)
            .into_iter()
            .filter(|v| *v > 0.0)
            .map(f64::log10)
            .collect();
    }
    let raw = (hi - lo) / 6.0;
    let power = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * power);
    if whole {
        step = step.max(1.0).round();
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// The corner of the plot with the fewest points (`points` in data units, the plot spanning
/// `x` and `y`): where the legend hides the least.
fn emptiest_corner(points: &[(f64, f64)], x: (f64, f64), y: (f64, f64)) -> SeriesLabelPosition {
    let share = |v: f64, (lo, hi): (f64, f64)| (v - lo) / (hi - lo).max(f64::MIN_POSITIVE);
    let count = |left: bool, top: bool| {
        points
            .iter()
            .filter(|&&(px, py)| {
                let (sx, sy) = (share(px, x), share(py, y));
                (if left { sx < 0.45 } else { sx > 0.55 }) && (if top { sy > 0.6 } else { sy < 0.4 })
            })
            .count()
    };
    [
        (count(false, false), SeriesLabelPosition::LowerRight),
        (count(false, true), SeriesLabelPosition::UpperRight),
        (count(true, false), SeriesLabelPosition::LowerLeft),
        (count(true, true), SeriesLabelPosition::UpperLeft),
    ]
    .into_iter()
    .min_by_key(|(n, _)| *n)
    .map(|(_, corner)| corner)
    .unwrap_or(SeriesLabelPosition::LowerRight)
}

/// A linear axis from `lo` to `hi` with its ticks where [`ticks`] puts them (plotters' own
/// `with_key_points` leaves a `f64` axis without a label formatter).
struct Axis {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Axis {
    fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Self {
            linear: (lo..hi).into(),
            ticks,
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.linear.range()
    }
}

/// Draws `chart` on `root`: axes (log axes as base-10 logarithms of the values, labelled with
/// the values), its lines with their points, and a legend.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let scale = |v: f64, log: bool| if log { v.log10() } else { v };
    let lines: Vec<(usize, &Line, Vec<(f64, f64)>)> = chart
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let points = line
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .filter(|(x, y)| (!chart.x_log || *x > 0.0) && (!chart.y_log || *y > 0.0))
                .map(|&(x, y)| (scale(x, chart.x_log), scale(y, chart.y_log)))
                .collect();
            (i, line, points)
        })
        .collect();
    // Each line's band, scaled likewise: `(x, lowest, highest)`.
    let bands: Vec<(usize, &Line, Vec<(f64, f64, f64)>)> = chart
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let band = line
                .band
                .iter()
                .filter(|(x, lo, hi)| x.is_finite() && lo.is_finite() && hi.is_finite())
                .filter(|(x, lo, _)| (!chart.x_log || *x > 0.0) && (!chart.y_log || *lo > 0.0))
                .map(|&(x, lo, hi)| (scale(x, chart.x_log), scale(lo, chart.y_log), scale(hi, chart.y_log)))
                .collect();
            (i, line, band)
        })
        .collect();
    let all = || {
        lines.iter().flat_map(|(_, _, p)| p.iter().copied()).chain(
            bands
                .iter()
                .flat_map(|(_, _, b)| b.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)])),
        )
    };
    let range = |values: Vec<f64>| {
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        // A margin of 5 % so that no point sits on an edge.
        let pad = ((hi - lo) * 0.05).max(if hi == lo { 0.5 } else { 0.0 });
        (lo - pad, hi + pad)
    };
    let (x0, x1) = range(all().map(|p| p.0).collect());
    let (y0, y1) = range(all().map(|p| p.1).collect());
    let mut plot = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(
            Axis::new(x0, x1, ticks(x0, x1, chart.x_log, chart.x_label == "epoch")),
            Axis::new(y0, y1, ticks(y0, y1, chart.y_log, false)),
        )?;
    plot.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label.as_str())
        .x_label_formatter(&|v| tick(*v, chart.x_log))
        .y_label_formatter(&|v| tick(*v, chart.y_log))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for ((_, line, points), (_, _, band)) in lines.iter().zip(&bands) {
        let colour = line.colour.map_or(RGBColor(0x88, 0x88, 0x88), |i| PALETTE[i % PALETTE.len()]);
        // The seeds' range: a light band under the mean.
        if band.len() > 1 {
            let mut outline: Vec<(f64, f64)> = band.iter().map(|&(x, _, hi)| (x, hi)).collect();
            outline.extend(band.iter().rev().map(|&(x, lo, _)| (x, lo)));
            plot.draw_series(std::iter::once(Polygon::new(outline, colour.mix(0.15).filled())))?;
        }
        let style = colour.stroke_width(2);
        let series = if line.dashed {
            plot.draw_series(DashedLineSeries::new(points.iter().copied(), 8, 6, style))?
        } else {
            plot.draw_series(LineSeries::new(points.iter().copied(), style))?
        };
        let dashed = line.dashed;
        series.label(line.label.clone()).legend(move |(x, y)| {
            // A dashed line's legend sample is two dashes.
            let gap = if dashed { 5 } else { 0 };
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (8, 0)], colour.stroke_width(2))
                + PathElement::new(vec![(8 + gap, 0), (18, 0)], colour.stroke_width(2))
        });
        if line.colour.is_some() {
            plot.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        }
    }
    let drawn: Vec<(f64, f64)> = all().collect();
    plot.configure_series_labels()
        .position(emptiest_corner(&drawn, (x0, x1), (y0, y1)))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}
