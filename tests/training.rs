//! Real training on a real MNIST subset, on the CPU backend: the loss falls, accuracy on held-out
//! images beats chance by far, and a seed makes a run reproducible.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use batchlab::data::Split;
use batchlab::experiment::{Sweep, SweepEvent};
use batchlab::settings::{Optimizer, Settings};
use batchlab::record::EpochRecord;
use batchlab::train::{Run, RunConfig};
use burn::module::Module;
use burn::tensor::Device;
use futures_lite::future::block_on;

/// Runs a whole sweep and returns its per-epoch records and the running losses reported.
fn sweep(settings: Settings) -> (Vec<EpochRecord>, Vec<f64>) {
    sweep_with(settings, false)
}

/// Runs a whole sweep, with the training set uploaded to the device once when `on_device`.
fn sweep_with(settings: Settings, on_device: bool) -> (Vec<EpochRecord>, Vec<f64>) {
    let data = common::mnist();
    let mut sweep = Sweep::new(settings, &data, Device::flex()).unwrap();
    if on_device {
        sweep = sweep.with_training_set_on_device();
    }
    let (mut records, mut running) = (Vec::new(), Vec::new());
    loop {
        match block_on(sweep.advance(Duration::from_millis(50))).unwrap() {
            SweepEvent::Progress { progress } => running.extend(progress.progress.running_loss),
            SweepEvent::Epoch { record, .. } => records.push(record),
            SweepEvent::Diverged {
                batch_size, epoch, ..
            } => {
                panic!("batch size {batch_size} diverged in epoch {epoch}")
            }
            SweepEvent::Done => return (records, running),
            SweepEvent::RunStarted { .. }
            | SweepEvent::RunResumed { .. }
            | SweepEvent::TrialStarted { .. }
            | SweepEvent::Trial { .. } => {}
        }
    }
}

#[test]
fn a_few_hundred_steps_lower_the_loss_and_beat_chance() {
    let _serial = common::serial();
    // 3,200 images, batch 32: 100 steps per epoch, 300 steps in all.
    let (records, _) = sweep(Settings {
        batch_sizes: vec![32],
        epochs: 3,
        learning_rate: 0.001,
        optimizer: Optimizer::Adam,
        seed: 1,
        train_size: 3_200,
        test_size: 1_000,
        val_size: 1_000,
        ..Settings::default()
    });
    assert_eq!(records.len(), 3);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.batch_size, 32);
        assert_eq!(r.epoch, i + 1);
        assert_eq!(r.steps, 100 * (i + 1));
        assert_eq!(r.samples, 3_200 * (i + 1));
        assert!(r.train_seconds > 0.0 && r.samples_per_second > 0.0);
        assert!((0.0..=1.0).contains(&r.train_accuracy) && (0.0..=1.0).contains(&r.test_accuracy));
    }
    let (first, last) = (&records[0], &records[2]);
    // Chance is ln(10) = 2.30 nats and 10 % accuracy.
    assert!(first.train_loss < 2.2, "{first:?}");
    assert!(
        last.train_loss < first.train_loss * 0.6,
        "{first:?} {last:?}"
    );
    assert!(last.test_loss < first.test_loss, "{first:?} {last:?}");
    assert!(last.test_accuracy > 0.85, "{last:?}");
    // The validation images (the last 1,000 of the training file) are evaluated too, and agree
    // with the test images within a few points.
    let val = last.val_accuracy.expect("a validation accuracy");
    assert!((val - last.test_accuracy).abs() < 0.05, "{last:?}");
    assert!(last.val_loss.is_some_and(|l| l < first.val_loss.unwrap()), "{first:?} {last:?}");
    assert!(last.train_seconds > first.train_seconds);
}

#[test]
fn the_same_seed_gives_the_same_numbers_and_batch_sizes_run_in_order() {
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![64, 200],
        epochs: 1,
        learning_rate: 0.05,
        optimizer: Optimizer::Momentum,
        seed: 9,
        train_size: 1_000,
        test_size: 300,
        val_size: 300,
        race: false,
        ..Settings::default()
    };
    let (a, running) = sweep(settings.clone());
    let (b, _) = sweep(settings);
    assert_eq!(
        a.iter().map(|r| r.batch_size).collect::<Vec<_>>(),
        vec![64, 200]
    );
    // ceil(1000 / 64) = 16 steps, the last one of 40 images; 1000 / 200 = 5 steps.
    assert_eq!((a[0].steps, a[1].steps), (16, 5));
    assert!(!running.is_empty());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (x.train_loss, x.train_accuracy, x.test_loss, x.test_accuracy),
            (y.train_loss, y.train_accuracy, y.test_loss, y.test_accuracy)
        );
    }
}

