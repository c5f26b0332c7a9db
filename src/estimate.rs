//! How long a sweep will take on this device, from a short measured warm-up: training steps at
//! each batch size (at most the micro-batch size: larger batches run as micro-batches), timed
//! after a quarter of a second of unmeasured steps that pays shader compilation.
//!
//! Owns the duration estimate; must not record results or keep a run beyond the estimate.

use std::collections::BTreeMap;
use std::time::Duration;

use burn::tensor::Device;
use serde::Serialize;
use web_time::Instant;

use crate::data::Split;
use crate::settings::Settings;
use crate::train::{PROBE_BIG_BATCH, PROBE_SMALL_BATCH, Run, RunConfig, RunEvent, TrainError};

/// Seconds of unmeasured training per batch size before the measurement.
pub const WARMUP_SECONDS: f64 = 0.25;
/// Seconds of measured training per batch size.
pub const MEASURE_SECONDS: f64 = 0.5;
/// Most seconds spent per batch size (a slow device measures fewer, longer steps).
pub const MEASURE_LIMIT_SECONDS: f64 = 30.0;
/// Evaluation (a forward pass) is taken to cost a third of a training step per image (forward
/// plus a backward pass of about twice its cost).
pub const EVAL_SPEEDUP: f64 = 3.0;

/// The estimate for one batch size: its runs of every seed and arm (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEstimate {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// Measured training throughput (samples/s) at `min(batch size, micro-batch size)`.
    pub samples_per_second: f64,
    /// Seconds for every epoch of its runs (training, probe and evaluation; every seed and arm),
    /// each run capped by the time budget.
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
    /// Whether runs may end sooner (they end at the target, or learning-rate trials do): the
    /// total is then an upper bound.
    pub at_most: bool,
    /// Seconds the warm-up measurement itself took.
    pub measured_in_seconds: f64,
}

/// Trains at `batch_size` on `train` and returns the samples/s of training steps measured for
/// [`MEASURE_SECONDS`] after [`WARMUP_SECONDS`] of unmeasured steps (the first compiles
/// shaders; the first chunks are short while the chunk size ramps up). Only training counts:
/// the run's noise probe and evaluation (of one image) between epochs are not timed.
async fn measure(
    settings: &Settings,
    batch_size: usize,
    micro_batch: usize,
    train: &Split,
    device: &Device,
) -> Result<f64, TrainError> {
    let mut config = RunConfig::new(settings, batch_size);
    // Never end during the measurement.
    config.epochs = usize::MAX;
    config.end_at_target = false;
    config.budget_seconds = 0.0;
    let mut run = Run::new(config, device).with_micro_batch(micro_batch);
    let test = train.take(1);
    let budget = Duration::from_secs_f64(MEASURE_SECONDS / 4.0);
    let start = Instant::now();
    let (mut samples, mut seconds, mut before) = (0, 0.0, 0);
    // Every training chunk, warm-up included: the fallback when a step outlasts the limit.
    let (mut all_samples, mut all_seconds) = (0, 0.0);
    while seconds < MEASURE_SECONDS && start.elapsed().as_secs_f64() < MEASURE_LIMIT_SECONDS {
        let chunk = Instant::now();
        let event = run.advance(train, &Split::empty(), &test, budget).await?;
        // A run that diverges (batch size 1 at Quick look's rate, within seconds) has ended:
        // its pace so far is the measurement.
        if run.is_finished() {
            break;
        }
        let RunEvent::Progress(p) = event else {
            continue;
        };
        if p.phase != "train" {
            continue;
        }
        let done = if p.done < before {
            p.done
        } else {
            p.done - before
        };
        before = if p.done == p.total { 0 } else { p.done };
        all_samples += done;
        all_seconds += chunk.elapsed().as_secs_f64();
        if start.elapsed().as_secs_f64() > WARMUP_SECONDS {
            samples += done;
            seconds += chunk.elapsed().as_secs_f64();
        }
    }
    Ok(if samples > 0 {
        samples as f64 / seconds.max(1e-9)
    } else {
        all_samples as f64 / all_seconds.max(1e-9)
    })
}

