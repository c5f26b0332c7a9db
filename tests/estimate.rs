//! The duration estimate on the CPU backend: the runs it measures are the sweep's own, so a run
//! that diverges while measured is estimated as ending there (and the sweep's run does diverge),
//! while the same batch size's runs of other seeds are estimated in full; evaluation's pace is
//! measured, not assumed. (How close the estimate comes to the sweep's duration is a figure of
//! the benchmark, `bench/estimate.mjs`, not of a test.)

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use batchlab::estimate::{estimate, measure_evaluation};
use batchlab::schedule::LrPolicy;
use batchlab::experiment::{Sweep, SweepEvent};
use batchlab::settings::{Optimizer, Settings};
use burn::tensor::Device;
use futures_lite::future::block_on;

/// Plain SGD at a rate (2) at which batch size 1 diverges within its first two steps and batch
/// size 16 does not (measured with `batchlab sweep`).
fn settings(seeds: usize) -> Settings {
    Settings {
        batch: "1,16".into(),
        batch_sizes: vec![1, 16],
        epochs: 2,
        learning_rate: 2.0,
        optimizer: Optimizer::Sgd,
        train_size: 2_000,
        val_size: 500,
        test_size: 500,
        seeds,
        ..Settings::default()
    }
}

/// The batch sizes whose runs diverged, when the sweep of `settings` is trained whole.
fn diverged(settings: Settings) -> Vec<usize> {
    let data = common::mnist();
    let mut sweep = Sweep::new(settings, &data, Device::flex()).unwrap();
    let mut diverged = Vec::new();
    loop {
        match block_on(sweep.advance(Duration::from_millis(50))).unwrap() {
            SweepEvent::Diverged { batch_size, .. } => diverged.push(batch_size),
            SweepEvent::Done => return diverged,
            _ => {}
        }
    }
}

#[test]
fn a_run_that_diverges_while_measured_is_estimated_as_ending_there() {
    let _serial = common::serial();
    let data = common::mnist();
    let settings = settings(1);
    let train = data.train.take(settings.train_size);
    let device = Device::flex();
    let e = block_on(estimate(&settings, 1024, &train, false, &device)).unwrap();
    let [one, sixteen] = &e.runs[..] else {
        panic!("one estimate per batch size: {e:?}")
    };
    assert_eq!((one.batch_size, sixteen.batch_size), (1, 16));
    assert_eq!((one.diverges, sixteen.diverges), (true, false));
    // Batch size 1 ended at its divergence (within its first steps): far less than its two
    // epochs' training at its pace (measured again at a learning rate of 0).
    let whole = 2.0 * settings.train_size as f64 / one.samples_per_second;
    assert!(
        one.seconds < whole / 4.0,
        "batch size 1 estimated at {:.2} s, its two epochs' training at {:.0} samples/s is {whole:.2} s",
        one.seconds,
        one.samples_per_second
    );
    // Batch size 16 in full: its training, and evaluation at the measured pace.
    let evaluation = 2.0 * (settings.val_size + settings.test_size) as f64
        / e.evaluation_images_per_second;
    let training = 2.0 * settings.train_size as f64 / sixteen.samples_per_second;
    assert!(e.evaluation_images_per_second.is_finite() && e.evaluation_images_per_second > 0.0);
    assert!(
        sixteen.seconds >= training + evaluation,
        "batch size 16: {:.2} s estimated, its training {training:.2} s and evaluation {evaluation:.2} s",
        sixteen.seconds
    );
    assert!((e.total_seconds - one.seconds - sixteen.seconds).abs() < 1e-9);
    drop(_serial);
    // The sweep's own run at batch size 1 diverges (and only it).
    let _serial = common::serial();
    assert_eq!(diverged(settings), vec![1]);
}

#[test]
fn other_seeds_of_a_diverging_batch_size_are_estimated_in_full() {
    let _serial = common::serial();
    let data = common::mnist();
    let train = data.train.take(2_000);
    let device = Device::flex();
    let one_seed = block_on(estimate(&settings(1), 1024, &train, false, &device)).unwrap();
    let two_seeds = block_on(estimate(&settings(2), 1024, &train, false, &device)).unwrap();
    // Seed 42's run is the one measured; seed 43's, not measured, gets two whole epochs.
    let (one, two) = (&one_seed.runs[0], &two_seeds.runs[0]);
    let full = 2.0 * 2_000.0 / two.samples_per_second;
    assert!(
        two.seconds > one.seconds + full,
        "batch size 1 with two seeds: {:.2} s, with one {:.2} s, an unmeasured run's training {full:.2} s",
        two.seconds,
        one.seconds
    );
}

#[test]
fn a_divergence_past_the_time_budget_is_not_foreseen() {
    let _serial = common::serial();
    let data = common::mnist();
    // A microsecond of training per run: every run ends after its first step, before batch
    // size 1 diverges (at its second).
    let settings = Settings {
        run_budget_seconds: 1e-6,
        ..settings(1)
    };
    let train = data.train.take(settings.train_size);
    let e = block_on(estimate(&settings, 1024, &train, false, &Device::flex())).unwrap();
    assert!(e.runs.iter().all(|r| !r.diverges), "{e:?}");
    drop(_serial);
    let _serial = common::serial();
    assert_eq!(diverged(settings), Vec::<usize>::new());
}

#[test]
fn the_fixed_arm_beside_a_tuned_one_is_the_run_measured() {
    let _serial = common::serial();
    let data = common::mnist();
    // Fair comparison's design: the tuned arm, and the source's fixed rate as the baseline.
    // The run measured (the tuned policy keeps the base rate until its trials choose one) is
    // the fixed arm's: it diverges; the tuned arm's run is estimated whole.
    let settings = Settings {
        lr_policy: LrPolicy::Tuned,
        baseline: Some(LrPolicy::Fixed),
        lr_trial_epochs: 1,
        ..settings(1)
    };
    let train = data.train.take(settings.train_size);
    let e = block_on(estimate(&settings, 1024, &train, false, &Device::flex())).unwrap();
    let one = &e.runs[0];
    assert!(one.diverges, "{e:?}");
    let tuned_training = (2 + settings.lr_grid().count) as f64 * 2_000.0 / one.samples_per_second;
    assert!(
        one.seconds > tuned_training,
        "batch size 1, both arms: {:.2} s; the tuned arm's training alone {tuned_training:.2} s",
        one.seconds
    );
}

#[test]
fn evaluation_is_measured() {
    let _serial = common::serial();
    let data = common::mnist();
    let train = data.train.take(3_000);
    let device = Device::flex();
    // Three batches of 1,000 images, the first untimed; at a rate of 2, which diverges when
    // trained on, evaluation is measured all the same (its run does not move the weights).
    let pace = block_on(measure_evaluation(&settings(1), 1024, &train, &device)).unwrap();
    let pace = pace.expect("evaluation measured");
    assert!(pace.is_finite() && pace > 10.0, "{pace} images/s");
    // With a micro-batch of 100 images: evaluation batches of 100, measured too.
    let small = block_on(measure_evaluation(&settings(1), 100, &train, &device)).unwrap();
    assert!(small.is_some_and(|p| p.is_finite() && p > 10.0), "{small:?}");
    // A single batch (its chunk untimed): not measured.
    let one = block_on(measure_evaluation(&settings(1), 1024, &train.take(500), &device)).unwrap();
    assert_eq!(one, None);
}
