//! The benchmark's measurements (src/bench.rs) on real training, on the CPU backend: windows
//! are measured as asked, the figures agree with each other, and an epoch asked for is run to
//! its end.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use batchlab::bench::{self, BenchOptions, median};
use batchlab::settings::Settings;
use burn::tensor::Device;
use futures_lite::future::block_on;

fn settings(train: usize) -> Settings {
    let params: BTreeMap<String, String> = [
        ("batch", "8"),
        ("train", &train.to_string()),
        ("test", "500"),
        ("optimizer", "adam"),
        ("lr", "0.001"),
        ("backend", "cpu"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Settings::from_params(&params).unwrap()
}

#[test]
fn training_is_measured_in_windows_after_the_first_step() {
    let _serial = common::serial();
    let data = common::mnist();
    let options = BenchOptions {
        warmup_seconds: 0.2,
        window_seconds: 0.3,
        windows: 3,
        limit_seconds: 30.0,
        epoch: false,
        host_batches: false,
    };
    let settings = settings(2_000);
    let (mut starts, mut measured) = (0, Vec::new());
    let f = block_on(bench::training(
        &settings,
        8,
        1024,
        false,
        &data.train,
        &data.test.take(500),
        &Device::flex(),
        options,
        &mut |edge| match edge {
            bench::ChunkEdge::Start => starts += 1,
            bench::ChunkEdge::Measured(images) => measured.push(images),
        },
    ))
    .unwrap();
    assert_eq!(f.batch_size, 8);
    assert_eq!(f.windows.len(), 3, "{f:?}");
    // The chunks told as measured are the windows' images; the first chunk and the warm-up are not.
    let windowed: f64 = f
        .windows
        .iter()
        .zip(&f.window_seconds)
        .map(|(rate, s)| rate * s)
        .sum();
    let told: usize = measured.iter().sum();
    assert!(
        (told as f64 - windowed).abs() < 1e-6 * windowed,
        "{told} vs {windowed}"
    );
    assert!(
        starts > measured.len() + 1,
        "{starts} chunks started, {} measured",
        measured.len()
    );
    assert!(f.window_seconds.iter().all(|&s| s >= 0.3), "{f:?}");
    assert!(f.windows.iter().all(|&w| w > 10.0 && w < 1e6), "{f:?}");
    assert_eq!(f.samples_per_second, median(&f.windows));
    assert!((f.ms_per_step - 1000.0 * 8.0 / f.samples_per_second).abs() < 1e-9);
    assert!(
        f.first_step_seconds > 0.0 && f.first_step_seconds < f.total_seconds,
        "{f:?}"
    );
    // Warm-up and three windows of at least 0.3 s each.
    assert!(f.total_seconds >= 0.2 + 0.9, "{f:?}");
    assert_eq!((f.epoch_seconds, f.epoch_test_accuracy), (None, None));
}

#[test]
fn an_epoch_asked_for_runs_to_its_end_and_evaluation_is_timed() {
    let _serial = common::serial();
    let data = common::mnist();
    let options = BenchOptions {
        warmup_seconds: 0.0,
        window_seconds: 0.2,
        windows: 1,
        limit_seconds: 30.0,
        epoch: true,
        host_batches: false,
    };
    let settings = settings(1_000);
    let test = data.test.take(500);
    // The full batch of 1,000 images: one step per epoch, as two micro-batches of 512.
    let f = block_on(bench::training(
        &settings,
        1_000,
        512,
        false,
        &data.train,
        &test,
        &Device::flex(),
        options,
        &mut |_| {},
    ))
    .unwrap();
    let seconds = f.epoch_seconds.expect("the epoch was run to its end");
    assert!(seconds > 0.0 && seconds <= f.total_seconds, "{f:?}");
    let accuracy = f.epoch_test_accuracy.unwrap();
    assert!((0.0..=1.0).contains(&accuracy), "{f:?}");
    assert_eq!(f.micro_batch, 512);
    let e = block_on(bench::evaluation(
        &settings,
        1024,
        &data.train,
        &test,
        &Device::flex(),
        options,
    ))
    .unwrap();
    assert_eq!(e.eval_batch, 1000);
    assert!(
        !e.windows.is_empty() && e.images_per_second > 100.0,
        "{e:?}"
    );
}

#[test]
fn the_median_of_windows() {
    assert_eq!(median(&[]), 0.0);
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
}
