//! Target bookkeeping: the first epoch at or above the target, with its steps, samples and
//! seconds; best and final accuracy; how a run ended — in the summary alone and in a real run.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use batchlab::experiment::{Sweep, SweepEvent};
use batchlab::settings::{LrPolicy, Model, Optimizer, Settings};
use batchlab::summary::{EndedBy, RunStatus, RunSummary};
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
                let run = last.iter_mut().find(|r| r.batch_size == summary.batch_size);
                *run.unwrap() = summary;
            }
            SweepEvent::Done => return last,
            SweepEvent::Progress { .. } => {}
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
    assert!(run.final_test_accuracy.unwrap() >= 0.6);
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
