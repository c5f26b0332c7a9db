//! Speed figures for the benchmark (`bench/`): the product's own training loop ([`Run`]),
//! timed the same way in the browser (through `web`) and natively (`bench/native.rs`).
//!
//! A measurement drives one [`Run`] with [`Run::advance`] and times only the chunks of the
//! phase it measures (training, or evaluation): the noise probe and evaluation between epochs
//! do not count towards training throughput. After a warm-up (the first chunk, which pays
//! shader compilation, and then [`BenchOptions::warmup_seconds`] more), it collects
//! windows of at least [`BenchOptions::window_seconds`] of measured chunks and reports their
//! median, as the benchmark's protocol asks: median of ≥ 3 windows of ≥ 3 s after warm-up.
//!
//! Owns the benchmark's timing of a [`Run`]; must not change how a run trains (it measures
//! the product's own loop) nor print or write files (its callers do).

use std::time::Duration;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::data::{DeviceSplit, Split};
use crate::settings::Settings;
use crate::train::{Run, RunConfig, RunEvent, TrainError};

/// How long to measure (`camelCase` in JavaScript; a missing field takes its default).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BenchOptions {
    /// Seconds of unmeasured work after the first chunk (one micro-batch, which pays shader
    /// compilation): steady state comes once the chunk size has ramped up and the allocator
    /// has warmed.
    pub warmup_seconds: f64,
    /// Least seconds of measured work per window.
    pub window_seconds: f64,
    /// Windows to collect (the median is reported).
    pub windows: usize,
    /// Seconds after which the measurement stops with the windows it has (at least one, even
    /// when that one window alone outlasts the limit).
    pub limit_seconds: f64,
    /// Keep training until the run's first epoch has ended, and report its time.
    pub epoch: bool,
    /// Upload each batch from the CPU even where the page would keep the training set on the
    /// device (to measure what gathering batches on the device gains).
    pub host_batches: bool,
}

impl Default for BenchOptions {
    /// The full benchmark's protocol: 3 windows of 3 s after 2 s of warm-up, within 120 s.
    fn default() -> Self {
        Self {
            warmup_seconds: 2.0,
            window_seconds: 3.0,
            windows: 3,
            limit_seconds: 120.0,
            epoch: false,
            host_batches: false,
        }
    }
}

/// Training speed at one batch size (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainingFigures {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// Most images per forward/backward pass (larger batches accumulate gradients).
    pub micro_batch: usize,
    /// Wall time from setting up the run (model initialisation) to the end of its first
    /// optimiser step, in seconds: includes shader compilation on WebGPU.
    pub first_step_seconds: f64,
    /// Training throughput of each measured window (samples/s).
    pub windows: Vec<f64>,
    /// Seconds of each window (at least [`BenchOptions::window_seconds`], unless the limit
    /// ended the measurement first).
    pub window_seconds: Vec<f64>,
    /// Median of `windows` (samples/s); NaN when no window was measured.
    pub samples_per_second: f64,
    /// Milliseconds per optimiser step at that throughput: `1000 × min(batch size, training
    /// images) / samples/s`.
    pub ms_per_step: f64,
    /// Training seconds of the first epoch (when asked for with [`BenchOptions::epoch`]).
    pub epoch_seconds: Option<f64>,
    /// Test accuracy after the first epoch, as a fraction (with `epoch_seconds`).
    pub epoch_test_accuracy: Option<f64>,
    /// Wall time of the whole measurement, in seconds.
    pub total_seconds: f64,
}

/// Evaluation speed (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationFigures {
    /// Images per forward pass.
    pub eval_batch: usize,
    /// Images/s of each measured window.
    pub windows: Vec<f64>,
    /// Median of `windows` (images/s).
    pub images_per_second: f64,
}

/// The median of `values` (the mean of the two middle ones for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Collects measured chunks into windows.
struct Windows {
    options: BenchOptions,
    items: f64,
    seconds: f64,
    rates: Vec<f64>,
    lengths: Vec<f64>,
}

impl Windows {
    fn new(options: BenchOptions) -> Self {
        Self {
            options,
            items: 0.0,
            seconds: 0.0,
            rates: Vec::new(),
            lengths: Vec::new(),
        }
    }

