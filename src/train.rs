//! One run: LeNet-5 trained at one batch size for a number of epochs, evaluated after each.
//!
//! A run advances in short chunks ([`Run::advance`]) so that the caller (the Web Worker) gets
//! control back a few times per second: to report progress and to honour Stop. Loss and accuracy
//! are summed on the device and read back once per chunk (that read is also what keeps the CPU
//! from queueing unbounded work ahead of the GPU): never one GPU→CPU read per step.

use std::time::Duration;

use burn::module::Module;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsAccumulator, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use web_time::Instant;

use crate::data::Split;
use crate::model::LeNet5;
use crate::settings::Optimizer;

/// Largest number of images sent through the model in one pass. A larger batch is one optimiser
/// step over gradients accumulated across micro-batches of at most this many images (conv1's
/// activations alone take `batch x 6 x 28 x 28 x 4` bytes: 19 MB at 1,024).
pub const MAX_MICRO_BATCH: usize = 1024;
/// Images per forward pass during evaluation.
pub const EVAL_BATCH: usize = 1000;

/// The metrics of one finished epoch (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochRecord {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Optimiser steps taken since the run started.
    pub steps: usize,
    /// Training samples seen since the run started.
    pub samples: usize,
    /// Mean cross-entropy over this epoch's training samples (nats), as they were trained on.
    pub train_loss: f64,
    /// Fraction of this epoch's training samples classified correctly, in [0, 1].
    pub train_accuracy: f64,
    /// Mean cross-entropy on the evaluated test images after this epoch (nats).
    pub test_loss: f64,
    /// Fraction of the evaluated test images classified correctly after this epoch, in [0, 1].
    pub test_accuracy: f64,
    /// Cumulative training wall time since the run started, in seconds (evaluation excluded).
    pub train_seconds: f64,
    /// This epoch's training throughput: its samples / its training wall time (samples/s).
    pub samples_per_second: f64,
}

/// Where a run is within an epoch (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// The epoch under way, from 1.
    pub epoch: usize,
    /// `"train"` or `"test"` (evaluation).
    pub phase: &'static str,
    /// Images done so far in this phase.
    pub done: usize,
    /// Images in this phase.
    pub total: usize,
    /// Mean training loss so far in this epoch (nats); `None` during evaluation.
    pub running_loss: Option<f64>,
}

/// What one call of [`Run::advance`] achieved.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// Part of an epoch was done.
    Progress(Progress),
    /// An epoch ended (training and evaluation).
    Epoch(EpochRecord),
    /// The training loss became NaN or infinite: the run has ended and cannot go on.
    Diverged {
        /// Samples per optimiser step.
        batch_size: usize,
        /// The epoch in which it happened, from 1.
        epoch: usize,
    },
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
    Test,
}

/// One training run at one batch size. Build with [`Run::new`], drive with [`Run::advance`]
/// until [`Run::is_finished`].
pub struct Run {
    batch_size: usize,
    epochs: usize,
    learning_rate: f64,
    /// The autodiff device that training runs on.
    device: Device,
    model: Option<LeNet5>,
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
    /// Training wall time of finished epochs, and of the epoch under way.
    train_seconds: f64,
    epoch_seconds: f64,
    /// Units of work (steps, or evaluation batches) per chunk, adapted to the time budget.
    chunk: usize,
    /// Most images per forward/backward pass; larger batches accumulate gradients.
    micro_batch: usize,
    finished: bool,
}

impl Run {
    /// A run at `batch_size` on `device` (a plain device: autodiff is added here). Seeds the
    /// device with `seed`, so every run of a sweep starts from the same weights and visits the
    /// training images in the same shuffled orders.
    pub fn new(
        batch_size: usize,
        epochs: usize,
        learning_rate: f64,
        optimizer: Optimizer,
        seed: u64,
        device: &Device,
    ) -> Self {
        let device = device.clone().autodiff();
        device.seed(seed);
        let model = LeNet5::new(&device);
        let optimizer = match optimizer {
            Optimizer::Sgd => SgdConfig::new().init(),
            Optimizer::Momentum => SgdConfig::new()
                .with_momentum(Some(
                    MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
                ))
                .init(),
            Optimizer::Adam => AdamConfig::new().init(),
        };
        Self {
            batch_size,
            epochs,
            learning_rate,
            loss: CrossEntropyLossConfig::new().init(&device),
            device,
            model: Some(model),
            optimizer,
            rng: StdRng::seed_from_u64(seed),
            order: Vec::new(),
            phase: Phase::Train,
            cursor: 0,
            epochs_done: 0,
            steps: 0,
            samples: 0,
            sums: None,
            train_metrics: (0.0, 0.0),
            train_seconds: 0.0,
            epoch_seconds: 0.0,
            chunk: 1,
            micro_batch: MAX_MICRO_BATCH,
            finished: false,
        }
    }

