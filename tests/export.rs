//! Export and import of a sweep: a real (small) sweep exported as JSON reads back equal, field
//! for field; its CSV tables carry every record and run with the numbers in full; broken,
//! foreign, newer and inconsistent files are refused with a reason.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use batchlab::experiment::{Sweep, SweepEvent};
use batchlab::export::{
    EPOCH_COLUMNS, ExportError, ExportedRecord, ExportedRun, FORMAT, FORMAT_VERSION, RUN_COLUMNS,
    SweepExport, VERSION,
};
use batchlab::findings::findings;
use batchlab::settings::Settings;
use burn::tensor::Device;
use futures_lite::future::block_on;

/// A real sweep of two batch sizes, two epochs each, as the page would export it (trained once
/// per test binary; each call gets its own copy).
fn exported() -> SweepExport {
    static TRAINED: std::sync::OnceLock<SweepExport> = std::sync::OnceLock::new();
    TRAINED.get_or_init(train).clone()
}

fn train() -> SweepExport {
    let _serial = common::serial();
    let settings = Settings {
        batch: "32,500".into(),
        batch_sizes: vec![32, 500],
        epochs: 2,
        train_size: 1_000,
        test_size: 300,
        val_size: 300,
        target: 0.5,
        // One after another: the refusals below name records by their place in the file.
        race: false,
        ..Settings::default()
    };
    let data = common::mnist();
    let mut sweep = Sweep::new(settings.clone(), &data, Device::flex()).unwrap();
    let (mut results, mut runs) = (Vec::new(), Vec::<ExportedRun>::new());
    loop {
        match block_on(sweep.advance(Duration::from_millis(50))).unwrap() {
            SweepEvent::RunStarted { summary } => runs.push(ExportedRun { summary }),
            SweepEvent::Epoch { record, summary } => {
                results.push(ExportedRecord {
                    record,
                    backend: Some("cpu".into()),
                });
                let run = runs.iter_mut().find(|r| r.summary.batch_size == summary.batch_size);
                run.unwrap().summary = summary;
            }
            SweepEvent::Diverged { summary, .. } => {
                let run = runs.iter_mut().find(|r| r.summary.batch_size == summary.batch_size);
                run.unwrap().summary = summary;
            }
            SweepEvent::Done => break,
            SweepEvent::Progress { .. }
            | SweepEvent::RunResumed { .. }
            | SweepEvent::TrialStarted { .. }
            | SweepEvent::Trial { .. } => {}
        }
    }
    // A restarted run's records carry their line label.
    let second = results
        .iter_mut()
        .find(|r| r.record.batch_size == 32 && r.record.epoch == 2)
        .unwrap();
    second.record.series = Some("32 (restarted on the CPU)".into());
    let summaries: Vec<_> = runs.iter().map(|r| r.summary.clone()).collect();
    SweepExport {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        batchlab_version: VERSION.into(),
        exported_at: "2026-11-30T12:00:00.000Z".into(),
        link: "http://127.0.0.1:8000/?batch=32,500&epochs=2".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) \"quoted\", with a comma".into(),
        backend: Some("cpu".into()),
        adapter: None,
        findings: findings(&summaries, settings.test_size),
        arms: batchlab::findings::findings_by_arm(&summaries, settings.test_size),
        shard: None,
        settings,
        results,
        runs,
    }
}

#[test]
fn a_real_sweep_round_trips_through_json() {
    let export = exported();
    assert_eq!(export.results.len(), 4);
    assert_eq!(export.runs.len(), 2);
    assert_eq!(export.findings.len(), 6);
    let json = export.to_json().unwrap();
    // Field names as the page uses them (camelCase, records flat).
    for name in [
        "\"formatVersion\": 1",
        "\"batchSize\": 32",
        "\"trainLoss\"",
        "\"targetEpoch\"",
        "\"series\": \"32 (restarted on the CPU)\"",
    ] {
        assert!(json.contains(name), "{name} missing");
    }
    let back = SweepExport::from_json(&json).unwrap();
    assert_eq!(
        back, export,
        "every field reads back equal, floats to the last bit"
    );
}

