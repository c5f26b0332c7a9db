//! The URL parameters: defaults, valid values, and a refusal naming the parameter for each bad one.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use batchlab::backend::BackendPreference;
use batchlab::settings::{LrPolicy, Model, Optimizer, Preset, Settings};

fn parse(query: &[(&str, &str)]) -> Result<Settings, (String, String)> {
    let params: BTreeMap<String, String> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_params(&params).map_err(|e| (e.parameter.to_string(), e.to_string()))
}

#[test]
fn no_parameters_give_the_defaults() {
    assert_eq!(parse(&[]).unwrap(), Settings::default());
}

#[test]
fn every_parameter_is_read() {
    let s = parse(&[
        ("batch", "16, 128"),
        ("epochs", "2"),
        ("lr", "0.05"),
        ("optimizer", "momentum"),
        ("seed", "7"),
        ("train", "2000"),
        ("test", "1000"),
        ("backend", "cpu"),
        ("model", "theano"),
        ("lrpolicy", "linear"),
        ("lrref", "256"),
        ("warmup", "2"),
        ("target", "0.97"),
        ("endattarget", "1"),
        ("budget", "90"),
        ("race", "0"),
        ("autorun", "1"),
    ])
    .unwrap();
    assert_eq!(
        s,
        Settings {
            preset: Preset::Custom,
            batch: "16,128".into(),
            batch_sizes: vec![16, 128],
            epochs: 2,
            learning_rate: 0.05,
            optimizer: Optimizer::Momentum,
            seed: 7,
            train_size: 2000,
            test_size: 1000,
            backend: BackendPreference::Cpu,
            model: Model::Theano,
            lr_policy: LrPolicy::Linear,
            lr_reference_batch: 256,
            warmup_epochs: 2,
            target: 0.97,
            end_at_target: true,
            run_budget_seconds: 90.0,
            race: false,
        }
    );
    // Side by side unless asked otherwise; `true`/`false` read as `1`/`0`.
    assert!(parse(&[]).unwrap().race);
    assert!(!parse(&[("race", "false")]).unwrap().race);
}

#[test]
fn presets_fill_in_the_sweep_and_other_parameters_override() {
    let quick = parse(&[("preset", "quick")]).unwrap();
    assert_eq!(quick, Preset::Quick.settings());
    assert_eq!(quick.batch_sizes, vec![1, 8, 64, 512, 10_000]);
    assert_eq!(
        (quick.train_size, quick.epochs, quick.target),
        (10_000, 5, 0.96)
    );
    assert_eq!(
        (quick.optimizer, quick.learning_rate),
        (Optimizer::Sgd, 0.1)
    );
    let replica = parse(&[("preset", "replica")]).unwrap();
    assert_eq!(
        replica.batch_sizes,
        vec![1, 4, 16, 64, 256, 1024, 4096, 60_000]
    );
    assert_eq!(
        (replica.epochs, replica.model, replica.optimizer),
        (200, Model::Theano, Optimizer::Sgd)
    );
    assert!(replica.end_at_target && replica.run_budget_seconds == 600.0);
    // "full" follows the training-set size given with the preset.
    let reduced = parse(&[("preset", "quick"), ("train", "2000"), ("epochs", "2")]).unwrap();
    assert_eq!(reduced.batch_sizes, vec![1, 8, 64, 512, 2000]);
    assert_eq!(
        (reduced.preset, reduced.epochs, reduced.batch.as_str()),
        (Preset::Quick, 2, "1,8,64,512,full")
    );
    assert_eq!(parse(&[("preset", "custom")]).unwrap(), Settings::default());
    // A preset's batch sizes above a smaller training set are left out, not refused.
    let small = parse(&[("preset", "quick"), ("train", "500")]).unwrap();
    assert_eq!(
        (small.batch_sizes, small.batch.as_str()),
        (vec![1, 8, 64, 500], "1,8,64,full")
    );
    let small = parse(&[("preset", "replica"), ("train", "1024")]).unwrap();
    assert_eq!(small.batch_sizes, vec![1, 4, 16, 64, 256, 1024]);
}

#[test]
fn full_is_the_training_set_size() {
    let s = parse(&[("batch", "full, 32"), ("train", "5000")]).unwrap();
    assert_eq!(
        (s.batch_sizes, s.batch.as_str()),
        (vec![5000, 32], "full,32")
    );
    assert!(
        parse(&[("batch", "full,5000"), ("train", "5000")]).is_err(),
        "listed twice"
    );
}

#[test]
fn the_full_batch_is_allowed() {
    let s = parse(&[("batch", "1,60000"), ("train", "60000")]).unwrap();
    assert_eq!(s.batch_sizes, vec![1, 60_000]);
}

#[test]
fn each_bad_value_names_its_parameter() {
    let cases: &[(&str, &str)] = &[
        ("batch", "0"),
        ("batch", "-4"),
        ("batch", "1.5"),
        ("batch", ""),
        ("batch", "abc"),
        ("batch", "16,64,16"),
        ("epochs", "0"),
        ("epochs", "1000000"),
        ("lr", "0"),
        ("lr", "-0.1"),
        ("lr", "NaN"),
        ("lr", "inf"),
        ("lr", "fast"),
        ("optimizer", "rmsprop<script>"),
        ("seed", "1.5"),
        ("seed", "-1"),
        ("train", "0"),
        ("train", "60001"),
        ("test", "10001"),
        ("backend", "gpu"),
        ("backend", "CPU "),
        ("preset", "slow"),
        ("model", "vgg"),
        ("lrpolicy", "cubic"),
        ("lrref", "0"),
        ("warmup", "-1"),
        ("target", "0"),
        ("target", "1.01"),
        ("target", "NaN"),
        ("endattarget", "yes"),
        ("race", "2"),
        ("budget", "-1"),
        ("budget", "1e9"),
        ("budget", "inf"),
    ];
    for &(parameter, value) in cases {
        let (named, message) = parse(&[(parameter, value)]).unwrap_err();
        assert_eq!(named, parameter, "{parameter}={value}: {message}");
        assert!(message.contains(&format!("“{parameter}”")), "{message}");
    }
}

#[test]
fn a_batch_larger_than_the_training_set_is_refused() {
    let (named, message) = parse(&[("batch", "64,4096"), ("train", "1000")]).unwrap_err();
    assert_eq!(named, "batch");
    assert!(
        message.contains("1000") && message.contains("4096"),
        "{message}"
    );
}
