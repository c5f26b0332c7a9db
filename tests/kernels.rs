//! The CPU backend's custom convolution and max-pooling (src/kernels.rs) against burn's own
//! `conv2d` and `max_pool2d` on the same backend: values and gradients to 1e-4 relative, ties
//! and NaN in pooling, and a short training run's losses.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use batchlab::kernels::{conv2d, is_flex, max_pool2x2, relu_max_pool2x2};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::activation::relu;
use burn::tensor::loss::cross_entropy_with_logits;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

/// Equal to 1e-4 relative, in the max-norm: `max|a − b| ≤ 1e-4 · max(1, max|b|)`, with NaN where
/// `b` has NaN (the error of a sum of many products grows with the size of its terms, not of
/// the result: an element that cancels to near zero is compared at the tensor's scale).
fn assert_close(what: &str, a: Tensor<4>, b: Tensor<4>) {
    assert_eq!(a.dims(), b.dims(), "{what}: shapes");
    let a = a.into_data().try_into_vec::<f32>().unwrap();
    let b = b.into_data().try_into_vec::<f32>().unwrap();
    let scale = b.iter().filter(|v| v.is_finite()).fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-4 * scale || (x.is_nan() && y.is_nan()),
            "{what}: element {i}: custom {x}, burn {y} (scale {scale})"
        );
    }
}

fn conv(channels: [usize; 2], kernel: [usize; 2], padding: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new(channels, kernel)
        .with_padding(PaddingConfig2d::Explicit(padding, padding, padding, padding))
        .init(device)
}

/// The custom convolution's output and its gradients for the input, the weight and the bias,
/// against burn's, for `x [batch, channels, height, width]` and a random upstream gradient.
fn check_conv(shape: [usize; 4], out_channels: usize, kernel: [usize; 2], padding: usize) {
    let device = Device::flex().autodiff();
    device.seed(7);
    let layer = conv([shape[1], out_channels], kernel, padding, &device);
    let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device).require_grad();
    let ours = conv2d(&layer, x.clone());
    let theirs = layer.forward(x.clone());
    let what = format!("conv {shape:?} → {out_channels}, kernel {kernel:?}, padding {padding}");
    let upstream = Tensor::<4>::random(theirs.dims(), Distribution::Normal(0.0, 1.0), &device);
    let (ours_grads, theirs_grads) = (
        (ours.clone() * upstream.clone()).sum().backward(),
        (theirs.clone() * upstream).sum().backward(),
    );
    assert_close(&format!("{what}: output"), ours.inner(), theirs.inner());
    let grad = |grads: &_, t: &Tensor<4>| t.grad(grads).expect("a gradient");
    assert_close(
        &format!("{what}: input gradient"),
        grad(&ours_grads, &x),
        grad(&theirs_grads, &x),
    );
    let weight = layer.weight.val();
    assert_close(
        &format!("{what}: weight gradient"),
        grad(&ours_grads, &weight),
        grad(&theirs_grads, &weight),
    );
    let bias = layer.bias.as_ref().unwrap().val();
    let (b1, b2) = (bias.grad(&ours_grads).unwrap(), bias.grad(&theirs_grads).unwrap());
    assert_close(
        &format!("{what}: bias gradient"),
        b1.reshape([1, 1, 1, out_channels]),
        b2.reshape([1, 1, 1, out_channels]),
    );
}

#[test]
fn the_custom_operations_run_on_the_cpu_backend_only() {
    assert!(is_flex(&Device::flex()));
    assert!(is_flex(&Device::flex().autodiff()));
}

#[test]
fn convolution_matches_burns_for_lenet5s_layers() {
    check_conv([5, 1, 28, 28], 6, [5, 5], 2); // LeNet-5's conv1
    check_conv([5, 6, 14, 14], 16, [5, 5], 0); // LeNet-5's conv2
}

