//! In the browser (`wasm-pack test --headless --chrome`): LeNet-5 trains on WebGPU and the loss
//! goes down. Uses real MNIST images: the first 512 of the test set, uncompressed, embedded at
//! compile time (`tests/fixtures/`; `tests/data.rs` checks them against `www/data/`).
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use batchlab::data::Split;
use batchlab::settings::{Optimizer, Settings};
use batchlab::record::EpochRecord;
use batchlab::train::{Run, RunConfig, RunEvent};
use burn::tensor::Device;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Advances `run` until it ends and returns its per-epoch records.
async fn train_to_the_end(run: &mut Run, train: &Split, test: &Split) -> Vec<EpochRecord> {
    let mut records = Vec::new();
    while !run.is_finished() {
        if let RunEvent::Epoch(r, _) = run
            .advance(train, &Split::empty(), test, Duration::from_millis(500))
            .await
            .unwrap()
        {
            records.push(r);
        }
    }
    records
}

#[wasm_bindgen_test]
async fn lenet5_trains_on_webgpu_and_the_loss_goes_down() {
    let device = Device::wgpu_options()
        .init_async()
        .await
        .expect("WebGPU is available (run Chromium with the flags in webdriver.json)");
    let images = include_bytes!("fixtures/t10k-images-first512-idx3-ubyte");
    let labels = include_bytes!("fixtures/t10k-labels-first512-idx1-ubyte");
    let all = Split::from_idx(images, "t10k-images", labels, "t10k-labels").unwrap();
    let train = all.range(0..384);
    let test = all.range(384..512);
    // 384 images at batch 32: 12 Adam steps per epoch, two epochs.
    let settings = Settings {
        epochs: 2,
        learning_rate: 0.003,
        optimizer: Optimizer::Adam,
        seed: 5,
        train_size: 384,
        ..Settings::default()
    };
    let mut run = Run::new(RunConfig::new(&settings, 32), &device);
    let records = train_to_the_end(&mut run, &train, &test).await;
    assert_eq!(records.len(), 2);
    let (first, second) = (&records[0], &records[1]);
    web_sys::console::log_1(&format!("{first:?}\n{second:?}").into());
    assert_eq!(second.steps, 24);
    assert!(
        first.train_loss.is_finite() && first.train_loss < 2.4,
        "{first:?}"
    );
    assert!(
        second.train_loss < first.train_loss * 0.8,
        "{first:?} {second:?}"
    );
    assert!(second.test_accuracy > 0.3, "{second:?}");
    // The gradient-noise probe ran on WebGPU after each epoch.
    assert!(
        run.summary().noise_scale.is_some_and(f64::is_finite),
        "{:?}",
        run.summary()
    );

    // The full batch (all 384 images) as one step over gradients accumulated across three
    // micro-batches of 128, on WebGPU: no validation error, and the loss falls.
    let settings = Settings {
        epochs: 3,
        learning_rate: 0.003,
        ..settings
    };
    let mut run = Run::new(RunConfig::new(&settings, 384), &device).with_micro_batch(128);
    let records = train_to_the_end(&mut run, &train, &test).await;
    web_sys::console::log_1(&format!("{records:?}").into());
    assert_eq!(
        records.iter().map(|r| r.steps).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(records[2].train_loss < records[0].train_loss, "{records:?}");
}

/// On wasm32 `usize` is 32 bits: a forged count of 2^28 images makes `16 + count * 784` wrap
/// to exactly 16 there. The parser must still see a truncated file, not an empty valid one.
#[wasm_bindgen_test]
fn a_forged_count_that_wraps_32_bit_arithmetic_is_refused() {
    let mut header = Vec::new();
    for v in [2051u32, 1 << 28, 28, 28] {
        header.extend(v.to_be_bytes());
    }
    let err = batchlab::data::parse_images(&header, "forged").unwrap_err();
    assert_eq!(
        err,
        batchlab::data::DataError::Truncated {
            file: "forged".into(),
            count: 1 << 28,
            expected: 16 + (1u64 << 28) * 784,
            actual: 16
        }
    );
}
