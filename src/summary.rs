//! One summary per run, kept up to date epoch by epoch: when the run first reached the target
//! accuracy (on the validation images, or on the test images when none are held out), its best and final accuracy, its throughput, its gradient noise scale, and how
//! it ended. The page lists these (`window.batchlab.runs`) and draws them across batch sizes.
//!
//! Owns a run's summary and how each epoch updates it; must not train (it reads records).

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::optim::Optimizer;
use crate::schedule::LrPolicy;
use crate::record::{EpochRecord, EvalPoint};
use crate::tuning::Tuning;

/// Where a run stands (`"running"`, `"done"`, `"diverged"`, `"stopped"` in JavaScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RunStatus {
    /// Still training.
    Running,
    /// Ended normally (see [`EndedBy`]).
    Done,
    /// It diverged (its training loss passed [`DIVERGENCE_LOSS`] or became NaN or infinite, or
    /// every learning-rate trial of a tuned batch size did); it was ended there (and kept).
    Diverged,
    /// The reader stopped the sweep during this run (set by the page).
    Stopped,
}

/// Why a finished run ended (`"epochs"`, `"target"`, `"timeBudget"`, `"diverged"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EndedBy {
    /// It trained every epoch asked for.
    Epochs,
    /// It reached the target accuracy, and runs end there.
    Target,
    /// Its training time passed the time budget per run.
    TimeBudget,
    /// Its loss became NaN or infinite.
    Diverged,
}

/// The images on which a run's target is measured (`"validation"`, `"test"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EvalSet {
    /// The validation images held out of the training file (`val` > 0).
    Validation,
    /// The test images: with no validation set (`val=0`), and in every sweep saved before the
    /// validation split existed (hence the default when the field is missing).
    #[default]
    Test,
}

/// The bound above which a run's mean training loss means it has diverged: 10 × ln 10 ≈ 23.0
/// nats, ten times the cross-entropy of an untrained network that spreads its probability
/// evenly over the 10 classes. A run whose loss passes it (or becomes NaN or infinite) has
/// diverged, even if its loss would later fall back to chance.
pub const DIVERGENCE_LOSS: f64 = 10.0 * std::f64::consts::LN_10;

/// Whether a mean training loss (nats) means the run has diverged: NaN, infinite, or above
/// [`DIVERGENCE_LOSS`].
pub fn is_diverged(mean_loss: f64) -> bool {
    !mean_loss.is_finite() || mean_loss > DIVERGENCE_LOSS
}

/// The summary of one run (`camelCase` in JavaScript). Times are training seconds (evaluation
/// excluded); accuracies are fractions in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// The learning rate this batch size trained at, after the learning-rate policy (its peak,
    /// after any warm-up); 0 when a tuned batch size had no rate to train at (every trial
    /// diverged: see `tuning`).
    pub learning_rate: f64,
    /// The optimiser (`"adam"`, …).
    pub optimizer: Optimizer,
    /// The network (`"lenet5"`, `"theano"`).
    pub model: Model,
    /// The learning-rate policy (`"fixed"`, `"linear"`, `"sqrt"`).
    pub lr_policy: LrPolicy,
    /// Where the run stands.
    pub status: RunStatus,
    /// Why it ended; `null` while running or when stopped.
    pub ended_by: Option<EndedBy>,
    /// Epochs finished (a cut-short last epoch counts).
    pub epochs: usize,
    /// Optimiser steps taken.
    pub steps: usize,
    /// Training samples seen.
    pub samples: usize,
    /// Training time so far, in seconds.
    pub train_seconds: f64,
    /// Mean throughput over the run: samples / training seconds (samples/s).
    pub samples_per_second: f64,
    /// The target accuracy (fraction), on [`RunSummary::target_on`]'s images.
    pub target: f64,
    /// Where the target is measured: `"validation"`, or `"test"` with no validation set.
    #[serde(default)]
    pub target_on: EvalSet,
    /// The epoch in which the accuracy on `target_on` first reached the target (at a check
    /// within it, or at its end); `null`: not reached.
    pub target_epoch: Option<usize>,
    /// Steps taken by then.
    pub target_steps: Option<usize>,
    /// Samples seen by then.
    pub target_samples: Option<usize>,
    /// Training seconds by then.
    pub target_seconds: Option<f64>,
    /// Highest test accuracy after any epoch; `null` before the first.
    pub best_test_accuracy: Option<f64>,
    /// Test accuracy after the last finished epoch; `null` before the first.
    pub final_test_accuracy: Option<f64>,
    /// Highest validation accuracy after any epoch; `null` before the first or with no
    /// validation set.
    #[serde(default)]
    pub best_val_accuracy: Option<f64>,
    /// Validation accuracy after the last finished epoch; `null` as `best_val_accuracy`.
    #[serde(default)]
    pub final_val_accuracy: Option<f64>,
    /// The gradient noise scale B_simple (samples) as last estimated ([`crate::noise`]);
    /// `null` before the first estimate or when too noisy to tell.
    pub noise_scale: Option<f64>,
    /// The epoch in which the run diverged (its mean training loss passed
    /// [`DIVERGENCE_LOSS`] or became non-finite); `null` unless diverged.
    pub diverged_epoch: Option<usize>,
    /// The mean training loss that passed [`DIVERGENCE_LOSS`] (nats, the epoch's so far);
    /// `null` unless diverged, or when it was NaN or infinite.
    #[serde(default)]
    pub diverged_loss: Option<f64>,
    /// Under `lrpolicy=tuned`: the trials of this batch size's learning-rate grid and the rate
    /// chosen (the run's `learning_rate`); `null` otherwise.
    #[serde(default)]
    pub tuning: Option<Tuning>,
    /// Validation measured so far, in order of steps: at the log-spaced points within the
    /// epochs (`evalpoints`) and at each epoch's end; empty with no validation set (and in
    /// sweeps saved before these points existed).
    #[serde(default)]
    pub evals: Vec<EvalPoint>,
    /// The run's seed (weights, shuffled orders); `null` in files saved before seeds were
    /// recorded (the settings' `seed` then).
    #[serde(default)]
    pub seed: Option<u64>,
    /// The run's line label when its batch size has more than one run (see
    /// [`crate::record::EpochRecord::series`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
}

