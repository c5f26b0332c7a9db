//! The six findings, stated from run summaries: a sweep that shows each, and one that shows none.

#![cfg(not(target_arch = "wasm32"))]

use batchlab::findings::findings;
use batchlab::settings::{LrPolicy, Model, Optimizer};
use batchlab::summary::{EndedBy, EvalSet, RunStatus, RunSummary};

/// A finished run: `target` = (epoch, steps, seconds) when 98 % was reached.
fn run(batch: usize, rate: f64, target: Option<(usize, usize, f64)>, last: f64) -> RunSummary {
    let mut s = RunSummary::new(
        batch,
        0.001,
        Optimizer::Adam,
        Model::Lenet5,
        LrPolicy::Fixed,
        0.98,
        EvalSet::Test,
    );
    s.epochs = 5;
    s.samples_per_second = rate;
    s.final_test_accuracy = Some(last);
    s.best_test_accuracy = Some(last);
    if let Some((epoch, steps, seconds)) = target {
        s.target_epoch = Some(epoch);
        s.target_steps = Some(steps);
        s.target_seconds = Some(seconds);
    }
    s.noise_scale = Some(700.0);
    s.end(EndedBy::Epochs);
    s
}

fn diverged(batch: usize) -> RunSummary {
    let mut s = run(batch, 0.0, None, 0.1);
    s.final_test_accuracy = None;
    s.best_test_accuracy = None;
    s.diverged_epoch = Some(2);
    s.end(EndedBy::Diverged);
    s
}

#[test]
fn a_textbook_sweep_shows_all_six() {
    let runs = vec![
        diverged(1),
        run(8, 900.0, Some((1, 1250, 11.0)), 0.985),
        run(64, 2000.0, Some((1, 157, 10.0)), 0.990),
        run(512, 2300.0, Some((4, 80, 17.0)), 0.984),
        run(10_000, 2400.0, None, 0.95),
    ];
    let f = findings(&runs, 10_000);
    assert_eq!(f.len(), 6);
    for finding in &f {
        assert_eq!(finding.shown, Some(true), "{finding:?}");
    }
    assert!(
        f[0].text.contains("batch size 1 diverged in epoch 2"),
        "{}",
        f[0].text
    );
    assert!(
        f[1].text.contains("2.7×") && f[1].text.contains("batch size 8"),
        "{}",
        f[1].text
    );
    assert!(
        f[2].text
            .contains("8: 1, 64: 1, 512: 4, 10,000: not reached in 5"),
        "{}",
        f[2].text
    );
    assert!(
        f[3].text
            .starts_with("Batch size 64 reached 98 % first, in 10.0 s"),
        "{}",
        f[3].text
    );
    assert!(
        f[4].text.contains("Batch size 64 ended best"),
        "{}",
        f[4].text
    );
    // 8 → 64: 8× fewer steps for 8× the batch; 64 → 512: 2× fewer for 8×: diminishing returns.
    assert!(f[5].text.contains("From batch size 64 to 512"), "{}", f[5].text);
    // The fit of S(B) over the three that reached the target, against the noise scale.
    assert!(
        f[5].text.contains("puts the critical batch size at"),
        "{}",
        f[5].text
    );
    // And the regimes it implies for the batch sizes fitted.
    assert!(f[5].text.contains("Shallue et al. 2019's regimes"), "{}", f[5].text);
    assert!(f[5].text.contains("about 700 samples"), "{}", f[5].text);
}

#[test]
fn a_flat_sweep_shows_none_and_says_so() {
    // Every batch size reaches the target in the same epoch, at the same speed, equally well,
    // and steps fall in proportion to the batch size.
    let runs = vec![
        run(16, 1000.0, Some((1, 400, 5.0)), 0.985),
        run(32, 1000.0, Some((1, 200, 5.0)), 0.985),
        run(64, 1000.0, Some((1, 100, 4.0)), 0.985),
    ];
    let f = findings(&runs, 10_000);
    let shown: Vec<Option<bool>> = f.iter().map(|f| f.shown).collect();
    assert_eq!(
        shown,
        vec![
            Some(false),
            Some(false),
            Some(false),
            Some(false),
            Some(false),
            Some(false)
        ],
        "{f:#?}"
    );
    assert!(
        f[3].text
            .contains("No batch size larger than it was clearly"),
        "{}",
        f[3].text
    );
}

#[test]
fn one_run_or_no_target_cannot_tell() {
    let f = findings(&[run(64, 1000.0, None, 0.9)], 10_000);
    assert!(f.iter().all(|f| f.shown.is_none()));
    let f = findings(
        &[run(64, 1000.0, None, 0.9), run(128, 1100.0, None, 0.91)],
        10_000,
    );
    assert_eq!(f[0].shown, None);
    assert_eq!(f[3].shown, None);
    // Running and stopped runs are left out: they had no chance to reach the target.
    let mut running = run(256, 1.0, None, 0.5);
    running.status = RunStatus::Running;
    let mut stopped = run(512, 1.0, None, 0.5);
    stopped.status = RunStatus::Stopped;
    assert!(
        findings(&[run(64, 1.0, None, 0.9), running, stopped], 10_000)[0]
            .shown
            .is_none()
    );
}

