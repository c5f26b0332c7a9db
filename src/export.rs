//! A sweep as a file: the JSON export (every per-epoch record, every run summary, the findings,
//! the settings and where it ran), the two CSV tables made from it, and the import of a JSON
//! export back into the page, checked field by field.
//!
//! The JSON format is `{ format: "batchlab-sweep", formatVersion: 1, batchlabVersion,
//! exportedAt, link, userAgent, backend, adapter, settings, results, runs, findings }` (see the
//! README); the CSV files start with `#` comment lines that carry the same metadata, then a
//! header row of the JSON field names.
//!
//! Owns the export format and its checks; must not train or compute findings (it carries them).

use serde::{Deserialize, Serialize};

use crate::findings::{ArmFindings, Finding};
use crate::settings::Settings;
use crate::summary::RunSummary;
use crate::record::EpochRecord;

/// The longest training time an export may hold for a run or record, in seconds (about 116
/// days: a Source replica at batch size 1 on a slow CPU takes hours, not months).
pub const MAX_SECONDS: f64 = 1e7;
/// The highest throughput an export may hold, in samples per second (LeNet-5 on the fastest GPU
/// is orders of magnitude below).
pub const MAX_THROUGHPUT: f64 = 1e9;
/// The largest gradient noise scale an export may hold, in samples.
pub const MAX_NOISE_SCALE: f64 = 1e12;
/// The most restarts of one run an export may label ("(restart 100, after a stop)").
const MAX_RESTARTS: u32 = 100;
/// The longest link an export may hold, in characters.
const MAX_LINK: usize = 10_000;
/// The backends a record may name ([`crate::backend::Backend::name`]).
const BACKENDS: [&str; 3] = ["webgpu", "cpu", "cuda"];

/// Whether `text` is the label the page adds to a restarted run: “(restarted WHY)” or
/// “(restart N, WHY)”, WHY one of the page's reasons (www/actions.js).
fn is_restart_label(text: &str) -> bool {
    const WHY: [&str; 4] = ["on the CPU", "on a new GPU device", "after a reload", "after a stop"];
    let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
        return false;
    };
    if let Some(why) = inner.strip_prefix("restarted ") {
        return WHY.contains(&why);
    }
    inner
        .strip_prefix("restart ")
        .and_then(|t| t.split_once(", "))
        .is_some_and(|(n, why)| {
            n.parse::<u32>().is_ok_and(|n| (2..=MAX_RESTARTS).contains(&n))
                && n.len() <= 3
                && WHY.contains(&why)
        })
}

/// At most 60 characters of `text`, for an error message.
fn clip(text: &str) -> String {
    let mut clipped: String = text.chars().take(60).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}

/// The value of an export's `format` field.
pub const FORMAT: &str = "batchlab-sweep";
/// The newest export format this build writes and reads. Version 1: this module's first layout.
pub const FORMAT_VERSION: u32 = 1;
/// This build's version (`Cargo.toml`'s `package.version`), written into every export.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A per-epoch record as the page keeps it: the trainer's record (whose `series` names a run
/// that is not its batch size's only one: another seed or arm, or a restart after a lost device
/// or a reload) and the backend it trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedRecord {
    /// The trainer's record ([`EpochRecord`]), its fields inlined.
    #[serde(flatten)]
    pub record: EpochRecord,
    /// `"webgpu"`, `"cpu"` or `"cuda"`; `null` when not known.
    #[serde(default)]
    pub backend: Option<String>,
}

/// A run summary as the page keeps it ([`RunSummary`], whose `series` names a run that is not
/// its batch size's only one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedRun {
    /// The run's summary, its fields inlined.
    #[serde(flatten)]
    pub summary: RunSummary,
}

