//! How long a sweep will take on this device, from a short measured warm-up: training steps at
//! each batch size (at most the micro-batch size: larger batches run as micro-batches), timed
//! after a quarter of a second of unmeasured steps that pays shader compilation, and a timed
//! evaluation pass. The runs measured are the sweep's own (same seed and rate), so a run that
//! diverges while measured is known to end there.
//!
//! Owns the duration estimate; must not record results or keep a run beyond the estimate.

use std::collections::BTreeMap;
use std::time::Duration;

use burn::tensor::Device;
use serde::Serialize;
use web_time::Instant;

use crate::data::{Batches, DeviceSplit, Split};
use crate::schedule::LrPolicy;
use crate::settings::{PlannedRun, Settings};
use crate::summary::EvalSet;
use crate::train::{
    EVAL_BATCH, PROBE_BIG_BATCH, PROBE_SMALL_BATCH, Run, RunConfig, RunEvent, TrainError,
};

/// Seconds of unmeasured training per batch size before the measurement.
pub const WARMUP_SECONDS: f64 = 0.25;
/// Seconds of measured training per batch size.
pub const MEASURE_SECONDS: f64 = 0.5;
/// Most seconds spent per batch size (a slow device measures fewer, longer steps).
pub const MEASURE_LIMIT_SECONDS: f64 = 30.0;
/// Images per evaluation batch timed for the evaluation's pace: two evaluation batches (of
/// [`crate::train::EVAL_BATCH`] images, at most the micro-batch size), after one untimed pass.
pub const EVAL_MEASURE_BATCHES: usize = 2;
/// Evaluation's pace relative to the fastest training pace when it could not be measured (a
/// forward pass without the backward pass of about twice its cost; measured on the CPU backend
/// in wasm it was nearer 1.5×: the measurement is what counts).
pub const EVAL_FALLBACK_SPEEDUP: f64 = 3.0;

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
    /// Whether its run diverged while measured: the sweep's run of the same seed and rate
    /// diverges too, and is counted only up to there.
    pub diverges: bool,
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
    /// Evaluation's measured pace (images/s): validation, test and the checks within epochs.
    pub evaluation_images_per_second: f64,
    /// Seconds the warm-up measurement itself took.
    pub measured_in_seconds: f64,
}

/// What the warm-up measured at one batch size.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Measured {
    /// Training throughput, samples/s.
    samples_per_second: f64,
    /// Training seconds until the run diverged, when it diverged while being measured. The
    /// measured run is the sweep's own run at this batch size (same seed, learning rate and
    /// order of the images: [`RunConfig::new`]), so the sweep's run diverges there too.
    diverged_after: Option<f64>,
}

