//! One run: LeNet-5 trained at one batch size for a number of epochs, evaluated after each.
//!
//! A run advances in short chunks ([`Run::advance`]) so that the caller (the Web Worker) gets
//! control back a few times per second: to report progress and to honour Stop. Loss and accuracy
//! are summed on the device and read back once per chunk (that read is also what keeps the CPU
//! from queueing unbounded work ahead of the GPU): never one GPU→CPU read per step.
//!
//! Owns one run's model, optimiser state, shuffle and clocks; must not know about other runs,
//! the sweep or the page.

use std::time::Duration;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{GradientsAccumulator, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use web_time::Instant;

use crate::backend::MAX_MICRO_BATCH;
use crate::checkpoint::{CHECKPOINT_FORMAT, CheckpointError, RunCheckpoint};
use crate::data::{Batches, Split};
use crate::model::Network;
use crate::noise::NoiseScale;
use crate::record::{EpochRecord, EvalPoint, NextPhase, Progress, TrialOf};
use crate::schedule::LrSchedule;
use crate::settings::{Optimizer, Settings};
use crate::summary::{EndedBy, EvalSet, RunSummary, is_diverged};

/// Most images per forward pass during evaluation (fewer when the micro-batch size is smaller).
pub const EVAL_BATCH: usize = 1000;
/// Images of the larger batch of the gradient-noise probe run after each epoch's training
/// (fewer when the training set is smaller).
pub const PROBE_BIG_BATCH: usize = 512;
/// Images of each smaller batch of the probe: the larger batch is split into these.
pub const PROBE_SMALL_BATCH: usize = 64;
/// Weight kept by the noise-scale averages at each epoch's probe.
pub const NOISE_DECAY: f64 = 0.5;
/// Validation images evaluated at the log-spaced checks within an epoch (the first of the
/// validation set; each epoch's end evaluates all of it): ±0.9 points of accuracy (one standard
/// error) near 96 %. Measured on *Quick look* on the CPU, 1,000 images and checks from step 1
/// took more time than the first epoch's training; see docs/experiment.md.
pub const EVAL_SUBSET: usize = 500;
/// The first step of the dense schedule of checks: below it `evalpoints` per doubling would
/// check nearly every step (⌈2^(k/8)⌉ takes every value up to 16), so below it the checks are
/// one per doubling (steps 1, 2, 4, 8 and 16): a large batch size, whose first epoch has few
/// steps, then shows a point after its first step instead of its first epoch's end.
pub const FIRST_CHECK_STEP: usize = 32;

/// The steps after which validation is evaluated within the epochs: steps 1, 2, 4, 8 and 16,
/// then `points_per_doubling` per doubling of the steps, the distinct values of ⌈2^(k / p)⌉,
/// k = 0, 1, 2, …, from [`FIRST_CHECK_STEP`] on (p = 8: consecutive points 9 % apart, so that
/// steps to the target are known to about 10 %). The first step after `after` of that
/// schedule; `None` when `points_per_doubling` is 0.
pub fn next_eval_step(after: usize, points_per_doubling: usize) -> Option<usize> {
    if points_per_doubling == 0 {
        return None;
    }
    if after < FIRST_CHECK_STEP / 2 {
        // One per doubling below the dense schedule: 1, 2, 4, 8, 16.
        return Some((after + 1).next_power_of_two());
    }
    let after = after.max(FIRST_CHECK_STEP - 1);
    let p = points_per_doubling as f64;
    // The smallest k with ⌈2^(k/p)⌉ > after, from a guess below it.
    let mut k = ((after.max(1) as f64).log2() * p).floor().max(0.0) as i64 - 1;
    loop {
        let step = 2f64.powf(k.max(0) as f64 / p).ceil() as usize;
        if step > after {
            return Some(step);
        }
        k += 1;
    }
}

/// What one call of [`Run::advance`] achieved.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// Part of an epoch was done.
    Progress(Progress),
    /// An epoch ended (training and evaluation): its record, and the run's summary so far
    /// (ended when this was its last epoch).
    Epoch(EpochRecord, RunSummary),
    /// The run diverged: its mean training loss passed [`crate::summary::DIVERGENCE_LOSS`] or
    /// became NaN or infinite. The run has ended; its summary says in which epoch (`diverged_epoch`) and at
    /// which loss (`diverged_loss`).
    Diverged(RunSummary),
}

/// What defines one run, besides the data: its batch size and the sweep's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// Most epochs.
    pub epochs: usize,
    /// The learning rate of each step.
    pub schedule: LrSchedule,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Network.
    pub model: crate::model::Model,
    /// The learning-rate policy (recorded in the summary).
    pub lr_policy: crate::schedule::LrPolicy,
    /// Seed of the weights, the shuffled orders and the noise probe's samples.
    pub seed: u64,
    /// The run's line label when its batch size has more than one run in the sweep (see
    /// [`crate::settings::PlannedRun::series`]); carried by its summary, records and progress.
    pub series: Option<String>,
    /// Target accuracy (fraction).
    pub target: f64,
    /// Where the target is measured: on the validation images when the sweep holds some out.
    pub target_on: EvalSet,
    /// End the run at the epoch that reaches the target.
    pub end_at_target: bool,
    /// End the run once its training time passes this many seconds (0: never).
    pub budget_seconds: f64,
    /// Validation evaluations per doubling of the steps within the epochs (see
    /// [`next_eval_step`]; 0: at each epoch's end only). Only with a validation set.
    pub eval_points: usize,
}