/// `text` without its `#` lines, read as CSV: (header, rows).
fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn the_csv_tables_hold_every_record_and_run_in_full_precision() {
    let export = exported();
    let text = export.epochs_csv().unwrap();
    let preamble: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
    assert_eq!(preamble.len(), 5, "{text}");
    assert!(preamble[0].starts_with(&format!(
        "# batchlab {VERSION} — per-epoch records, exported 2026-11-30T12:00:00.000Z"
    )));
    assert_eq!(
        preamble[1],
        "# link: http://127.0.0.1:8000/?batch=32,500&epochs=2"
    );
    assert_eq!(preamble[2], "# backend: CPU (WebAssembly)");
    assert!(preamble[3].contains("\"quoted\", with a comma"));
    let settings: Settings =
        serde_json::from_str(preamble[4].strip_prefix("# settings: ").unwrap()).unwrap();
    assert_eq!(settings, export.settings);

    let (header, rows) = read_csv(&text);
    assert_eq!(header, EPOCH_COLUMNS);
    assert_eq!(rows.len(), export.results.len());
    for (row, r) in rows.iter().zip(&export.results) {
        let e = &r.record;
        let f = |i: usize| row[i].parse::<f64>().unwrap();
        assert_eq!(row[0], e.batch_size.to_string());
        assert_eq!(row[1], r.record.series.clone().unwrap_or_default());
        assert_eq!(
            (
                row[2].parse::<usize>().unwrap(),
                row[3].parse::<usize>().unwrap()
            ),
            (e.epoch, e.steps)
        );
        assert_eq!(
            (f(5), f(6), f(7), f(8)),
            (e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy)
        );
        assert_eq!(
            (f(9), f(10), f(11)),
            (e.train_seconds, e.samples_per_second, e.learning_rate)
        );
        assert_eq!(row[12], "cpu");
    }

    let (header, rows) = read_csv(&export.runs_csv().unwrap());
    assert_eq!(header, RUN_COLUMNS);
    assert_eq!(rows.len(), 2);
    for (row, r) in rows.iter().zip(&export.runs) {
        let s = &r.summary;
        assert_eq!(row[0], s.batch_size.to_string());
        assert_eq!(
            (row[3].as_str(), row[6].as_str(), row[7].as_str()),
            ("adam", "done", "epochs")
        );
        assert_eq!(
            row[18].parse::<f64>().unwrap(),
            s.best_test_accuracy.unwrap()
        );
        // `null` is an empty cell.
        assert_eq!(row[21], "", "not diverged");
        assert_eq!(row[14].is_empty(), s.target_epoch.is_none());
    }
}

fn refused(text: &str) -> ExportError {
    SweepExport::from_json(text).expect_err("refused")
}

