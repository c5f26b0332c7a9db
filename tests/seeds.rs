//! Runs repeated over seeds and arms: the plan a sweep trains, the aggregation over seeds
//! (mean and spread), and the findings' verdicts per seed (holds / does not / cannot tell).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use batchlab::experiment::{Sweep, SweepEvent};
use batchlab::findings::{agreed, findings_by_arm};
use batchlab::record::EpochRecord;
use batchlab::seeds::{Spread, aggregate, mean_run};
use batchlab::settings::{LrPolicy, Model, Optimizer, Settings};
use batchlab::summary::{EndedBy, EvalSet, RunStatus, RunSummary};
use burn::tensor::Device;
use futures_lite::future::block_on;

/// A finished run of `batch` with `seed` under `policy`: `steps` to the target (none: not
/// reached), throughput `rate`, final test accuracy `last`.
fn run(policy: LrPolicy, batch: usize, seed: u64, steps: Option<usize>, rate: f64, last: f64) -> RunSummary {
    let mut s = RunSummary::new(batch, 0.1, Optimizer::Sgd, Model::Lenet5, policy, 0.95, EvalSet::Validation);
    s.seed = Some(seed);
    s.epochs = 4;
    s.samples_per_second = rate;
    s.final_test_accuracy = Some(last);
    s.best_test_accuracy = Some(last);
    s.final_val_accuracy = Some(last);
    s.best_val_accuracy = Some(last);
    if let Some(steps) = steps {
        s.target_steps = Some(steps);
        s.target_epoch = Some((steps * batch).div_ceil(5_000));
        s.target_samples = Some(steps * batch);
        s.target_seconds = Some((steps * batch) as f64 / rate);
    }
    s.end(EndedBy::Epochs);
    s
}

#[test]
fn a_spread_is_the_mean_sample_deviation_and_range() {
    let s = Spread::of([2.0, 4.0, 9.0, f64::NAN]).unwrap();
    assert_eq!((s.n, s.mean, s.min, s.max), (3, 5.0, 2.0, 9.0));
    // Sample standard deviation: √(((−3)² + (−1)² + 4²) / 2) = √13.
    assert!((s.sd - 13f64.sqrt()).abs() < 1e-12, "{s:?}");
    assert_eq!(Spread::of([7.0]).unwrap().sd, 0.0);
    assert!(Spread::of([f64::INFINITY]).is_none());
    let (a, b, c) = (Spread::of([1.0, 2.0]).unwrap(), Spread::of([2.0, 3.0]).unwrap(), Spread::of([2.5, 4.0]).unwrap());
    assert!(a.overlaps(&b) && b.overlaps(&c) && !a.overlaps(&c));
}

#[test]
fn seeds_aggregate_per_arm_and_batch_size_and_a_restart_replaces_its_seed() {
    let mut restarted = run(LrPolicy::Fixed, 8, 1, Some(900), 1000.0, 0.96);
    restarted.series = Some("8 (seed 1) (restarted on the CPU)".into());
    let mut running = run(LrPolicy::Fixed, 64, 3, None, 1.0, 0.5);
    running.status = RunStatus::Running;
    let runs = vec![
        run(LrPolicy::Fixed, 8, 1, Some(1000), 1000.0, 0.96),
        run(LrPolicy::Fixed, 8, 2, Some(1200), 1100.0, 0.97),
        run(LrPolicy::Tuned, 8, 1, Some(400), 1000.0, 0.98),
        run(LrPolicy::Fixed, 64, 1, None, 2000.0, 0.90),
        run(LrPolicy::Fixed, 64, 2, Some(300), 2200.0, 0.95),
        restarted,
        running,
    ];
    let agg = aggregate(&runs);
    let keys: Vec<_> = agg.iter().map(|a| (a.lr_policy, a.batch_size, a.seeds.clone())).collect();
    assert_eq!(
        keys,
        vec![(LrPolicy::Fixed, 8, vec![1, 2]), (LrPolicy::Fixed, 64, vec![1, 2]), (LrPolicy::Tuned, 8, vec![1])]
    );
    // Seed 1 of batch size 8 counts once, as restarted (900 steps, not 1,000).
    let steps = agg[0].target_steps.unwrap();
    assert_eq!((steps.n, steps.mean, steps.min, steps.max), (2, 1050.0, 900.0, 1200.0));
    // Batch size 64: one seed of two reached the target; the running run of seed 3 is left out.
    assert_eq!((agg[1].reached, agg[1].target_steps.unwrap().n), (1, 1));
    let acc = agg[1].final_test_accuracy.unwrap();
    assert!((acc.mean - 0.925).abs() < 1e-12 && acc.min == 0.90 && acc.max == 0.95, "{acc:?}");
    // The run of the means reaches the target only when every seed did.
    let of = |b: usize| runs.iter().filter(|r| r.lr_policy == LrPolicy::Fixed && r.batch_size == b && r.status == RunStatus::Done).collect::<Vec<_>>();
    assert_eq!(mean_run(&of(8)[1..]).target_steps, Some(1050));
    assert_eq!(mean_run(&of(64)).target_steps, None);
    assert!((mean_run(&of(64)).samples_per_second - 2100.0).abs() < 1e-9);
}

