//! Checkpoints on the CPU backend: a sweep cut short after its runs' second epoch and resumed
//! from their checkpoints (written to bytes and read back) trains the same records and ends with
//! the same summaries, to the last bit, as the same sweep never interrupted — with a stateful
//! optimiser, several seeds side by side, gradient accumulation and validation checks; tuned, at
//! the rate its trials chose. A checkpoint of another run, or bytes that are not one, are
//! refused in words.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use batchlab::checkpoint::RunCheckpoint;
use batchlab::experiment::{Sweep, SweepEvent};
use batchlab::schedule::LrPolicy;
use batchlab::settings::{Optimizer, Settings};
use batchlab::summary::{RunStatus, RunSummary};
use batchlab::tuning::LrGrid;
use burn::tensor::Device;
use futures_lite::future::block_on;
use serde_json::Value;

/// Most images per forward/backward pass in these sweeps: batch size 100 accumulates 4.
const MICRO_BATCH: usize = 32;

/// A record or summary as JSON, without its wall-clock fields (`trainSeconds`,
/// `samplesPerSecond`, `targetSeconds`, at any depth): what must be equal to the bit.
fn timeless(value: impl serde::Serialize) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for clock in ["trainSeconds", "samplesPerSecond", "targetSeconds"] {
                    map.remove(clock);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(value).unwrap();
    strip(&mut value);
    value
}

/// What a sweep produced: every epoch record and each run's last summary, keyed and sorted.
#[derive(Default)]
struct Outcome {
    records: Vec<(String, usize, Value)>,
    summaries: Vec<(String, Value)>,
    resumed: Vec<(String, usize)>,
}

fn key(summary: &RunSummary) -> String {
    summary
        .series
        .clone()
        .unwrap_or_else(|| summary.batch_size.to_string())
}

impl Outcome {
    fn sorted(mut self) -> Self {
        self.records.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        self.summaries.sort_by(|a, b| a.0.cmp(&b.0));
        self.resumed.sort();
        self
    }

    fn summary(&mut self, summary: &RunSummary) {
        let key = key(summary);
        self.summaries.retain(|(k, _)| *k != key);
        self.summaries.push((key, timeless(summary)));
    }
}

/// Advances `sweep` to its end, or (`cut_after`: `Some(k)`) until every run under way has
/// finished `k` epochs; returns what it produced and the latest checkpoint of each run still
/// under way, as bytes.
fn drive(mut sweep: Sweep, cut_after: Option<usize>, out: &mut Outcome) -> Vec<Vec<u8>> {
    let mut checkpoints: Vec<(String, usize, Vec<u8>)> = Vec::new();
    let mut under_way: Vec<String> = Vec::new();
    loop {
        match block_on(sweep.advance(Duration::from_millis(20))).unwrap() {
            SweepEvent::RunStarted { summary } => under_way.push(key(&summary)),
            SweepEvent::RunResumed { summary, epochs } => {
                under_way.push(key(&summary));
                out.resumed.push((key(&summary), epochs));
            }
            SweepEvent::Epoch { record, summary } => {
                let key = key(&summary);
                out.records.push((key.clone(), record.epoch, timeless(&record)));
                out.summary(&summary);
                checkpoints.retain(|(k, ..)| *k != key);
                if summary.status == RunStatus::Running {
                    let checkpoint = block_on(sweep.checkpoint(summary.batch_size, summary.series.as_deref()))
                        .unwrap()
                        .expect("a run under way between two epochs has a checkpoint");
                    assert_eq!(checkpoint.epochs_done, record.epoch);
                    checkpoints.push((key, record.epoch, checkpoint.to_bytes()));
                } else {
                    under_way.retain(|k| *k != key);
                }
            }
            SweepEvent::Diverged { summary, .. } => {
                out.summary(&summary);
                under_way.retain(|k| *k != key(&summary));
            }
            SweepEvent::Done => return Vec::new(),
            SweepEvent::Progress { .. }
            | SweepEvent::TrialStarted { .. }
            | SweepEvent::Trial { .. } => {}
        }
        if let Some(k) = cut_after {
            let kept = |run: &String| checkpoints.iter().any(|(c, e, _)| c == run && *e >= k);
            if !under_way.is_empty() && under_way.iter().all(kept) {
                return checkpoints.into_iter().map(|(.., bytes)| bytes).collect();
            }
        }
    }
}

