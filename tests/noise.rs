//! The gradient-noise-scale estimator on a synthetic problem whose noise is known: per-sample
//! gradients `G + ε`, `ε ~ N(0, σ² I_d)`, so `tr(Σ) = d σ²` and `B_simple = d σ² / |G|²`.

#![cfg(not(target_arch = "wasm32"))]

use batchlab::noise::{NoiseScale, unbiased_estimates};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A standard normal sample (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let (u, v): (f64, f64) = (rng.random(), rng.random());
    (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// `|mean of b per-sample gradients|²`: the mean of `b` independent `N(0, σ²)` noises is
/// `N(0, σ²/b)`, drawn directly.
fn squared_norm_of_mean(rng: &mut StdRng, gradient: &[f64], sigma: f64, b: usize) -> f64 {
    gradient
        .iter()
        .map(|g| (g + normal(rng) * sigma / (b as f64).sqrt()).powi(2))
        .sum()
}

#[test]
fn the_estimator_recovers_a_known_noise_scale() {
    let mut rng = StdRng::seed_from_u64(7);
    let d = 200;
    // |G|² = 0.5 and σ = 1.5 in 200 dimensions: tr(Σ) = 450, B_simple = 900.
    let gradient = vec![(0.5f64 / d as f64).sqrt(); d];
    let sigma = 1.5;
    let truth = d as f64 * sigma * sigma / 0.5;
    let mut estimator = NoiseScale::new(0.99);
    for _ in 0..2000 {
        let small = squared_norm_of_mean(&mut rng, &gradient, sigma, 32);
        let big = squared_norm_of_mean(&mut rng, &gradient, sigma, 512);
        estimator.observe(32, small, 512, big);
    }
    let estimate = estimator.estimate().expect("positive averages");
    assert!(
        (estimate / truth - 1.0).abs() < 0.15,
        "estimated {estimate}, truth {truth}"
    );
}

#[test]
fn one_pair_is_unbiased_algebra() {
    // Exact expectations in, exact |G|² and tr(Σ) out: E|g_b|² = |G|² + tr/b.
    let (g2, trace) = (0.5, 450.0);
    let (small, big) = (g2 + trace / 32.0, g2 + trace / 512.0);
    let (g2_hat, trace_hat) = unbiased_estimates(32, small, 512, big);
    assert!((g2_hat - g2).abs() < 1e-9 && (trace_hat - trace).abs() < 1e-6);
}

#[test]
fn no_estimate_before_data_or_from_noise_alone() {
    let mut estimator = NoiseScale::new(0.5);
    assert_eq!(estimator.estimate(), None);
    // |g_big|² above |g_small|²: the trace estimate is negative, no noise scale to report.
    estimator.observe(32, 1.0, 512, 2.0);
    assert_eq!(estimator.estimate(), None);
    estimator.observe(32, f64::NAN, 512, 1.0); // ignored
    assert_eq!(estimator.estimate(), None);
}