#[test]
fn a_finding_holds_only_when_every_seed_agrees_else_it_cannot_tell() {
    assert_eq!(agreed(&[Some(true), Some(true)]), Some(true));
    assert_eq!(agreed(&[Some(false), Some(false), Some(false)]), Some(false));
    assert_eq!(agreed(&[Some(true), Some(false)]), None);
    assert_eq!(agreed(&[Some(true), None]), None);
    // Throughput (finding 2) rises with the batch size for both seeds; the fastest batch size
    // to the target (finding 4) is 64 for seed 1 (bracketed) but the smallest for seed 2.
    let runs = vec![
        run(LrPolicy::Fixed, 8, 1, Some(5000), 500.0, 0.96),
        run(LrPolicy::Fixed, 64, 1, Some(700), 2000.0, 0.96),
        run(LrPolicy::Fixed, 512, 1, Some(400), 3000.0, 0.96),
        run(LrPolicy::Fixed, 8, 2, Some(1000), 500.0, 0.96),
        run(LrPolicy::Fixed, 64, 2, Some(700), 2000.0, 0.96),
        run(LrPolicy::Fixed, 512, 2, Some(400), 3000.0, 0.96),
    ];
    let arms = findings_by_arm(&runs, 2_000);
    assert_eq!(arms.len(), 1);
    assert_eq!(arms[0].seeds, vec![1, 2]);
    let f = &arms[0].findings;
    assert_eq!(f[1].seeds, vec![Some(true), Some(true)]);
    assert_eq!(f[1].shown, Some(true), "{}", f[1].text);
    assert!(f[1].text.starts_with("Means over 2 seeds"), "{}", f[1].text);
    assert!(f[1].text.ends_with("It holds for every seed (1 and 2)."), "{}", f[1].text);
    assert_eq!(f[3].seeds, vec![Some(true), Some(false)], "{:?}", f[3]);
    assert_eq!(f[3].shown, None);
    assert!(f[3].text.contains("Seed by seed, it holds for 1; it does not hold for 2: cannot tell within the seeds' spread."), "{}", f[3].text);
}

#[test]
fn two_arms_are_stated_side_by_side_each_from_its_own_runs() {
    // The naive arm: batch size 512 never reaches the target; the tuned arm: every size does,
    // each larger batch in fewer steps.
    let mut runs = Vec::new();
    for seed in [1, 2] {
        runs.push(run(LrPolicy::Fixed, 8, seed, Some(1000), 500.0, 0.96));
        runs.push(run(LrPolicy::Fixed, 512, seed, None, 3000.0, 0.80));
        runs.push(run(LrPolicy::Tuned, 8, seed, Some(1000), 500.0, 0.96));
        runs.push(run(LrPolicy::Tuned, 512, seed, Some(40), 3000.0, 0.96));
    }
    let arms = findings_by_arm(&runs, 2_000);
    assert_eq!(arms.iter().map(|a| a.lr_policy).collect::<Vec<_>>(), vec![LrPolicy::Fixed, LrPolicy::Tuned]);
    // Finding 6 (diminishing returns) needs two batch sizes at the target: the naive arm
    // cannot tell, the tuned arm sees 64× the batch take only 25× fewer steps (holds).
    assert_eq!(arms[0].findings[5].shown, None, "{}", arms[0].findings[5].text);
    assert_eq!(arms[1].findings[5].shown, Some(true), "{}", arms[1].findings[5].text);
}

/// Every event of a sweep of `settings`.
fn events(settings: Settings) -> Vec<SweepEvent> {
    let data = common::mnist();
    let mut sweep = Sweep::new(settings, &data, Device::flex()).unwrap();
    let mut events = Vec::new();
    loop {
        let event = block_on(sweep.advance(Duration::from_millis(50))).unwrap();
        if event == SweepEvent::Done {
            return events;
        }
        events.push(event);
    }
}

fn records(events: &[SweepEvent]) -> Vec<EpochRecord> {
    events
        .iter()
        .filter_map(|e| match e {
            SweepEvent::Epoch { record, .. } => Some(record.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_sweep_trains_every_seed_and_arm_and_each_seed_as_a_sweep_of_that_seed_would() {
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![50],
        batch: "50".into(),
        epochs: 1,
        train_size: 500,
        test_size: 100,
        val_size: 100,
        eval_points: 0,
        learning_rate: 0.05,
        optimizer: Optimizer::Sgd,
        seed: 5,
        seeds: 2,
        baseline: Some(LrPolicy::Fixed),
        lr_policy: LrPolicy::Sqrt,
        ..Settings::default()
    };
    let all = events(settings.clone());
    let got = records(&all);
    let labels: Vec<_> = got.iter().map(|r| (r.seed, r.series.clone().unwrap())).collect();
    assert_eq!(labels.len(), 4);
    for want in [(5, "50 (fixed lr, seed 5)"), (5, "50 (sqrt lr, seed 5)"), (6, "50 (fixed lr, seed 6)"), (6, "50 (sqrt lr, seed 6)")] {
        assert!(labels.contains(&(Some(want.0), want.1.to_string())), "{labels:?}");
    }
    // Every summary names its seed and line.
    for e in &all {
        if let SweepEvent::RunStarted { summary } = e {
            assert!(summary.seed.is_some() && summary.series.is_some(), "{summary:?}");
        }
    }
    // The seeds differ; seed 6's fixed-rate run is what a one-seed sweep of seed 6 trains, to the bit.
    let of = |seed: u64| got.iter().find(|r| r.seed == Some(seed) && r.series.as_deref().unwrap().contains("fixed")).unwrap().clone();
    assert_ne!(of(5).train_loss, of(6).train_loss);
    let alone = records(&events(Settings { seed: 6, seeds: 1, baseline: None, lr_policy: LrPolicy::Fixed, ..settings }));
    let strip = |r: EpochRecord| EpochRecord { train_seconds: 0.0, samples_per_second: 0.0, series: None, ..r };
    assert_eq!(strip(of(6)), strip(alone[0].clone()));
}
