//! The settings of a sweep, read from the page's URL parameters and controls, and validated
//! before any work starts.
//!
//! URL parameters (all optional; see the README): `preset` (`quick`, `replica`, `custom`),
//! `batch` (comma-separated batch sizes, `full` for the whole training set), `epochs`, `lr`,
//! `optimizer` (`sgd`, `momentum`, `nesterov`, `rmsprop`, `adagrad`, `adam`, `rprop`), `seed`,
//! `train` (training-set size), `test` (evaluation-set size), `backend` (`auto`, `webgpu`,
//! `cpu`; the command line also `wgpu`, `cuda`), `model` (`lenet5`, `theano`), `lrpolicy` (`fixed`, `linear`, `sqrt`, `tuned`), `lrref`, `val`
//! (validation images held out from the end of the training file),
//! `warmup`, `lrgrid` and `lrtrial` (the grid and trial length of `lrpolicy=tuned`), `target`,
//! `endattarget`, `budget`, `evalpoints` (validation checks per doubling of the steps), `race`
//! (`1`: the batch sizes side by side), `seeds` (every run repeated with that many seeds) and
//! `baseline` (every batch size also trained under a second learning-rate policy, e.g. the
//! source's fixed rate beside `lrpolicy=tuned`).
//! Every refusal names the parameter and the
//! allowed range.
//!
//! Owns the settings, the presets and every refusal message; must not train or choose a
//! backend (it only records the reader's preference).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::backend::BackendPreference;
use crate::tuning::MAX_GRID;
// The settings' vocabulary lives with what each word describes; re-exported here for the
// settings' users.
pub use crate::model::Model;
pub use crate::optim::Optimizer;
pub use crate::schedule::LrPolicy;
pub use crate::tuning::LrGrid;

/// Images in the MNIST training set.
pub const MNIST_TRAIN_SIZE: usize = crate::data::TRAIN_FILE_SIZE;
/// Images in the MNIST test set.
pub const MNIST_TEST_SIZE: usize = crate::data::TEST_FILE_SIZE;
/// Most epochs a run may ask for (a bound against typing mistakes such as `epochs=100000`).
pub const MAX_EPOCHS: usize = 1_000;
/// Most batch sizes one sweep may list.
pub const MAX_BATCH_SIZES: usize = 16;
/// Largest seed accepted: 2^53 - 1, the largest integer a JavaScript number holds exactly.
pub const MAX_SEED: u64 = (1 << 53) - 1;
/// Validation images held out when `val` is not given: the last 10,000 of the 60,000 training
/// images, as the Theano tutorial's 50,000 / 10,000 / 10,000 split (fewer when `train` leaves
/// less room; see [`Settings::val_size`]).
pub const DEFAULT_VAL_SIZE: usize = 10_000;
/// Validation checks per doubling of the steps when `evalpoints` is not given (9 % apart).
pub const DEFAULT_EVAL_POINTS: usize = 8;
/// Most validation checks per doubling of the steps.
pub const MAX_EVAL_POINTS: usize = 16;
/// Most validation images: the last part of the training file (images 50,000–59,999).
pub const MAX_VAL_SIZE: usize = 10_000;
/// Training images of the *Fair comparison* preset ([`Preset::Fair`]).
pub const FAIR_TRAIN_SIZE: usize = 3_000;
/// Most seeds per run (`seeds`).
pub const MAX_SEEDS: usize = 10;
/// Longest time budget per run: one day, in seconds.
pub const MAX_RUN_BUDGET_SECONDS: f64 = 86_400.0;

/// A ready-made sweep (`preset=` in the URL); the other parameters given override its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The settings as given, on top of the page's defaults.
    #[default]
    Custom,
    /// A few minutes on a laptop GPU: 10,000 training images, batch sizes 1, 8, 64, 512 and the
    /// full batch, 5 epochs of plain SGD at 0.1 (the source's learning rate), target 96 % (within
    /// reach of mini-batches in a handful of epochs on 10,000 images).
    Quick,
    /// The source article's set-up: all 60,000 images, batch sizes 1 to 4,096 and the full
    /// batch, up to 200 epochs of SGD at 0.1 on the Theano tutorial's LeNet, each run ending at
    /// 98 % accuracy or after 10 minutes of training. As the Theano tutorial, it trains on the
    /// first 50,000 images and validates on the last 10,000 of the training file.
    Replica,
    /// The naive and the fair experiment side by side, sized for 20 minutes on the CPU backend
    /// of a 2-core machine: batch sizes 1, 8, 64, 512 and the full batch of 3,000 training
    /// images, 3 seeds each, 3 epochs of plain SGD to 94 % on 1,000 validation images (checked
    /// 4 times per doubling of the steps; 1,000 test images), once at the source's fixed
    /// learning rate 0.1 (`baseline=fixed`) and once at a rate tuned per batch size
    /// (`lrpolicy=tuned`: 5 rates from 0.01 to 1, one epoch each).
    Fair,
}

