//! Where a CPU training step goes: LeNet-5's convolutions and poolings at one batch size,
//! forward and backward, through burn's own operations and through the custom ones
//! (`batchlab::kernels`), natively on burn's CPU backend. Prints ms per call (the mean of 20
//! after one untimed call). A benchmark: it checks nothing.
//!
//! `RAYON_NUM_THREADS=1 cargo run --example ops -- [batch size, default 64]`
//! (docs/speed.md, *Where a CPU step goes*).

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use batchlab::kernels::{conv2d, relu_max_pool2x2};
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::{Conv2d, Conv2dConfig};
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::{Device, Distribution, Tensor, activation::relu};
    use std::time::Instant;

    fn time(name: &str, mut f: impl FnMut()) {
        f();
        let start = Instant::now();
        for _ in 0..20 {
            f();
        }
        let ms = start.elapsed().as_secs_f64() * 1e3 / 20.0;
        println!("{name:48} {ms:8.3} ms");
    }

    let batch: usize = std::env::args()
        .nth(1)
        .map(|b| b.parse().expect("a batch size"))
        .unwrap_or(64);
    println!("batch size {batch}, burn's CPU backend (flex), natively");
    let device = Device::flex().autodiff();
    let conv1: Conv2d = Conv2dConfig::new([1, 6], [5, 5])
        .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
        .init(&device);
    let conv2: Conv2d = Conv2dConfig::new([6, 16], [5, 5]).init(&device);
    let pool = MaxPool2dConfig::new([2, 2]).init();
    // The images need no gradient (as in training); the second layer's input does.
    let images = Tensor::<4>::random([batch, 1, 28, 28], Distribution::Default, &device);
    let maps = Tensor::<4>::random([batch, 6, 14, 14], Distribution::Default, &device).require_grad();
    let conv1_out =
        Tensor::<4>::random([batch, 6, 28, 28], Distribution::Default, &device).require_grad();
    for (name, custom) in [("burn's operations", false), ("custom operations", true)] {
        println!("{name}:");
        let c = |layer: &Conv2d, x| if custom { conv2d(layer, x) } else { layer.forward(x) };
        let p = |x| if custom { relu_max_pool2x2(&pool, x) } else { pool.forward(relu(x)) };
        time("  conv1 forward", || drop(c(&conv1, images.clone()).inner()));
        time("  conv1 forward + backward (weights, bias)", || {
            drop(c(&conv1, images.clone()).sum().backward())
        });
        time("  conv2 forward", || drop(c(&conv2, maps.clone()).inner()));
        time("  conv2 forward + backward (input, weights, bias)", || {
            drop(c(&conv2, maps.clone()).sum().backward())
        });
        time("  ReLU + 2x2 max-pool of conv1's output, fwd + bwd", || {
            drop(p(conv1_out.clone()).sum().backward())
        });
    }
}
