//! The six findings of the source article (`experiment.md`), each stated from a sweep's measured
//! run summaries — or said not to show in this sweep.
//!
//! Owns the findings' rules and their sentences; must not train or read anything but summaries.

use serde::{Deserialize, Serialize};

use crate::schedule::LrPolicy;
use crate::seeds::{groups, mean_run};
use crate::summary::{RunStatus, RunSummary};

/// One finding (`camelCase` in JavaScript).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// 1 to 6, in the article's order.
    pub number: u8,
    /// The finding in general terms.
    pub title: String,
    /// `true`: this sweep shows it; `false`: it does not; `None` (`null`): it cannot tell.
    pub shown: Option<bool>,
    /// Sentences with the measured numbers.
    pub text: String,
    /// With several seeds: the finding's verdict for each seed alone, in the order of the
    /// seeds (`shown` is then `true` or `false` only when every seed agrees, else `null`:
    /// cannot tell within the seeds' spread); empty with one seed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<Option<bool>>,
}

/// The findings of one arm of a sweep (`camelCase` in JavaScript): its learning-rate policy,
/// the seeds its runs trained with, and the six findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmFindings {
    /// The arm's learning-rate policy (`"fixed"`: the source's naive set-up; `"tuned"`: fair).
    pub lr_policy: LrPolicy,
    /// The seeds of its runs, ascending (empty for runs saved before seeds were recorded).
    pub seeds: Vec<u64>,
    /// The six findings: with one seed as [`findings`] states them; with several, stated on the
    /// means over the seeds ([`crate::seeds::mean_run`]), each with every seed's verdict.
    pub findings: Vec<Finding>,
}

/// The findings' general statements, in order.
pub const TITLES: [&str; 6] = [
    "Too small a batch does not converge within the epoch budget.",
    "The larger the batch, the faster the data is processed.",
    "The larger the batch, the more epochs it needs to reach the target.",
    "One batch size reaches the target in the least time.",
    "Runs end in different minima: one batch size ends with the best accuracy.",
    "Past some size, a larger batch barely changes the descent direction.",
];

/// `1234567` → `"1,234,567"`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A target such as 0.98 as `"98 %"` (two decimals when not a whole percentage).
fn percent(fraction: f64) -> String {
    let p = 100.0 * fraction;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0} %")
    } else {
        format!("{p:.2} %")
    }
}

/// An accuracy, always with two decimals: `"97.14 %"`.
fn accuracy(fraction: f64) -> String {
    format!("{:.2} %", 100.0 * fraction)
}