fn new_sweep(settings: &Settings) -> Sweep {
    let data = common::mnist();
    Sweep::new(settings.clone(), &data, Device::flex())
        .unwrap()
        .with_micro_batch(MICRO_BATCH)
}

/// The sweep never interrupted, and the same sweep cut short after epoch `cut` of its first runs
/// and resumed from their checkpoints (the runs it had not started start in the resumed sweep).
fn uninterrupted_and_resumed(settings: &Settings, cut: usize) -> (Outcome, Outcome) {
    let whole = {
        let mut out = Outcome::default();
        drive(new_sweep(settings), None, &mut out);
        out.sorted()
    };
    let mut cut_short = Outcome::default();
    let bytes = drive(new_sweep(settings), Some(cut), &mut cut_short);
    assert!(!bytes.is_empty());
    // What the page keeps: the records up to each run's checkpoint, nothing after.
    let checkpoints: Vec<RunCheckpoint> = bytes
        .iter()
        .map(|b| RunCheckpoint::from_bytes(b).unwrap())
        .collect();
    cut_short.records.retain(|(key, epoch, _)| {
        checkpoints
            .iter()
            .find(|c| c.series.clone().unwrap_or_else(|| c.batch_size.to_string()) == *key)
            .is_none_or(|c| *epoch <= c.epochs_done)
    });
    let (resumed_sweep, refused) = new_sweep(settings).with_checkpoints(checkpoints.clone());
    assert!(refused.is_empty(), "refused: {:?}", refused.iter().map(|r| &r.1).collect::<Vec<_>>());
    assert_eq!(resumed_sweep.resuming().len(), checkpoints.len());
    drive(resumed_sweep, None, &mut cut_short);
    (whole, cut_short.sorted())
}

#[test]
fn a_sweep_resumed_after_epoch_2_trains_the_same_records_to_the_bit() {
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![16, 100],
        epochs: 4,
        learning_rate: 0.002,
        optimizer: Optimizer::Adam,
        seed: 11,
        seeds: 2,
        train_size: 600,
        val_size: 200,
        test_size: 200,
        race: true,
        ..Settings::default()
    };
    let (whole, resumed) = uninterrupted_and_resumed(&settings, 2);
    // Both seeds' runs of both batch sizes: 4 runs × 4 epochs.
    assert_eq!(whole.records.len(), 16);
    assert_eq!(resumed.records.len(), whole.records.len());
    // The first seed's runs (side by side) went on from their checkpoints; the second seed's
    // had not started.
    assert_eq!(resumed.resumed.len(), 2);
    assert!(resumed.resumed.iter().all(|(_, epochs)| *epochs >= 2));
    for (a, b) in whole.records.iter().zip(&resumed.records) {
        assert_eq!(a, b, "record of {} epoch {}", a.0, a.1);
    }
    assert_eq!(whole.summaries, resumed.summaries);
    // The numbers are real: Adam learnt, and the noise probe and the validation checks within
    // the epochs ran (batch size 16: 38 steps an epoch, checks from step 32).
    let last = &whole
        .summaries
        .iter()
        .find(|(_, s)| s["batchSize"] == 16)
        .unwrap()
        .1;
    assert!(last["bestValAccuracy"].as_f64().unwrap() > 0.6, "{last}");
    assert!(last["noiseScale"].as_f64().is_some(), "{last}");
    assert!(last["evals"].as_array().unwrap().len() > 4, "{last}");
}