    /// Adds a chunk of `items` done in `seconds`; closes the window when it is long enough.
    fn add(&mut self, items: usize, seconds: f64) {
        self.items += items as f64;
        self.seconds += seconds;
        if self.seconds >= self.options.window_seconds {
            self.close();
        }
    }

    /// Ends the window under way (if it holds any work).
    fn close(&mut self) {
        if self.items > 0.0 {
            self.rates.push(self.items / self.seconds.max(1e-9));
            self.lengths.push(self.seconds);
        }
        self.items = 0.0;
        self.seconds = 0.0;
    }

    /// Whether the measurement that began at `start` is over: every window measured, or the
    /// time limit passed with at least one.
    fn done(&self, start: Instant) -> bool {
        self.rates.len() >= self.options.windows.max(1)
            || (start.elapsed().as_secs_f64() > self.options.limit_seconds
                && !self.rates.is_empty())
    }
}

/// Images done since the last event of a phase, from its cursor (which restarts each epoch).
struct Cursor(usize);

impl Cursor {
    fn delta(&mut self, done: usize, total: usize) -> usize {
        let delta = if done < self.0 { done } else { done - self.0 };
        self.0 = if done == total { 0 } else { done };
        delta
    }
}

/// The edges of a timed training chunk, told to [`training`]'s `on_chunk` so that a caller can
/// count what each measured chunk did (bench/'s WebGPU calls per step: a snapshot at `Start`,
/// the calls since then added at `Measured`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkEdge {
    /// A chunk is about to run (measured or not: warm-up, the first chunk, evaluation).
    Start,
    /// The chunk just run was measured: it trained this many images, counted in the windows.
    Measured(usize),
}

/// A run of `settings` at `batch_size` that never ends by itself (no epoch limit, target or
/// time budget).
fn endless_run(settings: &Settings, batch_size: usize, micro_batch: usize, device: &Device) -> Run {
    let mut config = RunConfig::new(settings, batch_size);
    config.epochs = usize::MAX;
    config.end_at_target = false;
    config.budget_seconds = 0.0;
    Run::new(config, device).with_micro_batch(micro_batch)
}

/// Measures training at `batch_size` (the run of `settings` at that batch size, on the first
/// `settings.train_size` images of `train`, evaluated on `test` after each epoch) on `device`;
/// `on_device`: the training images are uploaded once and batches gathered on the device (as
/// the page does on WebGPU when they fit, see [`crate::backend::training_set_on_device`]).
///
/// Chunks of about a quarter of a second of work are timed, as the page trains; only training
/// chunks count. See the module's documentation for the protocol. `on_chunk` hears each
/// chunk's start and, for a measured one, its images ([`ChunkEdge`]); `&mut |_| {}` ignores them.
///
/// # Errors
/// [`TrainError`] when the device fails; [`TrainError::Read`] when the run diverges (the
/// benchmark's settings never should).
#[allow(clippy::too_many_arguments)]
pub async fn training(
    settings: &Settings,
    batch_size: usize,
    micro_batch: usize,
    on_device: bool,
    train: &Split,
    test: &Split,
    device: &Device,
    options: BenchOptions,
    on_chunk: &mut dyn FnMut(ChunkEdge),
) -> Result<TrainingFigures, TrainError> {
    let host = train.take(settings.train_size);
    let uploaded = (on_device && !options.host_batches)
        .then(|| DeviceSplit::new(&host, &device.clone().autodiff()));
    let start = Instant::now();
    let mut run = endless_run(settings, batch_size, micro_batch, device);
    let budget = Duration::from_millis(250);
    let first_step = batch_size.min(host.len());
    let mut cursor = Cursor(0);
    let mut first_step_seconds = None;
    let mut warm_since = None;
    let mut windows = Windows::new(options);
    let (mut epoch_seconds, mut epoch_test_accuracy) = (None, None);
    loop {
        let measuring_done = windows.done(start);
        if measuring_done && (!options.epoch || epoch_seconds.is_some()) {
            break;
        }
        on_chunk(ChunkEdge::Start);
        let chunk = Instant::now();
        let event = match &uploaded {
            Some(train) => run.advance(train, &Split::empty(), test, budget).await?,
            None => run.advance(&host, &Split::empty(), test, budget).await?,
        };
        let seconds = chunk.elapsed().as_secs_f64();
        match event {
            RunEvent::Progress(p) if p.phase == "train" => {
                let done = cursor.delta(p.done, p.total);
                if first_step_seconds.is_none() && (p.done >= first_step || p.done == p.total) {
                    first_step_seconds = Some(start.elapsed().as_secs_f64());
                }
                // The first chunk (one micro-batch) pays shader compilation: never measured.
                let Some(warm) = warm_since else {
                    warm_since = Some(0.0);
                    continue;
                };
                if warm < options.warmup_seconds {
                    warm_since = Some(warm + seconds);
                    continue;
                }
                if !measuring_done {
                    windows.add(done, seconds);
                    on_chunk(ChunkEdge::Measured(done));
                }
            }
            RunEvent::Progress(_) => {}
            RunEvent::Epoch(record, _) => {
                // The first epoch's figures; training goes on until the windows are measured.
                if options.epoch && epoch_seconds.is_none() {
                    epoch_seconds = Some(record.train_seconds);
                    epoch_test_accuracy = Some(record.test_accuracy);
                }
            }
            RunEvent::Diverged(_) => {
                return Err(TrainError::Read(format!(
                    "the run at batch size {batch_size} diverged during the benchmark"
                )));
            }
        }
    }
    // A measurement cut short by the limit (or an epoch that ended first) keeps its last
    // partial window rather than reporting nothing.
    if windows.rates.is_empty() {
        windows.close();
    }
    // Nothing measured (cannot happen with a limit above zero): NaN, never a made-up figure.
    let samples_per_second = if windows.rates.is_empty() {
        f64::NAN
    } else {
        median(&windows.rates)
    };
    Ok(TrainingFigures {
        batch_size,
        micro_batch,
        first_step_seconds: first_step_seconds.unwrap_or(f64::NAN),
        ms_per_step: 1000.0 * batch_size.min(host.len()) as f64 / samples_per_second,
        samples_per_second,
        windows: windows.rates,
        window_seconds: windows.lengths,
        epoch_seconds,
        epoch_test_accuracy,
        total_seconds: start.elapsed().as_secs_f64(),
    })
}