impl Preset {
    /// The settings this preset starts from.
    pub fn settings(self) -> Settings {
        let defaults = Settings::default();
        match self {
            Preset::Custom => defaults,
            Preset::Quick => Settings {
                preset: self,
                batch: "1,8,64,512,full".into(),
                batch_sizes: vec![1, 8, 64, 512, 10_000],
                epochs: 5,
                learning_rate: 0.1,
                optimizer: Optimizer::Sgd,
                train_size: 10_000,
                test_size: MNIST_TEST_SIZE,
                target: 0.96,
                ..defaults
            },
            Preset::Replica => Settings {
                preset: self,
                batch: "1,4,16,64,256,1024,4096,full".into(),
                batch_sizes: vec![
                    1,
                    4,
                    16,
                    64,
                    256,
                    1024,
                    4096,
                    MNIST_TRAIN_SIZE - DEFAULT_VAL_SIZE,
                ],
                epochs: 200,
                learning_rate: 0.1,
                optimizer: Optimizer::Sgd,
                model: Model::Theano,
                train_size: MNIST_TRAIN_SIZE - DEFAULT_VAL_SIZE,
                val_size: DEFAULT_VAL_SIZE,
                test_size: MNIST_TEST_SIZE,
                end_at_target: true,
                run_budget_seconds: 600.0,
                ..defaults
            },
            Preset::Fair => Settings {
                preset: self,
                batch: "1,8,64,512,full".into(),
                batch_sizes: vec![1, 8, 64, 512, FAIR_TRAIN_SIZE],
                epochs: 3,
                learning_rate: 0.1,
                optimizer: Optimizer::Sgd,
                train_size: FAIR_TRAIN_SIZE,
                val_size: 1_000,
                test_size: 1_000,
                eval_points: 4,
                target: 0.94,
                lr_policy: LrPolicy::Tuned,
                lr_grid: Some(LrGrid {
                    min: 0.01,
                    max: 1.0,
                    count: 5,
                }),
                lr_trial_epochs: 1,
                baseline: Some(LrPolicy::Fixed),
                seeds: 3,
                ..defaults
            },
        }
    }
}

