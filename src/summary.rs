//! One summary per run, kept up to date epoch by epoch: when the run first reached the target
//! test accuracy, its best and final accuracy, its throughput, its gradient noise scale, and how
//! it ended. The page lists these (`window.batchlab.runs`) and draws them across batch sizes.
//!
//! Owns a run's summary and how each epoch updates it; must not train (it reads records).

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::optim::Optimizer;
use crate::schedule::LrPolicy;
use crate::record::EpochRecord;

/// Where a run stands (`"running"`, `"done"`, `"diverged"`, `"stopped"` in JavaScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RunStatus {
    /// Still training.
    Running,
    /// Ended normally (see [`EndedBy`]).
    Done,
    /// Its training loss became NaN or infinite; it was ended there (and kept).
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

/// The summary of one run (`camelCase` in JavaScript). Times are training seconds (evaluation
/// excluded); accuracies are fractions in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// The learning rate this batch size trained at, after the learning-rate policy (its peak,
    /// after any warm-up).
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
    /// The target test accuracy (fraction).
    pub target: f64,
    /// The epoch at whose end the test accuracy first reached the target; `null`: not reached.
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
    /// The gradient noise scale B_simple (samples) as last estimated ([`crate::noise`]);
    /// `null` before the first estimate or when too noisy to tell.
    pub noise_scale: Option<f64>,
    /// The epoch in which the loss became non-finite; `null` unless diverged.
    pub diverged_epoch: Option<usize>,
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
            target_epoch: None,
            target_steps: None,
            target_samples: None,
            target_seconds: None,
            best_test_accuracy: None,
            final_test_accuracy: None,
            noise_scale: None,
            diverged_epoch: None,
        }
    }

    /// Takes a finished epoch into account. Returns whether this epoch is the one that first
    /// reached the target.
    pub fn observe(&mut self, record: &EpochRecord) -> bool {
        self.epochs = record.epoch;
        self.steps = record.steps;
        self.samples = record.samples;
        self.train_seconds = record.train_seconds;
        self.samples_per_second = record.samples as f64 / record.train_seconds.max(1e-9);
        self.final_test_accuracy = Some(record.test_accuracy);
        self.best_test_accuracy = Some(
            self.best_test_accuracy
                .map_or(record.test_accuracy, |best| best.max(record.test_accuracy)),
        );
        let first = self.target_epoch.is_none() && record.test_accuracy >= self.target;
        if first {
            self.target_epoch = Some(record.epoch);
            self.target_steps = Some(record.steps);
            self.target_samples = Some(record.samples);
            self.target_seconds = Some(record.train_seconds);
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
