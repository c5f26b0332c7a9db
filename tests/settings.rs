//! The URL parameters: defaults, valid values, and a refusal naming the parameter for each bad one.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use batchlab::backend::{Backend, BackendPreference};
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
        ("seeds", "2"),
        ("baseline", "fixed"),
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
            val_size: 10_000,
            eval_points: 8,
            backend: BackendPreference::Cpu,
            model: Model::Theano,
            lr_policy: LrPolicy::Linear,
            lr_reference_batch: 256,
            warmup_epochs: 2,
            lr_grid: None,
            lr_trial_epochs: 1,
            target: 0.97,
            end_at_target: true,
            run_budget_seconds: 90.0,
            race: false,
            race_auto: false,
            seeds: 2,
            baseline: Some(LrPolicy::Fixed),
        }
    );
    // `true`/`false` read as `1`/`0`.
    assert!(!parse(&[("race", "false")]).unwrap().race);
}

#[test]
fn left_out_race_is_side_by_side_on_the_cpu_and_one_after_another_on_a_gpu() {
    let resolved = |query: &[(&str, &str)], backend| {
        let mut s = parse(query).unwrap();
        s.resolve_race(backend);
        (s.race, s.race_auto)
    };
    assert!(parse(&[]).unwrap().race_auto);
    assert_eq!(resolved(&[], Backend::Cpu), (true, true));
    assert_eq!(resolved(&[], Backend::Webgpu), (false, true));
    assert_eq!(resolved(&[], Backend::Cuda), (false, true));
    // A `race` the link gave is kept on every backend.
    assert_eq!(resolved(&[("race", "1")], Backend::Webgpu), (true, false));
    assert_eq!(resolved(&[("race", "0")], Backend::Cpu), (false, false));
    // A sweep saved before `raceAuto` existed keeps its `race`.
    let old: Settings = serde_json::from_str(r#"{"race":true}"#).unwrap();
    assert!(!old.race_auto);
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
        vec![1, 4, 16, 64, 256, 1024, 4096, 50_000]
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

#[test]
fn the_validation_images_are_held_out_from_the_end_of_the_training_file() {
    // 10,000 by default, the Theano tutorial's split; the target is measured on them.
    let s = parse(&[]).unwrap();
    assert_eq!((s.val_size, s.target_set()), (10_000, "validation"));
    assert_eq!(parse(&[("val", "2500")]).unwrap().val_size, 2500);
    // `val=0`: none, the target on the test set (as before the split).
    let none = parse(&[("val", "0")]).unwrap();
    assert_eq!((none.val_size, none.target_set()), (0, "test"));
    // Not given, as many as fit after the training images: old links still open.
    assert_eq!(parse(&[("train", "55000")]).unwrap().val_size, 5000);
    assert_eq!(parse(&[("train", "60000")]).unwrap().val_size, 0);
    // The replica trains on the first 50,000 and validates on the last 10,000.
    let replica = parse(&[("preset", "replica")]).unwrap();
    assert_eq!((replica.train_size, replica.val_size), (50_000, 10_000));
    assert_eq!(*replica.batch_sizes.last().unwrap(), 50_000, "full is the training set");
    // Given, it may not overlap the training images, nor pass the last part of the file.
    let (parameter, message) = parse(&[("train", "55000"), ("val", "10000")]).unwrap_err();
    assert_eq!(parameter, "val");
    assert!(message.contains("at most 5000"), "{message}");
    assert_eq!(parse(&[("val", "10001")]).unwrap_err().0, "val");
    assert_eq!(parse(&[("val", "-1")]).unwrap_err().0, "val");
    assert_eq!(parse(&[("val", "a")]).unwrap_err().0, "val");
}

#[test]
fn settings_saved_before_the_validation_split_read_as_none() {
    let mut old = serde_json::to_value(Settings::default()).unwrap();
    old.as_object_mut().unwrap().remove("valSize");
    let read: Settings = serde_json::from_value(old).unwrap();
    assert_eq!((read.val_size, read.target_set()), (0, "test"));
}

#[test]
fn a_tuned_learning_rate_takes_a_grid_and_needs_validation_images() {
    use batchlab::settings::LrGrid;
    let s = parse(&[("lrpolicy", "tuned"), ("lrgrid", "0.001,1,4"), ("lrtrial", "2"), ("epochs", "3")]).unwrap();
    assert_eq!(s.lr_policy, LrPolicy::Tuned);
    assert_eq!(s.lr_grid(), LrGrid { min: 0.001, max: 1.0, count: 4 });
    let rates = s.lr_grid().rates();
    let expected = [0.001, 0.01, 0.1, 1.0];
    for (r, e) in rates.iter().zip(expected) {
        assert!((r / e - 1.0).abs() < 1e-12, "{rates:?}");
    }
    assert_eq!(s.lr_trial_epochs, 2);
    // The optimiser's default grid: 7 rates over 3 decades.
    let adam = parse(&[("lrpolicy", "tuned")]).unwrap().lr_grid();
    assert_eq!((adam.min, adam.max, adam.count), (1e-5, 1e-2, 7));
    let sgd = parse(&[("lrpolicy", "tuned"), ("optimizer", "sgd")]).unwrap().lr_grid();
    assert_eq!((sgd.min, sgd.max, sgd.count), (1e-3, 1.0, 7));
    // Refusals name the parameter.
    for (query, parameter) in [
        (vec![("lrgrid", "1,0.1,3")], "lrgrid"),
        (vec![("lrgrid", "0,1,3")], "lrgrid"),
        (vec![("lrgrid", "0.1,1,0")], "lrgrid"),
        (vec![("lrgrid", "0.1,1,16")], "lrgrid"),
        (vec![("lrgrid", "0.1,1")], "lrgrid"),
        (vec![("lrtrial", "4"), ("epochs", "3")], "lrtrial"),
        (vec![("lrtrial", "0")], "lrtrial"),
        (vec![("lrpolicy", "tuned"), ("val", "0")], "lrpolicy"),
    ] {
        assert_eq!(parse(&query).unwrap_err().0, parameter, "{query:?}");
    }
}

#[test]
fn the_plan_repeats_every_batch_size_per_seed_and_arm_and_labels_each_run() {
    // One seed, one arm: one run per batch size, labelled by its batch size alone (no series).
    let one = parse(&[("batch", "8,64"), ("seed", "5")]).unwrap().plan();
    assert_eq!(one.len(), 2);
    assert!(one.iter().all(|p| p.series.is_none() && p.seed == 5 && p.lr_policy == LrPolicy::Fixed));
    // Two seeds and a baseline: seed by seed, the baseline's arm first; both arms share seeds.
    let plan = parse(&[
        ("batch", "8,64"),
        ("seed", "5"),
        ("seeds", "2"),
        ("lrpolicy", "tuned"),
        ("baseline", "fixed"),
    ])
    .unwrap()
    .plan();
    let got: Vec<(usize, LrPolicy, u64, String)> = plan
        .into_iter()
        .map(|p| (p.batch_size, p.lr_policy, p.seed, p.series.unwrap()))
        .collect();
    let want = |b: usize, policy: LrPolicy, seed: u64, label: &str| (b, policy, seed, label.to_string());
    assert_eq!(
        got,
        vec![
            want(8, LrPolicy::Fixed, 5, "8 (fixed lr, seed 5)"),
            want(64, LrPolicy::Fixed, 5, "64 (fixed lr, seed 5)"),
            want(8, LrPolicy::Tuned, 5, "8 (tuned lr, seed 5)"),
            want(64, LrPolicy::Tuned, 5, "64 (tuned lr, seed 5)"),
            want(8, LrPolicy::Fixed, 6, "8 (fixed lr, seed 6)"),
            want(64, LrPolicy::Fixed, 6, "64 (fixed lr, seed 6)"),
            want(8, LrPolicy::Tuned, 6, "8 (tuned lr, seed 6)"),
            want(64, LrPolicy::Tuned, 6, "64 (tuned lr, seed 6)"),
        ]
    );
    // Seeds alone: labelled by seed.
    let seeds = parse(&[("batch", "8"), ("seeds", "3")]).unwrap().plan();
    let labels: Vec<_> = seeds.iter().map(|p| p.series.clone().unwrap()).collect();
    assert_eq!(labels, ["8 (seed 42)", "8 (seed 43)", "8 (seed 44)"]);
}

#[test]
fn seeds_and_baselines_out_of_range_are_refused_by_name() {
    for (params, parameter, says) in [
        (vec![("seeds", "0")], "seeds", "from 1 to 10"),
        (vec![("seeds", "11")], "seeds", "from 1 to 10"),
        (vec![("seeds", "2.5")], "seeds", "2.5"),
        (vec![("baseline", "tuned"), ("lrpolicy", "fixed")], "baseline", "lrpolicy=tuned"),
        (vec![("baseline", "fixed")], "baseline", "must differ"),
        (vec![("baseline", "best")], "baseline", "none, fixed, linear or sqrt"),
        (vec![("seed", "9007199254740991"), ("seeds", "2")], "seed", "seed + seeds"),
    ] {
        let (name, message) = parse(&params).unwrap_err();
        assert_eq!(name, parameter, "{params:?}: {message}");
        assert!(message.contains(says), "{params:?}: {message}");
    }
    assert_eq!(parse(&[("baseline", "none")]).unwrap().baseline, None);
    // A sweep saved before seeds and baselines existed reads as one seed, one arm.
    let old: Settings = serde_json::from_str(r#"{"batchSizes":[8],"batch":"8"}"#).unwrap();
    assert_eq!((old.seeds, old.baseline), (1, None));
}

#[test]
fn the_fair_preset_pairs_the_naive_and_the_tuned_arm_over_three_seeds() {
    let fair = parse(&[("preset", "fair")]).unwrap();
    assert_eq!(fair, Preset::Fair.settings());
    assert_eq!(fair.lr_policy, LrPolicy::Tuned);
    assert_eq!(fair.baseline, Some(LrPolicy::Fixed));
    assert_eq!(fair.seeds, 3);
    assert_eq!(fair.batch_sizes, [1, 8, 64, 512, fair.train_size]);
    assert!(fair.val_size > 0);
    assert_eq!(fair.plan().len(), 3 * 2 * 5);
}