/// Everything that defines a sweep: one run per batch size, all else equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// The preset these settings started from.
    pub preset: Preset,
    /// The batch sizes as written in the URL (`full` stands for the training-set size).
    pub batch: String,
    /// Batch sizes, in this order (samples per optimiser step); see [`Settings::race`].
    pub batch_sizes: Vec<usize>,
    /// Epochs per run (passes over the training set); the most, when runs end at the target.
    pub epochs: usize,
    /// Learning rate: for every batch size under [`LrPolicy::Fixed`], else the one for
    /// `lr_reference_batch` (for Rprop: the initial step size).
    pub learning_rate: f64,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Seed of the initial weights and of the shuffled order of every epoch.
    pub seed: u64,
    /// Training images used: the first `train_size` of the 60,000.
    pub train_size: usize,
    /// Test images evaluated after each epoch: the first `test_size` of the 10,000. The test
    /// set is reported and chooses nothing when `val_size` > 0.
    pub test_size: usize,
    /// Validation images: the last `val_size` of the 60,000 training images, never trained on,
    /// evaluated after each epoch. The target (when it is reached, ending at it) is measured on
    /// them. 0: no validation set, the target is measured on the test set (as every sweep saved
    /// or exported before the validation split was: hence 0 when the field is missing).
    #[serde(default)]
    pub val_size: usize,
    /// Validation checks per doubling of the steps within the epochs (`evalpoints`; 0: at each
    /// epoch's end only), on the first [`crate::train::EVAL_SUBSET`] validation images, so
    /// that steps and time to the target are known to about 2^(1/p) − 1 (9 % at 8) instead of
    /// a whole epoch. Evaluation time stays out of training time. Sweeps saved before these
    /// checks existed had none: 0 when the field is missing.
    #[serde(default)]
    pub eval_points: usize,
    /// Which backend trains (see [`crate::backend::choose`]).
    pub backend: BackendPreference,
    /// The network trained.
    pub model: Model,
    /// How the learning rate follows the batch size.
    pub lr_policy: LrPolicy,
    /// The batch size `learning_rate` is meant for, under the linear and square-root policies
    /// (B_ref; Goyal et al. 2017 used 256).
    pub lr_reference_batch: usize,
    /// Epochs of linear warm-up under [`LrPolicy::Linear`] (Goyal et al. 2017 used 5 of 90).
    pub warmup_epochs: usize,
    /// The learning rates tried per batch size under [`LrPolicy::Tuned`] (`lrgrid=min,max,count`);
    /// `None`: the optimiser's default ([`LrGrid::default_for`]).
    #[serde(default)]
    pub lr_grid: Option<LrGrid>,
    /// Epochs each trial of [`LrPolicy::Tuned`] may train (`lrtrial`; a trial ends at the
    /// target): the same budget for every rate and batch size.
    pub lr_trial_epochs: usize,
    /// Target accuracy, a fraction in (0, 1], on the validation images (the test images when
    /// `val_size` is 0): each run records when it first reached it.
    pub target: f64,
    /// End each run at the epoch where it reached the target.
    pub end_at_target: bool,
    /// End each run once its training time passes this many seconds (0: no limit). Checked
    /// between chunks of steps: a cut-short epoch is evaluated and recorded.
    pub run_budget_seconds: f64,
    /// Train the batch sizes side by side (`race=1`): every run starts at once and the runs
    /// take turns, one chunk of about a quarter of a second each, so that their curves grow
    /// together; each run's training time counts only its own chunks. `false`: one after
    /// another. A sweep saved or exported before this setting existed ran one after another,
    /// hence `false` when the field is missing.
    #[serde(default)]
    pub race: bool,
    /// `race` was left out: the backend decides ([`Settings::resolve_race`]): side by side on the
    /// CPU backend, one after another on WebGPU (and natively on wgpu or CUDA), because side by
    /// side was measured to cost the runs' measured throughput nothing on the CPU and up to half
    /// of it on WebGPU (docs/experiment.md, *Side by side or one after another*). `race` then
    /// holds the value resolved for the backend the sweep trains on. False when the field is
    /// missing (a sweep saved or exported before it existed ran as its `race` says).
    #[serde(default)]
    pub race_auto: bool,
    /// Seeds per run (`seeds`, 1 to [`MAX_SEEDS`]): every run is repeated with the seeds
    /// `seed`, `seed + 1`, …, each drawing its own initial weights and shuffled orders (the
    /// learning-rate trials of `lrpolicy=tuned` included). 1 when the field is missing.
    pub seeds: usize,
    /// A second learning-rate policy every batch size also trains under (`baseline`), at
    /// `learning_rate`: the naive arm beside the fair one, e.g. the source's fixed rate beside
    /// `lrpolicy=tuned`. `None` (`baseline=none`, and when the field is missing): one arm.
    pub baseline: Option<LrPolicy>,
}

/// One run of a sweep's plan ([`Settings::plan`]): a batch size, under one learning-rate
/// policy (arm), with one seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedRun {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// The learning-rate policy of its arm (`lr_policy`, or the `baseline`).
    pub lr_policy: LrPolicy,
    /// Its seed (weights, shuffled orders, trials).
    pub seed: u64,
    /// Its line label when the sweep has more than one run per batch size (seeds or a
    /// baseline), e.g. `"64 (fixed lr, seed 43)"`; `None` otherwise (one run per batch size,
    /// labelled by its batch size alone, as in every sweep before seeds and baselines).
    pub series: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            preset: Preset::Custom,
            batch: "16,64,256".into(),
            batch_sizes: vec![16, 64, 256],
            epochs: 3,
            learning_rate: 0.001,
            optimizer: Optimizer::Adam,
            seed: 42,
            train_size: 10_000,
            test_size: MNIST_TEST_SIZE,
            val_size: DEFAULT_VAL_SIZE,
            eval_points: DEFAULT_EVAL_POINTS,
            backend: BackendPreference::Auto,
            model: Model::Lenet5,
            lr_policy: LrPolicy::Fixed,
            lr_reference_batch: 64,
            warmup_epochs: 1,
            lr_grid: None,
            lr_trial_epochs: 1,
            target: 0.98,
            end_at_target: false,
            run_budget_seconds: 0.0,
            race: true,
            race_auto: true,
            seeds: 1,
            baseline: None,
        }
    }
}