#[test]
fn a_tuned_run_resumes_at_the_rate_its_trials_chose() {
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![32],
        epochs: 3,
        learning_rate: 0.05,
        optimizer: Optimizer::Nesterov,
        lr_policy: LrPolicy::Tuned,
        lr_grid: Some(LrGrid {
            min: 0.01,
            max: 0.1,
            count: 2,
        }),
        lr_trial_epochs: 1,
        seed: 3,
        train_size: 400,
        val_size: 200,
        test_size: 100,
        ..Settings::default()
    };
    let (whole, resumed) = uninterrupted_and_resumed(&settings, 1);
    assert_eq!(whole.records.len(), 3);
    assert_eq!(resumed.resumed, vec![("32".to_string(), 1)]);
    assert_eq!(whole.records, resumed.records);
    assert_eq!(whole.summaries, resumed.summaries);
    let tuning = &whole.summaries[0].1["tuning"];
    assert_eq!(tuning["trials"].as_array().unwrap().len(), 2, "{tuning}");
}

#[test]
fn a_checkpoint_of_another_run_or_not_one_at_all_is_refused_in_words() {
    let _serial = common::serial();
    let settings = Settings {
        batch_sizes: vec![50],
        epochs: 3,
        learning_rate: 0.05,
        optimizer: Optimizer::Momentum,
        seed: 4,
        train_size: 300,
        val_size: 100,
        test_size: 100,
        ..Settings::default()
    };
    let mut out = Outcome::default();
    let bytes = drive(new_sweep(&settings), Some(1), &mut out);
    let checkpoint = RunCheckpoint::from_bytes(&bytes[0]).unwrap();
    assert_eq!((checkpoint.batch_size, checkpoint.epochs_done), (50, 1));

    let error = RunCheckpoint::from_bytes(b"not a checkpoint").unwrap_err();
    assert!(error.to_string().starts_with("it is not a checkpoint"), "{error}");
    let truncated = RunCheckpoint::from_bytes(&bytes[0][..bytes[0].len() / 2]).unwrap_err();
    assert!(truncated.to_string().starts_with("it is not a checkpoint"), "{truncated}");

    let other_seed = Settings { seed: 5, ..settings.clone() };
    let (sweep, refused) = new_sweep(&other_seed).with_checkpoints(vec![checkpoint.clone()]);
    assert!(sweep.resuming().is_empty());
    assert_eq!(refused[0].1.to_string(), "it was trained with seed 4, not 5");

    let other_batch = Settings { batch_sizes: vec![64], ..settings.clone() };
    let (_, refused) = new_sweep(&other_batch).with_checkpoints(vec![checkpoint.clone()]);
    assert_eq!(refused[0].1.to_string(), "its run is not one this sweep trains");

    let mut broken = checkpoint.clone();
    broken.model.truncate(100);
    let (_, refused) = new_sweep(&settings).with_checkpoints(vec![broken]);
    assert!(refused[0].1.to_string().starts_with("its model could not be read"), "{}", refused[0].1);

    let adam = Settings { optimizer: Optimizer::Adam, ..settings.clone() };
    let (_, refused) = new_sweep(&adam).with_checkpoints(vec![checkpoint.clone()]);
    assert!(refused[0].1.to_string().starts_with("it was trained with momentum on Lenet5"), "{}", refused[0].1);
    // Its summary edited to say Adam: burn would quietly start Adam afresh from momentum's state.
    let mut relabelled = checkpoint.clone();
    relabelled.summary.optimizer = Optimizer::Adam;
    let (_, refused) = new_sweep(&adam).with_checkpoints(vec![relabelled]);
    assert_eq!(refused[0].1.to_string(), "its optimiser state could not be read (it is another optimiser's state)");

    let (_, refused) = new_sweep(&settings).with_checkpoints(vec![checkpoint.clone(), checkpoint]);
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].1.to_string(), "its run has another checkpoint here");
}
