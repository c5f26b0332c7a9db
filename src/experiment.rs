//! The experiment: a sweep of runs, one per batch size, all else equal (same data, seed,
//! epochs, optimiser and learning-rate policy): side by side (every run started at once, then
//! advanced in turns, one chunk each, the run least far through its epochs first, so that their
//! curves grow together) or one after another.
//!
//! Owns the runs under way and the order in which they get the device; must not know about
//! the page, the worker or how events are shown.

use std::time::Duration;

use burn::tensor::Device;
use serde::Serialize;
use web_time::Instant;

use crate::backend::MAX_MICRO_BATCH;
use crate::data::{DeviceSplit, Mnist, Split};
use crate::settings::{Settings, SettingsError};
use crate::summary::RunSummary;
use crate::record::{EpochRecord, Progress};
use crate::train::{Run, RunConfig, RunEvent, TrainError};

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
        /// Where the run that advanced is, where every run under way is, and the sweep's
        /// estimated time left.
        progress: SweepProgress,
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

/// Progress of a sweep (`camelCase` in JavaScript): the fields of [`Progress`] for the run that
/// just advanced, plus every run under way and the time left.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepProgress {
    /// The run that advanced.
    #[serde(flatten)]
    pub progress: Progress,
    /// Where each run under way is (one entry when runs go one after another), in the order
    /// of the sweep's batch sizes.
    pub running: Vec<Progress>,
    /// Estimated seconds of wall time left for the whole sweep (training and evaluation of the
    /// runs under way and of those not started), from each run's measured pace; `None` until a
    /// run has measured one. An upper bound when runs may end early (target, time budget).
    pub eta_seconds: Option<f64>,
}

/// A run of the sweep that has started and not finished.
struct Racer {
    run: Run,
    /// Where it was after its last chunk.
    position: Progress,
    /// Wall time spent in its chunks (training, probe and evaluation), seconds.
    wall_seconds: f64,
    /// Whether it has had a chunk: burn draws a run's initial weights at its first step, from
    /// the device's generator, which the next run's set-up seeds again.
    advanced: bool,
}

impl Racer {
    /// Fraction of the run's epochs done (an epoch's probe and evaluation count as its end).
    fn fraction(&self, epochs: usize) -> f64 {
        let p = &self.position;
        let within = match p.phase {
            "train" => p.done as f64 / p.total.max(1) as f64,
            _ => 1.0,
        };
        ((p.epoch - 1) as f64 + within) / epochs.max(1) as f64
    }
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
    /// Index in `settings.batch_sizes` of the next run to start.
    next_run: usize,
    /// The runs started and not finished, in the order of `settings.batch_sizes`.
    racers: Vec<Racer>,
    /// Index in `racers` from which ties for the next turn are broken (the run after the last
    /// one advanced).
    turn: usize,
    /// Wall seconds per training sample (training, probe and evaluation of an epoch, per image
    /// of the training set), of the runs that finished: the pace assumed for runs not started.
    finished_pace: Vec<f64>,
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
            racers: Vec::new(),
            turn: 0,
            finished_pace: Vec::new(),
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

    /// The settings of this sweep.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// How many runs may be under way at once: all of them side by side, else one.
    fn lanes(&self) -> usize {
        if self.settings.race {
            self.settings.batch_sizes.len()
        } else {
            1
        }
    }