impl Settings {
    /// Resolves `race` for the backend the sweep trains on when the link left it out
    /// (`race_auto`): side by side (`true`) on the CPU backend, one after another on any GPU
    /// backend. Measured (docs/experiment.md): on the CPU backend side by side kept every run's
    /// throughput within 2.5 % of one after another (5.6 % faster at one batch size, from a slow
    /// round); on WebGPU it halved batch size 64's on SwiftShader (0.50) and cost it 11–16 %
    /// natively on Mesa's lavapipe (0.84–0.89), so there the runs train one after another.
    /// A `race` the link gave is kept.
    pub fn resolve_race(&mut self, backend: crate::backend::Backend) {
        if self.race_auto {
            self.race = backend == crate::backend::Backend::Cpu;
        }
    }
}

/// A setting that was refused: which parameter, and why, in words a reader understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SettingsError {
    /// The URL parameter at fault (`preset`, `batch`, `epochs`, `lr`, `optimizer`, `lrpolicy`,
    /// `lrref`, `warmup`, `lrgrid`, `lrtrial`, `model`, `target`, `endattarget`, `budget`,
    /// `seed`, `train`, `test`, `val`, `evalpoints`, `backend`, `race`).
    pub parameter: &'static str,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid setting “{}”: {}", self.parameter, self.message)
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
            format!("{what} must be a whole number from {min} to {max}, not “{raw}”"),
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

/// Reads a name such as `adam` into one of the settings' enums, through its serde names.
fn parse_name<T: serde::de::DeserializeOwned>(
    parameter: &'static str,
    what: &str,
    allowed: &str,
    raw: &str,
) -> Result<T, SettingsError> {
    use serde::de::IntoDeserializer;
    let raw = raw.trim();
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(raw))
        .map_err(|_| refuse(parameter, format!("{what} must be {allowed}, not “{raw}”")))
}

fn parse_fraction(parameter: &'static str, what: &str, raw: &str) -> Result<f64, SettingsError> {
    let raw = raw.trim();
    raw.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| refuse(parameter, format!("{what} must be a number, not “{raw}”")))
}

/// Reads a yes/no parameter: `1` or `true`, `0` or `false`.
fn parse_flag(parameter: &'static str, allowed: &str, raw: &str) -> Result<bool, SettingsError> {
    match raw.trim() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        other => Err(refuse(
            parameter,
            format!("{parameter} must be {allowed}, not “{other}”"),
        )),
    }
}

/// The batch sizes of a list such as `1,8,64,full` (`full`: the training-set size).
pub(crate) fn batch_sizes(raw: &str, train_size: usize) -> Result<Vec<usize>, SettingsError> {
    let sizes: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if sizes.is_empty() || sizes.len() > MAX_BATCH_SIZES {
        return Err(refuse(
            "batch",
            format!(
                "give 1 to {MAX_BATCH_SIZES} batch sizes separated by commas, e.g. 16,64,256 (“full” is the whole training set)"
            ),
        ));
    }
    sizes
        .iter()
        .map(|s| match *s {
            "full" => Ok(train_size),
            s => parse_count("batch", "each batch size", s, 1, MNIST_TRAIN_SIZE),
        })
        .collect()
}

/// Reads `min,max,count`, e.g. `0.001,1,7`.
fn parse_grid(raw: &str) -> Result<LrGrid, SettingsError> {
    let bad = || {
        refuse(
            "lrgrid",
            format!(
                "the learning-rate grid must be min,max,count such as 0.001,1,7 (count from 1 to {MAX_GRID}), not “{}”",
                raw.trim()
            ),
        )
    };
    let parts: Vec<&str> = raw.split(',').map(str::trim).collect();
    let [min, max, count] = parts[..] else {
        return Err(bad());
    };
    let grid = LrGrid {
        min: min.parse().map_err(|_| bad())?,
        max: max.parse().map_err(|_| bad())?,
        count: count.parse().map_err(|_| bad())?,
    };
    check_grid(grid)?;
    Ok(grid)
}

