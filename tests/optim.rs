//! Each optimiser against updates computed by hand from its formula (`src/optim.rs`), on a
//! module of four weights whose loss `Σ wᵢ cᵢ` has the gradient `c`, a different `c` each step.

#![cfg(not(target_arch = "wasm32"))]

use batchlab::optim::build;
use batchlab::settings::Optimizer;
use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};

#[derive(Module, Debug)]
struct Weights {
    w: Param<Tensor<1>>,
}

const W0: [f64; 4] = [0.5, -0.25, 1.0, 0.0];
/// The gradient of each step: signs that stay, flip, and a zero.
const GRADIENTS: [[f64; 4]; 3] = [
    [1.0, -2.0, 0.5, 0.0],
    [2.0, 1.0, 0.25, -1.0],
    [0.5, 3.0, -1.0, -2.0],
];
const LR: f64 = 0.1;

/// The weights after each step of `optimizer`, run by burn.
fn run(optimizer: Optimizer) -> Vec<[f64; 4]> {
    let device = Device::flex().autodiff();
    let w0: Vec<f32> = W0.iter().map(|&v| v as f32).collect();
    let mut module = Weights {
        w: Param::from_tensor(Tensor::from_floats(w0.as_slice(), &device)),
    };
    let mut optim = build(optimizer);
    let mut out = Vec::new();
    for c in GRADIENTS {
        let c: Vec<f32> = c.iter().map(|&v| v as f32).collect();
        let loss = (module.w.val() * Tensor::from_floats(c.as_slice(), &device)).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &module);
        module = optim.step(LR, module, grads);
        let w = module.w.val().into_data().try_into_vec::<f32>().unwrap();
        out.push([w[0] as f64, w[1] as f64, w[2] as f64, w[3] as f64]);
    }
    out
}

/// Applies `update(step, i, g) -> Δw` (with its own state) to W0 for each step, as `w -= Δw`.
fn by_hand(mut update: impl FnMut(usize, usize, f64) -> f64) -> Vec<[f64; 4]> {
    let mut w = W0;
    let mut out = Vec::new();
    for (t, c) in GRADIENTS.iter().enumerate() {
        for i in 0..4 {
            w[i] -= update(t, i, c[i]);
        }
        out.push(w);
    }
    out
}

fn assert_close(optimizer: Optimizer, expected: &[[f64; 4]]) {
    let actual = run(optimizer);
    for (step, (a, e)) in actual.iter().zip(expected).enumerate() {
        for i in 0..4 {
            assert!(
                (a[i] - e[i]).abs() <= 1e-5 * (1.0 + e[i].abs()),
                "{optimizer:?} step {}: weight {i} is {} by burn, {} by hand ({a:?} vs {e:?})",
                step + 1,
                a[i],
                e[i]
            );
        }
    }
    // The weights did move (the comparison is not between two untouched vectors).
    assert!(expected.last().unwrap() != &W0);
}

#[test]
fn sgd_steps_against_the_gradient() {
    assert_close(Optimizer::Sgd, &by_hand(|_, _, g| LR * g));
}

#[test]
fn momentum_accumulates_a_velocity() {
    let mut v = [0.0; 4];
    let expected = by_hand(|_, i, g| {
        v[i] = 0.9 * v[i] + g;
        LR * v[i]
    });
    assert_close(Optimizer::Momentum, &expected);
}

#[test]
fn nesterov_looks_ahead_along_the_velocity() {
    let mut v = [0.0; 4];
    let expected = by_hand(|_, i, g| {
        v[i] = 0.9 * v[i] + g;
        LR * (g + 0.9 * v[i])
    });
    assert_close(Optimizer::Nesterov, &expected);
}

#[test]
fn rmsprop_divides_by_a_running_rms() {
    let mut s = [0.0; 4];
    let expected = by_hand(|_, i, g| {
        s[i] = 0.99 * s[i] + 0.01 * g * g;
        LR * g / (s[i].sqrt() + 1e-5)
    });
    assert_close(Optimizer::Rmsprop, &expected);
}

#[test]
fn adagrad_divides_by_the_root_of_summed_squares() {
    let mut s = [0.0; 4];
    let expected = by_hand(|_, i, g| {
        s[i] += g * g;
        LR * g / (s[i].sqrt() + 1e-5)
    });
    assert_close(Optimizer::Adagrad, &expected);
}

#[test]
fn adam_uses_bias_corrected_moments() {
    let (mut m, mut v) = ([0.0; 4], [0.0; 4]);
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-5);
    let expected = by_hand(|t, i, g| {
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        let n = t as i32 + 1;
        let (m_hat, v_hat) = (m[i] / (1.0 - b1.powi(n)), v[i] / (1.0 - b2.powi(n)));
        LR * m_hat / (v_hat.sqrt() + eps)
    });
    assert_close(Optimizer::Adam, &expected);
}

#[test]
fn irprop_minus_grows_shrinks_and_skips_by_sign() {
    // Initial step size = the learning rate; η+ 1.2, η− 0.5; a sign flip shrinks the step,
    // skips the move and forgets the gradient (iRprop−); sign(0) = 0 moves nothing.
    let mut step = [LR; 4];
    let mut previous = [0.0f64; 4];
    let expected = by_hand(|t, i, g| {
        let mut g = g;
        if t > 0 {
            let product = g * previous[i];
            if product > 0.0 {
                step[i] = (step[i] * 1.2).min(50.0);
            } else if product < 0.0 {
                step[i] = (step[i] * 0.5).max(1e-6);
                g = 0.0;
            }
        }
        previous[i] = g;
        g.signum() * if g == 0.0 { 0.0 } else { step[i] }
    });
    // By hand, for weight 1: −0.25 → +0.1·sign(−2) = −0.15 → flip: no move → step stays 0.05 (not
    // grown: the remembered gradient is 0) → −0.15 − 0.05 = −0.2.
    assert!((expected[2][1] - -0.2).abs() < 1e-12, "{expected:?}");
    assert_close(Optimizer::Rprop, &expected);
}
