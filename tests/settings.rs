//! The URL parameters: defaults, valid values, and a refusal naming the parameter for each bad one.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use batchlab::backend::BackendPreference;
use batchlab::settings::{Optimizer, Settings};

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
        ("autorun", "1"),
    ])
    .unwrap();
    assert_eq!(
        s,
        Settings {
            batch_sizes: vec![16, 128],
            epochs: 2,
            learning_rate: 0.05,
            optimizer: Optimizer::Momentum,
            seed: 7,
            train_size: 2000,
            test_size: 1000,
            backend: BackendPreference::Cpu,
        }
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
    ];
    for &(parameter, value) in cases {
        let (named, message) = parse(&[(parameter, value)]).unwrap_err();
        assert_eq!(named, parameter, "{parameter}={value}: {message}");
        assert!(message.contains(&format!("`{parameter}`")), "{message}");
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