impl RunSummary {
    /// A run not yet trained.
    pub fn new(
        batch_size: usize,
        learning_rate: f64,
        optimizer: Optimizer,
        model: Model,
        lr_policy: LrPolicy,
        target: f64,
        target_on: EvalSet,
    ) -> Self {
        Self {
            batch_size,
            learning_rate,
            optimizer,
            model,
            lr_policy,
            status: RunStatus::Running,
            ended_by: None,
            epochs: 0,
            steps: 0,
            samples: 0,
            train_seconds: 0.0,
            samples_per_second: 0.0,
            target,
            target_on,
            target_epoch: None,
            target_steps: None,
            target_samples: None,
            target_seconds: None,
            best_test_accuracy: None,
            final_test_accuracy: None,
            best_val_accuracy: None,
            final_val_accuracy: None,
            noise_scale: None,
            diverged_epoch: None,
            diverged_loss: None,
            tuning: None,
            evals: Vec::new(),
            seed: None,
            series: None,
        }
    }

    /// Takes a finished epoch into account. Returns whether this epoch is the one that first
    /// reached the target on `target_on`'s images (a record with no validation accuracy never
    /// reaches a target measured on validation).
    pub fn observe(&mut self, record: &EpochRecord) -> bool {
        self.epochs = record.epoch;
        self.steps = record.steps;
        self.samples = record.samples;
        self.train_seconds = record.train_seconds;
        self.samples_per_second = record.samples as f64 / record.train_seconds.max(1e-3);
        self.final_test_accuracy = Some(record.test_accuracy);
        self.best_test_accuracy = Some(
            self.best_test_accuracy
                .map_or(record.test_accuracy, |best| best.max(record.test_accuracy)),
        );
        if let Some(val) = record.val_accuracy {
            self.final_val_accuracy = Some(val);
            self.best_val_accuracy = Some(self.best_val_accuracy.map_or(val, |best| best.max(val)));
        }
        let measured = match self.target_on {
            EvalSet::Validation => record.val_accuracy,
            EvalSet::Test => Some(record.test_accuracy),
        };
        let first = self.target_epoch.is_none() && measured.is_some_and(|a| a >= self.target);
        if first {
            self.target_epoch = Some(record.epoch);
            self.target_steps = Some(record.steps);
            self.target_samples = Some(record.samples);
            self.target_seconds = Some(record.train_seconds);
        }
        first
    }

    /// Takes a validation check within epoch `epoch` into account (see [`EvalPoint`]): kept in
    /// `evals`; when the target is measured on validation and not reached yet, a check at or
    /// above it reaches it there (its steps, samples and seconds; the epoch under way). Returns
    /// whether this check first reached the target.
    pub fn observe_check(&mut self, epoch: usize, point: &EvalPoint) -> bool {
        self.evals.push(point.clone());
        let first = self.target_on == EvalSet::Validation
            && self.target_epoch.is_none()
            && point.val_accuracy >= self.target;
        if first {
            self.target_epoch = Some(epoch);
            self.target_steps = Some(point.steps);
            self.target_samples = Some(point.samples);
            self.target_seconds = Some(point.train_seconds);
        }
        first
    }

    /// Marks the run as ended.
    pub fn end(&mut self, by: EndedBy) {
        self.ended_by = Some(by);
        self.status = if by == EndedBy::Diverged {
            RunStatus::Diverged
        } else {
            RunStatus::Done
        };
    }
}
