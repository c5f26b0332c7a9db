//! A sweep's runs repeated over seeds (`seeds=k`), summarised per batch size and arm: the mean,
//! standard deviation, minimum and maximum of each measure over the seeds, how many seeds
//! reached the target or diverged, and the run "of the means" that the findings are stated on.
//!
//! Owns the aggregation over seeds; must not train or state findings (it reads summaries).

use serde::{Deserialize, Serialize};

use crate::schedule::LrPolicy;
use crate::summary::{RunStatus, RunSummary};

/// A measure over seeds (`camelCase` in JavaScript): how many seeds have it, their mean, sample
/// standard deviation (n − 1 in the denominator; 0 for one seed), minimum and maximum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Seeds with a value.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation.
    pub sd: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (non-finite ones left out); `None` when none is left.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(Self {
            n,
            mean,
            sd,
            min,
            max,
        })
    }

    /// Whether two spreads overlap (one's min–max range meets the other's): their difference
    /// cannot be told within the seeds' spread.
    pub fn overlaps(&self, other: &Spread) -> bool {
        self.min <= other.max && other.min <= self.max
    }
}

/// One batch size of one arm over its seeds (`camelCase` in JavaScript). Only runs that ended
/// (`done` or `diverged`) count; of a seed run twice (a restart), the later run counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedSummary {
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// The arm's learning-rate policy.
    pub lr_policy: LrPolicy,
    /// The seeds of the runs counted, in the order they started.
    pub seeds: Vec<u64>,
    /// Seeds whose run reached the target.
    pub reached: usize,
    /// Seeds whose run diverged.
    pub diverged: usize,
    /// The learning rate trained at (differs between seeds when tuned).
    pub learning_rate: Option<Spread>,
    /// Steps to the target, over the seeds that reached it.
    pub target_steps: Option<Spread>,
    /// Training seconds to the target, over the seeds that reached it.
    pub target_seconds: Option<Spread>,
    /// Mean throughput (samples/s), over the seeds that trained.
    pub samples_per_second: Option<Spread>,
    /// Final test accuracy (fraction), over the seeds that did not diverge.
    pub final_test_accuracy: Option<Spread>,
    /// Best validation accuracy (fraction), over the seeds that did not diverge.
    pub best_val_accuracy: Option<Spread>,
    /// Final validation accuracy (fraction), over the seeds that did not diverge.
    pub final_val_accuracy: Option<Spread>,
    /// The gradient noise scale B_simple (samples), over the seeds that measured one.
    pub noise_scale: Option<Spread>,
}

/// The runs that count, grouped per arm and batch size: ended runs only; of one (arm, batch
/// size, seed) the later run. Arms in the order their first run appears, batch sizes ascending.
pub fn groups(runs: &[RunSummary]) -> Vec<(LrPolicy, usize, Vec<&RunSummary>)> {
    let mut latest: Vec<&RunSummary> = Vec::new();
    for run in runs
        .iter()
        .filter(|r| matches!(r.status, RunStatus::Done | RunStatus::Diverged))
    {
        let same = |r: &&RunSummary| {
            r.lr_policy == run.lr_policy && r.batch_size == run.batch_size && r.seed == run.seed
        };
        match latest.iter().position(same) {
            Some(i) => latest[i] = run,
            None => latest.push(run),
        }
    }
    let mut arms: Vec<LrPolicy> = Vec::new();
    for run in &latest {
        if !arms.contains(&run.lr_policy) {
            arms.push(run.lr_policy);
        }
    }
    let mut out = Vec::new();
    for arm in arms {
        let mut sizes: Vec<usize> = latest
            .iter()
            .filter(|r| r.lr_policy == arm)
            .map(|r| r.batch_size)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        for b in sizes {
            let runs: Vec<&RunSummary> = latest
                .iter()
                .copied()
                .filter(|r| r.lr_policy == arm && r.batch_size == b)
                .collect();
            out.push((arm, b, runs));
        }
    }
    out
}