fn check_grid(grid: LrGrid) -> Result<(), SettingsError> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !(positive(grid.min) && positive(grid.max) && grid.min <= grid.max) {
        return Err(refuse(
            "lrgrid",
            format!(
                "the learning-rate grid's rates must be finite, above 0 and min ≤ max, not {} and {}",
                grid.min, grid.max
            ),
        ));
    }
    if grid.count == 0 || grid.count > MAX_GRID {
        return Err(refuse(
            "lrgrid",
            format!(
                "the learning-rate grid must hold from 1 to {MAX_GRID} rates, not {}",
                grid.count
            ),
        ));
    }
    Ok(())
}

/// `"fixed"`, `"linear"`, `"sqrt"`, `"tuned"`: a policy as the URL writes it.
pub fn policy_name(policy: LrPolicy) -> &'static str {
    match policy {
        LrPolicy::Fixed => "fixed",
        LrPolicy::Linear => "linear",
        LrPolicy::Sqrt => "sqrt",
        LrPolicy::Tuned => "tuned",
    }
}

impl Settings {
    /// The sweep's runs, in the order they start: for each seed (`seed`, `seed + 1`, …), the
    /// baseline arm's batch sizes (with `baseline`), then the `lr_policy` arm's, each in the
    /// order of `batch_sizes`. One run per batch size with one seed and no baseline.
    pub fn plan(&self) -> Vec<PlannedRun> {
        let arms: Vec<LrPolicy> = self.baseline.into_iter().chain([self.lr_policy]).collect();
        let mut plan = Vec::with_capacity(self.seeds * arms.len() * self.batch_sizes.len());
        for s in 0..self.seeds.max(1) {
            let seed = self.seed + s as u64;
            for &lr_policy in &arms {
                for &batch_size in &self.batch_sizes {
                    let mut parts = Vec::new();
                    if self.baseline.is_some() {
                        parts.push(format!("{} lr", policy_name(lr_policy)));
                    }
                    if self.seeds > 1 {
                        parts.push(format!("seed {seed}"));
                    }
                    let series =
                        (!parts.is_empty()).then(|| format!("{batch_size} ({})", parts.join(", ")));
                    plan.push(PlannedRun {
                        batch_size,
                        lr_policy,
                        seed,
                        series,
                    });
                }
            }
        }
        plan
    }

    /// The learning rates tried per batch size under [`LrPolicy::Tuned`]: `lr_grid`'s, or the
    /// optimiser's default grid.
    pub fn lr_grid(&self) -> LrGrid {
        self.lr_grid
            .unwrap_or_else(|| LrGrid::default_for(self.optimizer))
    }