impl RunConfig {
    /// The run at `batch_size` of a sweep of `settings` (its learning rate after the policy).
    pub fn new(settings: &Settings, batch_size: usize) -> Self {
        let steps_per_epoch = settings.train_size.div_ceil(batch_size);
        Self {
            batch_size,
            epochs: settings.epochs,
            schedule: LrSchedule::new(
                settings.lr_policy,
                settings.learning_rate,
                settings.lr_reference_batch,
                batch_size,
                settings.warmup_epochs,
                steps_per_epoch,
            ),
            optimizer: settings.optimizer,
            model: settings.model,
            lr_policy: settings.lr_policy,
            seed: settings.seed,
            series: None,
            target: settings.target,
            target_on: if settings.val_size > 0 {
                EvalSet::Validation
            } else {
                EvalSet::Test
            },
            end_at_target: settings.end_at_target,
            budget_seconds: settings.run_budget_seconds,
            eval_points: if settings.val_size > 0 {
                settings.eval_points
            } else {
                0
            },
        }
    }

    /// The run `planned` of a sweep of `settings` ([`Settings::plan`]): its batch size, its
    /// arm's learning-rate policy (at `settings.learning_rate`), its seed and line label.
    pub fn planned(settings: &Settings, planned: &crate::settings::PlannedRun) -> Self {
        let arm = Settings {
            lr_policy: planned.lr_policy,
            seed: planned.seed,
            ..settings.clone()
        };
        Self {
            series: planned.series.clone(),
            ..Self::new(&arm, planned.batch_size)
        }
    }
}

/// Why a run could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainError {
    /// The GPU device was lost (a driver reset, a GPU that went away, `GPUDevice.destroy()`):
    /// every later operation on it fails. The reason is the browser's.
    #[error("the GPU device was lost ({0})")]
    DeviceLost(String),
    /// The device failed to hand back a result for another reason.
    #[error("reading results back from the device failed: {0}")]
    Read(String),
}

impl TrainError {
    /// The cause alone, without the sentence around it: for a lost device e.g.
    /// `"Destroyed: Device was destroyed"`.
    pub fn reason(&self) -> &str {
        match self {
            TrainError::DeviceLost(reason) | TrainError::Read(reason) => reason,
        }
    }

    /// Classifies a failed read: burn reports a lost device as `ExecutionError::DevicePoisoned`
    /// (not re-exported by burn 0.22.1, hence matched by its debug name). A buffer map that
    /// fails on WebGPU also means the device is gone (CubeCL maps only healthy buffers).
    fn from_read(error: impl std::fmt::Debug + std::fmt::Display) -> Self {
        let debug = format!("{error:?}");
        // burn's messages read "An error happened during execution / Caused by: <reason>",
        // sometimes nested, sometimes with "Backtrace: …" after: keep the innermost reason.
        let display = error.to_string();
        let reason = display
            .rsplit("Caused by:")
            .next()
            .unwrap_or_default()
            .split("Backtrace:")
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        // The device-lost reason reads "<kind>: <message>", e.g. "Destroyed: Device was destroyed.".
        let lost_reason = debug.contains("DevicePoisoned")
            || ["Destroyed:", "Unknown:", "ReplacedCallback:"]
                .iter()
                .any(|kind| reason.starts_with(kind));
        if lost_reason {
            TrainError::DeviceLost(reason.trim_end_matches('.').to_string())
        } else if reason.contains("could not be mapped") {
            // The browser failed the read before telling wgpu that the device was lost.
            TrainError::DeviceLost("a result could not be read back from it".into())
        } else {
            TrainError::Read(reason)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Train,
    /// Gradients at two batch sizes, for the noise scale (no optimiser step).
    Probe,
    /// Evaluation on the validation images (skipped when there are none).
    Validate,
    /// Evaluation on the first [`EVAL_SUBSET`] validation images at a log-spaced step within
    /// an epoch; training then resumes where it was.
    Check,
    Test,
}

/// One training run at one batch size. Build with [`Run::new`], drive with [`Run::advance`]
/// until [`Run::is_finished`].
pub struct Run {
    config: RunConfig,
    /// The autodiff device that training runs on.
    device: Device,
    model: Option<Network>,
    optimizer: ModuleOptimizer,
    loss: CrossEntropyLoss,
    rng: StdRng,
    order: Vec<usize>,
    phase: Phase,
    /// Images done in the current phase.
    cursor: usize,
    /// Epochs finished.
    epochs_done: usize,
    steps: usize,
    samples: usize,
    /// `[loss sum, correct count]` of the current phase, on the device (no autodiff).
    sums: Option<Tensor<1>>,
    /// Mean training loss and accuracy of the epoch under evaluation.
    train_metrics: (f64, f64),
    /// Mean validation loss and accuracy of the epoch under evaluation, once measured.
    val_metrics: Option<(f64, f64, usize)>,
    /// Training wall time of finished epochs, and of the epoch under way.
    train_seconds: f64,
    epoch_seconds: f64,
    /// Training samples of the epoch under way (fewer than the set when cut short).
    epoch_samples: usize,
    /// The time budget ran out: the epoch under way is the last.
    out_of_time: bool,
    /// Units of work (training micro-batches, probe passes, evaluation batches) per chunk,
    /// adapted to the budget.
    chunk: usize,
    /// Most images per forward/backward pass; larger batches accumulate gradients.
    micro_batch: usize,
    /// The optimiser step under way, when its batch spans several micro-batches.
    step: Option<PendingStep>,
    /// The noise probe: its samples, the sum of its small-batch gradients, the sum of their
    /// squared norms (on the device), and the averages.
    probe_rng: StdRng,
    /// Probe samples drawn so far from `probe_rng` (its position, for a checkpoint), each of
    /// `probe_size` images.
    probes: usize,
    probe_size: usize,
    probe_order: Vec<usize>,
    probe_gradients: GradientsAccumulator<Network>,
    probe_norms: Option<Tensor<1>>,
    noise: NoiseScale,
    summary: RunSummary,
    finished: bool,
    /// Which learning-rate trial this run is, if one (reported with its progress).
    trial: Option<TrialOf>,
    /// The step count after which validation is next evaluated within an epoch.
    next_eval: Option<usize>,
    /// The training phase set aside during a [`Phase::Check`]: its cursor, sums and chunk.
    paused_train: Option<(usize, Option<Tensor<1>>, usize)>,
    /// Whether the target was first reached at a check during the epoch under way.
    reached_in_epoch: bool,
}

/// An optimiser step under way over several micro-batches: the images `start..end` of the
/// shuffled order, and the gradients summed so far.
struct PendingStep {
    start: usize,
    end: usize,
    grads: GradientsAccumulator<Network>,
}

/// Sums the squares of every gradient of a module, on the device.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    parts: Vec<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let n = grad.shape().num_elements();
            self.parts.push(grad.reshape([n]).square().sum());
        }
    }
}

