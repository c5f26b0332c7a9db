//! The settings of a sweep, read from the page's URL parameters and controls, and validated
//! before any work starts.
//!
//! URL parameters (all optional; see the README): `batch` (comma-separated batch sizes), `epochs`,
//! `lr`, `optimizer` (`sgd`, `momentum`, `adam`), `seed`, `train` (training-set size), `test`
//! (evaluation-set size), `backend` (`auto`, `webgpu`, `cpu`). Every refusal names the parameter
//! and the allowed range.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::backend::BackendPreference;

/// Images in the MNIST training set.
pub const MNIST_TRAIN_SIZE: usize = 60_000;
/// Images in the MNIST test set.
pub const MNIST_TEST_SIZE: usize = 10_000;
/// Most epochs a run may ask for (a bound against typing mistakes such as `epochs=100000`).
pub const MAX_EPOCHS: usize = 1_000;
/// Most batch sizes one sweep may list.
pub const MAX_BATCH_SIZES: usize = 16;
/// Largest seed accepted: 2^53 - 1, the largest integer a JavaScript number holds exactly.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// The optimiser of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Plain stochastic gradient descent: `w -= lr * g`.
    Sgd,
    /// SGD with classical momentum 0.9, no dampening: `v = 0.9 v + g; w -= lr * v`.
    Momentum,
    /// Adam (Kingma & Ba 2014) with burn's defaults: beta1 0.9, beta2 0.999, epsilon 1e-5.
    Adam,
}

impl Optimizer {
    /// The name used in URLs and records: `sgd`, `momentum` or `adam`.
    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::Momentum => "momentum",
            Optimizer::Adam => "adam",
        }
    }
}

/// Everything that defines a sweep: one run per batch size, all else equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Batch sizes, run one after another in this order (samples per optimiser step).
    pub batch_sizes: Vec<usize>,
    /// Epochs per run (passes over the training set).
    pub epochs: usize,
    /// Learning rate, the same for every batch size.
    pub learning_rate: f64,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Seed of the initial weights and of the shuffled order of every epoch.
    pub seed: u64,
    /// Training images used: the first `train_size` of the 60,000.
    pub train_size: usize,
    /// Test images evaluated after each epoch: the first `test_size` of the 10,000.
    pub test_size: usize,
    /// Which backend trains (see [`crate::backend::choose`]).
    #[serde(default)]
    pub backend: BackendPreference,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            batch_sizes: vec![16, 64, 256],
            epochs: 3,
            learning_rate: 0.001,
            optimizer: Optimizer::Adam,
            seed: 42,
            train_size: 10_000,
            test_size: MNIST_TEST_SIZE,
            backend: BackendPreference::Auto,
        }
    }
}

/// A setting that was refused: which parameter, and why, in words a reader understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SettingsError {
    /// The URL parameter at fault (`batch`, `epochs`, `lr`, `optimizer`, `seed`, `train`, `test`,
    /// `backend`).
    pub parameter: &'static str,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid setting `{}`: {}", self.parameter, self.message)
    }
}

fn refuse(parameter: &'static str, message: String) -> SettingsError {
    SettingsError { parameter, message }
}

