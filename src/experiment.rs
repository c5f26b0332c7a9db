//! The experiment: a sweep of runs, one per batch size, all else equal (same data, seed,
//! epochs, optimiser and learning-rate policy) — repeated per seed (`seeds`) and per arm (a
//! `baseline` learning-rate policy beside `lrpolicy`), as [`Settings::plan`] lists them: side by
//! side (every run started at once, then advanced in turns, one chunk each — the batch sizes with
//! no point yet first, then the run least far through its epochs — so that their curves grow
//! together) or one after another.
//!
//! Owns the runs under way and the order in which they get the device; must not know about
//! the page, the worker or how events are shown.

use std::time::Duration;

use burn::tensor::Device;
use serde::Serialize;
use web_time::Instant;

use crate::backend::MAX_MICRO_BATCH;
use crate::checkpoint::{CheckpointError, RunCheckpoint};
use crate::data::{DeviceSplit, Mnist, Split};
use crate::settings::{PlannedRun, Settings, SettingsError};
use crate::record::{EpochRecord, Progress, TrialOf};
use crate::schedule::{LrPolicy, LrSchedule};
use crate::summary::{EndedBy, RunStatus, RunSummary};
use crate::train::{Run, RunConfig, RunEvent, TrainError};
use crate::tuning::{Trial, TrialOutcome, Tuning, choose};