/// Trains at `batch_size` on `train` and measures the samples/s of training chunks begun
/// after [`WARMUP_SECONDS`] of unmeasured steps, over [`MEASURE_SECONDS`] (the first compiles
/// shaders; the first chunks are short while the chunk size ramps up). Only training counts:
/// the run's noise probe and evaluation (of one image) between epochs are not timed. A run that
/// diverges ends the measurement: its pace so far is the measurement, and the seconds it
/// trained are kept.
async fn measure(
    settings: &Settings,
    batch_size: usize,
    micro_batch: usize,
    train: &impl Batches,
    device: &Device,
) -> Result<Measured, TrainError> {
    let mut config = RunConfig::new(settings, batch_size);
    // Never end during the measurement but by diverging.
    config.epochs = usize::MAX;
    config.end_at_target = false;
    config.budget_seconds = 0.0;
    let mut run = Run::new(config, device).with_micro_batch(micro_batch);
    let test = Split::empty();
    let budget = Duration::from_secs_f64(MEASURE_SECONDS / 4.0);
    let start = Instant::now();
    let (mut samples, mut seconds, mut before) = (0, 0.0, 0);
    // Every training chunk, warm-up included: the fallback when a step outlasts the limit.
    let (mut all_samples, mut all_seconds) = (0, 0.0);
    let mut diverged_after = None;
    while seconds < MEASURE_SECONDS && start.elapsed().as_secs_f64() < MEASURE_LIMIT_SECONDS {
        let chunk = Instant::now();
        let event = run.advance(train, &Split::empty(), &test, budget).await?;
        // Nothing else ends this run: it diverged (batch size 1 at Quick look's rate, within
        // seconds).
        if run.is_finished() {
            all_seconds += chunk.elapsed().as_secs_f64();
            diverged_after = Some(all_seconds);
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
        // Only chunks begun after the warm-up: on a slow device the first chunk alone (shader
        // compilation) outlasts the warm-up, and must not be measured.
        if (chunk - start).as_secs_f64() >= WARMUP_SECONDS {
            samples += done;
            seconds += chunk.elapsed().as_secs_f64();
        }
    }
    let samples_per_second = if samples > 0 {
        samples as f64 / seconds.max(1e-9)
    } else {
        all_samples as f64 / all_seconds.max(1e-9)
    };
    Ok(Measured {
        samples_per_second,
        diverged_after,
    })
}

/// Measures evaluation's pace (images/s): a run of one training image whose epochs evaluate
/// [`EVAL_MEASURE_BATCHES`] evaluation batches of `train`'s images as its test set, as the
/// sweep evaluates validation and test images (a forward pass per batch of
/// [`crate::train::EVAL_BATCH`] images, at most `micro_batch`; the sums read back per chunk).
/// The first epoch's evaluation compiles and is not timed; the second's is. `None` when the run
/// did not get through both epochs (it diverged).
async fn measure_evaluation(
    settings: &Settings,
    micro_batch: usize,
    train: &Split,
    device: &Device,
) -> Result<Option<f64>, TrainError> {
    let images = (EVAL_MEASURE_BATCHES * EVAL_BATCH.min(micro_batch)).min(train.len());
    let mut config = RunConfig::new(settings, 1);
    config.epochs = 2;
    config.end_at_target = false;
    config.budget_seconds = 0.0;
    config.eval_points = 0;
    config.target_on = EvalSet::Test;
    let mut run = Run::new(config, device).with_micro_batch(micro_batch);
    // One image: one training step per epoch and no noise probe (it needs two small batches).
    let one = train.take(1);
    let evaluated = train.take(images);
    let budget = Duration::from_secs_f64(MEASURE_SECONDS / 4.0);
    let (mut seconds, mut epochs) = (0.0, 0);
    while !run.is_finished() {
        let chunk = Instant::now();
        let event = run.advance(&one, &Split::empty(), &evaluated, budget).await?;
        let evaluating = match &event {
            RunEvent::Progress(p) => p.phase == "test",
            RunEvent::Epoch(..) => true,
            RunEvent::Diverged(..) => false,
        };
        if evaluating && epochs == 1 {
            seconds += chunk.elapsed().as_secs_f64();
        }
        if let RunEvent::Epoch(..) = event {
            epochs += 1;
        }
    }
    Ok((epochs == 2 && seconds > 0.0).then(|| images as f64 / seconds))
}

/// Measures training throughput at every batch size of `settings` (each at most `micro_batch`)
/// on `train` (the sweep's training images; uploaded to the device first when `on_device`, as
/// the sweep does: [`crate::backend::training_set_on_device`]) and evaluation's pace, and
/// estimates the sweep's duration. Per run: `epochs × train_size / throughput` of training,
/// capped by the time budget per run, plus per epoch the noise probe
/// ([`crate::train::PROBE_BIG_BATCH`] images at the throughput of
/// [`crate::train::PROBE_SMALL_BATCH`]), `val_size` validation images and, for the run's own
/// epochs, `test_size` test images at the measured evaluation pace (trials are not tested, nor
/// probed), plus the validation checks within the epochs (one per doubling up to step 16, then
/// `eval_points × log2(steps / FIRST_CHECK_STEP)`, each of [`crate::train::EVAL_SUBSET`]
/// images); under `lrpolicy=tuned` the epochs include every trial's budget. A run that diverged
/// while measured is the sweep's own run (same seed and rate, at most `micro_batch`): it is
/// estimated as ending there, after the seconds it trained; the sweep's other runs at that
/// batch size (other seeds, another arm) are estimated in full.
///
/// # Errors
/// [`TrainError`] when the device fails.
pub async fn estimate(
    settings: &Settings,
    micro_batch: usize,
    train: &Split,
    on_device: bool,
    device: &Device,
) -> Result<SweepEstimate, TrainError> {
    let start = Instant::now();
    let mut measured: BTreeMap<usize, Measured> = BTreeMap::new();
    let sizes: Vec<usize> = settings
        .batch_sizes
        .iter()
        .map(|&b| b.min(micro_batch))
        .chain([PROBE_SMALL_BATCH.min(micro_batch).min(train.len())])
        .collect();
    let on_device = on_device.then(|| DeviceSplit::new(train, &device.clone().autodiff()));
    for (i, &size) in sizes.iter().enumerate() {
        if measured.contains_key(&size) {
            continue;
        }
        let measure_once = async || match &on_device {
            Some(split) => measure(settings, size, micro_batch, split, device).await,
            None => measure(settings, size, micro_batch, train, device).await,
        };
        // The first measurement of a freshly loaded module runs slower (in the browser, before
        // the engine has optimised its hot functions): it is made twice, the first discarded.
        if i == 0 {
            measure_once().await?;
        }
        measured.insert(size, measure_once().await?);
    }
    let rate = |b: usize| {
        measured
            .get(&b.min(micro_batch))
            .map_or(0.0, |m| m.samples_per_second)
    };
    let fastest = measured
        .values()
        .map(|m| m.samples_per_second)
        .fold(0.0, f64::max)
        .max(1e-9);
    let eval_rate = measure_evaluation(settings, micro_batch, train, device)
        .await?
        .unwrap_or(EVAL_FALLBACK_SPEEDUP * fastest);
    let probe_rate = rate(PROBE_SMALL_BATCH.min(train.len())).max(1e-9);
    let probe_seconds = PROBE_BIG_BATCH.min(train.len()) as f64 / probe_rate;
    // Validation after every epoch (trials' included); the test images after the run's own
    // epochs only (a learning-rate trial is judged on validation alone).
    let val_seconds = settings.val_size as f64 / eval_rate;
    let test_seconds = settings.test_size as f64 / eval_rate;
    let plan = settings.plan();
    // The training seconds after which `planned` diverges, when it is a run measured (see
    // `Measured::diverged_after`) that diverged: it ends there.
    let diverges = |planned: &PlannedRun| {
        let measured_run = planned.batch_size <= micro_batch
            && planned.seed == settings.seed
            && planned.lr_policy == settings.lr_policy
            && planned.lr_policy != LrPolicy::Tuned;
        measured
            .get(&planned.batch_size)
            .and_then(|m| m.diverged_after)
            .filter(|_| measured_run)
    };
    let run_seconds = |planned: &PlannedRun| {
        let b = planned.batch_size;
        let policy = planned.lr_policy;
        if let Some(seconds) = diverges(planned) {
            return seconds;
        }
        let samples_per_second = rate(b);
        // Under `lrpolicy=tuned`, every trial's budget too (an upper bound: a trial ends
        // with the epoch in which it reached the target).
        let trials = if policy == LrPolicy::Tuned {
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
        let check_seconds =
            checks * crate::train::EVAL_SUBSET.min(settings.val_size) as f64 / eval_rate;
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
                .map(run_seconds)
                .sum(),
            diverges: plan
                .iter()
                .any(|p| p.batch_size == b && diverges(p).is_some()),
        })
        .collect();
    Ok(SweepEstimate {
        total_seconds: runs.iter().map(|r| r.seconds).sum(),
        runs,
        at_most: settings.end_at_target || plan.iter().any(|p| p.lr_policy == LrPolicy::Tuned),
        evaluation_images_per_second: eval_rate,
        measured_in_seconds: start.elapsed().as_secs_f64(),
    })
}
