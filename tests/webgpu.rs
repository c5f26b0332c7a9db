//! In the browser (`wasm-pack test --headless --chrome`): LeNet-5 trains on WebGPU and the loss
//! goes down. Uses real MNIST test images, embedded at compile time.
#![cfg(target_arch = "wasm32")]

use std::io::Read;
use std::time::Duration;

use batchlab::data::Split;
use batchlab::train::{Run, RunEvent};
use batchlab::settings::Optimizer;
use burn::tensor::Device;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut bytes).unwrap();
    bytes
}

#[wasm_bindgen_test]
async fn lenet5_trains_on_webgpu_and_the_loss_goes_down() {
    let device = Device::wgpu_options()
        .init_async()
        .await
        .expect("WebGPU is available (run Chromium with the flags in webdriver.json)");
    let images = gunzip(include_bytes!("../www/data/t10k-images-idx3-ubyte.gz"));
    let labels = gunzip(include_bytes!("../www/data/t10k-labels-idx1-ubyte.gz"));
    let all = Split::from_idx(&images, "t10k-images", &labels, "t10k-labels").unwrap();
    let train = all.take(384);
    let test = all.take(200);
    // 384 images at batch 32: 12 Adam steps per epoch, two epochs.
    let mut run = Run::new(32, 2, 0.003, Optimizer::Adam, 5, &device);
    let mut records = Vec::new();
    while !run.is_finished() {
        if let RunEvent::Epoch(r) = run.advance(&train, &test, Duration::from_millis(500)).await.unwrap() {
            records.push(r);
        }
    }
    assert_eq!(records.len(), 2);
    let (first, second) = (&records[0], &records[1]);
    web_sys::console::log_1(&format!("{first:?}\n{second:?}").into());
    assert_eq!(second.steps, 24);
    assert!(first.train_loss.is_finite() && first.train_loss < 2.4, "{first:?}");
    assert!(second.train_loss < first.train_loss * 0.8, "{first:?} {second:?}");
    assert!(second.test_accuracy > 0.3, "{second:?}");
}