    /// Does about `budget` of work on the run whose turn it is (starting runs first, up to
    /// [`Settings::race`]'s number of lanes) and reports what was done. Side by side, the runs
    /// take turns, one chunk each, the run least far through its epochs first; a run's
    /// training time counts only its own chunks.
    ///
    /// # Errors
    /// [`TrainError`] when the device fails; the sweep cannot go on after one.
    pub async fn advance(&mut self, budget: Duration) -> Result<SweepEvent, TrainError> {
        if self.racers.len() < self.lanes()
            && self.racers.iter().all(|r| r.advanced)
            && let Some(&batch_size) = self.settings.batch_sizes.get(self.next_run)
        {
            self.next_run += 1;
            let config = RunConfig::new(&self.settings, batch_size);
            let run = Run::new(config, &self.device).with_micro_batch(self.micro_batch);
            let summary = run.summary().clone();
            let position = Progress {
                batch_size,
                epoch: 1,
                phase: "train",
                done: 0,
                total: self.train.len(),
                running_loss: None,
            };
            self.racers.push(Racer {
                run,
                position,
                wall_seconds: 0.0,
                advanced: false,
            });
            return Ok(SweepEvent::RunStarted { summary });
        }
        if self.racers.is_empty() {
            return Ok(SweepEvent::Done);
        }
        let index = self.next_turn();
        let racer = &mut self.racers[index];
        let start = Instant::now();
        let event = match &self.train_on_device {
            Some(train) => racer.run.advance(train, &self.test, budget).await?,
            None => racer.run.advance(&self.train, &self.test, budget).await?,
        };
        racer.wall_seconds += start.elapsed().as_secs_f64();
        racer.advanced = true;
        self.turn = index + 1;
        let event = match event {
            RunEvent::Progress(progress) => {
                racer.position = progress.clone();
                let running = self.racers.iter().map(|r| r.position.clone()).collect();
                let eta_seconds = self.eta_seconds();
                SweepEvent::Progress {
                    progress: SweepProgress {
                        progress,
                        running,
                        eta_seconds,
                    },
                }
            }
            RunEvent::Epoch(record, summary) => {
                racer.position = Progress {
                    batch_size: record.batch_size,
                    epoch: record.epoch + 1,
                    phase: "train",
                    done: 0,
                    total: self.train.len(),
                    running_loss: None,
                };
                SweepEvent::Epoch { record, summary }
            }
            RunEvent::Diverged(summary) => SweepEvent::Diverged {
                batch_size: summary.batch_size,
                epoch: summary.diverged_epoch.unwrap_or(1),
                summary,
            },
        };
        if self.racers[index].run.is_finished() {
            let racer = self.racers.remove(index);
            let epochs = racer.run.summary().epochs.max(1);
            self.finished_pace
                .push(racer.wall_seconds / (epochs * self.train.len().max(1)) as f64);
            // The next run in line keeps its turn.
            self.turn = index;
        }
        Ok(event)
    }

    /// The run to advance next: the one least far through its epochs (so that every batch
    /// size's first epoch ends at about the same time, and their curves grow together), ties
    /// going round in turn from the run after the last one advanced.
    fn next_turn(&self) -> usize {
        let n = self.racers.len();
        // A run just set up draws its weights first (see `Racer::advanced`).
        if let Some(new) = self.racers.iter().position(|r| !r.advanced) {
            return new;
        }
        let epochs = self.settings.epochs;
        (0..n)
            .map(|k| (self.turn + k) % n)
            .min_by(|&a, &b| {
                let (fa, fb) = (self.racers[a].fraction(epochs), self.racers[b].fraction(epochs));
                fa.total_cmp(&fb)
            })
            .unwrap_or(0)
    }

    /// The sweep's estimated wall seconds left: each run under way at its own measured pace,
    /// the runs not started at the mean pace per sample of the others (`None` before any run
    /// has measured one).
    fn eta_seconds(&self) -> Option<f64> {
        let epochs = self.settings.epochs;
        let mut left = 0.0;
        let mut paces = self.finished_pace.clone();
        let mut unmeasured_epochs = 0.0;
        for racer in &self.racers {
            let fraction = racer.fraction(epochs);
            if fraction > 0.0 && racer.wall_seconds > 0.0 {
                left += racer.wall_seconds * (1.0 - fraction) / fraction;
                paces.push(racer.wall_seconds / (fraction * (epochs * self.train.len()) as f64));
            } else {
                unmeasured_epochs += epochs as f64;
            }
        }
        let not_started = self.settings.batch_sizes.len() - self.next_run;
        unmeasured_epochs += (not_started * epochs) as f64;
        if paces.is_empty() {
            return None;
        }
        let pace = paces.iter().sum::<f64>() / paces.len() as f64;
        Some(left + unmeasured_epochs * self.train.len() as f64 * pace)
    }
}