#[test]
fn a_fastest_batch_size_within_timing_noise_of_a_neighbour_is_not_called() {
    let runs = vec![
        run(16, 1000.0, Some((1, 100, 0.80)), 0.985),
        run(128, 1200.0, Some((1, 20, 0.78)), 0.985),
        run(512, 1300.0, Some((2, 8, 2.0)), 0.985),
    ];
    let f = &findings(&runs, 10_000)[3];
    assert_eq!(f.shown, Some(false), "{f:?}");
    assert!(
        f.text
            .contains("No batch size smaller than it was clearly (over 10 %) slower"),
        "{}",
        f.text
    );
}

#[test]
fn every_sentence_is_true_to_its_numbers() {
    // Throughput that peaks at 64 and falls after is said to, not to have "risen to 10,000".
    let runs = vec![
        run(1, 400.0, Some((2, 20_000, 50.0)), 0.97),
        run(8, 1500.0, Some((2, 2_500, 14.0)), 0.98),
        run(64, 2600.0, Some((3, 469, 12.0)), 0.98),
        run(512, 1800.0, Some((5, 98, 28.0)), 0.98),
        run(10_000, 1100.0, None, 0.40),
    ];
    let f = findings(&runs, 10_000);
    assert_eq!(f[1].shown, Some(true), "{}", f[1].text);
    assert!(
        f[1].text.contains("rose 6.5× from batch size 1 to its peak at batch size 64, then fell 2.4× by batch size 10,000"),
        "{}",
        f[1].text
    );
    // A fall of 10 % or less after the peak is levelling off, within timing noise: no peak named.
    let level = vec![
        run(1, 346.0, None, 0.10),
        run(8, 963.0, Some((1, 500, 3.0)), 0.96),
        run(64, 1135.0, Some((3, 180, 7.0)), 0.96),
        run(512, 1157.0, None, 0.50),
        run(4_000, 1151.0, None, 0.12),
    ];
    let f2 = &findings(&level, 2_000)[1];
    assert!(f2.text.starts_with("Throughput rose 3.3× from batch size 1 to batch size 4,000"), "{}", f2.text);
    // 8× the batch and 4.8× fewer steps (64 → 512): 60 % of perfect scaling's factor, so no
    // diminishing returns there; 8 → 64 is 5.3× for 8×. Neither is below half.
    assert_eq!(f[5].shown, Some(false), "{}", f[5].text);
    // 3.98× fewer steps for 8× the batch: below half of perfect scaling's factor, said as such
    // (not "saved less than half the steps": it saved 75 % of them, perfect scaling 87.5 %).
    let runs = vec![
        run(8, 1500.0, Some((2, 2_500, 14.0)), 0.98),
        run(64, 2600.0, Some((3, 628, 12.0)), 0.98),
        run(512, 2800.0, Some((5, 300, 28.0)), 0.98),
    ];
    let f = findings(&runs, 10_000);
    assert_eq!(f[5].shown, Some(true), "{}", f[5].text);
    assert!(
        f[5].text.contains("From batch size 8 to 64, 8.0× the batch took only 4.0× fewer steps, less than half the factor"),
        "{}",
        f[5].text
    );
    assert!(!f[5].text.contains("saved less than half the steps"), "{}", f[5].text);
}

/// Each numeric rule, on hand-made summaries either side of its threshold.
#[test]
fn each_rule_holds_on_either_side_of_its_threshold() {
    // Finding 2: the largest batch's throughput over 1.2× the smallest's (rising at half the
    // steps at least).
    let two = |last: f64| {
        let runs = vec![
            run(8, 1000.0, Some((1, 1250, 10.0)), 0.98),
            run(64, 1100.0, Some((1, 157, 10.0)), 0.98),
            run(512, last, Some((2, 40, 10.0)), 0.98),
        ];
        findings(&runs, 10_000)[1].shown
    };
    assert_eq!(two(1190.0), Some(false));
    assert_eq!(two(1210.0), Some(true));
    // Finding 5: a gap in final accuracy above two standard errors of a difference (on 10,000
    // test images near 98 %: 2 × √(2 × 0.98 × 0.02 / 10,000) = 0.396 points).
    let five = |low: f64| {
        let runs = vec![
            run(8, 1000.0, Some((1, 1250, 10.0)), 0.98),
            run(64, 2000.0, Some((1, 157, 9.0)), low),
        ];
        findings(&runs, 10_000)[4].shown
    };
    assert_eq!(five(0.9762), Some(false), "a 0.38-point gap is within the noise");
    assert_eq!(five(0.9758), Some(true), "a 0.42-point gap is not");
    // Finding 6: fewer steps by less than half the factor of batch size.
    let six = |steps_at_64: usize| {
        let runs = vec![
            run(8, 1000.0, Some((1, 1000, 10.0)), 0.98),
            run(64, 2000.0, Some((1, steps_at_64, 9.0)), 0.98),
        ];
        findings(&runs, 10_000)[5].shown
    };
    assert_eq!(six(245), Some(false), "8× the batch, 4.08× fewer steps: over half of 8×");
    assert_eq!(six(255), Some(true), "8× the batch, 3.92× fewer steps: under half");
}
