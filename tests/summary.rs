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
        seed: None,
        series: None,
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
            | SweepEvent::RunResumed { .. }
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
    // Reached at a validation check within that epoch (log-spaced, 8 per doubling of the
    // steps), not only at its end: the check's steps, samples and seconds.
    let steps = run.target_steps.unwrap();
    assert!(steps > 63 * (epoch - 1) && steps <= 63 * epoch, "{run:?}");
    let check = run.evals.iter().find(|p| p.steps == steps).expect("a check at the target");
    assert!(check.val_accuracy >= 0.6, "{check:?}");
    assert!(run.evals.iter().filter(|p| p.steps < steps).all(|p| p.val_accuracy < 0.6), "{run:?}");
    assert_eq!(run.target_samples, Some(check.samples));
    assert_eq!(run.target_seconds, Some(check.train_seconds));
    // The checks are 9 % apart from step 32 (one per doubling before), and each epoch's end is
    // one (all 500 images).
    let steps_checked: Vec<usize> = run.evals.iter().map(|p| p.steps).collect();
    assert!(steps_checked.windows(2).all(|w| w[1] > w[0]), "{steps_checked:?}");
    assert_eq!(&steps_checked[..6], &[1, 2, 4, 8, 16, 32], "{steps_checked:?}");
    assert!(steps_checked.windows(2).filter(|w| w[0] >= 32).all(|w| w[1] as f64 <= 1.1 * w[0] as f64 + 1.0), "{steps_checked:?}");
    assert!(run.evals.iter().any(|p| p.steps == 63 && p.images == 500), "{steps_checked:?}");
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
    // Quick look's naive setting at batch size 1 on its 10,000 images: the loss explodes in the first epoch (to
    // 10²² on 10,000 images) and would fall back to chance; the bound ends the run there.
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![1],
        epochs: 1,
        learning_rate: 0.1,
        optimizer: Optimizer::Sgd,
        train_size: 10_000,
        test_size: 100,
        val_size: 100,
        ..Settings::default()
    };
    let [run] = summaries(settings).try_into().unwrap();
    eprintln!("{:?} {:?} {:?}", run.status, run.diverged_loss, run.steps);
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

#[test]
fn checks_within_epochs_change_no_record_and_evalpoints_0_checks_at_epoch_ends_only() {
    let _serial = common::serial();
    let base = Settings {
        batch_sizes: vec![32],
        epochs: 2,
        train_size: 1_000,
        test_size: 200,
        val_size: 300,
        target: 0.7,
        ..Settings::default()
    };
    let records = |settings: Settings| {
        let data = common::mnist();
        let mut sweep = Sweep::new(settings, &data, Device::flex()).unwrap();
        let (mut records, mut last) = (Vec::new(), None);
        loop {
            match block_on(sweep.advance(Duration::from_millis(50))).unwrap() {
                SweepEvent::Epoch { record, summary } => {
                    records.push(record);
                    last = Some(summary);
                }
                SweepEvent::Done => return (records, last.unwrap()),
                _ => {}
            }
        }
    };
    let (checked, with) = records(base.clone());
    let (plain, without) = records(Settings { eval_points: 0, ..base });
    // Evaluation changes nothing of training: every record is the same, to the bit (times aside).
    let strip = |r: &EpochRecord| EpochRecord { train_seconds: 0.0, samples_per_second: 0.0, ..r.clone() };
    assert_eq!(checked.iter().map(strip).collect::<Vec<_>>(), plain.iter().map(strip).collect::<Vec<_>>());
    // Checks at steps 1, 2, 4, 8, 16, then 35, 39, … 59, and the two epochs' ends (32 and 64).
    assert_eq!(with.evals.iter().map(|p| p.steps).take(6).collect::<Vec<_>>(), vec![1, 2, 4, 8, 16, 32]);
    assert!(with.evals.len() >= 13, "{:?}", with.evals);
    assert_eq!(without.evals.iter().map(|p| p.steps).collect::<Vec<_>>(), vec![32, 64]);
    // Without checks the target is known only at an epoch's end.
    assert!(without.target_steps.is_none_or(|s| s % 32 == 0), "{without:?}");
}

#[test]
fn the_check_schedule_is_log_spaced() {
    use batchlab::train::next_eval_step;
    let mut steps = vec![];
    let mut s = 0;
    while let Some(next) = next_eval_step(s, 8) {
        if next > 50_000 {
            break;
        }
        steps.push(next);
        s = next;
    }
    // One per doubling up to 16, then from step 32 on 8 per doubling (below 32 that would be
    // nearly every step): 1, 2, 4, 8, 16, 32, 35, 39, 42, …
    assert_eq!(&steps[..9], &[1, 2, 4, 8, 16, 32, 35, 39, 42]);
    // 5 + 8 per doubling: 5 + ~8 × log2(50,000 / 32) ≈ 90.
    assert!((87..=94).contains(&steps.len()), "{}: {steps:?}", steps.len());
    // From 32 on: 2^(1/8) ≈ 1.0905 apart, plus at most a step of rounding up; 10 % apart at
    // most from 100.
    let dense: Vec<usize> = steps.iter().copied().filter(|&s| s >= 32).collect();
    assert!(dense.windows(2).all(|w| (w[1] as f64) <= 1.0906 * w[0] as f64 + 1.0), "{steps:?}");
    assert!(steps.windows(2).filter(|w| w[0] >= 100).all(|w| (w[1] as f64) / (w[0] as f64) < 1.1));
    assert_eq!(next_eval_step(100, 0), None);
}
