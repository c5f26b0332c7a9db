//! How long a sweep will take on this device, from a short measured warm-up: training steps at
//! each batch size (at most the micro-batch size: larger batches run as micro-batches), timed
//! after a quarter of a second of unmeasured steps that pays shader compilation, and a timed
//! evaluation pass. The run measured at a batch size is the sweep's run at that batch size under
//! its own policy and first seed, so the sweep's runs identical to one that diverges while
//! measured are known to end there.
//!
//! Owns the duration estimate; must not record results or keep a run beyond the estimate.

use std::collections::BTreeMap;
use std::time::Duration;

use burn::tensor::Device;
use serde::Serialize;
use web_time::Instant;

use crate::data::{Batches, DeviceSplit, Split};
use crate::schedule::{LrPolicy, LrSchedule};
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
/// Evaluation batches (of [`crate::train::EVAL_BATCH`] images, at most the micro-batch size)
/// timed for evaluation's pace, after one untimed batch ([`measure_evaluation`]).
pub const EVAL_MEASURE_BATCHES: usize = 2;
/// Evaluation's pace relative to the fastest training pace when it could not be measured (a
/// forward pass without the backward pass of about twice its cost; measured on the CPU backend
/// in wasm it was nearer 2×: the measurement is what counts).
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
    /// Whether its run measured diverged within the epochs and time budget the sweep gives it:
    /// the sweep's runs identical to it diverge too, and are counted only up to there.
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

/// Where a measured run diverged.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Divergence {
    /// Training seconds until it diverged.
    seconds: f64,
    /// The epoch in which it diverged, from 1.
    epoch: usize,
    /// Steps trained before the chunk in which it diverged.
    steps: usize,
}

/// What the warm-up measured at one batch size.
#[derive(Debug, Clone, PartialEq)]
struct Measured {
    /// The run measured: the sweep's run at this batch size under `settings`' own policy and
    /// first seed ([`RunConfig::new`]; its epochs, target and budget aside).
    config: RunConfig,
    /// Training throughput, samples/s.
    samples_per_second: f64,
    /// Where the run diverged, when it diverged while measured: the sweep's runs identical to
    /// it (same batch size, learning rates, seed, optimiser and network: the same weights and
    /// order of the images) diverge there too.
    diverged: Option<Divergence>,
}

/// A learning-rate schedule of rate 0: the same work per step as any rate, and no step moves
/// the weights, so nothing diverges.
fn still() -> LrSchedule {
    LrSchedule::new(LrPolicy::Fixed, 0.0, 1, 1, 0, 1)
}

/// Trains at `batch_size` on `train` and measures the samples/s of training chunks begun
/// after [`WARMUP_SECONDS`] of unmeasured steps, over [`MEASURE_SECONDS`] (the first compiles
/// shaders; the first chunks are short while the chunk size ramps up), at most
/// [`MEASURE_LIMIT_SECONDS`]. Only training counts: there is no evaluation. A run that diverges
/// ends the measurement and is kept as its [`Divergence`]; its pace is then measured again at a
/// learning rate of 0 (the chunks before a divergence are few, some of them compiling).
async fn measure(
    settings: &Settings,
    batch_size: usize,
    micro_batch: usize,
    train: &impl Batches,
    device: &Device,
) -> Result<Measured, TrainError> {
    let config = RunConfig::new(settings, batch_size);
    let (mut samples_per_second, diverged) =
        time_training(config.clone(), micro_batch, train, device).await?;
    if diverged.is_some() {
        let config = RunConfig {
            schedule: still(),
            ..config.clone()
        };
        samples_per_second = time_training(config, micro_batch, train, device).await?.0;
    }
    Ok(Measured {
        config,
        samples_per_second,
        diverged,
    })
}