/// Measures training throughput at every batch size of `settings` (each at most `micro_batch`)
/// on `train` (the sweep's training images) and estimates the sweep's duration: per run,
/// `epochs × (train_size / throughput + probe + val_size / (3 × throughput))` plus
/// `test_size / (3 × throughput)` per epoch of the run itself (trials are not tested, nor
/// probed: their probe is left out),
/// the training part capped by the time budget per run, plus the validation checks within the
/// epochs (one per doubling up to step 16, then `eval_points × log2(steps / FIRST_CHECK_STEP)`,
/// each of [`crate::train::EVAL_SUBSET`] images); under `lrpolicy=tuned` the epochs include every trial's budget.
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
    // Validation after every epoch (trials' included); the test images after the run's own
    // epochs only (a learning-rate trial is judged on validation alone).
    let val_seconds = settings.val_size as f64 / (EVAL_SPEEDUP * fastest);
    let test_seconds = settings.test_size as f64 / (EVAL_SPEEDUP * fastest);
    let plan = settings.plan();
    let run_seconds = |b: usize, policy: crate::schedule::LrPolicy| {
        let samples_per_second = rate(b);
        // Under `lrpolicy=tuned`, every trial's budget too (an upper bound: a trial ends
        // with the epoch in which it reached the target).
        let trials = if policy == crate::schedule::LrPolicy::Tuned {
            settings.lr_grid().count * settings.lr_trial_epochs
        } else {
            0
        };
        let epochs = (settings.epochs + trials) as f64;
        let mut training = epochs * settings.train_size as f64 / samples_per_second.max(1e-9);
        // The share of the epochs trained within the time budget (trials first, then the run).
        let mut share = 1.0;
        if settings.run_budget_seconds > 0.0 && training > settings.run_budget_seconds {
            share = settings.run_budget_seconds / training;
            training = settings.run_budget_seconds;
        }
        let epochs_run = (epochs * share).ceil();
        // The test images after the run's own epochs only (trials come first, untested).
        let tested = (epochs_run - trials as f64).clamp(0.0, settings.epochs as f64);
        // The validation checks within the epochs: one per doubling up to step 16, then
        // `evalpoints` per doubling of the steps from `FIRST_CHECK_STEP` on, each on
        // `EVAL_SUBSET` images; every trial and the run start their schedule afresh.
        let steps_per_epoch = settings.train_size.div_ceil(b) as f64;
        let first = crate::train::FIRST_CHECK_STEP as f64;
        let checks_of = |epochs: f64| {
            let steps = epochs * steps_per_epoch;
            if settings.val_size == 0 || settings.eval_points == 0 {
                0.0
            } else if steps > first {
                5.0 + settings.eval_points as f64 * (steps / first).log2()
            } else {
                steps.max(1.0).log2().floor() + 1.0
            }
        };
        let trial_count = if trials > 0 { settings.lr_grid().count as f64 } else { 0.0 };
        let checks = share
            * (checks_of(settings.epochs as f64)
                + trial_count * checks_of(settings.lr_trial_epochs as f64));
        let check_seconds = checks * crate::train::EVAL_SUBSET.min(settings.val_size) as f64
            / (EVAL_SPEEDUP * fastest);
        // Trials skip the noise probe (their noise scale is never used): the epochs tested
        // are the epochs probed.
        training
            + tested * probe_seconds
            + epochs_run * val_seconds
            + tested * test_seconds
            + check_seconds
    };
    // One estimate per batch size: its runs of every seed and arm together.
    let runs: Vec<RunEstimate> = settings
        .batch_sizes
        .iter()
        .map(|&b| RunEstimate {
            batch_size: b,
            samples_per_second: rate(b),
            seconds: plan
                .iter()
                .filter(|p| p.batch_size == b)
                .map(|p| run_seconds(b, p.lr_policy))
                .sum(),
        })
        .collect();
    Ok(SweepEstimate {
        total_seconds: runs.iter().map(|r| r.seconds).sum(),
        runs,
        at_most: settings.end_at_target
            || plan.iter().any(|p| p.lr_policy == crate::schedule::LrPolicy::Tuned),
        measured_in_seconds: start.elapsed().as_secs_f64(),
    })
}
