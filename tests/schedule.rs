//! Learning rate across batch sizes: fixed, linear scaling with warm-up, square-root scaling.

#![cfg(not(target_arch = "wasm32"))]

use batchlab::schedule::LrSchedule;
use batchlab::settings::LrPolicy;

#[test]
fn fixed_is_the_same_for_every_batch_size() {
    for b in [1, 64, 60_000] {
        let s = LrSchedule::new(LrPolicy::Fixed, 0.01, 64, b, 5, 100);
        assert_eq!((s.peak, s.warmup_steps, s.at(0)), (0.01, 0, 0.01));
    }
}

#[test]
fn linear_scales_with_the_batch_after_a_warm_up() {
    // Goyal et al. 2017: lr = 0.1 × B / 256, reached after 5 epochs of linear warm-up.
    let s = LrSchedule::new(LrPolicy::Linear, 0.1, 256, 8192, 5, 10);
    assert!((s.peak - 3.2).abs() < 1e-12);
    assert_eq!(s.warmup_steps, 50);
    assert_eq!(s.at(0), 0.1);
    assert!((s.at(25) - (0.1 + 3.1 / 2.0)).abs() < 1e-12);
    assert_eq!(s.at(50), 3.2);
    assert_eq!(s.at(1000), 3.2);
    // Below the reference batch the rate shrinks, with no warm-up.
    let small = LrSchedule::new(LrPolicy::Linear, 0.1, 256, 64, 5, 10);
    assert!((small.peak - 0.025).abs() < 1e-12);
    assert_eq!((small.warmup_steps, small.at(0)), (0, small.peak));
}

#[test]
fn square_root_scales_with_the_root_of_the_batch_ratio() {
    let s = LrSchedule::new(LrPolicy::Sqrt, 0.001, 64, 1024, 5, 10);
    assert!((s.peak - 0.004).abs() < 1e-12);
    assert_eq!(s.warmup_steps, 0);
}