/// A whole sweep as exported (`camelCase` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepExport {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// The batchlab version that trained and exported the sweep.
    pub batchlab_version: String,
    /// When the file was written (ISO 8601, from the browser's clock).
    pub exported_at: String,
    /// The page's link for these settings (opening it restores every control).
    #[serde(default)]
    pub link: String,
    /// The browser's user agent (`navigator.userAgent`).
    #[serde(default)]
    pub user_agent: String,
    /// `"webgpu"`, `"cpu"` or `"cuda"` (the command line's): the backend of the last run;
    /// `null` before any.
    #[serde(default)]
    pub backend: Option<String>,
    /// The WebGPU adapter's name (natively: name, graphics API and device type); `null` on the
    /// CPU.
    #[serde(default)]
    pub adapter: Option<String>,
    /// The sweep's settings.
    pub settings: Settings,
    /// Every per-epoch record, in the order trained.
    pub results: Vec<ExportedRecord>,
    /// Every run's summary, in the order started.
    pub runs: Vec<ExportedRun>,
    /// The six findings, as stated when exported (empty when the sweep had not ended).
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// The findings per arm ([`crate::findings::findings_by_arm`]: with a `baseline`, the naive
    /// arm's and the `lrpolicy` arm's, side by side; with seeds, every seed's verdict), as
    /// stated when exported; absent in files written before arms existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arms: Vec<ArmFindings>,
    /// A shard of the sweep (the command line's `--shard i/n`): which one, and the indices of
    /// the plan's runs it trained ([`Settings::plan`]); absent for a whole sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardOf>,
}

/// Which part of a sweep's plan an export holds (`camelCase` in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardOf {
    /// The shard, from 0.
    pub index: usize,
    /// How many shards the sweep was split into.
    pub count: usize,
    /// The indices in [`Settings::plan`] of the runs this shard trained.
    pub runs: Vec<usize>,
}

/// Why an export could not be written or read, in words for the reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The file is not JSON, or not in this format (the message says where and why).
    #[error("this file is not a batchlab export: {0}")]
    NotAnExport(String),
    /// Written by a newer batchlab, in a format version this one cannot read.
    #[error(
        "this file was exported by batchlab {version} in format version {found}; this page reads up to version {FORMAT_VERSION}: open it with a newer batchlab"
    )]
    TooNew {
        /// The file's `batchlabVersion`.
        version: String,
        /// The file's `formatVersion`.
        found: u32,
    },
    /// Well-formed, but its contents do not add up (e.g. refused settings).
    #[error("this export is damaged: {0}")]
    Damaged(String),
    /// The CSV writer failed (out of memory).
    #[error("the CSV file could not be written: {0}")]
    Csv(String),
}

impl SweepExport {
    /// Writes the export as pretty-printed JSON. Non-finite numbers become `null`.
    ///
    /// # Errors
    /// [`ExportError::Damaged`] if serialisation fails (it does not for these types).
    pub fn to_json(&self) -> Result<String, ExportError> {
        serde_json::to_string_pretty(self).map_err(|e| ExportError::Damaged(e.to_string()))
    }

