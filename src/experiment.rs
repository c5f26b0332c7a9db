//! The experiment: a sweep of runs, one per batch size, all else equal (same data, seed,
//! epochs, optimiser and learning-rate policy), run one after another.

use std::time::Duration;

use burn::tensor::Device;
use serde::Serialize;

use crate::backend::MAX_MICRO_BATCH;
use crate::data::{DeviceSplit, Mnist, Split};
use crate::settings::{Settings, SettingsError};
use crate::summary::RunSummary;
use crate::train::{EpochRecord, Progress, Run, RunConfig, RunEvent, TrainError};

/// What one call of [`Sweep::advance`] achieved (`kind` tells which, in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SweepEvent {
    /// A run was set up (no work done yet): its summary, `status` `"running"`.
    RunStarted {
        /// The new run's summary.
        summary: RunSummary,
    },
    /// Part of an epoch was done.
    Progress {
        /// Where the run is.
        progress: Progress,
    },
    /// An epoch ended; its record and the run's summary so far (`status` `"done"` when it was
    /// the run's last).
    Epoch {
        /// The finished epoch's metrics.
        record: EpochRecord,
        /// The run's summary after this epoch.
        summary: RunSummary,
    },
    /// A run's training loss became NaN or infinite: that run ended, the sweep goes on.
    #[serde(rename_all = "camelCase")]
    Diverged {
        /// Samples per optimiser step of the run that diverged.
        batch_size: usize,
        /// The epoch in which it diverged, from 1.
        epoch: usize,
        /// The run's summary (`status` `"diverged"`).
        summary: RunSummary,
    },
    /// Every run is finished.
    Done,
}

/// A sweep over batch sizes. Build with [`Sweep::new`], then call [`Sweep::advance`] until it
/// returns [`SweepEvent::Done`].
pub struct Sweep {
    settings: Settings,
    train: Split,
    /// The training images uploaded once to the device, when asked for
    /// ([`Sweep::with_training_set_on_device`]).
    train_on_device: Option<DeviceSplit>,
    test: Split,
    device: Device,
    /// Index in `settings.batch_sizes` of the run under way.
    next_run: usize,
    run: Option<Run>,
    /// Most images per forward/backward pass (see [`crate::backend::micro_batch`]).
    micro_batch: usize,
}

impl Sweep {
    /// A sweep of `settings` on `data`, training on `device` (plain; autodiff is added per run).
    /// Uses the first `train_size` training and `test_size` test images.
    ///
    /// # Errors
    /// [`SettingsError`] when the settings are invalid (see [`Settings::validate`]) or ask for
    /// more images than `data` holds.
    pub fn new(settings: Settings, data: &Mnist, device: Device) -> Result<Self, SettingsError> {
        settings.validate()?;
        if settings.train_size > data.train.len() {
            return Err(SettingsError {
                parameter: "train",
                message: format!(
                    "the training-set size must be at most {}, the images loaded",
                    data.train.len()
                ),
            });
        }
        if settings.test_size > data.test.len() {
            return Err(SettingsError {
                parameter: "test",
                message: format!(
                    "the test-set size must be at most {}, the images loaded",
                    data.test.len()
                ),
            });
        }
        Ok(Self {
            train: data.train.take(settings.train_size),
            train_on_device: None,
            test: data.test.take(settings.test_size),
            settings,
            device,
            next_run: 0,
            run: None,
            micro_batch: MAX_MICRO_BATCH,
        })
    }

    /// Sets the most images per forward/backward pass of every run (see
    /// [`crate::backend::micro_batch`]; default [`MAX_MICRO_BATCH`]).
    ///
    /// # Panics
    /// If `micro_batch` is 0.
    pub fn with_micro_batch(mut self, micro_batch: usize) -> Self {
        assert!(micro_batch > 0, "the micro-batch size must be at least 1");
        self.micro_batch = micro_batch;
        self
    }

    /// Uploads the training images to the device once, for every run of the sweep: batches are
    /// then gathered on the device instead of uploaded each step. Takes
    /// [`crate::data::device_split_bytes`]`(train_size)` bytes of device memory.
    pub fn with_training_set_on_device(mut self) -> Self {
        let device = self.device.clone().autodiff();
        self.train_on_device = Some(DeviceSplit::new(&self.train, &device));
        self
    }

    /// The summary of the run under way (or of the last one), if any run has started.
    pub fn current_summary(&self) -> Option<&RunSummary> {
        self.run.as_ref().map(Run::summary)
    }

    /// The settings of this sweep.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Does about `budget` of work on the run under way (starting the next run when one ends)
    /// and reports what was done.
    ///
    /// # Errors
    /// [`TrainError`] when the device fails; the sweep cannot go on after one.
    pub async fn advance(&mut self, budget: Duration) -> Result<SweepEvent, TrainError> {
        if self.run.as_ref().is_none_or(Run::is_finished) {
            let Some(&batch_size) = self.settings.batch_sizes.get(self.next_run) else {
                self.run = None;
                return Ok(SweepEvent::Done);
            };
            self.next_run += 1;
            let config = RunConfig::new(&self.settings, batch_size);
            let run = Run::new(config, &self.device).with_micro_batch(self.micro_batch);
            let summary = run.summary().clone();
            self.run = Some(run);
            return Ok(SweepEvent::RunStarted { summary });
        }
        let run = self.run.as_mut().expect("a run is under way");
        let event = match &self.train_on_device {
            Some(train) => run.advance(train, &self.test, budget).await?,
            None => run.advance(&self.train, &self.test, budget).await?,
        };
        Ok(match event {
            RunEvent::Progress(progress) => SweepEvent::Progress { progress },
            RunEvent::Epoch(record, summary) => SweepEvent::Epoch { record, summary },
            RunEvent::Diverged(summary) => SweepEvent::Diverged {
                batch_size: summary.batch_size,
                epoch: summary.diverged_epoch.unwrap_or(1),
                summary,
            },
        })
    }
}
