//! The learning rate tuned per batch size (`lrpolicy=tuned`): one short trial per learning rate
//! of a log-spaced grid, each with the same seed and the same budget, judged on the validation
//! images; the chosen rate is the one that reached the target in the fewest steps (none
//! reached: the lowest validation loss at the end of its trial). Diverged trials are infeasible
//! and kept as such. This is the protocol of Shallue et al. 2019 ("Measuring the effects of
//! data parallelism on neural network training", JMLR 20(112)), reduced to one metaparameter:
//! they tuned per batch size and measured steps to a validation target.
//!
//! Owns the grid, a trial's outcome and the choice; must not train (the sweep runs the trials:
//! [`crate::experiment`]).

use serde::{Deserialize, Serialize};

use crate::optim::Optimizer;

/// Most learning rates a grid may hold (each is one trial per batch size).
pub const MAX_GRID: usize = 15;

/// A log-spaced grid of learning rates (`lrgrid=min,max,count`; `camelCase` in JavaScript).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LrGrid {
    /// The smallest learning rate tried.
    pub min: f64,
    /// The largest learning rate tried.
    pub max: f64,
    /// How many, spaced evenly on a log scale from `min` to `max` (1: `min` alone).
    pub count: usize,
}

impl LrGrid {
    /// The default grid of an optimiser: 7 rates over 3 decades around the rates it is used
    /// with — SGD and Adagrad 0.001 to 1; momentum and Nesterov 0.0001 to 0.1; RMSProp and Adam
    /// 0.00001 to 0.01; Rprop's initial step 0.0001 to 0.1.
    pub fn default_for(optimizer: Optimizer) -> Self {
        let (min, max) = match optimizer {
            Optimizer::Sgd | Optimizer::Adagrad => (1e-3, 1.0),
            Optimizer::Momentum | Optimizer::Nesterov | Optimizer::Rprop => (1e-4, 1e-1),
            Optimizer::Rmsprop | Optimizer::Adam => (1e-5, 1e-2),
        };
        Self { min, max, count: 7 }
    }

    /// The grid's learning rates, from `min` to `max`: `min × (max / min)^(i / (count − 1))`,
    /// rounded to 12 significant digits (so that 0.001 to 1 over 4 gives 0.01 and 0.1, not
    /// 0.009999999999999998).
    pub fn rates(&self) -> Vec<f64> {
        if self.count <= 1 {
            return vec![self.min];
        }
        let ratio = self.max / self.min;
        let round = |x: f64| format!("{x:.11e}").parse().unwrap_or(x);
        (0..self.count)
            .map(|i| round(self.min * ratio.powf(i as f64 / (self.count - 1) as f64)))
            .collect()
    }
}

/// How a trial ended (`"reached"`, `"notReached"`, `"diverged"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TrialOutcome {
    /// Its validation accuracy reached the target within the trial's budget.
    Reached,
    /// It trained its whole budget without reaching the target.
    NotReached,
    /// Its training loss passed the divergence bound: infeasible.
    Diverged,
}

/// One trial: a learning rate at one batch size, its budget trained (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trial {
    /// The learning rate tried.
    pub learning_rate: f64,
    /// How it ended.
    pub outcome: TrialOutcome,
    /// Steps taken when the validation accuracy first reached the target; `null` unless reached.
    pub target_steps: Option<usize>,
    /// Validation loss (nats) after its last epoch; `null` when it diverged first.
    pub val_loss: Option<f64>,
    /// Validation accuracy after its last epoch; `null` when it diverged first.
    pub val_accuracy: Option<f64>,
    /// Epochs it trained (it ends with the epoch in which it reached the target).
    pub epochs: usize,
    /// Its training seconds.
    pub train_seconds: f64,
}

/// The tuning of one batch size (`camelCase` in JavaScript): its trials, in the grid's order,
/// and the rate chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tuning {
    /// Epochs each trial may train (a trial ends with the epoch in which it reached the target).
    pub trial_epochs: usize,
    /// Every trial so far, diverged ones included.
    pub trials: Vec<Trial>,
    /// The chosen learning rate; `null` while trials remain or when every trial diverged.
    pub chosen: Option<f64>,
    /// Why it was chosen, in words (e.g. "reached the target in the fewest steps, 312").
    pub reason: Option<String>,
}

/// The rate to train at from finished `trials`, and why: the trial that reached the target in
/// the fewest steps (ties: the lower validation loss, then the smaller rate); none reached, the
/// lowest validation loss at the end of its trial; every trial diverged, `None`.
pub fn choose(trials: &[Trial]) -> Option<(f64, String)> {
    let loss = |t: &Trial| t.val_loss.unwrap_or(f64::INFINITY);
    let reached = trials
        .iter()
        .filter(|t| t.outcome == TrialOutcome::Reached)
        .min_by(|a, b| {
            a.target_steps
                .cmp(&b.target_steps)
                .then(loss(a).total_cmp(&loss(b)))
                .then(a.learning_rate.total_cmp(&b.learning_rate))
        });
    if let Some(t) = reached {
        return Some((
            t.learning_rate,
            format!(
                "reached the target in the fewest steps ({})",
                t.target_steps.unwrap_or_default()
            ),
        ));
    }
    trials
        .iter()
        .filter(|t| t.outcome == TrialOutcome::NotReached && t.val_loss.is_some_and(f64::is_finite))
        .min_by(|a, b| loss(a).total_cmp(&loss(b)).then(a.learning_rate.total_cmp(&b.learning_rate)))
        .map(|t| {
            (
                t.learning_rate,
                format!(
                    "had the lowest validation loss ({:.4}); no trial reached the target",
                    loss(t)
                ),
            )
        })
}