/// Trains the run `config` (its epochs, target and time budget set aside) as [`measure`]
/// describes: its samples/s, and where it diverged if it did.
async fn time_training(
    mut config: RunConfig,
    micro_batch: usize,
    train: &impl Batches,
    device: &Device,
) -> Result<(f64, Option<Divergence>), TrainError> {
    let batch_size = config.batch_size;
    // Never end during the measurement but by diverging.
    config.epochs = usize::MAX;
    config.end_at_target = false;
    config.budget_seconds = 0.0;
    let mut run = Run::new(config, device).with_micro_batch(micro_batch);
    let none = Split::empty();
    let budget = Duration::from_secs_f64(MEASURE_SECONDS / 4.0);
    let start = Instant::now();
    let (mut samples, mut seconds, mut before) = (0, 0.0, 0);
    // Every training chunk, warm-up included: the fallback when a step outlasts the limit.
    let (mut all_samples, mut all_seconds) = (0_usize, 0.0);
    let mut diverged = None;
    while seconds < MEASURE_SECONDS && start.elapsed().as_secs_f64() < MEASURE_LIMIT_SECONDS {
        let chunk = Instant::now();
        let event = run.advance(train, &none, &none, budget).await?;
        // Nothing else ends this run: it diverged (batch size 1 at Quick look's rate, within
        // seconds).
        if run.is_finished() {
            diverged = Some(Divergence {
                seconds: all_seconds + chunk.elapsed().as_secs_f64(),
                epoch: run.summary().diverged_epoch.unwrap_or(1),
                steps: all_samples.div_ceil(batch_size),
            });
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
    Ok((samples_per_second, diverged))
}

/// Measures evaluation's pace (images/s) on `device` as the sweep evaluates validation and test
/// images: a forward pass per batch of [`crate::train::EVAL_BATCH`] images (at most
/// `micro_batch`), the sums read back per chunk. A run of one training image (at a learning
/// rate of 0) evaluates `EVAL_MEASURE_BATCHES + 1` such batches of `train`'s images as its test
/// set; the first batch's chunk (compiling) is not timed, the others are, for at most
/// [`MEASURE_LIMIT_SECONDS`] in all. `None` when no chunk could be timed (`train` holds a
/// single batch, or the limit ran out first).
///
/// # Errors
/// [`TrainError`] when the device fails.
pub async fn measure_evaluation(
    settings: &Settings,
    micro_batch: usize,
    train: &Split,
    device: &Device,
) -> Result<Option<f64>, TrainError> {
    let images = ((EVAL_MEASURE_BATCHES + 1) * EVAL_BATCH.min(micro_batch)).min(train.len());
    let mut config = RunConfig::new(settings, 1);
    config.schedule = still();
    config.epochs = 1;
    config.end_at_target = false;
    config.budget_seconds = 0.0;
    config.eval_points = 0;
    config.target_on = EvalSet::Test;
    let mut run = Run::new(config, device).with_micro_batch(micro_batch);
    // One image: one training step and no noise probe (it needs two small batches).
    let one = train.take(1);
    let evaluated = train.take(images);
    let budget = Duration::from_secs_f64(MEASURE_SECONDS / 4.0);
    let start = Instant::now();
    let (mut timed, mut seconds, mut before) = (0, 0.0, None);
    while !run.is_finished() && start.elapsed().as_secs_f64() < MEASURE_LIMIT_SECONDS {
        let chunk = Instant::now();
        let done = match run.advance(&one, &Split::empty(), &evaluated, budget).await? {
            RunEvent::Progress(p) if p.phase == "test" => p.done,
            RunEvent::Epoch(..) => images,
            _ => continue,
        };
        // Evaluation's first chunk (one batch) compiles: it is not timed.
        if let Some(before) = before {
            timed += done - before;
            seconds += chunk.elapsed().as_secs_f64();
        }
        before = Some(done);
    }
    Ok((timed > 0 && seconds > 0.0).then(|| timed as f64 / seconds))
}

/// The validation checks within `steps` training steps from a run's (or trial's) start: one per
/// doubling up to step 16, then `evalpoints` per doubling of the steps from
/// [`crate::train::FIRST_CHECK_STEP`] on (the schedule of [`crate::train::next_eval_step`],
/// counted as a continuous function of the steps); none without a validation set.
fn checks_within(settings: &Settings, steps: f64) -> f64 {
    let first = crate::train::FIRST_CHECK_STEP as f64;
    if settings.val_size == 0 || settings.eval_points == 0 || steps < 1.0 {
        0.0
    } else if steps > first {
        5.0 + settings.eval_points as f64 * (steps / first).log2()
    } else {
        steps.log2().floor() + 1.0
    }
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
/// images); under `lrpolicy=tuned` the epochs include every trial's budget. Each run measured is
/// the sweep's run at its batch size under `settings`' policy and first seed; when it diverged
/// while measured, the sweep's runs identical to it (same batch size — at most `micro_batch` —,
/// learning rates, seed, optimiser and network; never a tuned run, whose rate is chosen later)
/// are estimated as ending there, if within their epochs and time budget: the seconds it
/// trained, the checks within them and the epochs finished before. The sweep's other runs at
/// that batch size (other seeds, another arm) are estimated in full.
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
    let check_seconds = crate::train::EVAL_SUBSET.min(settings.val_size) as f64 / eval_rate;
    // Where `planned` diverges, when a run measured is identical to it (the same weights, order
    // of the images and learning rates: a tuned run's rate is chosen later) and diverged within
    // the epochs and the time budget the sweep gives it.
    let divergence = |planned: &PlannedRun| {
        if planned.lr_policy == LrPolicy::Tuned || planned.batch_size > micro_batch {
            return None;
        }
        let m = measured.get(&planned.batch_size)?;
        let d = m.diverged?;
        let c = RunConfig::planned(settings, planned);
        let same = (c.batch_size, c.schedule, c.seed, c.optimizer, c.model)
            == (
                m.config.batch_size,
                m.config.schedule,
                m.config.seed,
                m.config.optimizer,
                m.config.model,
            );
        let within = d.epoch <= settings.epochs
            && (settings.run_budget_seconds <= 0.0 || d.seconds < settings.run_budget_seconds);
        (same && within).then_some(d)
    };
    let run_seconds = |planned: &PlannedRun| {
        let b = planned.batch_size;
        let policy = planned.lr_policy;
        // It ends where it diverged: its training to there, the checks within it, and the
        // epochs it finished before (probe, validation and test each).
        if let Some(d) = divergence(planned) {
            return d.seconds
                + checks_within(settings, d.steps as f64) * check_seconds
                + (d.epoch - 1) as f64 * (probe_seconds + val_seconds + test_seconds);
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
        // The validation checks within the epochs (see `checks_within`), each on
        // `EVAL_SUBSET` images; every trial and the run start their schedule afresh.
        let steps_per_epoch = settings.train_size.div_ceil(b) as f64;
        let checks_of = |epochs: f64| checks_within(settings, epochs * steps_per_epoch);
        let trial_count = if trials > 0 { settings.lr_grid().count as f64 } else { 0.0 };
        let checks = share
            * (checks_of(settings.epochs as f64)
                + trial_count * checks_of(settings.lr_trial_epochs as f64));
        let check_seconds = checks * check_seconds;
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
                .any(|p| p.batch_size == b && divergence(p).is_some()),
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
