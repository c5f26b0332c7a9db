//! Each optimiser against updates computed by hand from its formula (`src/optim/`), on a
//! module of four weights whose loss `Σ wᵢ cᵢ` has the gradient `c`, a different `c` each step.

#![cfg(not(target_arch = "wasm32"))]

#[path = "shared/adam.rs"]
mod adam_check;

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

/// Held while a test draws from the CPU backend's generator (one for the whole process): the
/// tests of this file run on parallel threads.
static GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A LeNet-5's weights and `optim` after `steps` steps on random gradients (the loss `Σ w·c`
/// with a fresh random `c` per weight each step), on the CPU backend, seeded.
fn stepped(optim: &mut burn::optim::ModuleOptimizer, steps: usize) -> batchlab::model::Network {
    use burn::tensor::Distribution;
    let _drawing = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex().autodiff();
    device.seed(7);
    let mut network = batchlab::model::Network::new(batchlab::model::Model::Lenet5, &device);
    struct Loss(Vec<Tensor<1>>);
    impl burn::module::ModuleVisitor for Loss {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let w = param.val();
            let c = Tensor::<D>::random(w.shape(), Distribution::Normal(0.0, 1.0), &w.device());
            self.0.push((w * c).sum());
        }
    }
    for _ in 0..steps {
        let mut loss = Loss(Vec::new());
        network.visit(&mut loss);
        let loss = Tensor::cat(loss.0, 0).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &network);
        network = optim.step(LR, network, grads);
    }
    // burn draws the weights lazily: drawn before the generator is let go.
    weights(&network);
    network
}

/// Every weight of `network`, in order.
fn weights(network: &batchlab::model::Network) -> Vec<u32> {
    struct All(Vec<u32>);
    impl burn::module::ModuleVisitor for All {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let v = param.val().into_data().try_into_vec::<f32>().unwrap();
            self.0.extend(v.iter().map(|x| x.to_bits()));
        }
    }
    let mut all = All(Vec::new());
    network.visit(&mut all);
    all.0
}

/// Adam's update is fused here (src/optim/adam.rs: one loop on the CPU backend), the others are
/// written step for step: all give burn's weights to the bit.
#[test]
fn momentum_nesterov_adagrad_and_adam_step_to_the_bit_as_burns_own() {
    use burn::optim::momentum::MomentumConfig;
    use burn::optim::{AdaGradConfig, AdamConfig, ModuleOptimizer, SgdConfig};
    let burns = |nesterov| {
        ModuleOptimizer::from(
            SgdConfig::new()
                .with_momentum(Some(
                    MomentumConfig::new()
                        .with_momentum(batchlab::optim::MOMENTUM)
                        .with_dampening(0.0)
                        .with_nesterov(nesterov),
                ))
                .build(),
        )
    };
    let pairs = [
        (Optimizer::Momentum, burns(false)),
        (Optimizer::Nesterov, burns(true)),
        (Optimizer::Adagrad, ModuleOptimizer::from(AdaGradConfig::new().build())),
        (Optimizer::Adam, ModuleOptimizer::from(AdamConfig::new().build())),
    ];
    let same = weights(&stepped(&mut build(Optimizer::Sgd), 2));
    let again = weights(&stepped(&mut build(Optimizer::Sgd), 2));
    assert_eq!(same.iter().zip(&again).filter(|(x, y)| x != y).count(), 0, "not reproducible");
    for (ours, mut theirs) in pairs {
        let network = stepped(&mut build(ours), 4);
        let a = weights(&network);
        let b = weights(&stepped(&mut theirs, 4));
        assert!(a.len() > 60_000, "{} weights", a.len());
        let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        assert_eq!(differ, 0, "{ours:?}: {differ} of {} weights differ from burn's steps", a.len());
        // burn's record of its state (as checkpoints of earlier versions hold it) is read by
        // ours under the same names, and steps on alike.
        let bytes = theirs.into_bytes().unwrap().to_vec();
        let mut read = batchlab::optim::load_state(ours, &bytes, &Device::flex()).unwrap();
        let a = weights(&stepped_from(&mut read, network.clone()));
        let b = weights(&stepped_from(&mut theirs, network));
        assert_eq!(a, b, "{ours:?}: burn's state read back steps differently");
    }
}