fn seconds(s: f64) -> String {
    if s < 100.0 {
        format!("{s:.1} s")
    } else if s < 6000.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

fn batch(b: usize) -> String {
    format!("batch size {}", thousands(b))
}

/// How a run that did not reach the target ended, e.g. "diverged in epoch 2" or "did not reach
/// it in 5 epochs (best 96.10 %)".
fn not_reached(run: &RunSummary) -> String {
    match (run.status, run.diverged_epoch) {
        (RunStatus::Diverged, Some(epoch)) => format!("diverged in epoch {epoch}"),
        _ => {
            let best = run
                .best_test_accuracy
                .map(|a| format!(" (best {})", accuracy(a)))
                .unwrap_or_default();
            let epochs = run.epochs;
            format!(
                "did not reach it in {epochs} epoch{}{best}",
                if epochs == 1 { "" } else { "s" }
            )
        }
    }
}

fn finding(number: u8, shown: Option<bool>, text: String) -> Finding {
    Finding {
        number,
        title: TITLES[number as usize - 1].to_string(),
        shown,
        text,
        seeds: Vec::new(),
    }
}

/// The findings per arm of a sweep's runs (a `baseline` arm beside `lrpolicy`'s, or one arm),
/// in the order the arms' first runs appear. Within an arm, with one seed: [`findings`]; with
/// several: [`findings`] of each seed's runs alone gives each seed's verdict, and the finding
/// holds (`shown: true`) or does not (`false`) when every seed agrees, else it cannot be told
/// within the seeds' spread (`null`); its text is [`findings`] of the runs of the means
/// ([`mean_run`]: a batch size reaches the target only when every seed did), followed by the
/// seeds' verdicts.
pub fn findings_by_arm(runs: &[RunSummary], test_size: usize) -> Vec<ArmFindings> {
    let groups = groups(runs);
    let mut arms: Vec<LrPolicy> = Vec::new();
    for (arm, ..) in &groups {
        if !arms.contains(arm) {
            arms.push(*arm);
        }
    }
    arms.into_iter()
        .map(|arm| {
            let of_arm: Vec<&(LrPolicy, usize, Vec<&RunSummary>)> =
                groups.iter().filter(|g| g.0 == arm).collect();
            let mut seeds: Vec<u64> = of_arm
                .iter()
                .flat_map(|g| g.2.iter().filter_map(|r| r.seed))
                .collect();
            seeds.sort_unstable();
            seeds.dedup();
            let runs: Vec<RunSummary> = of_arm
                .iter()
                .flat_map(|g| g.2.iter().map(|r| (*r).clone()))
                .collect();
            if seeds.len() < 2 {
                return ArmFindings {
                    lr_policy: arm,
                    seeds,
                    findings: findings(&runs, test_size),
                };
            }
            let per_seed: Vec<Vec<Finding>> = seeds
                .iter()
                .map(|&seed| {
                    let of_seed: Vec<RunSummary> =
                        runs.iter().filter(|r| r.seed == Some(seed)).cloned().collect();
                    findings(&of_seed, test_size)
                })
                .collect();
            let means: Vec<RunSummary> = of_arm.iter().map(|g| mean_run(&g.2)).collect();
            let findings = findings(&means, test_size)
                .into_iter()
                .enumerate()
                .map(|(i, mut f)| {
                    let verdicts: Vec<Option<bool>> = per_seed.iter().map(|fs| fs[i].shown).collect();
                    let on_means = f.shown;
                    f.shown = agreed(&verdicts);
                    // The seeds agree, but the means (a target reached only when every seed
                    // reached it) say otherwise: the sweep cannot tell.
                    let mut also = String::new();
                    if f.shown.is_some() && on_means != f.shown {
                        f.shown = None;
                        also = " On the means over the seeds it does not read the same: cannot tell.".into();
                    }
                    f.text = format!(
                        "Means over {} seeds (a target counts as reached when every seed reached it): {} {}{also}",
                        seeds.len(),
                        f.text,
                        seeds_sentence(&seeds, &verdicts)
                    );
                    f.seeds = verdicts;
                    f
                })
                .collect();
            ArmFindings {
                lr_policy: arm,
                seeds,
                findings,
            }
        })
        .collect()
}

/// `Some(v)` when every seed's verdict is `Some(v)`; else `None` (the seeds disagree, or one
/// cannot tell).
pub fn agreed(verdicts: &[Option<bool>]) -> Option<bool> {
    match verdicts.first() {
        Some(&Some(v)) if verdicts.iter().all(|&x| x == Some(v)) => Some(v),
        _ => None,
    }
}

/// The seeds' verdicts in a sentence: "It holds for every seed (42, 43 and 44).", "It holds for
/// no seed (…).", "No seed can tell (…).", or, when they differ, "Seed by seed, it holds for 42
/// and 43; it does not hold for 44: cannot tell within the seeds' spread."
fn seeds_sentence(seeds: &[u64], verdicts: &[Option<bool>]) -> String {
    let join = |of: Vec<String>| match of.len() {
        0 => String::new(),
        1 => of[0].clone(),
        n => format!("{} and {}", of[..n - 1].join(", "), of[n - 1]),
    };
    let all = join(seeds.iter().map(u64::to_string).collect());
    if verdicts.iter().all(Option::is_none) {
        return format!("No seed can tell ({all}).");
    }
    match agreed(verdicts) {
        Some(true) => return format!("It holds for every seed ({all})."),
        Some(false) => return format!("It holds for no seed ({all})."),
        None => {}
    }
    let parts: Vec<String> = [
        (Some(true), "it holds for"),
        (Some(false), "it does not hold for"),
        (None, "it cannot tell for"),
    ]
    .into_iter()
    .filter_map(|(v, words)| {
        let of: Vec<String> = seeds
            .iter()
            .zip(verdicts)
            .filter(|(_, x)| **x == v)
            .map(|(s, _)| s.to_string())
            .collect();
        (!of.is_empty()).then(|| format!("{words} {}", join(of)))
    })
    .collect();
    format!("Seed by seed, {}: cannot tell within the seeds' spread.", parts.join("; "))
}

/// The six findings for a sweep's runs. `runs` may come in any order and may repeat a batch size
/// (a run restarted after a lost device: the later one counts); only runs that ended (`done` or
/// `diverged`) count: a run still `running` or `stopped` has not had its chance to reach the
/// target. `test_size` is the number of test images (the noise of an accuracy difference).
pub fn findings(runs: &[RunSummary], test_size: usize) -> Vec<Finding> {
    let mut runs: Vec<&RunSummary> = runs
        .iter()
        .filter(|r| matches!(r.status, RunStatus::Done | RunStatus::Diverged))
        .collect();
    runs.reverse();
    runs.sort_by_key(|r| r.batch_size); // stable: a later run of a batch size comes first
    runs.dedup_by_key(|r| r.batch_size);
    if runs.len() < 2 {
        return (1..=6)
            .map(|n| {
                finding(
                    n,
                    None,
                    "The sweep needs at least two batch sizes whose runs ended (done or diverged; not stopped) to compare.".into(),
                )
            })
            .collect();
    }
    let target = percent(runs[0].target);
    vec![
        too_small(&runs, &target),
        throughput(&runs),
        epochs_to_target(&runs, &target),
        fastest(&runs, &target),
        best_final(&runs, test_size),
        diminishing_returns(&runs, &target),
    ]
}

fn reached(run: &&RunSummary) -> bool {
    run.target_epoch.is_some()
}

fn too_small(runs: &[&RunSummary], target: &str) -> Finding {
    let Some(first_reached) = runs.iter().find(|r| reached(r)) else {
        return finding(
            1,
            None,
            format!(
                "No batch size reached {target}, so this sweep cannot tell too small a batch from too few epochs."
            ),
        );
    };
    let failed: Vec<String> = runs
        .iter()
        .take_while(|r| r.batch_size < first_reached.batch_size)
        .map(|r| format!("{} {}", batch(r.batch_size), not_reached(r)))
        .collect();
    let epoch = first_reached.target_epoch.unwrap_or_default();
    let reached_text = format!(
        "{} reached {target} in epoch {epoch}",
        batch(first_reached.batch_size),
    );
    if failed.is_empty() {
        finding(
            1,
            Some(false),
            format!(
                "Even the smallest batch size, {}, reached {target} in epoch {epoch}.",
                thousands(first_reached.batch_size)
            ),
        )
    } else {
        finding(
            1,
            Some(true),
            format!("Aiming at {target}: {}; {reached_text}.", failed.join("; ")),
        )
    }
}

fn throughput(runs: &[&RunSummary]) -> Finding {
    let measured: Vec<&&RunSummary> = runs.iter().filter(|r| r.samples_per_second > 0.0).collect();
    let (Some(first), Some(last)) = (measured.first(), measured.last()) else {
        return finding(2, None, "No run finished an epoch.".into());
    };
    if measured.len() < 2 {
        return finding(2, None, "Only one run finished an epoch.".into());
    }
    let rises = measured
        .windows(2)
        .filter(|w| w[1].samples_per_second > w[0].samples_per_second)
        .count();
    let ratio = last.samples_per_second / first.samples_per_second;
    let list = measured
        .iter()
        .map(|r| {
            format!(
                "{}: {}",
                thousands(r.batch_size),
                thousands(r.samples_per_second.round() as usize)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let shown = ratio > 1.2 && 2 * rises >= measured.len() - 1;
    let peak = measured
        .iter()
        .max_by(|a, b| a.samples_per_second.total_cmp(&b.samples_per_second))
        .expect("two runs");
    // A peak before the largest batch is named only when throughput fell by more than 10 %
    // after it (a smaller fall is within timing noise: it levelled off).
    let fell = peak.samples_per_second > 1.1 * last.samples_per_second;
    let text = if shown && (peak.batch_size == last.batch_size || !fell) {
        format!(
            "Throughput rose {ratio:.1}× from {} to {} (samples/s per batch size — {list}).",
            batch(first.batch_size),
            batch(last.batch_size)
        )
    } else if shown {
        // It rose overall but peaked before the largest batch: said as measured.
        format!(
            "Throughput rose {:.1}× from {} to its peak at {}, then fell {:.1}× by {} (samples/s per batch size — {list}).",
            peak.samples_per_second / first.samples_per_second,
            batch(first.batch_size),
            batch(peak.batch_size),
            peak.samples_per_second / last.samples_per_second,
            batch(last.batch_size)
        )
    } else {
        format!(
            "Throughput did not grow with the batch size here (samples/s per batch size — {list})."
        )
    };
    finding(2, Some(shown), text)
}

fn epochs_to_target(runs: &[&RunSummary], target: &str) -> Finding {
    // From the smallest batch that reached the target up; diverged runs are left out.
    let Some(start) = runs.iter().position(reached) else {
        return finding(3, None, format!("No batch size reached {target}."));
    };
    let considered: Vec<&&RunSummary> = runs[start..]
        .iter()
        .filter(|r| r.status != RunStatus::Diverged)
        .collect();
    if considered.len() < 2 {
        return finding(
            3,
            None,
            format!(
                "Only one batch size that did not diverge is at or above the smallest that reached {target}."
            ),
        );
    }
    let epochs: Vec<f64> = considered
        .iter()
        .map(|r| r.target_epoch.map_or(f64::INFINITY, |e| e as f64))
        .collect();
    let list = considered
        .iter()
        .map(|r| match r.target_epoch {
            Some(e) => format!("{}: {e}", thousands(r.batch_size)),
            None => format!("{}: not reached in {}", thousands(r.batch_size), r.epochs),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let increasing = epochs.windows(2).all(|w| w[1] >= w[0]);
    let grew = epochs.last() > epochs.first();
    let text = format!("Epochs to {target} per batch size — {list}.");
    match (grew, increasing) {
        (true, true) => finding(3, Some(true), text),
        (true, false) => finding(3, Some(true), format!("On the whole: {text}")),
        _ => finding(
            3,
            Some(false),
            format!("{text} Larger batches did not need more epochs here."),
        ),
    }
}

/// Two times closer than this ratio are too close to call (timing noise).
pub const TIME_MARGIN: f64 = 1.1;

fn fastest(runs: &[&RunSummary], target: &str) -> Finding {
    let Some(best) = runs
        .iter()
        .filter(|r| r.target_seconds.is_some())
        .min_by(|a, b| {
            a.target_seconds
                .partial_cmp(&b.target_seconds)
                .expect("finite")
        })
    else {
        return finding(4, None, format!("No batch size reached {target}."));
    };
    let best_seconds = best.target_seconds.unwrap_or_default();
    let describe = |r: &&&RunSummary| match r.target_seconds {
        Some(s) => format!("{} took {}", batch(r.batch_size), seconds(s)),
        None => format!("{} {}", batch(r.batch_size), not_reached(r)),
    };
    // Clearly slower: did not reach the target, or took over 10 % longer.
    let slower = |r: &&&RunSummary| {
        r.target_seconds
            .is_none_or(|s| s > TIME_MARGIN * best_seconds)
    };
    let smaller: Vec<&&RunSummary> = runs
        .iter()
        .filter(|r| r.batch_size < best.batch_size)
        .collect();
    let larger: Vec<&&RunSummary> = runs
        .iter()
        .filter(|r| r.batch_size > best.batch_size)
        .collect();
    let list = |side: &[&&RunSummary]| side.iter().map(describe).collect::<Vec<_>>().join(", ");
    let mut text = format!(
        "Batch size {} reached {target} first, in {} of training",
        thousands(best.batch_size),
        seconds(best_seconds)
    );
    if !smaller.is_empty() {
        text += &format!("; smaller: {}", list(&smaller));
    }
    if !larger.is_empty() {
        text += &format!("; larger: {}", list(&larger));
    }
    text.push('.');
    let (below, above) = (smaller.iter().any(slower), larger.iter().any(slower));
    let missing = match (below, above) {
        (true, true) => return finding(4, Some(true), text),
        (false, false) => "on either side",
        (false, true) => "smaller than it",
        (true, false) => "larger than it",
    };
    finding(
        4,
        Some(false),
        format!(
            "{text} No batch size {missing} was clearly (over 10 %) slower, so the sweep does not bracket the fastest batch size."
        ),
    )
}

fn best_final(runs: &[&RunSummary], test_size: usize) -> Finding {
    let finished: Vec<(&&RunSummary, f64)> = runs
        .iter()
        .filter(|r| r.status != RunStatus::Diverged)
        .filter_map(|r| r.final_test_accuracy.map(|a| (r, a)))
        .collect();
    if finished.len() < 2 {
        return finding(
            5,
            None,
            "Fewer than two runs ended without diverging.".into(),
        );
    }
    let (best, hi) = *finished
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("two runs");
    let (worst, lo) = *finished
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("two runs");
    // Standard error of a difference of two accuracies near `hi` on `test_size` images.
    let noise = 2.0 * (2.0 * hi * (1.0 - hi) / test_size.max(1) as f64).sqrt();
    let gap = hi - lo;
    let text = format!(
        "Final test accuracy ranged from {} ({}) to {} ({}): a gap of {:.2} points, against ±{:.2} points of noise on {} test images.",
        accuracy(lo),
        batch(worst.batch_size),
        accuracy(hi),
        batch(best.batch_size),
        100.0 * gap,
        100.0 * noise,
        thousands(test_size)
    );
    if gap > noise {
        finding(
            5,
            Some(true),
            format!(
                "{text} Batch size {} ended best.",
                thousands(best.batch_size)
            ),
        )
    } else {
        finding(
            5,
            Some(false),
            format!("{text} The runs ended equally well."),
        )
    }
}

/// " Fitting S(B) = … puts the critical batch size at …", from [`crate::scaling::fit_runs`],
/// compared with the median gradient noise scale `noise` (B_simple): within a factor of 2 or not.
fn fit_sentence(runs: &[&RunSummary], noise: Option<f64>) -> String {
    use crate::scaling::{Verdict, fit_runs};
    let owned: Vec<RunSummary> = runs.iter().map(|r| (*r).clone()).collect();
    let fit = fit_runs(&owned);
    let n = fit.points.len();
    let head = "Fitting S(B) = S_min (1 + B_crit / B) (McCandlish et al. 2018) to the steps to the target";
    match (fit.verdict, fit.critical_batch, fit.min_steps) {
        (Verdict::Fitted, Some(critical), Some(min_steps)) => {
            let compared = match noise {
                Some(b) if b > 0.0 => {
                    let ratio = critical / b;
                    let within = if (0.5..=2.0).contains(&ratio) {
                        "within a factor of 2: the noise scale predicted it"
                    } else {
                        "not within a factor of 2: the noise scale did not predict it"
                    };
                    format!(
                        ", {ratio:.2}× the gradient noise scale ({}), {within}",
                        thousands(b.round().max(1.0) as usize)
                    )
                }
                _ => String::new(),
            };
            format!(
                " {head} of the {n} batch sizes that reached it puts the critical batch size at about {} (S_min ≈ {} steps; {:.0} % RMS error){compared}.{}",
                thousands(critical.round().max(1.0) as usize),
                thousands(min_steps.round().max(1.0) as usize),
                100.0 * fit.rms_relative_error.unwrap_or(0.0),
                regimes_sentence(&fit.points, critical)
            )
        }
        (Verdict::AboveRange, ..) => format!(
            " {head} of the {n} batch sizes that reached it finds no floor: the critical batch size lies above the largest of them."
        ),
        (Verdict::BelowRange, ..) => format!(
            " {head} of the {n} batch sizes that reached it finds no fall: the critical batch size lies below the smallest of them."
        ),
        _ => String::new(),
    }
}

/// " By the fit, batch sizes 8 and 64 scale perfectly (…), 512 …": Shallue et al. 2019's three
/// regimes ([`crate::scaling::regime`]) for the batch sizes fitted.
fn regimes_sentence(points: &[(usize, usize)], critical: f64) -> String {
    use crate::scaling::{REGIME_FACTOR, Regime, regime};
    let mut sizes: Vec<usize> = points.iter().map(|p| p.0).collect();
    sizes.dedup();
    let of = |wanted: Regime| {
        sizes
            .iter()
            .filter(|&&b| regime(b as f64, critical) == wanted)
            .map(|&b| thousands(b))
            .collect::<Vec<_>>()
    };
    let parts: Vec<String> = [
        (
            Regime::PerfectScaling,
            format!("perfect scaling (B ≤ B_crit / {REGIME_FACTOR}: twice the batch, nearly half the steps)"),
        ),
        (
            Regime::DiminishingReturns,
            "diminishing returns".to_string(),
        ),
        (
            Regime::MaximalDataParallelism,
            format!("maximal data parallelism (B ≥ {REGIME_FACTOR} B_crit: a larger batch saves almost no step)"),
        ),
    ]
    .into_iter()
    .filter_map(|(r, name)| {
        let sizes = of(r);
        (!sizes.is_empty()).then(|| format!("{} in {name}", sizes.join(", ")))
    })
    .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!(
        " By the fit, Shallue et al. 2019's regimes: batch size{} {}.",
        if sizes.len() == 1 { "" } else { "s" },
        parts.join("; ")
    )
}

fn diminishing_returns(runs: &[&RunSummary], target: &str) -> Finding {
    let mut scales: Vec<f64> = runs.iter().filter_map(|r| r.noise_scale).collect();
    scales.sort_by(f64::total_cmp);
    let median = match scales.len() {
        0 => None,
        n if n % 2 == 1 => Some(scales[n / 2]),
        n => Some((scales[n / 2 - 1] + scales[n / 2]) / 2.0),
    };
    let noise = median.map(|s| {
        let n = s.round().max(1.0) as usize;
        format!(
            " The gradient noise scale measured during training is about {} sample{} (the batch size past which returns diminish, McCandlish et al. 2018).",
            thousands(n),
            if n == 1 { "" } else { "s" }
        )
    });
    let noise = noise.unwrap_or_default();
    let fit = fit_sentence(runs, median);
    let noise = format!("{noise}{fit}");
    let reached: Vec<&&RunSummary> = runs.iter().filter(|r| r.target_steps.is_some()).collect();
    if reached.len() < 2 {
        return finding(
            6,
            None,
            format!(
                "Fewer than two batch sizes reached {target}, so steps to it cannot be compared.{noise}"
            ),
        );
    }
    // Per pair of neighbouring batch sizes: how many times fewer steps, for how many times the batch.
    let pairs: Vec<(usize, usize, f64, f64)> = reached
        .windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let fewer =
                a.target_steps.unwrap_or(1) as f64 / b.target_steps.unwrap_or(1).max(1) as f64;
            (
                a.batch_size,
                b.batch_size,
                fewer,
                b.batch_size as f64 / a.batch_size as f64,
            )
        })
        .collect();
    let list = pairs
        .iter()
        .map(|(a, b, fewer, times)| {
            format!(
                "{} → {}: {fewer:.1}× fewer steps for {times:.1}× the batch",
                thousands(*a),
                thousands(*b)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    // Diminishing returns: a larger batch whose factor of fewer steps is less than half its
    // factor of batch size (perfect scaling: k times the batch, k times fewer steps).
    match pairs
        .iter()
        .find(|(_, _, fewer, times)| fewer / times < 0.5)
    {
        Some((a, b, fewer, times)) => finding(
            6,
            Some(true),
            format!(
                "Steps to {target} — {list}. From {} to {}, {times:.1}× the batch took only {fewer:.1}× fewer steps, less than half the factor perfect scaling would give: its gradient points much the same way as a smaller batch's.{noise}",
                batch(*a),
                thousands(*b)
            ),
        ),
        None => finding(
            6,
            Some(false),
            format!(
                "Steps to {target} — {list}. Each larger batch still cut the steps nearly in proportion.{noise}"
            ),
        ),
    }
}
