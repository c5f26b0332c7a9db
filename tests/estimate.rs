//! The duration estimate on the CPU backend: the runs it measures are the sweep's own, so a run
//! that diverges while measured is estimated as ending there (and the sweep's run does diverge),
//! while the same batch size's runs of other seeds are estimated in full; evaluation's pace is
//! measured, not assumed. (How close the estimate comes to the sweep's duration is a figure of
//! the benchmark, `bench/estimate.mjs`, not of a test.)

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use batchlab::estimate::estimate;
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
    // Batch size 1 ended at its divergence: less than one epoch of its own training at the
    // pace measured, where two epochs and their evaluation would have been counted.
    let one_epoch = settings.train_size as f64 / one.samples_per_second;
    assert!(
        one.seconds < one_epoch,
        "batch size 1 estimated at {:.2} s, one epoch of its training is {one_epoch:.2} s",
        one.seconds
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
