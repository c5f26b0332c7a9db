//! The critical batch size: the fit of S(B) = S_min (1 + B_crit / B) recovers a known B_crit
//! from synthetic points, with and without noise, and says when the points cannot place it.

#![cfg(not(target_arch = "wasm32"))]

use batchlab::scaling::{Verdict, fit};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Steps to target on the curve S_min (1 + B_crit / B), rounded to whole steps.
fn curve(s_min: f64, b_crit: f64, sizes: &[usize]) -> Vec<(usize, usize)> {
    sizes
        .iter()
        .map(|&b| (b, (s_min * (1.0 + b_crit / b as f64)).round() as usize))
        .collect()
}

const SIZES: [usize; 8] = [1, 4, 16, 64, 256, 1024, 4096, 16384];

#[test]
fn the_fit_recovers_a_known_critical_batch_size() {
    for b_crit in [30.0, 500.0, 2000.0] {
        let f = fit(&curve(200.0, b_crit, &SIZES));
        assert_eq!(f.verdict, Verdict::Fitted);
        let got = f.critical_batch.unwrap();
        assert!((got / b_crit - 1.0).abs() < 0.01, "B_crit {b_crit}: fitted {got}");
        assert!((f.min_steps.unwrap() / 200.0 - 1.0).abs() < 0.01, "{f:?}");
        assert!(f.rms_relative_error.unwrap() < 0.01, "{f:?}");
        // The fitted curve passes through the points.
        let s = f.steps_at(64.0).unwrap();
        assert!((s / (200.0 * (1.0 + b_crit / 64.0)) - 1.0).abs() < 0.01);
    }
}

#[test]
fn the_fit_recovers_it_within_5_percent_from_noisy_points() {
    // ±3 % multiplicative noise on every point, 3 seeds per batch size (as `seeds=3` gives).
    let mut rng = StdRng::seed_from_u64(5);
    let mut points = Vec::new();
    for _ in 0..3 {
        for (b, s) in curve(150.0, 400.0, &SIZES) {
            let noise = 1.0 + rng.random_range(-0.03..0.03);
            points.push((b, (s as f64 * noise).round() as usize));
        }
    }
    let f = fit(&points);
    let got = f.critical_batch.unwrap();
    assert!((got / 400.0 - 1.0).abs() < 0.05, "fitted {got}: {f:?}");
}

#[test]
fn points_it_cannot_place_it_with_are_said_to_be_so() {
    // Perfect scaling everywhere (S ∝ 1/B): B_crit lies above every batch size measured.
    let perfect: Vec<(usize, usize)> = [1, 2, 4, 8].iter().map(|&b| (b, 8000 / b)).collect();
    let f = fit(&perfect);
    assert_eq!(f.verdict, Verdict::AboveRange, "{f:?}");
    assert_eq!(f.critical_batch, None);
    // Steps that rise with the batch size: below every batch size measured.
    let f = fit(&[(64, 100), (256, 120), (1024, 150)]);
    assert_eq!(f.verdict, Verdict::BelowRange, "{f:?}");
    // Two batch sizes (or one given twice) are too few; 0 steps is no point.
    assert_eq!(fit(&[(1, 1000), (8, 200)]).verdict, Verdict::TooFewPoints);
    assert_eq!(
        fit(&[(1, 1000), (8, 200), (8, 210), (64, 0)]).verdict,
        Verdict::TooFewPoints
    );
}

/// The grid choice on a synthetic objective with a known optimum: steps to target as a
/// function of the learning rate, a bowl in log(lr) around 0.05, too-large rates diverging.
#[test]
fn the_grid_choice_finds_a_known_optimum_and_keeps_infeasible_trials() {
    use batchlab::tuning::{LrGrid, Trial, TrialOutcome, choose};
    let grid = LrGrid { min: 1e-4, max: 10.0, count: 11 };
    let trials: Vec<Trial> = grid
        .rates()
        .into_iter()
        .map(|lr| {
            let distance = (lr / 0.05).log10();
            let steps = (300.0 * (1.0 + 4.0 * distance * distance)) as usize;
            let (outcome, target_steps) = if lr > 2.0 {
                (TrialOutcome::Diverged, None)
            } else if steps > 2_000 {
                (TrialOutcome::NotReached, None)
            } else {
                (TrialOutcome::Reached, Some(steps))
            };
            Trial {
                learning_rate: lr,
                outcome,
                target_steps,
                val_loss: (outcome != TrialOutcome::Diverged).then_some(0.1 + distance.abs()),
                val_accuracy: None,
                epochs: 1,
                train_seconds: 1.0,
            }
        })
        .collect();
    let (rate, reason) = choose(&trials).unwrap();
    // The grid point nearest 0.05 on a log scale: 0.0316 (the grid steps by 10^0.5).
    assert!((rate.log10() - 0.05f64.log10()).abs() <= 0.25, "{rate} ({reason})");
    assert!(reason.contains("fewest steps"), "{reason}");
    assert_eq!(trials.iter().filter(|t| t.outcome == TrialOutcome::Diverged).count(), 2);
    // None reached: the lowest validation loss; all diverged: no choice.
    let unreached: Vec<Trial> = trials
        .iter()
        .cloned()
        .map(|t| Trial { outcome: if t.outcome == TrialOutcome::Reached { TrialOutcome::NotReached } else { t.outcome }, target_steps: None, ..t })
        .collect();
    let (rate, reason) = choose(&unreached).unwrap();
    assert!((rate.log10() - 0.05f64.log10()).abs() <= 0.25, "{rate}");
    assert!(reason.starts_with("had the lowest validation loss"), "{reason}");
    let diverged: Vec<Trial> = trials
        .iter()
        .cloned()
        .map(|t| Trial { outcome: TrialOutcome::Diverged, ..t })
        .collect();
    assert_eq!(choose(&diverged), None);
}

#[test]
fn the_regimes_follow_the_critical_batch_size() {
    use batchlab::scaling::{Regime, regime};
    assert_eq!(regime(10.0, 300.0), Regime::PerfectScaling);
    assert_eq!(regime(100.0, 300.0), Regime::PerfectScaling);
    assert_eq!(regime(101.0, 300.0), Regime::DiminishingReturns);
    assert_eq!(regime(899.0, 300.0), Regime::DiminishingReturns);
    assert_eq!(regime(900.0, 300.0), Regime::MaximalDataParallelism);
}
