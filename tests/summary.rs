//! Target bookkeeping: the first epoch at or above the target, with its steps, samples and
//! seconds; best and final accuracy; how a run ended — in the summary alone and in a real run.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use batchlab::experiment::{Sweep, SweepEvent};
use batchlab::settings::{LrPolicy, Model, Optimizer, Settings};
use batchlab::summary::{EndedBy, EvalSet, RunStatus, RunSummary};
use batchlab::record::EpochRecord;
use burn::tensor::Device;
use futures_lite::future::block_on;

fn record(epoch: usize, test_accuracy: f64) -> EpochRecord {
    EpochRecord {
        batch_size: 100,
        epoch,
        steps: 10 * epoch,
        samples: 1000 * epoch,
        train_loss: 0.1,
        train_accuracy: 0.9,
        test_loss: 0.1,
        test_accuracy,
        val_loss: None,
        val_accuracy: None,
        train_seconds: 2.0 * epoch as f64,
        samples_per_second: 500.0,
        learning_rate: 0.01,
    }
}

#[test]
fn the_first_epoch_at_the_target_is_recorded_once() {
    let mut s = RunSummary::new(
        100,
        0.01,
        Optimizer::Sgd,
        Model::Lenet5,
        LrPolicy::Fixed,
        0.98,
        EvalSet::Test,
    );
    assert!(!s.observe(&record(1, 0.95)));
    assert_eq!(s.target_epoch, None);
    assert!(s.observe(&record(2, 0.98))); // exactly the target counts
    assert!(!s.observe(&record(3, 0.99)));
    assert!(!s.observe(&record(4, 0.97)));
    assert_eq!(
        (
            s.target_epoch,
            s.target_steps,
            s.target_samples,
            s.target_seconds
        ),
        (Some(2), Some(20), Some(2000), Some(4.0))
    );
    assert_eq!(
        (s.best_test_accuracy, s.final_test_accuracy),
        (Some(0.99), Some(0.97))
    );
    assert_eq!((s.epochs, s.steps, s.samples), (4, 40, 4000));
    assert!((s.samples_per_second - 500.0).abs() < 1e-9);
    assert_eq!((s.status, s.ended_by), (RunStatus::Running, None));
    s.end(EndedBy::Epochs);
    assert_eq!(
        (s.status, s.ended_by),
        (RunStatus::Done, Some(EndedBy::Epochs))
    );
}

/// The summaries a sweep ends with.
fn summaries(settings: Settings) -> Vec<RunSummary> {
    let data = common::mnist();
    let mut sweep = Sweep::new(settings, &data, Device::flex()).unwrap();
    let mut last = Vec::<RunSummary>::new();
    loop {
        match block_on(sweep.advance(Duration::from_millis(50))).unwrap() {
            SweepEvent::RunStarted { summary } => last.push(summary),
            SweepEvent::Epoch { summary, .. } | SweepEvent::Diverged { summary, .. } => {
                // A tuned batch size whose every trial diverged ends without having started.
                match last.iter_mut().find(|r| r.batch_size == summary.batch_size) {
                    Some(run) => *run = summary,
                    None => last.push(summary),
                }
            }
            SweepEvent::Done => return last,
            SweepEvent::Progress { .. }
            | SweepEvent::TrialStarted { .. }
            | SweepEvent::Trial { .. } => {}
        }
    }
}

#[test]
fn a_run_ends_at_the_target_when_asked_and_records_when() {
    let _serial = common::serial();
    // 60 % is reached within an epoch or two on 2,000 images.
    let settings = Settings {
        batch_sizes: vec![32],
        epochs: 6,
        train_size: 2_000,
        test_size: 500,
        val_size: 500,
        target: 0.6,
        end_at_target: true,
        ..Settings::default()
    };
    let [run] = summaries(settings).try_into().unwrap();
    let epoch = run.target_epoch.expect("60 % is reached");
    assert!(epoch < 6, "{run:?}");
    assert_eq!(run.epochs, epoch, "the run ended at that epoch");
    assert_eq!(
        (run.status, run.ended_by),
        (RunStatus::Done, Some(EndedBy::Target))
    );
    assert_eq!(run.target_steps, Some(63 * epoch));
    assert_eq!(run.target_samples, Some(2_000 * epoch));
    // The target is measured on the validation images; the test set is reported.
    assert_eq!(run.target_on, EvalSet::Validation);
    assert!(run.final_val_accuracy.unwrap() >= 0.6, "{run:?}");
    assert!(run.final_test_accuracy.is_some());
    assert!(
        run.noise_scale.is_some_and(|b| b > 0.0 && b.is_finite()),
        "{run:?}"
    );
}

#[test]
fn an_unreachable_target_is_not_reached_and_a_time_budget_ends_a_run() {
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![16, 1000],
        epochs: 50,
        train_size: 1_000,
        test_size: 200,
        val_size: 200,
        target: 1.0,
        end_at_target: true,
        run_budget_seconds: 0.5,
        ..Settings::default()
    };
    for run in summaries(settings) {
        assert_eq!(run.target_epoch, None, "{run:?}");
        assert_eq!(run.ended_by, Some(EndedBy::TimeBudget), "{run:?}");
        assert!(run.epochs < 50 && run.train_seconds >= 0.5, "{run:?}");
    }
}