#[test]
fn convolution_matches_burns_for_the_theano_lenets_layers() {
    check_conv([3, 1, 28, 28], 20, [5, 5], 0);
    check_conv([3, 20, 12, 12], 50, [5, 5], 0);
}

#[test]
fn convolution_matches_burns_for_other_shapes() {
    // Non-square input, a non-square kernel, padding wider than the kernel's reach at the edge.
    check_conv([2, 3, 7, 9], 4, [3, 2], 1);
    check_conv([1, 2, 4, 5], 3, [3, 3], 3);
    check_conv([2, 1, 5, 5], 2, [5, 5], 0); // one output pixel
}

#[test]
fn convolution_matches_burns_over_several_chunks_of_images() {
    // The custom convolution takes a batch a chunk of images at a time (about 2^20 im2col values
    // each: 53 images of LeNet-5's conv1, 69 of its conv2): batches that need two chunks.
    check_conv([60, 1, 28, 28], 6, [5, 5], 2);
    check_conv([75, 6, 14, 14], 16, [5, 5], 0);
}

fn check_pool(x: Tensor<4>) {
    check_pool_of(x.clone(), false);
    check_pool_of(x, true);
}

/// The custom pooling (after a ReLU when `relu`) against burn's `max_pool2d` (of burn's `relu`).
fn check_pool_of(x: Tensor<4>, relu_first: bool) {
    let pool = MaxPool2dConfig::new([2, 2]).init();
    let x = x.require_grad();
    let (ours, theirs) = if relu_first {
        (relu_max_pool2x2(&pool, x.clone()), pool.forward(relu(x.clone())))
    } else {
        (max_pool2x2(&pool, x.clone()), pool.forward(x.clone()))
    };
    let upstream = Tensor::<4>::random(theirs.dims(), Distribution::Normal(0.0, 1.0), &x.device());
    let ours_grads = (ours.clone() * upstream.clone()).sum().backward();
    let theirs_grads = (theirs.clone() * upstream).sum().backward();
    let what = format!("pool {:?}{}", x.dims(), if relu_first { " after ReLU" } else { "" });
    assert_close(&format!("{what}: output"), ours.inner(), theirs.inner());
    assert_close(
        &format!("{what}: input gradient"),
        x.grad(&ours_grads).unwrap(),
        x.grad(&theirs_grads).unwrap(),
    );
}

#[test]
fn pooling_matches_burns_values_and_gradients() {
    let device = Device::flex().autodiff();
    device.seed(3);
    for shape in [[4, 6, 28, 28], [2, 16, 10, 10], [3, 2, 7, 9], [1, 1, 2, 2]] {
        check_pool(Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device));
    }
}