    /// Reads a JSON export, as [`SweepExport::to_json`] writes it, and checks it: the format
    /// name, a format version this build reads, settings that [`Settings::validate`] accepts,
    /// and records and runs whose batch sizes belong to the sweep.
    ///
    /// # Errors
    /// [`ExportError::NotAnExport`] for text that is not JSON or lacks the format's fields
    /// (naming the first missing or mistyped field), [`ExportError::TooNew`] for a newer format
    /// version, [`ExportError::Damaged`] for contents that do not add up.
    pub fn from_json(text: &str) -> Result<Self, ExportError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ExportError::NotAnExport(format!("it is not JSON ({e})")))?;
        let format = value.get("format").and_then(|f| f.as_str());
        if format != Some(FORMAT) {
            return Err(ExportError::NotAnExport(format!(
                "its “format” field is not “{FORMAT}”"
            )));
        }
        let found = value
            .get("formatVersion")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| ExportError::NotAnExport("it has no “formatVersion”".into()))?;
        if found > u64::from(FORMAT_VERSION) {
            let version = value
                .get("batchlabVersion")
                .and_then(|v| v.as_str())
                .unwrap_or("(unknown)")
                .to_string();
            return Err(ExportError::TooNew {
                version,
                found: u32::try_from(found).unwrap_or(u32::MAX),
            });
        }
        let export: Self = serde_path_to_error::deserialize(value)
            .map_err(|e| ExportError::NotAnExport(format!("at “{}”: {}", e.path(), e.inner())))?;
        export.check()?;
        Ok(export)
    }

    /// Checks that the contents add up (see [`SweepExport::from_json`]): settings that
    /// validate, with `batch` listing `batchSizes`; records and runs of the sweep's batch sizes
    /// and epochs, each record once; accuracies in [0, 1]; losses, seconds and throughputs
    /// finite and not negative.
    fn check(&self) -> Result<(), ExportError> {
        let damaged = |what: String| Err(ExportError::Damaged(what));
        if self.format_version == 0 {
            return Err(ExportError::NotAnExport("its “formatVersion” is 0".into()));
        }
        let settings = &self.settings;
        settings
            .validate()
            .map_err(|e| ExportError::Damaged(format!("its settings are refused: {e}")))?;
        if crate::settings::batch_sizes(&settings.batch, settings.train_size)
            .ok()
            .as_ref()
            != Some(&settings.batch_sizes)
        {
            return damaged(format!(
                "its settings list the batch sizes “{}” but hold {:?}",
                settings.batch, settings.batch_sizes
            ));
        }
        // "record 3" or "run 2" must be of one of the sweep's batch sizes.
        let of_sweep = |what: &str, batch_size: usize| {
            if settings.batch_sizes.contains(&batch_size) {
                Ok(())
            } else {
                damaged(format!(
                    "{what} has batch size {batch_size}, which is not one of the sweep's"
                ))
            }
        };
        let fraction = |x: f64| (0.0..=1.0).contains(&x);
        let amount = |x: f64| x.is_finite() && x >= 0.0;
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.results.iter().enumerate() {
            let (n, rec) = (i + 1, &r.record);
            of_sweep(&format!("record {n}"), rec.batch_size)?;
            if rec.epoch == 0 || rec.epoch > settings.epochs {
                return damaged(format!(
                    "record {n} is epoch {} of a sweep of {} epochs per run",
                    rec.epoch, settings.epochs
                ));
            }
            if !seen.insert((rec.batch_size, rec.series.clone(), rec.epoch)) {
                return damaged(format!(
                    "record {n} repeats epoch {} of batch size {}",
                    rec.epoch, rec.batch_size
                ));
            }
            let val_fraction = rec.val_accuracy.is_none_or(fraction);
            if !(fraction(rec.train_accuracy) && fraction(rec.test_accuracy) && val_fraction) {
                return damaged(format!("record {n} has an accuracy outside 0 to 1"));
            }
            let amounts = [
                rec.train_loss,
                rec.test_loss,
                rec.train_seconds,
                rec.samples_per_second,
                rec.learning_rate,
            ];
            if !amounts.into_iter().chain(rec.val_loss).all(amount) {
                return damaged(format!(
                    "record {n} has a negative or non-finite loss, time, throughput or learning rate"
                ));
            }
        }
        // A seed or arm the sweep's plan does not hold ("record 3", "run 2").
        let arms: Vec<crate::schedule::LrPolicy> =
            settings.baseline.into_iter().chain([settings.lr_policy]).collect();
        let seeds = settings.seed..settings.seed + settings.seeds as u64;
        let of_plan = |what: &str, seed: Option<u64>| match seed {
            Some(seed) if !seeds.contains(&seed) => damaged(format!(
                "{what} has seed {seed}, but the sweep's seeds run from {} to {}",
                seeds.start,
                seeds.end - 1
            )),
            _ => Ok(()),
        };
        for (i, r) in self.results.iter().enumerate() {
            of_plan(&format!("record {}", i + 1), r.record.seed)?;
        }
        for (i, r) in self.runs.iter().enumerate() {
            let (n, run) = (i + 1, &r.summary);
            of_sweep(&format!("run {n}"), run.batch_size)?;
            of_plan(&format!("run {n}"), run.seed)?;
            if !arms.contains(&run.lr_policy) {
                return damaged(format!(
                    "run {n} trained under the learning-rate policy {}, which is not one of the sweep's",
                    crate::settings::policy_name(run.lr_policy)
                ));
            }
            if run.epochs > settings.epochs {
                return damaged(format!(
                    "run {n} has {} epochs, more than the sweep's {}",
                    run.epochs, settings.epochs
                ));
            }
            let accuracies = [
                run.best_test_accuracy,
                run.final_test_accuracy,
                run.best_val_accuracy,
                run.final_val_accuracy,
                Some(run.target),
            ];
            if !accuracies.into_iter().flatten().all(fraction) {
                return damaged(format!("run {n} has an accuracy outside 0 to 1"));
            }
            let times = [
                Some(run.train_seconds),
                Some(run.samples_per_second),
                run.target_seconds,
            ];
            if !times.into_iter().flatten().all(amount) {
                return damaged(format!(
                    "run {n} has a negative or non-finite time or throughput"
                ));
            }
        }
        self.check_bounds()
    }

    /// The second half of [`SweepExport::check`]: every number within what the settings make
    /// possible, and every text short and of the sweep. A run of `epochs` epochs over
    /// `train_size` images at batch size B takes at most `epochs × ⌈train_size / B⌉` steps and
    /// `epochs × train_size` samples; times stay under [`MAX_SECONDS`], throughputs under
    /// [`MAX_THROUGHPUT`]; a run's series label is its plan's (or its batch size), optionally
    /// followed by the page's restart label — never free text.
    fn check_bounds(&self) -> Result<(), ExportError> {
        let damaged = |what: String| Err(ExportError::Damaged(what));
        let settings = &self.settings;
        let texts = [
            ("batchlabVersion", self.batchlab_version.as_str(), 64),
            ("exportedAt", self.exported_at.as_str(), 64),
            ("link", self.link.as_str(), MAX_LINK),
            ("userAgent", self.user_agent.as_str(), 1_000),
            ("adapter", self.adapter.as_deref().unwrap_or(""), 300),
        ];
        for (field, text, most) in texts {
            if text.chars().count() > most {
                return damaged(format!(
                    "its “{field}” is {} characters long (at most {most})",
                    text.chars().count()
                ));
            }
        }
        if let Some(backend) = self.backend.as_deref()
            && !BACKENDS.contains(&backend)
        {
            return damaged(format!(
                "its backend is “{}”, not “webgpu”, “cpu” or “cuda”",
                clip(backend)
            ));
        }
        let plan = settings.plan();
        let steps_per_epoch = |b: usize| settings.train_size.div_ceil(b.max(1));
        let seconds = |x: f64| x.is_finite() && (0.0..=MAX_SECONDS).contains(&x);
        let throughput = |x: f64| x.is_finite() && (0.0..=MAX_THROUGHPUT).contains(&x);
        // The largest rate the settings can give a step: the larger of `lr` and the grid's top,
        // scaled (linear policy) up to the training set's size over `lrref`.
        let peak = settings.learning_rate.max(settings.lr_grid().max)
            * (settings.train_size as f64 / settings.lr_reference_batch.max(1) as f64).max(1.0);
        let rate = |x: f64| x.is_finite() && x >= 0.0 && x <= peak * (1.0 + 1e-9);
        // Steps and samples after `epochs` epochs at batch size `b`: within the epochs' images,
        // each step at least one image and at most `b`.
        let trained = |epochs: usize, b: usize, steps: usize, samples: usize| {
            steps <= epochs * steps_per_epoch(b)
                && samples <= epochs * settings.train_size
                && steps <= samples
                && samples <= steps.saturating_mul(b)
        };
        let series_ok = |b: usize, series: Option<&str>| match series {
            None => true,
            Some(text) => plan
                .iter()
                .filter(|p| p.batch_size == b)
                .map(|p| p.series.clone().unwrap_or_else(|| b.to_string()))
                .any(|base| {
                    text == base
                        || text
                            .strip_prefix(&base)
                            .and_then(|rest| rest.strip_prefix(' '))
                            .is_some_and(is_restart_label)
                }),
        };
        for (i, r) in self.results.iter().enumerate() {
            let (n, rec) = (i + 1, &r.record);
            if !series_ok(rec.batch_size, rec.series.as_deref()) {
                return damaged(format!(
                    "record {n} is labelled “{}”, which is none of the sweep's runs",
                    clip(rec.series.as_deref().unwrap_or_default())
                ));
            }
            if !trained(rec.epoch, rec.batch_size, rec.steps, rec.samples) {
                return damaged(format!(
                    "record {n} has {} steps over {} samples, which epoch {} at batch size {} cannot take",
                    rec.steps, rec.samples, rec.epoch, rec.batch_size
                ));
            }
            if !(seconds(rec.train_seconds)
                && throughput(rec.samples_per_second)
                && rate(rec.learning_rate))
            {
                return damaged(format!(
                    "record {n} has a time, throughput or learning rate out of range"
                ));
            }
            if let Some(backend) = r.backend.as_deref()
                && !BACKENDS.contains(&backend)
            {
                return damaged(format!("record {n} has the backend “{}”", clip(backend)));
            }
        }
        // Every run of the plan, each restarted at most MAX_RESTARTS times: no more runs, no
        // run twice, and no more records than their epochs.
        let most_runs = plan.len() * (1 + MAX_RESTARTS as usize);
        if self.runs.len() > most_runs || self.results.len() > most_runs * settings.epochs {
            return damaged(format!(
                "it holds {} runs and {} records, more than its settings' {} runs can make",
                self.runs.len(),
                self.results.len(),
                plan.len()
            ));
        }
        let mut keys = std::collections::HashSet::new();
        for (i, r) in self.runs.iter().enumerate() {
            let s = &r.summary;
            if !keys.insert((s.batch_size, s.series.clone(), s.seed, crate::settings::policy_name(s.lr_policy))) {
                return damaged(format!("run {} repeats an earlier run", i + 1));
            }
        }
        let grid = settings.lr_grid().rates().len();
        for (i, r) in self.runs.iter().enumerate() {
            let (n, run) = (i + 1, &r.summary);
            let out = |what: &str| damaged(format!("run {n} has {what} out of range"));
            if !series_ok(run.batch_size, run.series.as_deref()) {
                return damaged(format!(
                    "run {n} is labelled “{}”, which is none of the sweep's runs",
                    clip(run.series.as_deref().unwrap_or_default())
                ));
            }
            if !trained(run.epochs, run.batch_size, run.steps, run.samples) {
                return out("steps or samples");
            }
            // A run that diverged in epoch k may have checked validation (and reached the
            // target) within epoch k, past its last finished epoch: bounded by epoch k's end.
            let last = run.epochs.max(run.diverged_epoch.unwrap_or(0)).max(1);
            let most_steps = run.steps.max(last * steps_per_epoch(run.batch_size));
            let most_samples = run.samples.max(last * settings.train_size);
            let reached_within = run.target_epoch.is_none_or(|e| e <= last)
                && run.target_steps.is_none_or(|s| s <= most_steps)
                && run.target_samples.is_none_or(|s| s <= most_samples);
            if !reached_within {
                return out("a target reached past its own end");
            }
            if !(seconds(run.train_seconds)
                && throughput(run.samples_per_second)
                && run.target_seconds.is_none_or(seconds)
                && rate(run.learning_rate))
            {
                return out("a time, throughput or learning rate");
            }
            if run.noise_scale.is_some_and(|b| !(b.is_finite() && (0.0..=MAX_NOISE_SCALE).contains(&b)))
                || run.diverged_epoch.is_some_and(|e| e == 0 || e > settings.epochs)
                || run.diverged_loss.is_some_and(|l| !l.is_finite())
            {
                return out("a noise scale or divergence");
            }
            let val = |x: f64| (0.0..=1.0).contains(&x);
            for point in &run.evals {
                if point.steps > most_steps
                    || point.images > settings.val_size.max(1)
                    || !val(point.val_accuracy)
                    || !(point.val_loss.is_finite() && point.val_loss >= 0.0)
                    || !seconds(point.train_seconds)
                {
                    return out("a validation point");
                }
            }
            if let Some(tuning) = &run.tuning {
                let trial_steps = tuning.trial_epochs * steps_per_epoch(run.batch_size);
                if tuning.trial_epochs == 0
                    || tuning.trial_epochs > settings.lr_trial_epochs.max(1)
                    || tuning.trials.len() > grid
                    || tuning.chosen.is_some_and(|c| !rate(c))
                    || tuning.reason.as_deref().is_some_and(|r| r.chars().count() > 200)
                {
                    return out("its learning-rate tuning");
                }
                for t in &tuning.trials {
                    if !rate(t.learning_rate)
                        || t.epochs > tuning.trial_epochs
                        || t.target_steps.is_some_and(|s| s > trial_steps)
                        || t.val_accuracy.is_some_and(|a| !val(a))
                        || t.val_loss.is_some_and(|l| !l.is_finite())
                        || !seconds(t.train_seconds)
                    {
                        return out("a learning-rate trial");
                    }
                }
            }
        }
        Ok(())
    }

    /// The metadata lines that open each CSV file (each starts with `# `).
    fn csv_preamble(&self, what: &str) -> String {
        let settings = serde_json::to_string(&self.settings).unwrap_or_default();
        let backend = match (self.backend.as_deref(), self.adapter.as_deref()) {
            (Some("webgpu"), Some(adapter)) => format!("WebGPU ({adapter})"),
            (Some("webgpu"), None) => "WebGPU".into(),
            (Some("cpu"), _) => "CPU (WebAssembly)".into(),
            _ => "not started".into(),
        };
        [
            format!(
                "# batchlab {} — {what}, exported {}",
                self.batchlab_version, self.exported_at
            ),
            format!("# link: {}", self.link),
            format!("# backend: {backend}"),
            format!("# user agent: {}", self.user_agent),
            format!("# settings: {settings}"),
        ]
        .iter()
        .map(|line| format!("{}\n", line.replace(['\n', '\r'], " ")))
        .collect()
    }

    /// The per-epoch records as CSV: the metadata lines (`#`), then a header row and one row
    /// per record with the columns [`EPOCH_COLUMNS`]. Numbers are written in full precision
    /// (Rust's shortest round-trip form); a missing value is an empty cell.
    ///
    /// # Errors
    /// [`ExportError::Csv`] if the CSV writer fails.
    pub fn epochs_csv(&self) -> Result<String, ExportError> {
        let rows = self.results.iter().map(|r| {
            let e = &r.record;
            vec![
                e.batch_size.to_string(),
                e.series.clone().unwrap_or_default(),
                e.epoch.to_string(),
                e.steps.to_string(),
                e.samples.to_string(),
                e.train_loss.to_string(),
                e.train_accuracy.to_string(),
                e.test_loss.to_string(),
                e.test_accuracy.to_string(),
                e.train_seconds.to_string(),
                e.samples_per_second.to_string(),
                e.learning_rate.to_string(),
                r.backend.clone().unwrap_or_default(),
                e.val_loss.map(|v| v.to_string()).unwrap_or_default(),
                e.val_accuracy.map(|v| v.to_string()).unwrap_or_default(),
                e.seed.map(|v| v.to_string()).unwrap_or_default(),
            ]
        });
        self.csv("per-epoch records", &EPOCH_COLUMNS, rows)
    }

    /// The run summaries as CSV: the metadata lines (`#`), then a header row and one row per
    /// run with the columns [`RUN_COLUMNS`] (names as in the JSON; `null` is an empty cell).
    ///
    /// # Errors
    /// [`ExportError::Csv`] if the CSV writer fails.
    pub fn runs_csv(&self) -> Result<String, ExportError> {
        let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        let opt_n = |x: Option<usize>| x.map(|v| v.to_string()).unwrap_or_default();
        let rows = self.runs.iter().map(|r| {
            let s = &r.summary;
            vec![
                s.batch_size.to_string(),
                s.series.clone().unwrap_or_default(),
                s.learning_rate.to_string(),
                name(&s.optimizer),
                name(&s.model),
                name(&s.lr_policy),
                name(&s.status),
                s.ended_by.as_ref().map(name).unwrap_or_default(),
                s.epochs.to_string(),
                s.steps.to_string(),
                s.samples.to_string(),
                s.train_seconds.to_string(),
                s.samples_per_second.to_string(),
                s.target.to_string(),
                opt_n(s.target_epoch),
                opt_n(s.target_steps),
                opt_n(s.target_samples),
                opt(s.target_seconds),
                opt(s.best_test_accuracy),
                opt(s.final_test_accuracy),
                opt(s.noise_scale),
                opt_n(s.diverged_epoch),
                name(&s.target_on),
                opt(s.best_val_accuracy),
                opt(s.final_val_accuracy),
                opt(s.diverged_loss),
                s.seed.map(|v| v.to_string()).unwrap_or_default(),
            ]
        });
        self.csv("run summaries", &RUN_COLUMNS, rows)
    }

    fn csv(
        &self,
        what: &str,
        columns: &[&str],
        rows: impl Iterator<Item = Vec<String>>,
    ) -> Result<String, ExportError> {
        let mut writer = csv::Writer::from_writer(self.csv_preamble(what).into_bytes());
        let fail = |e: csv::Error| ExportError::Csv(e.to_string());
        writer.write_record(columns).map_err(fail)?;
        for row in rows {
            writer.write_record(&row).map_err(fail)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| ExportError::Csv(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| ExportError::Csv(e.to_string()))
    }
}