/// `|g|²` of the gradients `grads` of `model`'s parameters, as a `[1]` tensor on the device.
fn squared_norm(model: &Network, grads: &GradientsParams) -> Tensor<1> {
    let mut visitor = SquaredNorm {
        grads,
        parts: Vec::new(),
    };
    model.visit(&mut visitor);
    Tensor::cat(visitor.parts, 0).sum()
}

impl Run {
    /// The run `config` on `device` (a plain device: autodiff is added here). Seeds the device
    /// with the config's seed, so every run of a sweep starts from the same weights and visits
    /// the training images in the same shuffled orders. burn draws the weights lazily, at the
    /// first step, from the device's generator as it stands then: advance a new run once before
    /// setting up another on the same device (as [`crate::experiment::Sweep`] does).
    pub fn new(config: RunConfig, device: &Device) -> Self {
        let device = device.clone().autodiff();
        device.seed(config.seed);
        let first_eval = next_eval_step(0, config.eval_points);
        let model = Network::new(config.model, &device);
        let summary = RunSummary::new(
            config.batch_size,
            config.schedule.peak,
            config.optimizer,
            config.model,
            config.lr_policy,
            config.target,
            config.target_on,
        );
        let summary = RunSummary {
            seed: Some(config.seed),
            series: config.series.clone(),
            ..summary
        };
        Self {
            optimizer: crate::optim::build(config.optimizer),
            loss: CrossEntropyLossConfig::new().init(&device),
            device,
            model: Some(model),
            rng: StdRng::seed_from_u64(config.seed),
            probe_rng: StdRng::seed_from_u64(config.seed ^ 0x9e37_79b9_7f4a_7c15),
            config,
            order: Vec::new(),
            phase: Phase::Train,
            cursor: 0,
            epochs_done: 0,
            steps: 0,
            samples: 0,
            sums: None,
            train_metrics: (0.0, 0.0),
            val_metrics: None,
            train_seconds: 0.0,
            epoch_seconds: 0.0,
            epoch_samples: 0,
            out_of_time: false,
            chunk: 1,
            micro_batch: MAX_MICRO_BATCH,
            step: None,
            probes: 0,
            probe_size: 0,
            probe_order: Vec::new(),
            probe_gradients: GradientsAccumulator::new(),
            probe_norms: None,
            noise: NoiseScale::new(NOISE_DECAY),
            summary,
            finished: false,
            trial: None,
            next_eval: first_eval,
            paused_train: None,
            reached_in_epoch: false,
        }
    }

    /// Where the run is: `done` of `total` images of `phase` in epoch `epoch` (see [`Progress`]).
    fn progress(
        &self,
        epoch: usize,
        phase: &'static str,
        done: usize,
        total: usize,
        running_loss: Option<f64>,
        check: Option<EvalPoint>,
    ) -> Progress {
        Progress {
            batch_size: self.config.batch_size,
            epoch,
            phase,
            done,
            total,
            running_loss,
            series: self.config.series.clone(),
            trial: self.trial,
            check,
            next: None,
        }
    }

    /// Marks the run as a trial of a learning-rate grid (`lrpolicy=tuned`): its progress says so.
    pub fn with_trial(mut self, trial: TrialOf) -> Self {
        self.trial = Some(trial);
        self
    }

