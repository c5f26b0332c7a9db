//! The gradient noise scale (McCandlish et al. 2018, "An empirical model of large-batch
//! training", appendix A.1): `B_simple = tr(Σ) / |G|²`, with `G` the true gradient and `Σ` the
//! per-sample gradients' covariance. Batch sizes well below it give near-perfectly-scaling
//! steps; past it (the "critical batch size") a larger batch barely changes the descent
//! direction any more.
//!
//! Estimated from the squared norms of mean gradients at two batch sizes `b < B`: with
//! `E|g_b|² = |G|² + tr(Σ)/b`,
//!
//! - `|G|² ≈ (B |g_B|² − b |g_b|²) / (B − b)`,
//! - `tr(Σ) ≈ (|g_b|² − |g_B|²) / (1/b − 1/B)`,
//!
//! both unbiased; each is averaged (an exponential moving average) before dividing, since a
//! ratio of noisy estimates is biased.
//!
//! Owns the estimator's arithmetic; must not touch tensors or runs (it takes plain numbers).

/// The unbiased estimates `(|G|², tr(Σ))` from one pair of squared gradient norms: `small` is
/// `|g_b|²` at batch size `small_batch`, `big` is `|g_B|²` at `big_batch` (`small_batch <
/// big_batch`). Either may come out negative for one noisy pair.
///
/// # Panics
/// If `small_batch >= big_batch` or `small_batch == 0`.
pub fn unbiased_estimates(
    small_batch: usize,
    small: f64,
    big_batch: usize,
    big: f64,
) -> (f64, f64) {
    assert!(
        0 < small_batch && small_batch < big_batch,
        "need 0 < small batch < big batch"
    );
    let (b, bb) = (small_batch as f64, big_batch as f64);
    let gradient_sq = (bb * big - b * small) / (bb - b);
    let trace = (small - big) / (1.0 / b - 1.0 / bb);
    (gradient_sq, trace)
}

/// Moving averages of `|G|²` and `tr(Σ)`, and the noise scale they give (kept in a run's
/// checkpoint, [`crate::checkpoint::RunCheckpoint`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NoiseScale {
    /// Weight of the old average at each observation, in [0, 1).
    decay: f64,
    gradient_sq: Option<f64>,
    trace: Option<f64>,
}

impl NoiseScale {
    /// No observation yet; `decay` is the weight kept by the old averages at each observation
    /// (0: only the latest counts).
    ///
    /// # Panics
    /// If `decay` is not in [0, 1).
    pub fn new(decay: f64) -> Self {
        assert!((0.0..1.0).contains(&decay), "decay must be in [0, 1)");
        Self {
            decay,
            gradient_sq: None,
            trace: None,
        }
    }

    /// Adds one pair of squared gradient norms (see [`unbiased_estimates`]). Non-finite values
    /// are ignored.
    pub fn observe(&mut self, small_batch: usize, small: f64, big_batch: usize, big: f64) {
        if !(small.is_finite() && big.is_finite()) {
            return;
        }
        let (gradient_sq, trace) = unbiased_estimates(small_batch, small, big_batch, big);
        let average = |old: Option<f64>, new: f64| match old {
            Some(old) => self.decay * old + (1.0 - self.decay) * new,
            None => new,
        };
        self.gradient_sq = Some(average(self.gradient_sq, gradient_sq));
        self.trace = Some(average(self.trace, trace));
    }

    /// `B_simple = tr(Σ) / |G|²` in samples, from the averages; `None` before any observation
    /// or while an average is not positive (too noisy to tell).
    pub fn estimate(&self) -> Option<f64> {
        match (self.trace, self.gradient_sq) {
            (Some(trace), Some(gradient_sq)) if trace > 0.0 && gradient_sq > 0.0 => {
                Some(trace / gradient_sq)
            }
            _ => None,
        }
    }
}
