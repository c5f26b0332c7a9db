//! A run's records: the metrics of each finished epoch ([`EpochRecord`]) and where a run is
//! within an epoch ([`Progress`]). Plain data, shared by the run that writes them
//! ([`crate::train`]), its summary ([`crate::summary`]), the sweep and the exports; this module
//! imports nothing of the crate, so that none of them depends on another through it.

use serde::{Deserialize, Serialize};

/// The metrics of one finished epoch (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Mean cross-entropy on the validation images after this epoch (nats); `None` (missing in
    /// JSON) when the sweep holds no validation set out (`val=0`, or saved before it existed).
    #[serde(default)]
    pub val_loss: Option<f64>,
    /// Fraction of the validation images classified correctly after this epoch, in [0, 1];
    /// `None` as `val_loss`.
    #[serde(default)]
    pub val_accuracy: Option<f64>,
    /// Cumulative training wall time since the run started, in seconds (evaluation excluded).
    pub train_seconds: f64,
    /// This epoch's training throughput: its samples / its training wall time (samples/s).
    pub samples_per_second: f64,
    /// The learning rate of the epoch's last step.
    pub learning_rate: f64,
    /// The seed of the record's run; absent in files saved before seeds were recorded (the
    /// settings' `seed` then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The line label of the record's run when its batch size has more than one run: another
    /// seed or arm (e.g. `"64 (fixed lr, seed 43)"`, from [`crate::settings::PlannedRun`]), or
    /// a restart (the page appends e.g. `"(restarted on the CPU)"`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
}

/// Validation measured after a number of steps (`camelCase` in JavaScript): at the log-spaced
/// points within the epochs, on the first [`crate::train::EVAL_SUBSET`] validation images, and
/// at each epoch's end, on all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvalPoint {
    /// Optimiser steps taken.
    pub steps: usize,
    /// Training samples seen.
    pub samples: usize,
    /// Training seconds by then (evaluation excluded).
    pub train_seconds: f64,
    /// Mean cross-entropy on the images evaluated (nats).
    pub val_loss: f64,
    /// Fraction of them classified correctly, in [0, 1].
    pub val_accuracy: f64,
    /// Validation images evaluated.
    pub images: usize,
}

/// Where a run is within an epoch (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// The epoch under way, from 1.
    pub epoch: usize,
    /// `"train"`, `"probe"` (measuring the gradient noise scale), `"validation"` or `"test"`
    /// (evaluation at the epoch's end), or `"check"` (a validation check within the epoch:
    /// `done` and `total` are then the epoch's training images trained and in all).
    pub phase: &'static str,
    /// Images done so far in this phase.
    pub done: usize,
    /// Images in this phase.
    pub total: usize,
    /// Mean training loss so far in this epoch (nats); `None` during evaluation.
    pub running_loss: Option<f64>,
    /// The run's line label (as [`EpochRecord::series`]); absent for a batch size's only run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// The learning-rate trial under way (`lrpolicy=tuned`); absent for the run itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial: Option<TrialOf>,
    /// The validation check that this chunk finished (see [`EvalPoint`]), so that the page can
    /// draw it at once; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<EvalPoint>,
    /// When this chunk ended its phase: the phase that starts next, whose first chunk runs
    /// while this progress is shown (so that the status line names it from its start: one
    /// chunk of 10,000 test images can take seconds); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<NextPhase>,
}

/// The phase a run starts after the one that a [`Progress`] ended (`camelCase` in JavaScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NextPhase {
    /// `"probe"`, `"validation"` or `"test"` (as [`Progress::phase`]).
    pub phase: &'static str,
    /// Images in it.
    pub total: usize,
}

/// Which trial of a batch size's learning-rate grid a run is (`camelCase` in JavaScript).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrialOf {
    /// The trial's number, from 1.
    pub number: usize,
    /// Trials in the grid.
    pub count: usize,
    /// The learning rate tried.
    pub learning_rate: f64,
}
