//! How steps-to-target scale with the batch size: the fit of McCandlish et al. 2018 ("An
//! empirical model of large-batch training", arXiv:1812.06162),
//!
//! `S(B) = S_min (1 + B_noise / B)`,
//!
//! over the runs that reached the target. It is their trade-off between steps S and examples
//! E = B·S, `(S / S_min − 1)(E / E_min − 1) = 1`, solved for S: `S = S_min + E_min / B`, with
//! the critical batch size `B_crit = E_min / S_min` (which they predict by the gradient noise
//! scale B_noise, measured here as B_simple: [`crate::noise`]). `S_min` is the fewest steps any batch size could take;
//! `B_noise` (the fitted critical batch size) is where the steps are twice `S_min`: well below it
//! a batch twice as large takes about half the steps (perfect scaling), well above it a larger
//! batch saves almost no step (maximal data parallelism, Shallue et al. 2019).
//!
//! Owns the fit and its verdict; must not train or read anything but summaries.

use serde::{Deserialize, Serialize};

use crate::summary::{RunStatus, RunSummary};

/// The fit of `S(B) = S_min (1 + B_crit / B)` to measured (batch size, steps-to-target) points
/// (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingFit {
    /// The fewest steps to the target, at an unbounded batch size (steps); `None` when the
    /// points show no floor (see `verdict`).
    pub min_steps: Option<f64>,
    /// The fitted critical batch size B_crit (samples); `None` when the points cannot place it.
    pub critical_batch: Option<f64>,
    /// The points fitted: `(batch size, steps to target)`, by batch size.
    pub points: Vec<(usize, usize)>,
    /// Root-mean-square relative error of the line fitted over `points` (0.05: 5 %), also when
    /// it places no critical batch size; `None` with too few points.
    pub rms_relative_error: Option<f64>,
    /// What the fit says, in a word: see [`Verdict`].
    pub verdict: Verdict,
}

/// What a scaling fit could say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// `S_min` and `B_crit` are both positive: the critical batch size is placed.
    Fitted,
    /// The steps fall as fast as 1/B or faster over every batch size that reached the target:
    /// the critical batch size lies above the largest of them.
    AboveRange,
    /// The steps do not fall with the batch size: the critical batch size lies below the
    /// smallest of them.
    BelowRange,
    /// Fewer than three batch sizes reached the target (two points fit any such curve exactly).
    TooFewPoints,
}

/// Fewest points a fit needs: two parameters, and one more to test them.
pub const MIN_POINTS: usize = 3;

/// Fits `S(B) = S_min (1 + B_crit / B)` to `points` (batch size, steps to target) by least
/// squares on the relative error, `Σ ((S_i − a − b / B_i) / S_i)²` with `a = S_min` and
/// `b = S_min B_crit` (linear in `a` and `b`, so solved in closed form; relative, so that the
/// runs of small batches, with their tens of thousands of steps, do not outweigh the others).
/// Points with 0 steps or batch size 0 are left out; a batch size given twice keeps both.
pub fn fit(points: &[(usize, usize)]) -> ScalingFit {
    let mut points: Vec<(usize, usize)> = points
        .iter()
        .copied()
        .filter(|&(b, s)| b > 0 && s > 0)
        .collect();
    points.sort_unstable();
    let distinct = {
        let mut sizes: Vec<usize> = points.iter().map(|p| p.0).collect();
        sizes.dedup();
        sizes.len()
    };
    let none = |points, verdict| ScalingFit {
        min_steps: None,
        critical_batch: None,
        points,
        rms_relative_error: None,
        verdict,
    };
    if distinct < MIN_POINTS {
        return none(points, Verdict::TooFewPoints);
    }
    // Weighted least squares with weights 1/S_i²: minimise Σ w (S − a − b x)², x = 1/B.
    let (mut sw, mut swx, mut swxx, mut sws, mut swxs) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(b, s) in &points {
        let (x, s) = (1.0 / b as f64, s as f64);
        let w = 1.0 / (s * s);
        sw += w;
        swx += w * x;
        swxx += w * x * x;
        sws += w * s;
        swxs += w * x * s;
    }
    let det = sw * swxx - swx * swx;
    if det.abs() < f64::MIN_POSITIVE {
        return none(points, Verdict::TooFewPoints);
    }
    let a = (swxx * sws - swx * swxs) / det;
    let b = (sw * swxs - swx * sws) / det;
    let verdict = if b <= 0.0 {
        Verdict::BelowRange
    } else if a <= 0.0 {
        Verdict::AboveRange
    } else {
        Verdict::Fitted
    };
    let rms = (points
        .iter()
        .map(|&(bs, s)| {
            let predicted = a + b / bs as f64;
            ((predicted - s as f64) / s as f64).powi(2)
        })
        .sum::<f64>()
        / points.len() as f64)
        .sqrt();
    ScalingFit {
        min_steps: (verdict == Verdict::Fitted).then_some(a),
        critical_batch: (verdict == Verdict::Fitted).then_some(b / a),
        points,
        rms_relative_error: Some(rms),
        verdict,
    }
}

/// The fit over a sweep's runs that ended and reached the target (one point per run; a batch
/// size restarted keeps its later run, as [`crate::findings::findings`] does).
pub fn fit_runs(runs: &[RunSummary]) -> ScalingFit {
    let mut ended: Vec<&RunSummary> = runs
        .iter()
        .filter(|r| matches!(r.status, RunStatus::Done | RunStatus::Diverged))
        .collect();
    ended.reverse();
    ended.sort_by_key(|r| r.batch_size);
    ended.dedup_by_key(|r| r.batch_size);
    let points: Vec<(usize, usize)> = ended
        .iter()
        .filter_map(|r| r.target_steps.map(|s| (r.batch_size, s)))
        .collect();
    fit(&points)
}

/// The three regimes of Shallue et al. 2019, read from a fit (`camelCase` in JavaScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Regime {
    /// `B ≤ B_crit / REGIME_FACTOR`: doubling the batch nearly halves the steps (at least 3/4 of
    /// them are the `E_min / B` term).
    PerfectScaling,
    /// Between the two.
    DiminishingReturns,
    /// `B ≥ REGIME_FACTOR × B_crit`: the steps are within a third of `S_min`; a larger batch
    /// saves almost none.
    MaximalDataParallelism,
}

/// How far from the critical batch size a batch size must be to count as in the regime of
/// perfect scaling (below) or of maximal data parallelism (above). A choice, not the paper's:
/// at 3, the fitted steps are within 33 % of `E_min / B` (below) or of `S_min` (above).
pub const REGIME_FACTOR: f64 = 3.0;

/// The regime of batch size `b` given the critical batch size `critical`.
pub fn regime(b: f64, critical: f64) -> Regime {
    if b * REGIME_FACTOR <= critical {
        Regime::PerfectScaling
    } else if b >= REGIME_FACTOR * critical {
        Regime::MaximalDataParallelism
    } else {
        Regime::DiminishingReturns
    }
}

impl ScalingFit {
    /// The fitted steps to the target at batch size `b`: `S_min (1 + B_crit / b)`; `None` without
    /// a fit.
    pub fn steps_at(&self, b: f64) -> Option<f64> {
        Some(self.min_steps? * (1.0 + self.critical_batch? / b))
    }
}