/// Measures evaluation (forward passes of [`crate::train::EVAL_BATCH`] test images, loss and
/// accuracy summed on the device, as the page evaluates) with the run's own evaluation: a run
/// of `settings` at batch size 64 trains one step on 64 images per epoch, then evaluates
/// `test`; only evaluation chunks are timed, after the first epoch's (which pays shader
/// compilation). Each evaluation starts again with a one-batch chunk (the chunk size adapts
/// within a pass, as on the page); `options.warmup_seconds` is not used.
///
/// # Errors
/// [`TrainError`] when the device fails.
pub async fn evaluation(
    settings: &Settings,
    micro_batch: usize,
    train: &Split,
    test: &Split,
    device: &Device,
    options: BenchOptions,
) -> Result<EvaluationFigures, TrainError> {
    let small = train.take(64);
    let mut run = endless_run(settings, 64, micro_batch, device);
    let budget = Duration::from_millis(250);
    let start = Instant::now();
    let mut cursor = Cursor(0);
    let mut windows = Windows::new(options);
    let mut epochs = 0;
    while !windows.done(start) {
        let chunk = Instant::now();
        let event = run.advance(&small, &Split::empty(), test, budget).await?;
        let seconds = chunk.elapsed().as_secs_f64();
        match event {
            RunEvent::Progress(p) if p.phase == "test" => {
                let done = cursor.delta(p.done, p.total);
                if epochs > 0 {
                    windows.add(done, seconds);
                }
            }
            // The epoch's last evaluation chunk comes with its record.
            RunEvent::Epoch(..) => {
                let done = cursor.delta(test.len(), test.len());
                if epochs > 0 {
                    windows.add(done, seconds);
                }
                epochs += 1;
            }
            RunEvent::Progress(_) => {}
            RunEvent::Diverged(_) => {
                return Err(TrainError::Read("the evaluation run diverged".into()));
            }
        }
    }
    if windows.rates.is_empty() {
        windows.close();
    }
    Ok(EvaluationFigures {
        eval_batch: crate::train::EVAL_BATCH.min(micro_batch),
        images_per_second: median(&windows.rates),
        windows: windows.rates,
    })
}