    /// Records the tuning that chose this run's learning rate in its summary.
    pub fn with_tuning(mut self, tuning: crate::tuning::Tuning) -> Self {
        self.summary.tuning = Some(tuning);
        self
    }

    /// Sets the most images per forward/backward pass (default [`MAX_MICRO_BATCH`]; see
    /// [`crate::backend::micro_batch`]); a batch larger than this is one optimiser step over
    /// gradients accumulated across micro-batches.
    ///
    /// # Panics
    /// If `micro_batch` is 0.
    pub fn with_micro_batch(mut self, micro_batch: usize) -> Self {
        assert!(micro_batch > 0, "the micro-batch size must be at least 1");
        self.micro_batch = micro_batch;
        self
    }

    /// Samples per optimiser step.
    pub fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    /// Epochs done, as a fraction: the epochs finished plus the share of the epoch under way
    /// trained (a check within it does not move it; its probe and evaluation count as its end).
    pub fn epochs_done(&self) -> f64 {
        let trained = |cursor: usize| cursor as f64 / self.order.len().max(1) as f64;
        let within = match self.phase {
            Phase::Train => trained(self.cursor),
            Phase::Check => trained(self.paused_train.as_ref().map_or(0, |p| p.0)),
            Phase::Probe | Phase::Validate | Phase::Test => 1.0,
        };
        self.epochs_done as f64 + within
    }

    /// The run's summary so far.
    pub fn summary(&self) -> &RunSummary {
        &self.summary
    }

    /// Whether the run has ended (every epoch done, the target reached when runs end there, the
    /// time budget spent, or diverged).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The model as trained so far.
    pub fn model(&self) -> &Network {
        self.model
            .as_ref()
            .expect("the model is only taken during a step")
    }

    /// The run's checkpoint after its last finished epoch ([`RunCheckpoint`]; the sweep's
    /// fields `wall_seconds` and `epochs_before` are left 0), to go on later with
    /// [`Run::resume`]. The model and the optimiser's state are read back from the device
    /// together, in one asynchronous read (the only kind WebGPU allows in the browser), onto
    /// the CPU, and written there.
    ///
    /// # Errors
    /// [`CheckpointError`] when the run is not between two epochs (or has ended), when the
    /// device fails to hand the model back, or when burn cannot write a record.
    pub async fn checkpoint(&self) -> Result<RunCheckpoint, CheckpointError> {
        let between_epochs = self.phase == Phase::Train
            && self.cursor == 0
            && self.step.is_none()
            && self.paused_train.is_none();
        if self.finished || !between_epochs || self.epochs_done == 0 {
            return Err(CheckpointError(
                "a run is kept only between two epochs, once one has finished".into(),
            ));
        }
        let (model, optimizer) = self.read_back().await?;
        let model = model
            .into_record()
            .into_bytes()
            .map_err(|e| CheckpointError(format!("the model could not be written ({e})")))?;
        Ok(RunCheckpoint {
            format: CHECKPOINT_FORMAT,
            batch_size: self.config.batch_size,
            series: self.config.series.clone(),
            seed: self.config.seed,
            train_size: self.order.len(),
            micro_batch: self.micro_batch,
            epochs_done: self.epochs_done,
            steps: self.steps,
            samples: self.samples,
            train_seconds: self.train_seconds,
            next_eval: self.next_eval,
            probes: self.probes,
            probe_size: self.probe_size,
            noise: self.noise.clone(),
            summary: self.summary.clone(),
            wall_seconds: 0.0,
            epochs_before: 0,
            model: model.to_vec(),
            optimizer,
        })
    }