/// The events of a whole sweep, in order, with the progress events' `running` lists.
fn events(settings: Settings) -> Vec<SweepEvent> {
    let data = common::mnist();
    let mut sweep = Sweep::new(settings, &data, Device::flex()).unwrap();
    let mut events = Vec::new();
    loop {
        let event = block_on(sweep.advance(Duration::from_millis(30))).unwrap();
        let done = event == SweepEvent::Done;
        events.push(event);
        if done {
            return events;
        }
    }
}

#[test]
fn side_by_side_runs_take_turns_and_train_exactly_as_one_after_another() {
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![8, 64, 500],
        epochs: 2,
        learning_rate: 0.05,
        optimizer: Optimizer::Sgd,
        seed: 5,
        train_size: 1_000,
        test_size: 200,
        val_size: 200,
        race: true,
        ..Settings::default()
    };
    let raced = events(settings.clone());
    let one_by_one = events(Settings {
        race: false,
        ..settings
    });
    let records = |events: &[SweepEvent]| {
        let mut records: Vec<EpochRecord> = events
            .iter()
            .filter_map(|e| match e {
                SweepEvent::Epoch { record, .. } => Some(record.clone()),
                _ => None,
            })
            .collect();
        records.sort_by_key(|r| (r.batch_size, r.epoch));
        records
    };
    // Every run starts before any epoch ends (each after the one before has had its first
    // chunk, which draws its weights); one after another, a run starts after the last one's
    // epochs.
    let started_before_an_epoch = |events: &[SweepEvent]| {
        events
            .iter()
            .take_while(|e| !matches!(e, SweepEvent::Epoch { .. }))
            .filter(|e| matches!(e, SweepEvent::RunStarted { .. }))
            .count()
    };
    assert_eq!(started_before_an_epoch(&raced), 3);
    assert_eq!(started_before_an_epoch(&one_by_one), 1);
    // Side by side, progress names every run under way, and the batch sizes take turns: each
    // run's progress is reported before any run finishes its first epoch.
    let first_epoch = raced
        .iter()
        .position(|e| matches!(e, SweepEvent::Epoch { .. }))
        .unwrap();
    let mut advanced: Vec<usize> = raced[..first_epoch]
        .iter()
        .filter_map(|e| match e {
            SweepEvent::Progress { progress } => Some(progress.progress.batch_size),
            _ => None,
        })
        .collect();
    advanced.sort_unstable();
    advanced.dedup();
    assert_eq!(advanced, vec![8, 64, 500]);
    let progress = raced
        .iter()
        .find_map(|e| match e {
            SweepEvent::Progress { progress } if progress.running.len() == 3 => Some(progress),
            _ => None,
        })
        .expect("a progress event names the three runs");
    assert_eq!(
        progress
            .running
            .iter()
            .map(|p| p.batch_size)
            .collect::<Vec<_>>(),
        vec![8, 64, 500]
    );
    let eta = raced.iter().rev().find_map(|e| match e {
        SweepEvent::Progress { progress } => progress.eta_seconds,
        _ => None,
    });
    assert!(eta.is_some_and(|s| s.is_finite() && s >= 0.0), "{eta:?}");
    // The same numbers, whatever the order: each run has its own weights, optimiser and
    // shuffle, and its training time counts only its own chunks.
    let (a, b) = (records(&raced), records(&one_by_one));
    assert_eq!(a.len(), 6);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (x.batch_size, x.epoch, x.steps, x.samples),
            (y.batch_size, y.epoch, y.steps, y.samples)
        );
        assert_eq!(
            (x.train_loss, x.train_accuracy, x.test_loss, x.test_accuracy),
            (y.train_loss, y.train_accuracy, y.test_loss, y.test_accuracy)
        );
    }
}

#[test]
fn a_batch_above_the_micro_batch_limit_is_one_step_over_accumulated_gradients() {
    let _serial = common::serial();
    // 2,500 images in one batch: three micro-batches (1024 + 1024 + 452), one optimiser step.
    let (records, _) = sweep(Settings {
        batch_sizes: vec![2_500],
        epochs: 2,
        learning_rate: 0.003,
        optimizer: Optimizer::Adam,
        seed: 3,
        train_size: 2_500,
        test_size: 500,
        val_size: 500,
        ..Settings::default()
    });
    assert_eq!((records[0].steps, records[1].steps), (1, 2));
    assert!(records[1].train_loss < records[0].train_loss, "{records:?}");
}

