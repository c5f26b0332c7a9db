//! The learning rate of each step, from the policy that ties it to the batch size.
//!
//! Owns the learning-rate policy ([`LrPolicy`]) and its arithmetic; must not know about runs
//! or settings.

use serde::{Deserialize, Serialize};

/// How the learning rate changes with the batch size (`lrpolicy=` in the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrPolicy {
    /// The same learning rate for every batch size (the source's naive set-up).
    #[default]
    Fixed,
    /// `lr × B / B_ref`, reached after a linear warm-up (Goyal et al. 2017).
    Linear,
    /// `lr × √(B / B_ref)` (Krizhevsky 2014; Hoffer et al. 2017).
    Sqrt,
    /// Tuned per batch size: the rate of a grid whose trial did best on the validation images
    /// ([`crate::tuning`]; Shallue et al. 2019). The run then trains at that rate, fixed.
    Tuned,
}

/// The learning rates of one run at one batch size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrSchedule {
    /// The learning rate given (the one meant for the reference batch size).
    pub base: f64,
    /// The learning rate this batch size trains at once warmed up (its peak).
    pub peak: f64,
    /// Steps of linear warm-up from `base` to `peak` (0: none).
    pub warmup_steps: usize,
}

impl LrSchedule {
    /// The schedule of a run: `policy` maps the learning rate `base`, meant for batch size
    /// `reference_batch`, to `batch_size`:
    ///
    /// - fixed, and tuned (`base` is then the rate chosen for this batch size): `base`;
    /// - linear: `base × B / B_ref` (Goyal et al. 2017, "Accurate, large minibatch SGD"), reached
    ///   by a linear warm-up over `warmup_epochs × steps_per_epoch` steps when it is above `base`
    ///   (their "gradual warm-up"; they warm up for 5 epochs);
    /// - square root: `base × √(B / B_ref)` (Krizhevsky 2014; Hoffer et al. 2017), no warm-up.
    pub fn new(
        policy: LrPolicy,
        base: f64,
        reference_batch: usize,
        batch_size: usize,
        warmup_epochs: usize,
        steps_per_epoch: usize,
    ) -> Self {
        let ratio = batch_size as f64 / reference_batch as f64;
        let (peak, warmup_steps) = match policy {
            LrPolicy::Fixed | LrPolicy::Tuned => (base, 0),
            LrPolicy::Linear => {
                let peak = base * ratio;
                let warmup = if peak > base {
                    warmup_epochs * steps_per_epoch
                } else {
                    0
                };
                (peak, warmup)
            }
            LrPolicy::Sqrt => (base * ratio.sqrt(), 0),
        };
        Self {
            base,
            peak,
            warmup_steps,
        }
    }

    /// The learning rate of step `step` (counted from 0): during warm-up
    /// `base + (peak − base) × step / warmup_steps`, then `peak`.
    pub fn at(&self, step: usize) -> f64 {
        if step >= self.warmup_steps {
            self.peak
        } else {
            self.base + (self.peak - self.base) * step as f64 / self.warmup_steps as f64
        }
    }
}