    /// Where the target is measured: `"validation"` when the sweep holds validation images out,
    /// else `"test"`.
    pub fn target_set(&self) -> &'static str {
        if self.val_size > 0 {
            "validation"
        } else {
            "test"
        }
    }

    /// Reads settings from URL parameters (name → value), starting from the `preset`'s settings
    /// ([`Preset::settings`]; the page's defaults without one). Parameters this page does not
    /// know are ignored.
    ///
    /// # Errors
    /// The first [`SettingsError`] met, naming the parameter and the allowed range, e.g. for
    /// `batch=0`, `epochs=0`, `lr=-1`, `optimizer=foo`, `seed=1.5`, `target=2`, or a batch size
    /// larger than the training set.
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<Self, SettingsError> {
        let get = |name: &str| params.get(name).map(String::as_str);
        let preset = match get("preset") {
            Some(raw) => parse_name(
                "preset",
                "the preset",
                "quick, replica, fair or custom",
                raw,
            )?,
            None => Preset::Custom,
        };
        let mut settings = preset.settings();
        if let Some(raw) = get("train") {
            settings.train_size =
                parse_count("train", "the training-set size", raw, 1, MNIST_TRAIN_SIZE)?;
        }
        if let Some(raw) = get("test") {
            settings.test_size = parse_count("test", "the test-set size", raw, 1, MNIST_TEST_SIZE)?;
        }
        match get("val") {
            Some(raw) => {
                settings.val_size =
                    parse_count("val", "the validation-set size", raw, 0, MAX_VAL_SIZE)?;
            }
            // Not given: as many as fit after the training images, up to the preset's.
            None => {
                settings.val_size = settings
                    .val_size
                    .min(MNIST_TRAIN_SIZE.saturating_sub(settings.train_size));
            }
        }
        if let Some(raw) = get("batch") {
            settings.batch = raw.split(',').map(str::trim).collect::<Vec<_>>().join(",");
        } else {
            // A preset's batch sizes larger than a smaller training set given are left out
            // (`full` stays): `preset=quick&train=500` runs 1, 8, 64 and 500.
            let train_size = settings.train_size;
            settings.batch = settings
                .batch
                .split(',')
                .filter(|s| s.parse::<usize>().is_ok_and(|b| b < train_size) || *s == "full")
                .collect::<Vec<_>>()
                .join(",");
        }
        settings.batch_sizes = batch_sizes(&settings.batch, settings.train_size)?;
        if let Some(raw) = get("epochs") {
            settings.epochs = parse_count("epochs", "the number of epochs", raw, 1, MAX_EPOCHS)?;
        }
        if let Some(raw) = get("lr") {
            let raw = raw.trim();
            settings.learning_rate = raw.parse().map_err(|_| {
                refuse(
                    "lr",
                    format!(
                        "the learning rate must be a positive number such as 0.001, not “{raw}”"
                    ),
                )
            })?;
        }
        if let Some(raw) = get("optimizer") {
            settings.optimizer = parse_name(
                "optimizer",
                "the optimiser",
                "sgd, momentum, nesterov, rmsprop, adagrad, adam or rprop",
                raw,
            )?;
        }
        if let Some(raw) = get("seed") {
            let raw = raw.trim();
            settings.seed = raw.parse().ok().filter(|&s| s <= MAX_SEED).ok_or_else(|| {
                refuse(
                    "seed",
                    format!("the seed must be a whole number from 0 to {MAX_SEED}, not “{raw}”"),
                )
            })?;
        }
        if let Some(raw) = get("backend") {
            settings.backend = parse_name(
                "backend",
                "the backend",
                "auto, webgpu or cpu (or, from the command line, wgpu or cuda)",
                raw,
            )?;
        }
        if let Some(raw) = get("model") {
            settings.model = parse_name("model", "the model", "lenet5 or theano", raw)?;
        }
        if let Some(raw) = get("lrpolicy") {
            settings.lr_policy = parse_name(
                "lrpolicy",
                "the learning-rate policy",
                "fixed, linear, sqrt or tuned",
                raw,
            )?;
        }
        if let Some(raw) = get("evalpoints") {
            settings.eval_points = parse_count(
                "evalpoints",
                "the validation checks per doubling of the steps",
                raw,
                0,
                MAX_EVAL_POINTS,
            )?;
        }
        if let Some(raw) = get("lrgrid") {
            settings.lr_grid = Some(parse_grid(raw)?);
        }
        if let Some(raw) = get("lrtrial") {
            settings.lr_trial_epochs =
                parse_count("lrtrial", "the epochs per trial", raw, 1, MAX_EPOCHS)?;
        }
        if let Some(raw) = get("lrref") {
            settings.lr_reference_batch = parse_count(
                "lrref",
                "the reference batch size",
                raw,
                1,
                MNIST_TRAIN_SIZE,
            )?;
        }
        if let Some(raw) = get("warmup") {
            settings.warmup_epochs = parse_count("warmup", "the warm-up", raw, 0, MAX_EPOCHS)?;
        }
        if let Some(raw) = get("target") {
            settings.target = parse_fraction("target", "the target accuracy", raw)?;
        }
        if let Some(raw) = get("endattarget") {
            settings.end_at_target =
                parse_flag("endattarget", "1 (end each run at the target) or 0", raw)?;
        }
        match get("race") {
            Some(raw) => {
                settings.race = parse_flag(
                    "race",
                    "1 (the batch sizes side by side) or 0 (one after another)",
                    raw,
                )?;
                settings.race_auto = false;
            }
            // Left out: side by side on the CPU, one after another on WebGPU (`resolve_race`).
            None => settings.race_auto = true,
        }
        if let Some(raw) = get("seeds") {
            settings.seeds = parse_count("seeds", "the number of seeds", raw, 1, MAX_SEEDS)?;
        }
        if let Some(raw) = get("baseline") {
            settings.baseline = match raw.trim() {
                "none" | "" => None,
                raw => Some(parse_name(
                    "baseline",
                    "the baseline's learning-rate policy",
                    "none, fixed, linear or sqrt",
                    raw,
                )?),
            };
        }
        if let Some(raw) = get("budget") {
            settings.run_budget_seconds =
                parse_fraction("budget", "the time budget per run (seconds)", raw)?;
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
        if self.val_size > MAX_VAL_SIZE {
            return Err(refuse(
                "val",
                format!("the validation-set size must be from 0 to {MAX_VAL_SIZE}"),
            ));
        }
        if self.train_size + self.val_size > MNIST_TRAIN_SIZE {
            return Err(refuse(
                "val",
                format!(
                    "the validation images are the last of the {MNIST_TRAIN_SIZE} training images and may not overlap the {} trained on: at most {} with train={}, not {}",
                    self.train_size,
                    MNIST_TRAIN_SIZE - self.train_size,
                    self.train_size,
                    self.val_size
                ),
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
            let full = if self.batch.split(',').any(|s| s.trim() == "full") {
                format!(" (“full” is the training-set size, {})", self.train_size)
            } else {
                String::new()
            };
            return Err(refuse(
                "batch",
                format!("each batch size may be listed once, but {b} is listed twice{full}"),
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
        if !(self.target > 0.0 && self.target <= 1.0) {
            return Err(refuse(
                "target",
                format!(
                    "the target accuracy must be a fraction above 0 and at most 1, such as 0.98, not {}",
                    self.target
                ),
            ));
        }
        if !(self.run_budget_seconds >= 0.0 && self.run_budget_seconds <= MAX_RUN_BUDGET_SECONDS) {
            return Err(refuse(
                "budget",
                format!(
                    "the time budget per run must be from 0 (no limit) to {MAX_RUN_BUDGET_SECONDS} seconds, not {}",
                    self.run_budget_seconds
                ),
            ));
        }
        if self.lr_reference_batch == 0 || self.lr_reference_batch > MNIST_TRAIN_SIZE {
            return Err(refuse(
                "lrref",
                format!("the reference batch size must be from 1 to {MNIST_TRAIN_SIZE}"),
            ));
        }
        if self.warmup_epochs > MAX_EPOCHS {
            return Err(refuse(
                "warmup",
                format!("the warm-up must be from 0 to {MAX_EPOCHS} epochs"),
            ));
        }
        if self.eval_points > MAX_EVAL_POINTS {
            return Err(refuse(
                "evalpoints",
                format!("the validation checks per doubling must be from 0 to {MAX_EVAL_POINTS}"),
            ));
        }
        if let Some(grid) = self.lr_grid {
            check_grid(grid)?;
        }
        if self.lr_trial_epochs == 0 || self.lr_trial_epochs > self.epochs {
            return Err(refuse(
                "lrtrial",
                format!(
                    "the epochs per trial must be from 1 to the epochs per run ({}), not {}",
                    self.epochs, self.lr_trial_epochs
                ),
            ));
        }
        if self.lr_policy == LrPolicy::Tuned && self.val_size == 0 {
            return Err(refuse(
                "lrpolicy",
                "tuning the learning rate needs validation images to judge the trials on (val above 0): the test images choose nothing".into(),
            ));
        }
        if self.seeds == 0 || self.seeds > MAX_SEEDS {
            return Err(refuse(
                "seeds",
                format!(
                    "the number of seeds must be from 1 to {MAX_SEEDS}, not {}",
                    self.seeds
                ),
            ));
        }
        if self.seeds > 1
            && self.seed <= MAX_SEED
            && self
                .seed
                .checked_add(self.seeds as u64 - 1)
                .is_none_or(|last| last > MAX_SEED)
        {
            return Err(refuse(
                "seed",
                format!("the seeds run from seed to seed + seeds − 1, at most {MAX_SEED}"),
            ));
        }
        match self.baseline {
            Some(LrPolicy::Tuned) => {
                return Err(refuse(
                    "baseline",
                    "the baseline is a fixed, linear or square-root learning rate (tuning is lrpolicy=tuned)".into(),
                ));
            }
            Some(b) if b == self.lr_policy => {
                return Err(refuse(
                    "baseline",
                    format!(
                        "the baseline must differ from the learning-rate policy (both are {})",
                        policy_name(b)
                    ),
                ));
            }
            _ => {}
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