fn parse_count(
    parameter: &'static str,
    what: &str,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<usize, SettingsError> {
    let raw = raw.trim();
    let value: usize = raw.parse().map_err(|_| {
        refuse(
            parameter,
            format!("{what} must be a whole number from {min} to {max}, not {raw:?}"),
        )
    })?;
    if value < min || value > max {
        return Err(refuse(
            parameter,
            format!("{what} must be from {min} to {max}, not {value}"),
        ));
    }
    Ok(value)
}

impl Settings {
    /// Reads settings from URL parameters (name → value), starting from [`Settings::default`].
    /// Parameters this page does not know are ignored.
    ///
    /// # Errors
    /// The first [`SettingsError`] met, naming the parameter and the allowed range, e.g. for
    /// `batch=0`, `epochs=0`, `lr=-1`, `optimizer=foo`, `seed=1.5`, or a batch size larger than
    /// the training set.
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<Self, SettingsError> {
        let mut settings = Settings::default();
        if let Some(raw) = params.get("train") {
            settings.train_size =
                parse_count("train", "the training-set size", raw, 1, MNIST_TRAIN_SIZE)?;
        }
        if let Some(raw) = params.get("test") {
            settings.test_size = parse_count("test", "the test-set size", raw, 1, MNIST_TEST_SIZE)?;
        }
        if let Some(raw) = params.get("batch") {
            let sizes: Vec<&str> = raw.split(',').filter(|s| !s.trim().is_empty()).collect();
            if sizes.is_empty() || sizes.len() > MAX_BATCH_SIZES {
                return Err(refuse(
                    "batch",
                    format!(
                        "give 1 to {MAX_BATCH_SIZES} batch sizes separated by commas, e.g. 16,64,256"
                    ),
                ));
            }
            settings.batch_sizes = sizes
                .iter()
                .map(|s| parse_count("batch", "each batch size", s, 1, MNIST_TRAIN_SIZE))
                .collect::<Result<_, _>>()?;
        }
        if let Some(raw) = params.get("epochs") {
            settings.epochs = parse_count("epochs", "the number of epochs", raw, 1, MAX_EPOCHS)?;
        }
        if let Some(raw) = params.get("lr") {
            let raw = raw.trim();
            settings.learning_rate = raw.parse().map_err(|_| {
                refuse(
                    "lr",
                    format!(
                        "the learning rate must be a positive number such as 0.001, not {raw:?}"
                    ),
                )
            })?;
        }
        if let Some(raw) = params.get("optimizer") {
            settings.optimizer = match raw.trim() {
                "sgd" => Optimizer::Sgd,
                "momentum" => Optimizer::Momentum,
                "adam" => Optimizer::Adam,
                other => {
                    return Err(refuse(
                        "optimizer",
                        format!("the optimiser must be sgd, momentum or adam, not {other:?}"),
                    ));
                }
            };
        }
        if let Some(raw) = params.get("seed") {
            let raw = raw.trim();
            settings.seed = raw.parse().ok().filter(|&s| s <= MAX_SEED).ok_or_else(|| {
                refuse(
                    "seed",
                    format!("the seed must be a whole number from 0 to {MAX_SEED}, not {raw:?}"),
                )
            })?;
        }
        if let Some(raw) = params.get("backend") {
            settings.backend = match raw.trim() {
                "auto" => BackendPreference::Auto,
                "webgpu" => BackendPreference::Webgpu,
                "cpu" => BackendPreference::Cpu,
                other => {
                    return Err(refuse(
                        "backend",
                        format!("the backend must be auto, webgpu or cpu, not {other:?}"),
                    ));
                }
            };
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Checks the relations between settings (a batch no larger than the training set, a
    /// finite positive learning rate, ranges as in [`Settings::from_params`]).
    ///
    /// # Errors
    /// The first [`SettingsError`] met.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.train_size == 0 || self.train_size > MNIST_TRAIN_SIZE {
            return Err(refuse(
                "train",
                format!("the training-set size must be from 1 to {MNIST_TRAIN_SIZE}"),
            ));
        }
        if self.test_size == 0 || self.test_size > MNIST_TEST_SIZE {
            return Err(refuse(
                "test",
                format!("the test-set size must be from 1 to {MNIST_TEST_SIZE}"),
            ));
        }
        if self.batch_sizes.is_empty() || self.batch_sizes.len() > MAX_BATCH_SIZES {
            return Err(refuse(
                "batch",
                format!("give 1 to {MAX_BATCH_SIZES} batch sizes"),
            ));
        }
        if let Some(&b) = self
            .batch_sizes
            .iter()
            .find(|&&b| b == 0 || b > self.train_size)
        {
            return Err(refuse(
                "batch",
                format!(
                    "each batch size must be from 1 to the training-set size ({}), not {b}",
                    self.train_size
                ),
            ));
        }
        if let Some((_, &b)) = self
            .batch_sizes
            .iter()
            .enumerate()
            .find(|&(i, b)| self.batch_sizes[..i].contains(b))
        {
            return Err(refuse(
                "batch",
                format!("each batch size may be listed once, but {b} is listed twice"),
            ));
        }
        if self.epochs == 0 || self.epochs > MAX_EPOCHS {
            return Err(refuse(
                "epochs",
                format!("the number of epochs must be from 1 to {MAX_EPOCHS}"),
            ));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(refuse(
                "lr",
                format!(
                    "the learning rate must be a finite number above 0, not {}",
                    self.learning_rate
                ),
            ));
        }
        if self.seed > MAX_SEED {
            return Err(refuse(
                "seed",
                format!("the seed must be from 0 to {MAX_SEED}"),
            ));
        }
        Ok(())
    }
}