/// The columns of [`SweepExport::epochs_csv`], as named in the JSON records.
/// Columns added after the first format keep the first ones in place: they come last.
pub const EPOCH_COLUMNS: [&str; 16] = [
    "batchSize",
    "series",
    "epoch",
    "steps",
    "samples",
    "trainLoss",
    "trainAccuracy",
    "testLoss",
    "testAccuracy",
    "trainSeconds",
    "samplesPerSecond",
    "learningRate",
    "backend",
    "valLoss",
    "valAccuracy",
    "seed",
];

/// The columns of [`SweepExport::runs_csv`], as named in the JSON run summaries.
/// Columns added after the first format come last, as in [`EPOCH_COLUMNS`].
pub const RUN_COLUMNS: [&str; 27] = [
    "batchSize",
    "series",
    "learningRate",
    "optimizer",
    "model",
    "lrPolicy",
    "status",
    "endedBy",
    "epochs",
    "steps",
    "samples",
    "trainSeconds",
    "samplesPerSecond",
    "target",
    "targetEpoch",
    "targetSteps",
    "targetSamples",
    "targetSeconds",
    "bestTestAccuracy",
    "finalTestAccuracy",
    "noiseScale",
    "divergedEpoch",
    "targetOn",
    "bestValAccuracy",
    "finalValAccuracy",
    "divergedLoss",
    "seed",
];

/// The JSON name of a unit enum value (`Optimizer::Adam` → `"adam"`).
fn name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