    /// Sets the most images per forward/backward pass (default [`MAX_MICRO_BATCH`]); a batch
    /// larger than this is one optimiser step over gradients accumulated across micro-batches.
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
        self.batch_size
    }

    /// Whether every epoch is done (or the run diverged).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The model as trained so far.
    pub fn model(&self) -> &LeNet5 {
        self.model
            .as_ref()
            .expect("the model is only taken during a step")
    }

    /// Does about `budget` of work — training steps on `train`, or evaluation batches on `test`
    /// — then reads the running sums back from the device (asynchronously) and reports.
    ///
    /// The first call pays shader compilation; the amount of work per call then adapts so that
    /// a call takes about `budget`, with at least one step.
    ///
    /// # Errors
    /// [`TrainError::DeviceLost`] when the GPU device was lost, [`TrainError::Read`] when the
    /// device cannot hand the sums back for another reason.
    ///
    /// # Panics
    /// If called after the run finished.
    pub async fn advance(
        &mut self,
        train: &Split,
        test: &Split,
        budget: Duration,
    ) -> Result<RunEvent, TrainError> {
        assert!(!self.finished, "advance called on a finished run");
        let start = Instant::now();
        let phase = self.phase;
        let set = match phase {
            Phase::Train => train,
            Phase::Test => test,
        };
        if self.cursor == 0 && phase == Phase::Train {
            self.order = (0..train.len()).collect();
            self.order.shuffle(&mut self.rng);
            self.epoch_seconds = 0.0;
        }
        // The validation snapshot (no autodiff) is taken once per chunk, not once per batch.
        let eval_model = (phase == Phase::Test).then(|| self.model().valid());
        let mut units = 0;
        while units < self.chunk && self.cursor < set.len() {
            match &eval_model {
                None => self.train_step(train),
                Some(model) => self.eval_batch(model, test),
            }
            units += 1;
        }
        let sums = read(self.sums.clone().expect("a chunk does at least one unit")).await?;
        let elapsed = start.elapsed();
        self.adapt_chunk(units, elapsed, budget);
        let (loss_sum, correct) = (sums[0] as f64, sums[1] as f64);
        let done = self.cursor;
        let epoch = self.epochs_done + 1;
        if !loss_sum.is_finite() {
            // A NaN in the epoch's last training steps shows up only in the test sums.
            self.finished = true;
            return Ok(RunEvent::Diverged {
                batch_size: self.batch_size,
                epoch,
            });
        }
        if phase == Phase::Train {
            self.epoch_seconds += elapsed.as_secs_f64();
            if done == set.len() {
                self.train_metrics = (loss_sum / done as f64, correct / done as f64);
                self.train_seconds += self.epoch_seconds;
                self.start_phase(Phase::Test);
            }
            return Ok(RunEvent::Progress(Progress {
                batch_size: self.batch_size,
                epoch,
                phase: "train",
                done,
                total: set.len(),
                running_loss: Some(loss_sum / done as f64),
            }));
        }
        if done < set.len() {
            return Ok(RunEvent::Progress(Progress {
                batch_size: self.batch_size,
                epoch,
                phase: "test",
                done,
                total: set.len(),
                running_loss: None,
            }));
        }
        let epoch_samples = train.len() as f64;
        let record = EpochRecord {
            batch_size: self.batch_size,
            epoch,
            steps: self.steps,
            samples: self.samples,
            train_loss: self.train_metrics.0,
            train_accuracy: self.train_metrics.1,
            test_loss: loss_sum / done as f64,
            test_accuracy: correct / done as f64,
            train_seconds: self.train_seconds,
            samples_per_second: epoch_samples / self.epoch_seconds.max(1e-9),
        };
        self.epochs_done += 1;
        self.start_phase(Phase::Train);
        self.finished = self.epochs_done == self.epochs;
        Ok(RunEvent::Epoch(record))
    }

    /// Starts `phase` from its first image, with fresh sums and a one-unit first chunk.
    fn start_phase(&mut self, phase: Phase) {
        self.phase = phase;
        self.cursor = 0;
        self.sums = None;
        self.chunk = 1;
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

    /// One optimiser step on the next batch of the shuffled order.
    fn train_step(&mut self, train: &Split) {
        let end = (self.cursor + self.batch_size).min(train.len());
        let indices = &self.order[self.cursor..end];
        let batch_len = indices.len();
        let model = self
            .model
            .take()
            .expect("the model is present between steps");
        let mut accumulator = GradientsAccumulator::<LeNet5>::new();
        let mut stats = Vec::new();
        for micro in indices.chunks(self.micro_batch) {
            let batch = train.batch(micro, &self.device);
            let logits = model.forward(batch.images);
            let loss = self.loss.forward(logits.clone(), batch.targets.clone());
            stats.push((loss.clone().inner(), logits.inner(), batch.targets.inner()));
            // Each micro-batch's mean loss, weighted by its share, so the summed gradients are
            // the gradient of the whole batch's mean loss.
            let scaled = if micro.len() == batch_len {
                loss
            } else {
                loss.mul_scalar(micro.len() as f32 / batch_len as f32)
            };
            let grads = GradientsParams::from_grads(scaled.backward(), &model);
            accumulator.accumulate(&model, grads);
        }
        for (loss, logits, targets) in stats {
            self.accumulate(loss, logits, targets);
        }
        let grads = accumulator.grads();
        self.model = Some(self.optimizer.step(self.learning_rate, model, grads));
        self.cursor = end;
        self.steps += 1;
        self.samples += batch_len;
    }

    /// Evaluates the next batch of the test images with `model`, a validation snapshot.
    fn eval_batch(&mut self, model: &LeNet5, test: &Split) {
        let end = (self.cursor + EVAL_BATCH).min(test.len());
        let indices: Vec<usize> = (self.cursor..end).collect();
        let device = self.device.clone().inner();
        let batch = test.batch(&indices, &device);
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