/// What one call of [`Sweep::advance`] achieved (`kind` tells which, in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SweepEvent {
    /// A run was set up (no work done yet): its summary, `status` `"running"`.
    RunStarted {
        /// The new run's summary.
        summary: RunSummary,
    },
    /// A run cut short after a finished epoch goes on from its checkpoint
    /// ([`Sweep::with_checkpoints`]; no work done yet): its summary as it stood then, `status`
    /// `"running"`.
    RunResumed {
        /// The resumed run's summary after its last finished epoch.
        summary: RunSummary,
        /// Epochs it had finished (the next one it trains is `epochs + 1`).
        epochs: usize,
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
    /// A run diverged (its training loss passed the bound or became NaN or infinite; or, tuned,
    /// every rate of its grid diverged): that run ended, the sweep goes on.
    #[serde(rename_all = "camelCase")]
    Diverged {
        /// Samples per optimiser step of the run that diverged.
        batch_size: usize,
        /// The epoch in which it diverged, from 1.
        epoch: usize,
        /// The run's summary (`status` `"diverged"`).
        summary: RunSummary,
    },
    /// A learning-rate trial was set up (`lrpolicy=tuned`; no work done yet).
    #[serde(rename_all = "camelCase")]
    TrialStarted {
        /// The batch size being tuned.
        batch_size: usize,
        /// The line label of the run being tuned (another seed or arm); absent for a batch
        /// size's only run.
        #[serde(skip_serializing_if = "Option::is_none")]
        series: Option<String>,
        /// Which trial, and its learning rate.
        trial: TrialOf,
    },
    /// A learning-rate trial ended (`lrpolicy=tuned`): its outcome, and the batch size's
    /// tuning so far (`chosen` set after its last trial). Trials record no epoch.
    #[serde(rename_all = "camelCase")]
    Trial {
        /// The batch size being tuned.
        batch_size: usize,
        /// As in [`SweepEvent::TrialStarted`].
        #[serde(skip_serializing_if = "Option::is_none")]
        series: Option<String>,
        /// The trial that ended.
        trial: Trial,
        /// The batch size's tuning so far.
        tuning: Tuning,
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

/// A batch size of the sweep that has started and not finished: its learning-rate trials
/// (under `lrpolicy=tuned`), one after another, then its run.
struct Racer {
    /// The run of the plan this racer trains (its trials first, when tuned).
    planned: PlannedRun,
    /// The run (or trial) under way; `None` between a finished trial and the set-up of the
    /// next one, which waits for every other run to have drawn its weights.
    run: Option<Run>,
    /// Where it was after its last chunk.
    position: Progress,
    /// Wall time spent in its chunks (training, probe and evaluation; trials included), seconds.
    wall_seconds: f64,
    /// Whether its run has had a chunk: burn draws a run's initial weights at its first step,
    /// from the device's generator, which the next run's set-up seeds again.
    advanced: bool,
    /// Under `lrpolicy=tuned`: the trials so far.
    tuning: Option<Tuning>,
    /// The trial `run` is (index in the grid); `None`: the batch size's run itself.
    trial: Option<usize>,
    /// Epochs of budget before `run`: the finished trials' (each counts its whole budget).
    epochs_before: usize,
    /// Validation loss after the last epoch of `run` (a trial's outcome).
    last_val_loss: Option<f64>,
}

impl Racer {
    /// Fraction of the batch size's epochs done, its trials' budgets included, out of
    /// `lane_epochs` (an epoch's probe and evaluation count as its end).
    fn fraction(&self, lane_epochs: usize) -> f64 {
        let run = self.run.as_ref().map_or(0.0, Run::epochs_done);
        (self.epochs_before as f64 + run) / lane_epochs.max(1) as f64
    }

    /// Whether the batch size has a point to draw yet: a validation check, an epoch's end, or
    /// a finished learning-rate trial.
    fn has_point(&self) -> bool {
        self.epochs_before > 0
            || self.run.as_ref().is_some_and(|r| {
                let summary = r.summary();
                summary.epochs > 0 || !summary.evals.is_empty()
            })
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
    /// The validation images (empty when the sweep holds none out).
    validation: Split,
    test: Split,
    /// No test images: what a learning-rate trial is evaluated on besides validation.
    no_test: Split,
    device: Device,
    /// The runs to train, in order ([`Settings::plan`]).
    plan: Vec<PlannedRun>,
    /// Index in `plan` of the next run to start.
    next_run: usize,
    /// The runs started and not finished, in the order of `plan`.
    racers: Vec<Racer>,
    /// Index in `racers` from which ties for the next turn are broken (the run after the last
    /// one advanced).
    turn: usize,
    /// Wall seconds per training sample (training, probe and evaluation of an epoch, per image
    /// of the training set), of the runs that finished: the pace assumed for runs not started.
    finished_pace: Vec<f64>,
    /// Most images per forward/backward pass (see [`crate::backend::micro_batch`]).
    micro_batch: usize,
    /// Checkpoints of runs not started yet, which go on from them ([`Sweep::with_checkpoints`]).
    checkpoints: Vec<RunCheckpoint>,
}

impl Sweep {
    /// A sweep of `settings` on `data`, training on `device` (plain; autodiff is added per run).
    /// Uses the first `train_size` training and `test_size` test images, and the last
    /// `val_size` of the training file for validation ([`Mnist::validation`]).
    ///
    /// # Errors
    /// [`SettingsError`] when the settings are invalid (see [`Settings::validate`]) or ask for
    /// more images than `data` holds (`train`, `test`, or `val` when the training file's last
    /// images are not loaded).
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
        let validation = data.validation(settings.val_size).map_err(|e| SettingsError {
            parameter: "val",
            message: e.to_string(),
        })?;
        Ok(Self {
            train: data.train.take(settings.train_size),
            validation,
            train_on_device: None,
            test: data.test.take(settings.test_size),
            no_test: Split::empty(),
            plan: settings.plan(),
            settings,
            device,
            next_run: 0,
            racers: Vec::new(),
            turn: 0,
            finished_pace: Vec::new(),
            micro_batch: MAX_MICRO_BATCH,
            checkpoints: Vec::new(),
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

    /// Trains only the runs of the plan ([`Settings::plan`]) at `indices` (a shard of the sweep,
    /// e.g. every n-th run for an array job on a cluster), in the plan's order. Each run trains
    /// exactly as in the whole sweep: its weights and orders come from its own seed.
    ///
    /// # Panics
    /// If an index is outside the plan.
    pub fn with_runs(mut self, indices: &[usize]) -> Self {
        let plan = std::mem::take(&mut self.plan);
        let mut indices = indices.to_vec();
        indices.sort_unstable();
        indices.dedup();
        self.plan = indices
            .into_iter()
            .map(|i| plan.get(i).cloned().expect("a run of the plan"))
            .collect();
        self
    }

    /// Runs of the plan cut short after a finished epoch go on from their checkpoints
    /// ([`crate::train::Run::checkpoint`]) instead of from their first epoch, each when its turn
    /// to start comes. Each checkpoint is tried on its run here (its model and optimiser state
    /// read); those that cannot be used are left out and returned, with the reason, and their
    /// runs start from their first epoch. Call after [`Sweep::with_micro_batch`] and
    /// [`Sweep::with_runs`].
    pub fn with_checkpoints(
        mut self,
        checkpoints: Vec<RunCheckpoint>,
    ) -> (Self, Vec<(RunCheckpoint, CheckpointError)>) {
        let mut refused = Vec::new();
        for checkpoint in checkpoints {
            let tried = self
                .plan
                .iter()
                .find(|p| checkpoint.is_of(p.batch_size, p.series.as_deref()))
                .ok_or_else(|| CheckpointError("its run is not one this sweep trains".into()))
                .and_then(|planned| self.resumed_config(planned, &checkpoint))
                .and_then(|config| {
                    Run::resume(config, &self.device, &checkpoint, self.train.len()).map(|_| ())
                })
                .and_then(|()| {
                    let again = self
                        .checkpoints
                        .iter()
                        .any(|c| c.is_of(checkpoint.batch_size, checkpoint.series.as_deref()));
                    if again {
                        Err(CheckpointError("its run has another checkpoint here".into()))
                    } else {
                        Ok(())
                    }
                });
            match tried {
                Ok(()) => self.checkpoints.push(checkpoint),
                Err(error) => refused.push((checkpoint, error)),
            }
        }
        (self, refused)
    }

    /// The checkpoints this sweep goes on from (those [`Sweep::with_checkpoints`] kept), of
    /// runs not yet started.
    pub fn resuming(&self) -> &[RunCheckpoint] {
        &self.checkpoints
    }

    /// The config of `planned` going on from `checkpoint`: tuned, at the rate its trials chose.
    fn resumed_config(
        &self,
        planned: &PlannedRun,
        checkpoint: &RunCheckpoint,
    ) -> Result<RunConfig, CheckpointError> {
        let mut config = RunConfig::planned(&self.settings, planned);
        if planned.lr_policy == LrPolicy::Tuned {
            let chosen = checkpoint
                .summary
                .tuning
                .as_ref()
                .and_then(|t| t.chosen)
                .ok_or_else(|| CheckpointError("it has no tuned learning rate".into()))?;
            config.schedule = LrSchedule::new(LrPolicy::Fixed, chosen, 1, planned.batch_size, 0, 1);
        }
        Ok(config)
    }

    /// The checkpoint of the run of batch size `batch_size` and line label `series`, between
    /// two of its epochs (e.g. right after [`SweepEvent::Epoch`] for it); `None` when that run is
    /// not under way (not started, finished, or in its learning-rate trials).
    ///
    /// # Errors
    /// [`CheckpointError`] when the run is in the middle of an epoch, or its state cannot be
    /// written (see [`crate::train::Run::checkpoint`]).
    pub async fn checkpoint(
        &self,
        batch_size: usize,
        series: Option<&str>,
    ) -> Result<Option<RunCheckpoint>, CheckpointError> {
        let Some(racer) = self.racers.iter().find(|r| {
            r.trial.is_none()
                && r.planned.batch_size == batch_size
                && r.planned.series.as_deref() == series
        }) else {
            return Ok(None);
        };
        let Some(run) = racer.run.as_ref().filter(|r| !r.is_finished()) else {
            return Ok(None);
        };
        let mut checkpoint = run.checkpoint().await?;
        checkpoint.wall_seconds = racer.wall_seconds;
        checkpoint.epochs_before = racer.epochs_before;
        Ok(Some(checkpoint))
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

    /// How many runs may be under way at once: side by side, every batch size of every arm
    /// (the seeds after one another); else one.
    fn lanes(&self) -> usize {
        if self.settings.race {
            self.settings.batch_sizes.len() * (1 + usize::from(self.settings.baseline.is_some()))
        } else {
            1
        }
    }

    /// Epochs a run trains in all: its own, plus its trials' budgets when tuned.
    fn lane_epochs(&self, planned: &PlannedRun) -> usize {
        let trials = if planned.lr_policy == LrPolicy::Tuned {
            self.settings.lr_grid().count * self.settings.lr_trial_epochs
        } else {
            0
        };
        self.settings.epochs + trials
    }

    /// A fresh position at the start of an epoch of `planned`.
    fn start_of(&self, planned: &PlannedRun, epoch: usize, trial: Option<TrialOf>) -> Progress {
        Progress {
            batch_size: planned.batch_size,
            series: planned.series.clone(),
            epoch,
            phase: "train",
            done: 0,
            total: self.train.len(),
            running_loss: None,
            trial,
            check: None,
            next: None,
        }
    }

    /// Sets up the next run of racer `index` (run `None`): its next learning-rate trial, or
    /// its run (at the rate its trials chose, when tuned). Every trial diverged: the batch size
    /// ends as diverged, untrained, and leaves the sweep.
    fn set_up(&mut self, index: usize) -> SweepEvent {
        let settings = &self.settings;
        let planned = self.racers[index].planned.clone();
        let batch_size = planned.batch_size;
        let mut config = RunConfig::planned(settings, &planned);
        let rates = settings.lr_grid().rates();
        let racer = &self.racers[index];
        let (run, event, trial_of) = match (&racer.tuning, racer.trial) {
            (Some(_), Some(t)) if t < rates.len() => {
                let trial_of = TrialOf {
                    number: t + 1,
                    count: rates.len(),
                    learning_rate: rates[t],
                };
                config.schedule = LrSchedule::new(LrPolicy::Fixed, rates[t], 1, batch_size, 0, 1);
                config.epochs = settings.lr_trial_epochs;
                config.end_at_target = true;
                let run = Run::new(config, &self.device).with_trial(trial_of);
                (
                    run,
                    SweepEvent::TrialStarted {
                        batch_size,
                        series: planned.series.clone(),
                        trial: trial_of,
                    },
                    Some(trial_of),
                )
            }
            (Some(tuning), _) => {
                let mut tuning = tuning.clone();
                let Some((rate, reason)) = choose(&tuning.trials) else {
                    // Every rate of the grid diverged: nothing to train.
                    tuning.reason = Some("every learning rate of the grid diverged".into());
                    // No rate: 0 (NaN would not survive JSON: the export writes it as null).
                    let mut summary = RunSummary::new(
                        batch_size,
                        0.0,
                        settings.optimizer,
                        settings.model,
                        LrPolicy::Tuned,
                        settings.target,
                        config.target_on,
                    );
                    summary.tuning = Some(tuning);
                    summary.seed = Some(planned.seed);
                    summary.series = planned.series.clone();
                    // Its trials diverged in their first epoch or later: said by `tuning`.
                    summary.diverged_epoch = Some(1);
                    summary.end(EndedBy::Diverged);
                    debug_assert_eq!(summary.status, RunStatus::Diverged);
                    self.racers.remove(index);
                    self.next_run_keeps_turn(index);
                    return SweepEvent::Diverged {
                        batch_size,
                        epoch: 1,
                        summary,
                    };
                };
                tuning.chosen = Some(rate);
                tuning.reason = Some(reason);
                config.schedule = LrSchedule::new(LrPolicy::Fixed, rate, 1, batch_size, 0, 1);
                let run = Run::new(config, &self.device).with_tuning(tuning);
                let summary = run.summary().clone();
                (run, SweepEvent::RunStarted { summary }, None)
            }
            (None, _) => {
                let run = Run::new(config, &self.device);
                let summary = run.summary().clone();
                (run, SweepEvent::RunStarted { summary }, None)
            }
        };
        let position = self.start_of(&planned, 1, trial_of);
        let racer = &mut self.racers[index];
        racer.run = Some(run.with_micro_batch(self.micro_batch));
        racer.position = position;
        racer.advanced = false;
        racer.last_val_loss = None;
        if trial_of.is_none() {
            racer.trial = None;
        }
        event
    }

    /// Starts `planned` from `checkpoint` (tried by [`Sweep::with_checkpoints`]).
    fn resume(&mut self, planned: PlannedRun, checkpoint: &RunCheckpoint) -> SweepEvent {
        let config = self
            .resumed_config(&planned, checkpoint)
            .expect("tried by with_checkpoints");
        let run = Run::resume(config, &self.device, checkpoint, self.train.len())
            .expect("tried by with_checkpoints")
            .with_micro_batch(self.micro_batch);
        let summary = run.summary().clone();
        self.racers.push(Racer {
            position: self.start_of(&planned, checkpoint.epochs_done + 1, None),
            planned,
            run: Some(run),
            wall_seconds: checkpoint.wall_seconds,
            advanced: false,
            tuning: None,
            trial: None,
            epochs_before: checkpoint.epochs_before,
            last_val_loss: None,
        });
        SweepEvent::RunResumed {
            summary,
            epochs: checkpoint.epochs_done,
        }
    }

    /// After racer `index` left: the next run in line keeps its turn.
    fn next_run_keeps_turn(&mut self, index: usize) {
        self.turn = index;
    }

    /// Does about `budget` of work on the run whose turn it is (starting runs first, up to
    /// [`Settings::race`]'s number of lanes) and reports what was done. Side by side, the runs
    /// take turns, one chunk each ([`Sweep::next_turn`]'s order); a run's
    /// training time counts only its own chunks. Under `lrpolicy=tuned` each batch size first
    /// trains one trial per rate of the grid, one after another (within its turns), then its run
    /// at the rate chosen.
    ///
    /// # Errors
    /// [`TrainError`] when the device fails; the sweep cannot go on after one.
    pub async fn advance(&mut self, budget: Duration) -> Result<SweepEvent, TrainError> {
        // A run is set up only once every run under way has drawn its weights (see `Racer`).
        if self
            .racers
            .iter()
            .all(|r| r.run.is_none() || r.advanced)
        {
            if let Some(index) = self.racers.iter().position(|r| r.run.is_none()) {
                return Ok(self.set_up(index));
            }
            if self.racers.len() < self.lanes()
                && let Some(planned) = self.plan.get(self.next_run).cloned()
            {
                self.next_run += 1;
                if let Some(at) = self
                    .checkpoints
                    .iter()
                    .position(|c| c.is_of(planned.batch_size, planned.series.as_deref()))
                {
                    let checkpoint = self.checkpoints.remove(at);
                    return Ok(self.resume(planned, &checkpoint));
                }
                let tuned = planned.lr_policy == LrPolicy::Tuned;
                self.racers.push(Racer {
                    position: self.start_of(&planned, 1, None),
                    planned,
                    run: None,
                    wall_seconds: 0.0,
                    advanced: false,
                    tuning: tuned.then(|| Tuning {
                        trial_epochs: self.settings.lr_trial_epochs,
                        trials: Vec::new(),
                        chosen: None,
                        reason: None,
                    }),
                    trial: tuned.then_some(0),
                    epochs_before: 0,
                    last_val_loss: None,
                });
                return Ok(self.set_up(self.racers.len() - 1));
            }
        }
        if self.racers.is_empty() {
            return Ok(SweepEvent::Done);
        }
        let index = self.next_turn();
        let racer = &mut self.racers[index];
        let run = racer.run.as_mut().expect("the run whose turn it is is set up");
        let start = Instant::now();
        // A learning-rate trial is judged on the validation images alone: the test images are
        // not evaluated (they choose nothing).
        let test = if racer.trial.is_some() {
            &self.no_test
        } else {
            &self.test
        };
        let event = match &self.train_on_device {
            Some(train) => run.advance(train, &self.validation, test, budget).await?,
            None => run.advance(&self.train, &self.validation, test, budget).await?,
        };
        racer.wall_seconds += start.elapsed().as_secs_f64();
        racer.advanced = true;
        self.turn = index + 1;
        if racer.trial.is_some() {
            return Ok(self.trial_event(index, event));
        }
        let event = match event {
            RunEvent::Progress(progress) => {
                // Where it is; a check just finished is reported once, with this event.
                racer.position = Progress {
                    check: None,
                    ..progress.clone()
                };
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
                let planned = self.racers[index].planned.clone();
                self.racers[index].position = self.start_of(&planned, record.epoch + 1, None);
                SweepEvent::Epoch { record, summary }
            }
            RunEvent::Diverged(summary) => SweepEvent::Diverged {
                batch_size: summary.batch_size,
                epoch: summary.diverged_epoch.unwrap_or(1),
                summary,
            },
        };
        if self.racers[index].run.as_ref().is_some_and(Run::is_finished) {
            let racer = self.racers.remove(index);
            let epochs = racer.epochs_before
                + racer.run.as_ref().map_or(0, |r| r.summary().epochs).max(1);
            self.finished_pace
                .push(racer.wall_seconds / (epochs * self.train.len().max(1)) as f64);
            self.next_run_keeps_turn(index);
        }
        Ok(event)
    }

    /// What a trial's chunk achieved, as the sweep reports it: its progress (an epoch that is
    /// not its last is progress too: trials record no epoch), or, when it ended, its outcome
    /// ([`SweepEvent::Trial`]); the racer's next run is then set up at the next call.
    fn trial_event(&mut self, index: usize, event: RunEvent) -> SweepEvent {
        let racer = &mut self.racers[index];
        let trial_of = racer.position.trial;
        match event {
            RunEvent::Progress(progress) => {
                racer.position = Progress {
                    check: None,
                    ..progress
                }
            }
            RunEvent::Epoch(record, _) => {
                racer.last_val_loss = record.val_loss;
                racer.position = Progress {
                    epoch: record.epoch + 1,
                    phase: "train",
                    done: 0,
                    total: self.train.len(),
                    running_loss: None,
                    ..racer.position.clone()
                };
            }
            RunEvent::Diverged(_) => {}
        }
        let run = racer.run.as_ref().expect("a trial was advanced");
        if !run.is_finished() {
            let progress = racer.position.clone();
            let running = self.racers.iter().map(|r| r.position.clone()).collect();
            return SweepEvent::Progress {
                progress: SweepProgress {
                    progress,
                    running,
                    eta_seconds: self.eta_seconds(),
                },
            };
        }
        let summary = run.summary();
        let outcome = if summary.status == RunStatus::Diverged {
            TrialOutcome::Diverged
        } else if summary.target_epoch.is_some() {
            TrialOutcome::Reached
        } else {
            TrialOutcome::NotReached
        };
        let diverged = outcome == TrialOutcome::Diverged;
        let trial = Trial {
            learning_rate: trial_of.map_or(f64::NAN, |t| t.learning_rate),
            outcome,
            target_steps: summary.target_steps,
            val_loss: if diverged { None } else { racer.last_val_loss },
            val_accuracy: if diverged { None } else { summary.final_val_accuracy },
            epochs: summary.epochs,
            train_seconds: summary.train_seconds,
        };
        let tuning = racer.tuning.as_mut().expect("a trial belongs to a tuning");
        tuning.trials.push(trial.clone());
        let tuning = tuning.clone();
        racer.epochs_before += self.settings.lr_trial_epochs;
        racer.trial = racer.trial.map(|t| t + 1);
        racer.run = None;
        racer.position = Progress {
            epoch: 1,
            phase: "train",
            done: 0,
            running_loss: None,
            ..racer.position.clone()
        };
        SweepEvent::Trial {
            batch_size: racer.planned.batch_size,
            series: racer.planned.series.clone(),
            trial,
            tuning,
        }
    }

    /// The run to advance next: while some batch sizes have no point to draw yet, one of them
    /// (so that every batch size shows its first point as early as the work allows: a full
    /// batch's first point is its first epoch's end, a small batch's an early check); then the
    /// one least far through its epochs (so that every batch size's first epoch ends at about
    /// the same time, and their curves grow together). Ties go round in turn from the run
    /// after the last one advanced. The order changes no record (each run has its own weights,
    /// optimiser and generators) and no run's time (each counts only its own chunks).
    fn next_turn(&self) -> usize {
        let n = self.racers.len();
        // A run just set up draws its weights first (see `Racer::advanced`).
        if let Some(new) = self
            .racers
            .iter()
            .position(|r| r.run.is_some() && !r.advanced)
        {
            return new;
        }
        let fraction = |i: usize| {
            let racer = &self.racers[i];
            racer.fraction(self.lane_epochs(&racer.planned))
        };
        let waiting = self
            .racers
            .iter()
            .any(|r| r.run.is_some() && !r.has_point());
        (0..n)
            .map(|k| (self.turn + k) % n)
            .filter(|&i| self.racers[i].run.is_some())
            .filter(|&i| !waiting || !self.racers[i].has_point())
            .min_by(|&a, &b| fraction(a).total_cmp(&fraction(b)))
            .unwrap_or(0)
    }

    /// The sweep's estimated wall seconds left: each run under way at its own measured pace,
    /// the runs not started at the mean pace per sample of the others (`None` before any run
    /// has measured one).
    fn eta_seconds(&self) -> Option<f64> {
        let mut left = 0.0;
        let mut paces = self.finished_pace.clone();
        let mut unmeasured_epochs = 0.0;
        for racer in &self.racers {
            let epochs = self.lane_epochs(&racer.planned);
            let fraction = racer.fraction(epochs);
            if fraction > 0.0 && racer.wall_seconds > 0.0 {
                left += racer.wall_seconds * (1.0 - fraction) / fraction;
                paces.push(racer.wall_seconds / (fraction * (epochs * self.train.len()) as f64));
            } else {
                unmeasured_epochs += epochs as f64;
            }
        }
        unmeasured_epochs += self.plan[self.next_run..]
            .iter()
            .map(|p| self.lane_epochs(p) as f64)
            .sum::<f64>();
        if paces.is_empty() {
            return None;
        }
        let pace = paces.iter().sum::<f64>() / paces.len() as f64;
        Some(left + unmeasured_epochs * self.train.len() as f64 * pace)
    }
}