/// Every batch size of every arm over its seeds ([`SeedSummary`]), in the order of [`groups`].
pub fn aggregate(runs: &[RunSummary]) -> Vec<SeedSummary> {
    groups(runs)
        .into_iter()
        .map(|(lr_policy, batch_size, runs)| {
            let kept = || runs.iter().filter(|r| r.status != RunStatus::Diverged);
            SeedSummary {
                batch_size,
                lr_policy,
                seeds: runs.iter().filter_map(|r| r.seed).collect(),
                reached: runs.iter().filter(|r| r.target_steps.is_some()).count(),
                diverged: runs.iter().filter(|r| r.status == RunStatus::Diverged).count(),
                learning_rate: Spread::of(
                    runs.iter().map(|r| r.learning_rate).filter(|&lr| lr > 0.0),
                ),
                target_steps: Spread::of(runs.iter().filter_map(|r| r.target_steps.map(|s| s as f64))),
                target_seconds: Spread::of(runs.iter().filter_map(|r| r.target_seconds)),
                samples_per_second: Spread::of(
                    runs.iter().map(|r| r.samples_per_second).filter(|&s| s > 0.0),
                ),
                final_test_accuracy: Spread::of(kept().filter_map(|r| r.final_test_accuracy)),
                best_val_accuracy: Spread::of(kept().filter_map(|r| r.best_val_accuracy)),
                final_val_accuracy: Spread::of(kept().filter_map(|r| r.final_val_accuracy)),
                noise_scale: Spread::of(runs.iter().filter_map(|r| r.noise_scale)),
            }
        })
        .collect()
}

/// The run "of the means" of one batch size over its seeds `runs` (all of one arm and batch
/// size, at least one): it reached the target only if every seed did (then at the mean steps,
/// samples, seconds and the latest epoch); it diverged if most seeds did (in the earliest
/// epoch any did); its throughput, accuracies and noise scale are the means over the seeds
/// that have them (accuracies over those that did not diverge); its learning rate the
/// geometric mean of the seeds'.
///
/// # Panics
/// If `runs` is empty.
pub fn mean_run(runs: &[&RunSummary]) -> RunSummary {
    let first = runs.first().expect("a batch size has at least one run");
    let n = runs.len();
    let mean = |values: Vec<f64>| Spread::of(values).map(|s| s.mean);
    let diverged: Vec<&&RunSummary> = runs.iter().filter(|r| r.status == RunStatus::Diverged).collect();
    let kept: Vec<&&RunSummary> = runs.iter().filter(|r| r.status != RunStatus::Diverged).collect();
    let all_reached = runs.iter().all(|r| r.target_steps.is_some());
    let mut out = (*first).clone();
    out.seed = None;
    out.series = None;
    out.tuning = None;
    out.evals = Vec::new();
    out.status = if 2 * diverged.len() > n {
        RunStatus::Diverged
    } else {
        RunStatus::Done
    };
    out.diverged_epoch = diverged.iter().filter_map(|r| r.diverged_epoch).min();
    if out.status != RunStatus::Diverged {
        out.diverged_epoch = None;
    }
    out.diverged_loss = None;
    let rates: Vec<f64> = runs.iter().map(|r| r.learning_rate).filter(|&lr| lr > 0.0).collect();
    out.learning_rate = if rates.is_empty() {
        0.0
    } else {
        (rates.iter().map(|r| r.ln()).sum::<f64>() / rates.len() as f64).exp()
    };
    out.epochs = runs.iter().map(|r| r.epochs).max().unwrap_or(0);
    out.steps = mean(runs.iter().map(|r| r.steps as f64).collect()).map_or(0, |m| m.round() as usize);
    out.samples = mean(runs.iter().map(|r| r.samples as f64).collect()).map_or(0, |m| m.round() as usize);
    out.train_seconds = mean(runs.iter().map(|r| r.train_seconds).collect()).unwrap_or(0.0);
    out.samples_per_second = mean(
        runs.iter().map(|r| r.samples_per_second).filter(|&s| s > 0.0).collect(),
    )
    .unwrap_or(0.0);
    if all_reached {
        out.target_epoch = runs.iter().filter_map(|r| r.target_epoch).max();
        out.target_steps = mean(runs.iter().filter_map(|r| r.target_steps.map(|s| s as f64)).collect())
            .map(|m| m.round() as usize);
        out.target_samples = mean(runs.iter().filter_map(|r| r.target_samples.map(|s| s as f64)).collect())
            .map(|m| m.round() as usize);
        out.target_seconds = mean(runs.iter().filter_map(|r| r.target_seconds).collect());
    } else {
        out.target_epoch = None;
        out.target_steps = None;
        out.target_samples = None;
        out.target_seconds = None;
    }
    let of_kept = |f: fn(&RunSummary) -> Option<f64>| mean(kept.iter().filter_map(|r| f(r)).collect());
    out.best_test_accuracy = of_kept(|r| r.best_test_accuracy);
    out.final_test_accuracy = of_kept(|r| r.final_test_accuracy);
    out.best_val_accuracy = of_kept(|r| r.best_val_accuracy);
    out.final_val_accuracy = of_kept(|r| r.final_val_accuracy);
    out.noise_scale = mean(runs.iter().filter_map(|r| r.noise_scale).collect());
    out
}