#[test]
fn every_optimisers_state_written_from_one_read_equals_burns_own_writing() {
    use batchlab::optim::{list_state, load_state, save_state};
    for optimizer in [
        Optimizer::Sgd,
        Optimizer::Momentum,
        Optimizer::Nesterov,
        Optimizer::Rmsprop,
        Optimizer::Adagrad,
        Optimizer::Adam,
        Optimizer::Rprop,
    ] {
        let mut optim = build(optimizer);
        let network = stepped(&mut optim, 3);
        // The state's tensors listed (nothing read), read back in one read, written from it.
        let (layout, tensors) = list_state(&optim);
        let expected_tensors = match optimizer {
            Optimizer::Sgd => 0,
            Optimizer::Momentum | Optimizer::Nesterov | Optimizer::Adagrad => 10,
            Optimizer::Rmsprop | Optimizer::Adam | Optimizer::Rprop => 20,
        };
        assert_eq!(tensors.len(), expected_tensors, "{optimizer:?}");
        let values = if tensors.is_empty() {
            Vec::new()
        } else {
            Tensor::cat(tensors, 0).into_data().try_into_vec::<f32>().unwrap()
        };
        assert_eq!(values.len(), layout.len());
        let written = save_state(&optim, &layout, &values).unwrap();
        // burn's own writing reads each tensor back synchronously: the same bytes.
        assert_eq!(written, optim.into_bytes().unwrap().to_vec(), "{optimizer:?}");
        // Values that do not fit the layout are refused in words.
        let short = save_state(&optim, &layout, &values[..values.len().saturating_sub(1)]);
        if !values.is_empty() {
            assert!(short.unwrap_err().contains("values read back"), "{optimizer:?}");
        }
        // Read back, the state steps on exactly as the optimiser it was written from.
        let device = Device::flex();
        let mut loaded = load_state(optimizer, &written, &device).unwrap();
        let a = weights(&stepped_from(&mut optim, network.clone()));
        let b = weights(&stepped_from(&mut loaded, network));
        assert_eq!(a, b, "{optimizer:?}: the state read back steps differently");
    }
}

/// `network` after one more step of `optim` (the gradient: all ones).
fn stepped_from(
    optim: &mut burn::optim::ModuleOptimizer,
    network: batchlab::model::Network,
) -> batchlab::model::Network {
    struct Loss(Vec<Tensor<1>>);
    impl burn::module::ModuleVisitor for Loss {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.val().sum());
        }
    }
    let mut loss = Loss(Vec::new());
    network.visit(&mut loss);
    let loss = Tensor::cat(loss.0, 0).sum();
    let grads = GradientsParams::from_grads(loss.backward(), &network);
    optim.step(LR, network, grads)
}

/// The CPU backend's fused Adam update writes its buffers in place, but never one that another
/// tensor still holds (copy-on-write), takes a strided (transposed) gradient, and gives burn's
/// operations' values to the bit — for a size that is not a multiple of four (the browser's
/// SIMD path leaves a remainder; tests/webgpu.rs runs the same check there).
#[test]
fn the_fused_adam_update_on_the_cpu_writes_only_what_it_owns_and_gives_burns_values() {
    adam_check::fused_adam_on_the_cpu_gives_burns_values_and_writes_only_what_it_owns();
}

/// The CPU backend's fused Adam update writes the parameter and both moments into their own
/// buffers when nothing else holds them (no allocation per step), and into fresh ones when
/// another tensor does.
#[test]
fn the_fused_adam_update_on_the_cpu_reuses_buffers_it_owns_and_copies_shared_ones() {
    use batchlab::optim::adam::FusedAdam;
    use burn::backend::Flex;
    use burn::backend::flex::FlexTensor;
    use burn::tensor::TensorData;
    let tensor = |k: f32| FlexTensor::from_data(TensorData::new((0..1001).map(|i| (i as f32 * k).cos().abs()).collect::<Vec<f32>>(), [7, 143]));
    let address = |t: &FlexTensor| t.bytes().as_ptr() as usize;
    // [β₁, 1−β₁, β₂, 1−β₂, step factor, ε̂, learning rate] (AdamScalars' order).
    let s = [0.9, 0.1, 0.999, 0.001, 1.0, 1e-5, 0.01];
    let (p, m, v) = (tensor(0.3), tensor(0.7), tensor(1.1));
    let before = [address(&p), address(&m), address(&v)];
    let (p, m, v) = <Flex as FusedAdam>::adam_update(p, tensor(1.9), m, v, s);
    assert_eq!([address(&p), address(&m), address(&v)], before, "owned buffers were not written in place");
    // Another tensor holds the parameter's buffer: the update writes a copy and leaves it.
    let held = p.clone();
    let held_values = held.storage::<f32>().to_vec();
    let before = address(&p);
    let (p, _, _) = <Flex as FusedAdam>::adam_update(p, tensor(2.3), m, v, s);
    assert_ne!(address(&p), before, "a shared buffer was written in place");
    assert_eq!(held.storage::<f32>(), &held_values[..], "the held tensor changed");
    assert_ne!(p.storage::<f32>(), &held_values[..], "the parameter did not move");
}