    /// A copy of the model on the CPU (its parameters with their ids) and the optimiser's state
    /// as record bytes ([`crate::optim::save_state`]), both read back from the training device
    /// in one asynchronous read.
    async fn read_back(&self) -> Result<(Network, Vec<u8>), CheckpointError> {
        struct Flatten(Vec<Tensor<1>>);
        impl ModuleVisitor for Flatten {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let value = param.val().inner();
                let n = value.shape().num_elements();
                self.0.push(value.reshape([n]));
            }
        }
        struct Fill<'a> {
            values: &'a [f32],
            at: usize,
            device: &'a Device,
        }
        impl ModuleMapper for Fill<'_> {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                let shape = param.lazy_shape();
                let n = shape.num_elements();
                let values = self.values[self.at..self.at + n].to_vec();
                self.at += n;
                let device = self.device;
                param.map(|_| Tensor::from_data(TensorData::new(values, shape), device))
            }
        }
        let model = self.model();
        let mut flatten = Flatten(Vec::new());
        model.visit(&mut flatten);
        let (layout, state) = crate::optim::list_state(&self.optimizer);
        let values = read(Tensor::cat([flatten.0, state].concat(), 0))
            .await
            .map_err(|e| CheckpointError(format!("the model could not be read back ({e})")))?;
        let (model_values, state_values) = values.split_at(values.len() - layout.len());
        let mut fill = Fill {
            values: model_values,
            at: 0,
            device: &Device::flex(),
        };
        let optimizer = crate::optim::save_state(&self.optimizer, &layout, state_values)
            .map_err(|e| CheckpointError(format!("the optimiser could not be written ({e})")))?;
        Ok((model.clone().map(&mut fill), optimizer))
    }

    /// The run `config` on `device`, going on from `checkpoint` (written by [`Run::checkpoint`]
    /// for the same run) on a training set of `train_size` images: its model, optimiser state,
    /// generators (the shuffles and probe samples drawn so far are drawn again and dropped),
    /// clocks and summary are the checkpoint's, so that it trains on exactly as if it had never
    /// stopped (to the bit, on the same backend and micro-batch size).
    ///
    /// # Errors
    /// [`CheckpointError`] when the checkpoint is another run's (batch size, series, seed,
    /// learning rate, training-set size), has no epoch left to train, or its records cannot be
    /// read into this network.
    pub fn resume(
        config: RunConfig,
        device: &Device,
        checkpoint: &RunCheckpoint,
        train_size: usize,
    ) -> Result<Self, CheckpointError> {
        let refuse = |why: String| Err(CheckpointError(why));
        if !checkpoint.is_of(config.batch_size, config.series.as_deref()) {
            return refuse(format!("it is the checkpoint of {}", checkpoint.run_name()));
        }
        if checkpoint.seed != config.seed {
            return refuse(format!("it was trained with seed {}, not {}", checkpoint.seed, config.seed));
        }
        if checkpoint.train_size != train_size {
            return refuse(format!(
                "it was trained on {} images, not {train_size}",
                checkpoint.train_size
            ));
        }
        if checkpoint.summary.learning_rate.to_bits() != config.schedule.peak.to_bits() {
            return refuse(format!(
                "it was trained at learning rate {}, not {}",
                checkpoint.summary.learning_rate, config.schedule.peak
            ));
        }
        let summary = &checkpoint.summary;
        if (summary.optimizer, summary.model, summary.lr_policy)
            != (config.optimizer, config.model, config.lr_policy)
        {
            return refuse(format!(
                "it was trained with {} on {:?} ({:?} learning rate), not {} on {:?} ({:?})",
                summary.optimizer.name(),
                summary.model,
                summary.lr_policy,
                config.optimizer.name(),
                config.model,
                config.lr_policy
            ));
        }
        if checkpoint.epochs_done >= config.epochs
            || checkpoint.summary.status != crate::summary::RunStatus::Running
        {
            return refuse("it has no epoch left to train".into());
        }
        let mut run = Self::new(config, device);
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(checkpoint.model.clone()))
            .map_err(|e| CheckpointError(format!("its model could not be read ({e})")))?;
        let model = run
            .model
            .take()
            .expect("a new run has its model")
            .try_load_record(record)
            .map_err(|e| CheckpointError(format!("its model does not fit this network ({e})")))?;
        run.model = Some(model);
        run.optimizer = crate::optim::load_state(
            run.config.optimizer,
            &checkpoint.optimizer,
            &run.device.clone().inner(),
        )
        .map_err(|e| CheckpointError(format!("its optimiser state could not be read ({e})")))?;
        // The generators where they stood: every shuffle and probe sample drawn again.
        for _ in 0..checkpoint.epochs_done {
            let mut order: Vec<usize> = (0..train_size).collect();
            order.shuffle(&mut run.rng);
        }
        if checkpoint.probes > 0 && !(2..=train_size).contains(&checkpoint.probe_size) {
            return refuse(format!("its probe sample of {} images does not fit", checkpoint.probe_size));
        }
        for _ in 0..checkpoint.probes {
            rand::seq::index::sample(&mut run.probe_rng, train_size, checkpoint.probe_size);
        }
        run.probes = checkpoint.probes;
        run.probe_size = checkpoint.probe_size;
        run.epochs_done = checkpoint.epochs_done;
        run.steps = checkpoint.steps;
        run.samples = checkpoint.samples;
        run.train_seconds = checkpoint.train_seconds;
        run.next_eval = checkpoint.next_eval;
        run.noise = checkpoint.noise.clone();
        run.summary = checkpoint.summary.clone();
        Ok(run)
    }

    /// Does about `budget` of work — training micro-batches on `train`, the noise probe (on `train`)
    /// after each epoch's training, or evaluation batches on `validation` (none when it is
    /// empty), then on `test` — then reads the running sums back from the device
    /// (asynchronously) and reports.
    ///
    /// The first call pays shader compilation; the amount of work per call then adapts so that
    /// a call takes about `budget`, with at least one unit.
    ///
    /// # Errors
    /// [`TrainError::DeviceLost`] when the GPU device was lost, [`TrainError::Read`] when the
    /// device cannot hand the sums back for another reason.
    ///
    /// # Panics
    /// If called after the run finished.
    pub async fn advance(
        &mut self,
        train: &impl Batches,
        validation: &Split,
        test: &Split,
        budget: Duration,
    ) -> Result<RunEvent, TrainError> {
        assert!(!self.finished, "advance called on a finished run");
        let start = Instant::now();
        if self.phase == Phase::Validate && validation.is_empty() {
            self.start_phase(Phase::Test);
        }
        // No test images (a learning-rate trial, judged on validation alone): the epoch ends.
        if self.phase == Phase::Test && test.is_empty() {
            let epoch = self.epochs_done + 1;
            return Ok(self.end_epoch(epoch, f64::NAN, f64::NAN));
        }
        let phase = self.phase;
        if self.cursor == 0 && phase == Phase::Train {
            self.order = (0..train.len()).collect();
            self.order.shuffle(&mut self.rng);
            self.epoch_seconds = 0.0;
        }
        let total = match phase {
            Phase::Train => train.len(),
            Phase::Probe => self.probe_order.len(),
            Phase::Validate => validation.len(),
            Phase::Check => EVAL_SUBSET.min(validation.len()),
            Phase::Test => test.len(),
        };
        // The evaluation snapshot (no autodiff) is taken once per chunk, not once per batch.
        let eval_model = matches!(phase, Phase::Validate | Phase::Check | Phase::Test)
            .then(|| self.model().valid());
        let mut units = 0;
        let mut check_due = false;
        while units < self.chunk && self.cursor < total {
            match (phase, &eval_model) {
                (Phase::Train, _) => self.train_step(train),
                (Phase::Probe, _) => self.probe_step(train),
                (Phase::Validate, Some(model)) => self.eval_batch(model, validation, total),
                (Phase::Check, Some(model)) => self.eval_batch(model, validation, total),
                (Phase::Test, Some(model)) => self.eval_batch(model, test, total),
                (Phase::Validate | Phase::Check | Phase::Test, None) => {
                    unreachable!("evaluation has its snapshot")
                }
            }
            units += 1;
            // A log-spaced point reached between two steps, before the epoch's end (which is
            // evaluated whole anyway): validation is checked before training goes on.
            if phase == Phase::Train
                && self.step.is_none()
                && self.next_eval.is_some_and(|s| self.steps >= s)
            {
                self.next_eval = next_eval_step(self.steps, self.config.eval_points);
                if self.cursor < total && !validation.is_empty() {
                    check_due = true;
                    break;
                }
            }
        }
        if phase == Phase::Probe {
            let event = self.finish_probe_chunk(units, start, budget).await?;
            return Ok(self.naming_the_next_phase(event, validation, test));
        }
        let sums = read(self.sums.clone().expect("a chunk does at least one unit")).await?;
        let elapsed = start.elapsed();
        self.adapt_chunk(units, elapsed, budget);
        let (loss_sum, correct) = (sums[0] as f64, sums[1] as f64);
        let done = self.cursor;
        let epoch = self.epochs_done + 1;
        let mean_loss = loss_sum / done.max(1) as f64;
        // A NaN in the epoch's last training steps shows up only in the evaluation sums.
        let diverged = match phase {
            Phase::Train => is_diverged(mean_loss),
            _ => !mean_loss.is_finite(),
        };
        if diverged {
            self.finished = true;
            self.summary.diverged_epoch = Some(epoch);
            self.summary.diverged_loss = mean_loss.is_finite().then_some(mean_loss);
            self.summary.end(EndedBy::Diverged);
            return Ok(RunEvent::Diverged(self.summary.clone()));
        }
        if phase == Phase::Train {
            self.epoch_seconds += elapsed.as_secs_f64();
            let budget = self.config.budget_seconds;
            self.out_of_time = budget > 0.0 && self.train_seconds + self.epoch_seconds >= budget;
            // Out of time, the epoch ends after the step under way.
            let ended = done == total || (self.out_of_time && self.step.is_none());
            if ended {
                self.train_metrics = (loss_sum / done as f64, correct / done as f64);
                self.train_seconds += self.epoch_seconds;
                self.epoch_samples = done;
                self.start_probe(train);
            } else if check_due {
                self.paused_train = Some((self.cursor, self.sums.take(), self.chunk));
                self.start_phase(Phase::Check);
            }
            let event = RunEvent::Progress(self.progress(
                epoch,
                "train",
                done,
                total,
                Some(loss_sum / done as f64),
                None,
            ));
            // The epoch's training ended: the status line names the phase under way (the
            // noise probe, or evaluation when there is none) from its start.
            return Ok(if ended {
                self.naming_the_next_phase(event, validation, test)
            } else {
                event
            });
        }
        if phase == Phase::Check {
            let mut finished_check = None;
            if done == total {
                let point = EvalPoint {
                    steps: self.steps,
                    samples: self.samples,
                    train_seconds: self.train_seconds + self.epoch_seconds,
                    val_loss: mean_loss,
                    val_accuracy: correct / done as f64,
                    images: done,
                };
                if self.summary.observe_check(epoch, &point) {
                    self.reached_in_epoch = true;
                }
                let (cursor, sums, chunk) = self
                    .paused_train
                    .take()
                    .expect("a check pauses the training phase");
                self.phase = Phase::Train;
                self.cursor = cursor;
                self.sums = sums;
                self.chunk = chunk;
                finished_check = Some(point);
            }
            // Where training stands (the check's own images are few and quick).
            let trained = self.paused_train.as_ref().map_or(self.cursor, |p| p.0);
            return Ok(RunEvent::Progress(self.progress(
                epoch,
                "check",
                trained,
                self.order.len(),
                None,
                finished_check,
            )));
        }
        if phase == Phase::Validate {
            let event = RunEvent::Progress(self.progress(
                epoch,
                "validation",
                done,
                total,
                None,
                None,
            ));
            if done == total {
                self.val_metrics = Some((mean_loss, correct / done as f64, done));
                self.start_phase(Phase::Test);
                return Ok(self.naming_the_next_phase(event, validation, test));
            }
            return Ok(event);
        }
        if done < total {
            return Ok(RunEvent::Progress(
                self.progress(epoch, "test", done, total, None, None),
            ));
        }
        Ok(self.end_epoch(epoch, loss_sum / done as f64, correct / done as f64))
    }

    /// Ends epoch `epoch` with its test metrics (NaN when no test image was evaluated: a
    /// learning-rate trial's): its record, the summary's update, and whether the run ends.
    fn end_epoch(&mut self, epoch: usize, test_loss: f64, test_accuracy: f64) -> RunEvent {
        let record = EpochRecord {
            batch_size: self.config.batch_size,
            epoch,
            steps: self.steps,
            samples: self.samples,
            train_loss: self.train_metrics.0,
            train_accuracy: self.train_metrics.1,
            test_loss,
            test_accuracy,
            val_loss: self.val_metrics.map(|m| m.0),
            val_accuracy: self.val_metrics.map(|m| m.1),
            train_seconds: self.train_seconds,
            // (At most 1 ms: a coarse timer can measure a short epoch as taking no time.)
            samples_per_second: self.epoch_samples as f64 / self.epoch_seconds.max(1e-3),
            learning_rate: self.config.schedule.at(self.steps.saturating_sub(1)),
            seed: Some(self.config.seed),
            series: self.config.series.clone(),
        };
        self.epochs_done += 1;
        self.start_phase(Phase::Train);
        // The epoch's end is a validation point too, on every validation image.
        if let Some((val_loss, val_accuracy, images)) = self.val_metrics.take() {
            self.summary.evals.push(EvalPoint {
                steps: record.steps,
                samples: record.samples,
                train_seconds: record.train_seconds,
                val_loss,
                val_accuracy,
                images,
            });
        }
        let reached = self.summary.observe(&record) || std::mem::take(&mut self.reached_in_epoch);
        let ended_by = if reached && self.config.end_at_target {
            Some(EndedBy::Target)
        } else if self.epochs_done == self.config.epochs {
            Some(EndedBy::Epochs)
        } else if self.out_of_time {
            Some(EndedBy::TimeBudget)
        } else {
            None
        };
        if let Some(by) = ended_by {
            self.summary.end(by);
            self.finished = true;
        }
        RunEvent::Epoch(record, self.summary.clone())
    }

    /// Starts `phase` from its first image, with fresh sums and a one-unit first chunk.
    fn start_phase(&mut self, phase: Phase) {
        self.phase = phase;
        self.cursor = 0;
        self.sums = None;
        self.chunk = 1;
    }

    /// Starts the noise probe on a fresh random sample of the training set (skipped, straight
    /// to evaluation, when the set holds fewer than two small batches).
    fn start_probe(&mut self, train: &impl Batches) {
        let small = PROBE_SMALL_BATCH.min(self.micro_batch);
        let big = PROBE_BIG_BATCH.min(train.len()) / small * small;
        // A learning-rate trial is judged on validation alone: its noise scale is never used.
        if big < 2 * small || self.trial.is_some() {
            self.start_phase(Phase::Validate);
            return;
        }
        self.probe_order =
            rand::seq::index::sample(&mut self.probe_rng, train.len(), big).into_vec();
        self.probes += 1;
        self.probe_size = big;
        self.probe_norms = None;
        self.start_phase(Phase::Probe);
    }

    /// Reads the probe's sums after a chunk; after its last chunk, turns them into the two
    /// squared norms and updates the noise scale, then starts evaluation.
    async fn finish_probe_chunk(
        &mut self,
        units: usize,
        start: Instant,
        budget: Duration,
    ) -> Result<RunEvent, TrainError> {
        let small = PROBE_SMALL_BATCH.min(self.micro_batch);
        let total = self.probe_order.len();
        let norms = self
            .probe_norms
            .clone()
            .expect("a chunk does at least one unit");
        let last = self.cursor == total;
        let values = if last {
            // |Σ g_i|², the squared norm of the sum of the small-batch gradients.
            let sum = self.probe_gradients.grads();
            let big = squared_norm(self.model(), &sum);
            read(Tensor::cat(vec![norms, big], 0)).await?
        } else {
            read(norms).await?
        };
        self.adapt_chunk(units, start.elapsed(), budget);
        let done = self.cursor;
        if last {
            let k = (total / small) as f64;
            // Mean |g_small|² over the k small batches; |g_big|² = |Σ g_i / k|².
            let small_sq = values[0] as f64 / k;
            let big_sq = values[1] as f64 / (k * k);
            self.noise.observe(small, small_sq, total, big_sq);
            self.summary.noise_scale = self.noise.estimate();
            self.start_phase(Phase::Validate);
        }
        Ok(RunEvent::Progress(self.progress(
            self.epochs_done + 1,
            "probe",
            done,
            total,
            None,
            None,
        )))
    }

    /// `event` (the end of a phase) with the phase that starts next ([`Progress::next`]), so
    /// that the status line names it while its first chunk runs.
    fn naming_the_next_phase(&self, mut event: RunEvent, validation: &Split, test: &Split) -> RunEvent {
        let RunEvent::Progress(progress) = &mut event else {
            return event;
        };
        let (phase, total) = match self.phase {
            Phase::Probe => ("probe", self.probe_order.len()),
            Phase::Validate if !validation.is_empty() => ("validation", validation.len()),
            Phase::Validate | Phase::Test if !test.is_empty() => ("test", test.len()),
            _ => return event,
        };
        progress.next = Some(NextPhase { phase, total });
        event
    }

    /// Aim for `budget` per chunk from the measured time per unit, growing at most 2x a chunk
    /// (a first, slow unit that compiled shaders must not make the next chunk huge).
    fn adapt_chunk(&mut self, units: usize, elapsed: Duration, budget: Duration) {
        let per_unit = elapsed.as_secs_f64() / units.max(1) as f64;
        let fit = (budget.as_secs_f64() / per_unit.max(1e-6)).floor() as usize;
        self.chunk = fit.clamp(1, 2 * self.chunk.max(units));
    }

    /// Adds `[loss * n, correct]` of a pass over `n` images to the phase's sums, on the device.
    fn accumulate(
        &mut self,
        mean_loss: Tensor<1>,
        logits: Tensor<2>,
        targets: Tensor<1, burn::tensor::Int>,
    ) {
        let n = targets.dims()[0];
        let correct = logits
            .argmax(1)
            .equal(targets.reshape([n, 1]))
            .float()
            .sum();
        let step = Tensor::cat(vec![mean_loss.mul_scalar(n as f32), correct], 0);
        self.sums = Some(match self.sums.take() {
            Some(sums) => sums + step,
            None => step,
        });
    }

    /// One micro-batch of the step under way (starting a step on the next batch of the
    /// shuffled order if none is): its forward and backward pass, its gradient added to the
    /// step's. The step's last micro-batch applies the optimiser step. A large batch so spans
    /// several chunks, with progress reported and Stop honoured between its micro-batches.
    fn train_step(&mut self, train: &impl Batches) {
        let mut step = self.step.take().unwrap_or_else(|| PendingStep {
            start: self.cursor,
            end: (self.cursor + self.config.batch_size).min(train.len()),
            grads: GradientsAccumulator::new(),
        });
        let batch_len = step.end - step.start;
        let micro_end = (self.cursor + self.micro_batch).min(step.end);
        let micro = &self.order[self.cursor..micro_end];
        let model = self
            .model
            .take()
            .expect("the model is present between steps");
        let batch = train.batch(micro, &self.device);
        let logits = model.forward(batch.images);
        let loss = self.loss.forward(logits.clone(), batch.targets.clone());
        // Each micro-batch's mean loss, weighted by its share, so the summed gradients are the
        // gradient of the whole batch's mean loss.
        let scaled = if micro.len() == batch_len {
            loss.clone()
        } else {
            loss.clone()
                .mul_scalar(micro.len() as f32 / batch_len as f32)
        };
        let grads = GradientsParams::from_grads(scaled.backward(), &model);
        step.grads.accumulate(&model, grads);
        self.accumulate(loss.inner(), logits.inner(), batch.targets.inner());
        self.cursor = micro_end;
        if micro_end < step.end {
            self.model = Some(model);
            self.step = Some(step);
            return;
        }
        let learning_rate = self.config.schedule.at(self.steps);
        self.model = Some(
            self.optimizer
                .step(learning_rate, model, step.grads.grads()),
        );
        self.steps += 1;
        self.samples += batch_len;
    }

    /// One small batch of the noise probe: its mean-loss gradient, whose squared norm is added
    /// to the probe's sums and which is added to the probe's gradient sum. No optimiser step.
    fn probe_step(&mut self, train: &impl Batches) {
        let small = PROBE_SMALL_BATCH.min(self.micro_batch);
        let end = self.cursor + small;
        let model = self
            .model
            .take()
            .expect("the model is present between steps");
        let batch = train.batch(&self.probe_order[self.cursor..end], &self.device);
        let loss = self
            .loss
            .forward(model.forward(batch.images), batch.targets);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let norm = squared_norm(&model, &grads);
        self.probe_norms = Some(match self.probe_norms.take() {
            Some(sum) => sum + norm,
            None => norm,
        });
        self.probe_gradients.accumulate(&model, grads);
        self.model = Some(model);
        self.cursor = end;
    }

    /// Evaluates the next batch of `split`'s images (at most [`EVAL_BATCH`], and at most the
    /// micro-batch size; none past `limit`) with `model`, an evaluation snapshot.
    fn eval_batch(&mut self, model: &Network, split: &Split, limit: usize) {
        let end = (self.cursor + EVAL_BATCH.min(self.micro_batch)).min(split.len().min(limit));
        let indices: Vec<usize> = (self.cursor..end).collect();
        let device = self.device.clone().inner();
        let batch = split.batch(&indices, &device);
        let logits = model.forward(batch.images);
        let loss = self.loss.forward(logits.clone(), batch.targets.clone());
        self.accumulate(loss, logits, batch.targets);
        self.cursor = end;
    }
}

/// Reads a small float tensor back from its device, asynchronously (the only kind of read the
/// browser allows).
async fn read(tensor: Tensor<1>) -> Result<Vec<f32>, TrainError> {
    let data = tensor
        .into_data_async()
        .await
        .map_err(TrainError::from_read)?;
    data.try_into_vec::<f32>()
        .map_err(|e| TrainError::Read(format!("{e:?}")))
}