/// Trains one epoch of one full-batch SGD step with the given micro-batch size and returns the
/// logits of the trained model on 64 test images.
fn one_sgd_step(micro_batch: usize) -> Vec<f32> {
    let data = common::mnist();
    let (train, test) = (data.train.take(600), data.test.take(64));
    let device = Device::flex();
    let settings = Settings {
        epochs: 1,
        learning_rate: 0.5,
        optimizer: Optimizer::Sgd,
        seed: 11,
        train_size: 600,
        ..Settings::default()
    };
    let mut run = Run::new(RunConfig::new(&settings, 600), &device).with_micro_batch(micro_batch);
    while !run.is_finished() {
        block_on(run.advance(&train, &Split::empty(), &test, Duration::from_secs(10))).unwrap();
    }
    let indices: Vec<usize> = (0..64).collect();
    let batch = test.batch(&indices, &device);
    let logits = run.model().valid().forward(batch.images);
    logits.into_data().try_into_vec::<f32>().unwrap()
}

#[test]
fn accumulated_micro_batch_gradients_equal_the_single_pass_gradient() {
    let _serial = common::serial();
    // Plain SGD applies the gradient itself (Adam would hide a wrong scale), with a large
    // learning rate so that a wrong gradient shows in the weights.
    let single = one_sgd_step(600);
    let accumulated = one_sgd_step(256); // 256 + 256 + 88
    let untrained = {
        let device = Device::flex().autodiff();
        device.seed(11);
        let model = batchlab::model::LeNet5::new(&device);
        let test = common::mnist().test.take(64);
        let batch = test.batch(&(0..64).collect::<Vec<_>>(), &Device::flex());
        model
            .valid()
            .forward(batch.images)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap()
    };
    let scale = single.iter().fold(0f32, |m, v| m.max(v.abs()));
    let max_diff =
        |a: &[f32], b: &[f32]| a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(
        max_diff(&single, &accumulated) <= 1e-4 * scale,
        "accumulated differs by {} (scale {scale})",
        max_diff(&single, &accumulated)
    );
    // ... and the step did change the model (the comparison is not between two untrained models).
    assert!(max_diff(&single, &untrained) > 1e-2 * scale);
}

#[test]
fn a_huge_learning_rate_diverges_without_a_crash() {
    let _serial = common::serial();
    let data = common::mnist();
    let settings = Settings {
        batch_sizes: vec![32, 64],
        epochs: 2,
        learning_rate: 1e6,
        optimizer: Optimizer::Sgd,
        seed: 1,
        train_size: 640,
        test_size: 100,
        val_size: 100,
        ..Settings::default()
    };
    let mut sweep = Sweep::new(settings, &data, Device::flex()).unwrap();
    let mut diverged = Vec::new();
    loop {
        match block_on(sweep.advance(Duration::from_millis(20))).unwrap() {
            SweepEvent::Diverged { batch_size, .. } => diverged.push(batch_size),
            SweepEvent::Done => break,
            _ => {}
        }
    }
    // Both runs diverge, and the sweep goes on with the other after each.
    diverged.sort_unstable();
    assert_eq!(diverged, vec![32, 64]);
}

#[test]
fn batches_gathered_on_the_device_train_exactly_as_uploaded_ones() {
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![50],
        epochs: 1,
        learning_rate: 0.001,
        optimizer: Optimizer::Adam,
        seed: 4,
        train_size: 25_000, // three parts of the upload, the last one partial
        test_size: 500,
        val_size: 500,
        ..Settings::default()
    };
    let (uploaded, _) = sweep_with(settings.clone(), false);
    let (gathered, _) = sweep_with(settings, true);
    assert_eq!(uploaded.len(), 1);
    let metrics = |r: &EpochRecord| {
        (
            r.steps,
            r.train_loss,
            r.train_accuracy,
            r.test_loss,
            r.test_accuracy,
        )
    };
    assert_eq!(metrics(&uploaded[0]), metrics(&gathered[0]));
    assert!(uploaded[0].test_accuracy > 0.9, "{:?}", uploaded[0]);
}

#[test]
fn with_no_validation_set_no_validation_is_recorded() {
    let _serial = common::serial();
    let (records, _) = sweep(Settings {
        batch_sizes: vec![100],
        epochs: 1,
        train_size: 500,
        test_size: 100,
        val_size: 0,
        ..Settings::default()
    });
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].val_loss, records[0].val_accuracy), (None, None));
}
