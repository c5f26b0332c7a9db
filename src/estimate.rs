//! How long a sweep will take on this device, from a short measured warm-up: a few training
//! steps at each batch size (at most the micro-batch size: larger batches run as micro-batches),
//! timed after a first step that pays shader compilation.

use std::collections::BTreeMap;
use std::time::Duration;

use burn::tensor::Device;
use serde::Serialize;
use web_time::Instant;

use crate::data::Split;
use crate::settings::Settings;
use crate::train::{PROBE_BIG_BATCH, PROBE_SMALL_BATCH, Run, RunConfig, RunEvent, TrainError};

/// Measured training time per batch size is at least this long (after the warm-up step).
pub const MEASURE_SECONDS: f64 = 0.3;
/// Evaluation (a forward pass) is taken to cost a third of a training step per image (forward
/// plus a backward pass of about twice its cost).
pub const EVAL_SPEEDUP: f64 = 3.0;

/// The estimate for one run (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEstimate {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// Measured training throughput (samples/s) at `min(batch size, micro-batch size)`.
    pub samples_per_second: f64,
    /// Seconds for every epoch (training, probe and evaluation), capped by the time budget.
    pub seconds: f64,
}

/// The estimate for a sweep (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepEstimate {
    /// One per batch size, in the sweep's order.
    pub runs: Vec<RunEstimate>,
    /// Their sum, in seconds.
    pub total_seconds: f64,
    /// Whether runs may end sooner (they end at the target): the total is then an upper bound.
    pub at_most: bool,
    /// Seconds the warm-up measurement itself took.
    pub measured_in_seconds: f64,
}

/// Trains a few steps at `batch_size` on `train` and returns the samples/s of the steps after
/// the first (which compiles shaders), over at least [`MEASURE_SECONDS`] or the whole epoch.
async fn measure(
    settings: &Settings,
    batch_size: usize,
    micro_batch: usize,
    train: &Split,
    device: &Device,
) -> Result<f64, TrainError> {
    let mut config = RunConfig::new(settings, batch_size);
    config.epochs = 1;
    let mut run = Run::new(config, device).with_micro_batch(micro_batch);
    let budget = Duration::from_secs_f64(MEASURE_SECONDS / 2.0);
    // One step first: shader compilation, buffer allocation.
    let mut counted_from = match run.advance(train, train, Duration::ZERO).await? {
        RunEvent::Progress(p) if p.phase == "train" && p.done < p.total => p.done,
        _ => return Ok(0.0),
    };
    let start = Instant::now();
    let mut samples = 0;
    while start.elapsed().as_secs_f64() < MEASURE_SECONDS {
        match run.advance(train, train, budget).await? {
            RunEvent::Progress(p) if p.phase == "train" => {
                samples += p.done - counted_from;
                counted_from = p.done;
                if p.done == p.total {
                    break;
                }
            }
            _ => break,
        }
    }
    Ok(samples as f64 / start.elapsed().as_secs_f64().max(1e-9))
}

/// Measures training throughput at every batch size of `settings` (each at most `micro_batch`)
/// on `train` (the sweep's training images) and estimates the sweep's duration: per run,
/// `epochs × (train_size / throughput + probe + test_size / (3 × throughput))`, the training
/// part capped by the time budget per run.
///
/// # Errors
/// [`TrainError`] when the device fails.
pub async fn estimate(
    settings: &Settings,
    micro_batch: usize,
    train: &Split,
    device: &Device,
) -> Result<SweepEstimate, TrainError> {
    let start = Instant::now();
    let mut measured: BTreeMap<usize, f64> = BTreeMap::new();
    let sizes = settings
        .batch_sizes
        .iter()
        .map(|&b| b.min(micro_batch))
        .chain([PROBE_SMALL_BATCH.min(micro_batch).min(train.len())]);
    for size in sizes {
        if !measured.contains_key(&size) {
            let rate = measure(settings, size, micro_batch, train, device).await?;
            measured.insert(size, rate);
        }
    }
    let rate = |b: usize| measured.get(&b.min(micro_batch)).copied().unwrap_or(0.0);
    let fastest = measured.values().copied().fold(0.0, f64::max).max(1e-9);
    let probe_rate = rate(PROBE_SMALL_BATCH.min(train.len())).max(1e-9);
    let probe_seconds = PROBE_BIG_BATCH.min(train.len()) as f64 / probe_rate;
    let eval_seconds = settings.test_size as f64 / (EVAL_SPEEDUP * fastest);
    let runs: Vec<RunEstimate> = settings
        .batch_sizes
        .iter()
        .map(|&b| {
            let samples_per_second = rate(b);
            let epochs = settings.epochs as f64;
            let mut training = epochs * settings.train_size as f64 / samples_per_second.max(1e-9);
            let mut epochs_run = epochs;
            if settings.run_budget_seconds > 0.0 && training > settings.run_budget_seconds {
                epochs_run = (epochs * settings.run_budget_seconds / training).ceil();
                training = settings.run_budget_seconds;
            }
            RunEstimate {
                batch_size: b,
                samples_per_second,
                seconds: training + epochs_run * (probe_seconds + eval_seconds),
            }
        })
        .collect();
    Ok(SweepEstimate {
        total_seconds: runs.iter().map(|r| r.seconds).sum(),
        runs,
        at_most: settings.end_at_target,
        measured_in_seconds: start.elapsed().as_secs_f64(),
    })
}
