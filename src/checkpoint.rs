//! A run's checkpoint: everything a run needs to go on after its last finished epoch exactly as
//! if it had never stopped — its model and optimiser state (burn records, burnpack bytes), where
//! its random generators stand, and its bookkeeping (steps, samples, clocks, the noise-scale
//! averages, the next validation check, its summary) — and its binary form (CBOR, RFC 8949).
//!
//! Owns what a checkpoint holds and how it is written and read; must not know how a run trains
//! (train.rs fills and applies it) or where the bytes are kept (the page keeps them in
//! IndexedDB with its sweep).

use serde::{Deserialize, Serialize};

use crate::noise::NoiseScale;
use crate::summary::RunSummary;

/// Version of the checkpoint's layout; a checkpoint of another version is refused (the run
/// then restarts from its first epoch).
pub const CHECKPOINT_FORMAT: u32 = 1;
/// Largest checkpoint read, in bytes: LeNet-5 with Adam's two moments takes about 0.75 MB
/// (61,706 parameters × 3 × 4 bytes); the Theano tutorial's LeNet about 5.2 MB (431,080 × 3 × 4).
pub const MAX_CHECKPOINT_BYTES: usize = 32 << 20;

/// A run stopped after a finished epoch, as [`crate::train::Run::checkpoint`] writes it and
/// [`crate::train::Run::resume`] reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunCheckpoint {
    /// [`CHECKPOINT_FORMAT`] when written.
    pub format: u32,
    /// Samples per optimiser step of the run.
    pub batch_size: usize,
    /// The run's line label when its batch size has several runs (see
    /// [`crate::settings::PlannedRun::series`]).
    pub series: Option<String>,
    /// The run's seed (weights, shuffled orders, noise probe).
    pub seed: u64,
    /// Training images per epoch (the shuffles replayed on resume are of this many).
    pub train_size: usize,
    /// Most images per forward/backward pass when it was written (another one trains the same
    /// steps, rounded differently: a resume is then not bit-identical).
    pub micro_batch: usize,
    /// Epochs finished (at least 1).
    pub epochs_done: usize,
    /// Optimiser steps taken.
    pub steps: usize,
    /// Training samples seen.
    pub samples: usize,
    /// Training wall time of the finished epochs, seconds.
    pub train_seconds: f64,
    /// The step after which validation is next checked within an epoch (`None`: never).
    pub next_eval: Option<usize>,
    /// Noise-probe samples drawn so far (the probe generator's position), each of
    /// `probe_size` images.
    pub probes: usize,
    /// Images per noise-probe sample.
    pub probe_size: usize,
    /// The noise-scale averages.
    pub noise: NoiseScale,
    /// The run's summary after its last finished epoch (its tuning, when tuned).
    pub summary: RunSummary,
    /// Wall time of the run's chunks so far in its sweep (trials included), seconds: the pace
    /// behind the sweep's time-left estimate.
    pub wall_seconds: f64,
    /// Epochs of learning-rate trials before the run (`lrpolicy=tuned`).
    pub epochs_before: usize,
    /// The model's parameters: a burn `ModuleRecord` in burnpack bytes.
    #[serde(with = "serde_bytes")]
    pub model: Vec<u8>,
    /// The optimiser's state: a burn `OptimizerRecord` in burnpack bytes.
    #[serde(with = "serde_bytes")]
    pub optimizer: Vec<u8>,
}

/// Why a checkpoint cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CheckpointError(pub String);

impl RunCheckpoint {
    /// The checkpoint as CBOR bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.model.len() + self.optimizer.len() + 4096);
        ciborium::into_writer(self, &mut bytes).expect("writing to a Vec cannot fail");
        bytes
    }

    /// Reads a checkpoint written by [`RunCheckpoint::to_bytes`].
    ///
    /// # Errors
    /// [`CheckpointError`] when `bytes` are more than [`MAX_CHECKPOINT_BYTES`], not a
    /// checkpoint, or one of another [`CHECKPOINT_FORMAT`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        if bytes.len() > MAX_CHECKPOINT_BYTES {
            return Err(CheckpointError(format!(
                "it is {} bytes, more than a checkpoint can be ({MAX_CHECKPOINT_BYTES})",
                bytes.len()
            )));
        }
        let checkpoint: Self = ciborium::from_reader(bytes)
            .map_err(|e| CheckpointError(format!("it is not a checkpoint ({e})")))?;
        if checkpoint.format != CHECKPOINT_FORMAT {
            return Err(CheckpointError(format!(
                "it was written in checkpoint format {}, this version reads {CHECKPOINT_FORMAT}",
                checkpoint.format
            )));
        }
        if checkpoint.epochs_done == 0 || checkpoint.summary.epochs != checkpoint.epochs_done {
            return Err(CheckpointError(format!(
                "its epochs do not agree ({} finished, its summary says {})",
                checkpoint.epochs_done, checkpoint.summary.epochs
            )));
        }
        Ok(checkpoint)
    }

    /// Whether this is the checkpoint of the run of batch size `batch_size` and line label
    /// `series`.
    pub fn is_of(&self, batch_size: usize, series: Option<&str>) -> bool {
        self.batch_size == batch_size && self.series.as_deref() == series
    }

    /// Who this is the checkpoint of, in words: `"batch size 64"` or its line label.
    pub fn run_name(&self) -> String {
        match &self.series {
            Some(series) => series.clone(),
            None => format!("batch size {}", self.batch_size),
        }
    }
}