#[test]
fn pooling_breaks_ties_and_passes_nan_as_burn_does() {
    let device = Device::flex().autodiff();
    // Ties (ReLU's zeros): the whole gradient goes to the first maximum of each window.
    let ties = Tensor::<4>::from_data(
        TensorData::new(vec![0.0f32, 0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 1.0], [1, 2, 2, 2]),
        &device,
    );
    check_pool(ties.clone());
    let pool = MaxPool2dConfig::new([2, 2]).init();
    let x = ties.require_grad();
    let grads = max_pool2x2(&pool, x.clone()).sum().backward();
    let grad = x.grad(&grads).unwrap().into_data().try_into_vec::<f32>().unwrap();
    assert_eq!(grad, vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    // A NaN in a window is that window's maximum.
    let nan = Tensor::<4>::from_data(
        TensorData::new(vec![1.0f32, f32::NAN, 3.0, 2.0], [1, 1, 2, 2]),
        &device.clone().inner(),
    );
    let out = max_pool2x2(&pool, nan.clone()).into_data().try_into_vec::<f32>().unwrap();
    assert!(out[0].is_nan(), "{out:?}");
    let out = relu_max_pool2x2(&pool, nan).into_data().try_into_vec::<f32>().unwrap();
    assert!(out[0].is_nan(), "{out:?}");
    // Windows of ReLU zeros (all inputs ≤ 0): output 0, and no gradient at all.
    let negative = Tensor::<4>::from_data(
        TensorData::new(vec![-1.0f32, -2.0, 0.0, -3.0], [1, 1, 2, 2]),
        &device,
    )
    .require_grad();
    check_pool_of(negative.clone(), true);
    let grads = relu_max_pool2x2(&pool, negative.clone()).sum().backward();
    let grad = negative.grad(&grads).unwrap().into_data().try_into_vec::<f32>().unwrap();
    assert_eq!(grad, vec![0.0; 4]);
}

#[test]
fn other_float_types_fall_back_to_burns_operations() {
    // The custom operations take f32; an f16 network is left to burn's own (found by a review:
    // it panicked before).
    use burn::module::Param;
    use burn::tensor::DType;
    let device = Device::flex().autodiff();
    let mut layer = conv([2, 3], [3, 3], 1, &device);
    layer.weight = Param::from_tensor(layer.weight.val().cast(DType::F16).detach());
    let bias = layer.bias.as_ref().unwrap().val().cast(DType::F16).detach();
    layer.bias = Some(Param::from_tensor(bias));
    let x = Tensor::<4>::random([2, 2, 6, 6], Distribution::Normal(0.0, 1.0), &device)
        .cast(DType::F16);
    let ours = conv2d(&layer, x.clone());
    assert_eq!(ours.dtype(), DType::F16);
    assert_eq!(ours.dims(), [2, 3, 6, 6]);
    let pool = MaxPool2dConfig::new([2, 2]).init();
    assert_eq!(relu_max_pool2x2(&pool, x.clone()).dims(), [2, 2, 3, 3]);
    assert_eq!(max_pool2x2(&pool, x).dtype(), DType::F16);
}

/// LeNet-5's layers, run either through burn's own operations or the custom ones.
#[derive(Module, Debug)]
struct Net {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc: Linear,
}

impl Net {
    fn forward(&self, x: Tensor<4>, custom: bool) -> Tensor<2> {
        let (c, p) = (
            |layer: &Conv2d, x| if custom { conv2d(layer, x) } else { layer.forward(x) },
            |x| if custom { relu_max_pool2x2(&self.pool, x) } else { self.pool.forward(relu(x)) },
        );
        let x = p(c(&self.conv1, x));
        let x = p(c(&self.conv2, x));
        self.fc.forward(x.flatten(1, 3))
    }
}

#[test]
fn a_short_training_run_has_the_same_losses() {
    let device = Device::flex().autodiff();
    device.seed(11);
    let net = Net {
        conv1: conv([1, 6], [5, 5], 2, &device),
        conv2: conv([6, 16], [5, 5], 0, &device),
        pool: MaxPool2dConfig::new([2, 2]).init(),
        fc: LinearConfig::new(400, 10).init(&device),
    };
    let mnist = common::mnist();
    let train = mnist.train.take(32 * 8);
    let losses = |custom: bool| {
        let mut net = net.clone();
        let mut optimizer = SgdConfig::new().init();
        (0..8)
            .map(|step| {
                let indices: Vec<usize> = (step * 32..(step + 1) * 32).collect();
                let batch = train.batch(&indices, &device);
                let logits = net.forward(batch.images, custom);
                let targets: Tensor<1, Int> = batch.targets;
                let loss = cross_entropy_with_logits(logits, targets.one_hot(10).float()).mean();
                let value = loss.clone().into_scalar::<f32>();
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = optimizer.step(0.1, net.clone(), grads);
                value
            })
            .collect::<Vec<f32>>()
    };
    let (ours, theirs) = (losses(true), losses(false));
    for (step, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert!((a - b).abs() <= 1e-4 * b.abs(), "step {step}: custom {a}, burn {b}");
    }
    // The run learns (the comparison is not between two constant losses).
    assert!(theirs[7] < theirs[0], "{theirs:?}");
}