#[test]
fn a_diverged_run_is_summarised_as_diverged() {
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![32],
        epochs: 2,
        learning_rate: 1e6,
        optimizer: Optimizer::Sgd,
        train_size: 640,
        test_size: 100,
        val_size: 100,
        ..Settings::default()
    };
    let [run] = summaries(settings).try_into().unwrap();
    assert_eq!(
        (run.status, run.ended_by),
        (RunStatus::Diverged, Some(EndedBy::Diverged))
    );
    assert_eq!(run.diverged_epoch, Some(1));
    assert_eq!(run.target_epoch, None);
}

#[test]
fn a_loss_past_ten_times_chance_or_not_finite_is_divergence() {
    use batchlab::summary::{DIVERGENCE_LOSS, is_diverged};
    assert!((DIVERGENCE_LOSS - 23.0259).abs() < 1e-4);
    for loss in [0.0, 2.3026, 10.0, 23.02] {
        assert!(!is_diverged(loss), "{loss}");
    }
    for loss in [23.03, 100.0, 3.9e22, f64::INFINITY, f64::NAN] {
        assert!(is_diverged(loss), "{loss}");
    }
}

#[test]
fn plain_sgd_at_0_1_and_batch_size_1_diverges_by_the_bound() {
    // Quick look's naive setting at batch size 1: the loss explodes in the first epoch (to
    // 10²² on 10,000 images) and would fall back to chance; the bound ends the run there.
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![1],
        epochs: 1,
        learning_rate: 0.1,
        optimizer: Optimizer::Sgd,
        train_size: 3_000,
        test_size: 100,
        val_size: 100,
        ..Settings::default()
    };
    let [run] = summaries(settings).try_into().unwrap();
    eprintln!("{run:?}");
    assert_eq!(run.status, RunStatus::Diverged, "{run:?}");
    assert_eq!(run.diverged_epoch, Some(1));
    assert!(run.diverged_loss.is_none_or(|l| l > 23.0), "{run:?}");
}

#[test]
fn a_tuned_sweep_tries_each_rate_and_trains_at_the_one_that_did_best_on_validation() {
    use batchlab::settings::LrGrid;
    use batchlab::tuning::TrialOutcome;
    let _serial = common::serial();
    // Plain SGD on 2,000 images, rates 0.01, 0.1, 1 and 10: 10 diverges at both batch sizes
    // (1 too at batch size 16); at 16, 0.1 reaches 60 % in one epoch; at 64 none does.
    let settings = Settings {
        batch_sizes: vec![16, 64],
        epochs: 2,
        optimizer: Optimizer::Sgd,
        lr_policy: LrPolicy::Tuned,
        lr_grid: Some(LrGrid {
            min: 0.01,
            max: 10.0,
            count: 4,
        }),
        lr_trial_epochs: 1,
        train_size: 2_000,
        test_size: 200,
        val_size: 500,
        target: 0.6,
        ..Settings::default()
    };
    let runs = summaries(settings);
    assert_eq!(runs.len(), 2);
    for run in &runs {
        let tuning = run.tuning.as_ref().expect("a tuned run carries its tuning");
        let rates: Vec<f64> = tuning.trials.iter().map(|t| t.learning_rate).collect();
        assert_eq!(rates.len(), 4, "{run:?}");
        assert_eq!(rates, [0.01, 0.1, 1.0, 10.0], "the grid's rates, as written");
        // Diverged trials are kept, as infeasible.
        assert_eq!(tuning.trials[3].outcome, TrialOutcome::Diverged, "{run:?}");
        let chosen = tuning.chosen.expect("a rate is chosen");
        assert_eq!(run.learning_rate, chosen, "the run trains at the chosen rate");
        // The chosen rate reached the target in the fewest steps of the trials; none reached,
        // it had the lowest validation loss.
        let chosen_trial = tuning.trials.iter().find(|t| t.learning_rate == chosen).unwrap();
        let reached: Vec<usize> = tuning
            .trials
            .iter()
            .filter(|t| t.outcome == TrialOutcome::Reached)
            .map(|t| t.target_steps.unwrap())
            .collect();
        if let Some(&best) = reached.iter().min() {
            assert_eq!(chosen_trial.target_steps, Some(best), "{tuning:?}");
        } else {
            let lowest = tuning
                .trials
                .iter()
                .filter_map(|t| t.val_loss)
                .fold(f64::INFINITY, f64::min);
            assert_eq!(chosen_trial.val_loss, Some(lowest), "{tuning:?}");
        }
        assert_eq!((run.status, run.epochs), (RunStatus::Done, 2), "{run:?}");
        assert_eq!(run.lr_policy, LrPolicy::Tuned);
    }
}