#[test]
fn files_that_are_not_exports_are_refused_with_a_reason() {
    assert!(
        matches!(refused("not json"), ExportError::NotAnExport(m) if m.starts_with("it is not JSON"))
    );
    assert!(
        matches!(refused(r#"{"hello": 1}"#), ExportError::NotAnExport(m) if m.contains("“format”"))
    );

    let json = exported().to_json().unwrap();
    let newer = json.replace("\"formatVersion\": 1", "\"formatVersion\": 7");
    let message = refused(&newer).to_string();
    assert!(
        message.contains("format version 7") && message.contains(VERSION),
        "{message}"
    );

    // A mistyped field is named by its path.
    let broken = json.replacen("\"testLoss\": ", "\"testLoss\": \"oops\", \"x\": ", 1);
    let message = refused(&broken).to_string();
    assert!(
        message.contains("results[0].testLoss") || message.contains("results[0]"),
        "{message}"
    );

    // Contents that do not add up.
    let mut export = exported();
    export.results[1].record.seed = Some(7);
    let message = refused(&export.to_json().unwrap()).to_string();
    assert!(message.contains("record 2 has seed 7, but the sweep's seeds run from 42 to 42"), "{message}");
    let mut export = exported();
    export.runs[0].summary.lr_policy = batchlab::settings::LrPolicy::Sqrt;
    let message = refused(&export.to_json().unwrap()).to_string();
    assert!(message.contains("run 1 trained under the learning-rate policy sqrt"), "{message}");
    let mut export = exported();
    export.results[0].record.batch_size = 64;
    let message = refused(&export.to_json().unwrap()).to_string();
    assert!(message.contains("record 1 has batch size 64"), "{message}");
    let mut export = exported();
    export.settings.epochs = 1;
    let message = refused(&export.to_json().unwrap()).to_string();
    assert!(
        message.contains("epoch 2 of a sweep of 1 epochs"),
        "{message}"
    );
    let mut export = exported();
    export.results[2].record.test_accuracy = 1e308;
    assert!(
        refused(&export.to_json().unwrap())
            .to_string()
            .contains("record 3 has an accuracy outside 0 to 1")
    );
    let mut export = exported();
    export.results[3].record.train_seconds = -1.0;
    assert!(
        refused(&export.to_json().unwrap())
            .to_string()
            .contains("record 4 has a negative or non-finite")
    );
    let mut export = exported();
    export.results[1] = export.results[0].clone();
    assert!(
        refused(&export.to_json().unwrap())
            .to_string()
            .contains("record 2 repeats epoch 1 of batch size 32")
    );
    let mut export = exported();
    export.settings.batch = "1,2,3".into();
    assert!(
        refused(&export.to_json().unwrap())
            .to_string()
            .contains("batch sizes “1,2,3” but hold [32, 500]")
    );
    let mut export = exported();
    export.runs[0].summary.epochs = 9;
    assert!(
        refused(&export.to_json().unwrap())
            .to_string()
            .contains("run 1 has 9 epochs, more than the sweep's 2")
    );
    let mut export = exported();
    export.format_version = 0;
    assert!(matches!(
        refused(&export.to_json().unwrap()),
        ExportError::NotAnExport(_)
    ));
    let mut export = exported();
    export.settings.train_size = 0;
    assert!(
        matches!(refused(&export.to_json().unwrap()), ExportError::Damaged(m) if m.contains("settings are refused"))
    );
}

/// The message `change` to a real export is refused with (panics when it is accepted).
fn refusal(change: impl FnOnce(&mut SweepExport)) -> String {
    let mut export = exported();
    change(&mut export);
    refused(&export.to_json().unwrap()).to_string()
}

#[test]
fn numbers_beyond_what_the_settings_make_possible_and_foreign_labels_are_refused() {
    use batchlab::export::{MAX_SECONDS, MAX_THROUGHPUT};
    // Just inside every bound: accepted.
    let mut export = exported();
    export.runs[0].summary.train_seconds = MAX_SECONDS;
    export.results[0].record.samples_per_second = MAX_THROUGHPUT;
    export.results[1].record.series = Some("32 (restart 2, after a stop)".into());
    export.user_agent = "u".repeat(1_000);
    SweepExport::from_json(&export.to_json().unwrap()).expect("inside the bounds");
    // A run that diverged in epoch 2 after a check within it reached the target: its check and
    // target lie past its last finished epoch (epoch 1), within epoch 2.
    let mut export = exported();
    let run = &mut export.runs[0].summary;
    // (Batch size 32 over 1,000 images: 32 steps an epoch; it diverged 3 steps into epoch 2.)
    let (steps, samples) = (run.steps / 2, run.samples / 2);
    let mut point = run.evals[0].clone();
    point.steps = steps + 3;
    point.samples = samples + 3 * 32;
    run.evals.push(point);
    run.epochs = 1;
    run.steps = steps;
    run.samples = samples;
    run.diverged_epoch = Some(2);
    run.target_epoch = Some(2);
    run.target_steps = Some(steps + 3);
    SweepExport::from_json(&export.to_json().unwrap()).expect("a run diverged after a check");

    let cases: Vec<(Box<dyn FnOnce(&mut SweepExport)>, &str)> = vec![
        (Box::new(|e| e.runs[0].summary.train_seconds = 1.7e308), "run 1 has a time, throughput or learning rate out of range"),
        (Box::new(|e| e.runs[0].summary.train_seconds = MAX_SECONDS * 1.01), "run 1 has a time"),
        (Box::new(|e| e.results[0].record.train_seconds = 1.7e308), "record 1 has a time, throughput or learning rate out of range"),
        (Box::new(|e| e.results[0].record.samples_per_second = MAX_THROUGHPUT * 2.0), "record 1 has a time"),
        // Epoch 1 of batch size 32 over 1,000 images is 32 steps at most.
        (Box::new(|e| e.results[0].record.steps = 33), "record 1 has 33 steps"),
        (Box::new(|e| e.results[0].record.samples = 1_001), "which epoch 1 at batch size 32 cannot take"),
        (Box::new(|e| e.runs[1].summary.steps = 1_000_000), "run 2 has steps or samples out of range"),
        (Box::new(|e| e.runs[0].summary.target_steps = Some(e.runs[0].summary.steps + 1)), "a target reached past its own end"),
        (Box::new(|e| e.runs[0].summary.noise_scale = Some(f64::MAX)), "a noise scale or divergence"),
        (Box::new(|e| e.results[0].record.series = Some("<b>32</b>".into())), "record 1 is labelled “<b>32</b>”, which is none of the sweep's runs"),
        (Box::new(|e| e.results[0].record.series = Some("32 (restarted by a hacker)".into())), "none of the sweep's runs"),
        (Box::new(|e| e.runs[0].summary.series = Some("500".into())), "run 1 is labelled “500”"),
        (Box::new(|e| e.user_agent = "u".repeat(1_001)), "its “userAgent” is 1001 characters long (at most 1000)"),
        (Box::new(|e| e.backend = Some("<script>".into())), "its backend is “<script>”, not “webgpu”, “cpu” or “cuda”"),
        (Box::new(|e| e.results[0].record.learning_rate = 1e6), "record 1 has a time, throughput or learning rate"),
        (Box::new(|e| e.results[0].record.series = Some("32 (restart 101, after a stop)".into())), "none of the sweep's runs"),
        (Box::new(|e| e.runs.push(e.runs[0].clone())), "run 3 repeats an earlier run"),
        (Box::new(|e| e.batchlab_version = "9".repeat(65)), "its “batchlabVersion” is 65 characters long"),
        (Box::new(|e| e.results[0].backend = Some("gpu".into())), "record 1 has the backend “gpu”"),
    ];
    for (change, expected) in cases {
        let message = refusal(change);
        assert!(message.contains(expected), "{message} (expected: {expected})");
    }
}
