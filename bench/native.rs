//! The benchmark's native figures: the same training loop and measurement as in the browser
//! ([`batchlab::bench`]) on burn's CPU backend (`flex`), natively, on one thread.
//!
//! `cargo run --example bench -- [--quick] [--batch 1,16,64] [--train 60000] [--epoch 60000]`
//! prints one JSON object: `{ backend: "native-cpu", training: [TrainingFigures…], evaluation:
//! EvaluationFigures }`. `bench/run.sh` runs it; it reads the committed `www/data/*.gz`.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/common/mod.rs"]
mod common;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use std::collections::BTreeMap;

    use batchlab::bench::{self, BenchOptions};
    use batchlab::settings::Settings;
    use burn::tensor::Device;

    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let quick = args.iter().any(|a| a == "--quick");
    let batch_sizes: Vec<usize> = value("--batch")
        .unwrap_or_else(|| "1,16,64,256,1024,4096,60000".into())
        .split(',')
        .map(|b| b.trim().parse().expect("--batch: a list of batch sizes"))
        .collect();
    let train_size = value("--train").unwrap_or_else(|| "60000".into());
    // Batch sizes whose first epoch is run to its end (the full batch: one step per epoch).
    let epoch_sizes: Vec<usize> = value("--epoch")
        .map(|v| v.split(',').filter_map(|b| b.trim().parse().ok()).collect())
        .unwrap_or_default();

    // The committed MNIST files, read as the native tests read them.
    let mnist = common::mnist();
    let params: BTreeMap<String, String> = [
        ("batch", "64"),
        ("epochs", "1"),
        ("train", train_size.as_str()),
        ("test", "10000"),
        ("optimizer", "adam"),
        ("lr", "0.001"),
        ("seed", "42"),
        ("backend", "cpu"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let settings = Settings::from_params(&params).expect("benchmark settings are valid");
    let options = if quick {
        BenchOptions {
            warmup_seconds: 0.5,
            window_seconds: 1.0,
            windows: 3,
            limit_seconds: 20.0,
            epoch: false,
            host_batches: false,
        }
    } else {
        BenchOptions::default()
    };
    let device = Device::flex();
    let micro_batch = batchlab::backend::micro_batch(None, settings.model);
    let mut training = Vec::new();
    for &batch_size in &batch_sizes {
        let options = BenchOptions {
            epoch: epoch_sizes.contains(&batch_size),
            ..options
        };
        let figures = futures_lite::future::block_on(bench::training(
            &settings,
            batch_size,
            micro_batch,
            false,
            &mnist.train,
            &mnist.test,
            &device,
            options,
            &mut |_| {},
        ))
        .expect("the CPU backend does not fail");
        eprintln!(
            "native cpu, batch size {batch_size}: {:.0} samples/s",
            figures.samples_per_second
        );
        training.push(figures);
    }
    let evaluation = futures_lite::future::block_on(bench::evaluation(
        &settings,
        micro_batch,
        &mnist.train,
        &mnist.test,
        &device,
        options,
    ))
    .expect("the CPU backend does not fail");
    let out = serde_json::json!({
        "backend": "native-cpu",
        "threads": 1,
        "training": training,
        "evaluation": evaluation,
    });
    println!("{out}");
}
