//! In the browser (`wasm-pack test --headless --chrome`): LeNet-5 trains on WebGPU and the loss
//! goes down. Uses real MNIST images: the first 512 of the test set, uncompressed, embedded at
//! compile time (`tests/fixtures/`; `tests/data.rs` checks them against `www/data/`).
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

#[path = "shared/adam.rs"]
mod adam_check;

use batchlab::data::Split;
use batchlab::settings::{Optimizer, Settings};
use batchlab::record::EpochRecord;
use batchlab::train::{Run, RunConfig, RunEvent};
use burn::tensor::{Device, Tensor};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    /// The one WebGPU device of this page (CubeCL registers a device once).
    static WEBGPU: std::cell::RefCell<Option<Device>> = const { std::cell::RefCell::new(None) };
}

/// The page's WebGPU device, started by the first test that asks.
async fn webgpu() -> Device {
    if let Some(device) = WEBGPU.with(|d| d.borrow().clone()) {
        return device;
    }
    let device = Device::wgpu_options()
        .init_async()
        .await
        .expect("WebGPU is available (run Chromium with the flags in webdriver.json)");
    WEBGPU.with(|d| *d.borrow_mut() = Some(device.clone()));
    device
}

/// Advances `run` until it ends and returns its per-epoch records.
async fn train_to_the_end(run: &mut Run, train: &Split, test: &Split) -> Vec<EpochRecord> {
    let mut records = Vec::new();
    while !run.is_finished() {
        if let RunEvent::Epoch(r, _) = run
            .advance(train, &Split::empty(), test, Duration::from_millis(500))
            .await
            .unwrap()
        {
            records.push(r);
        }
    }
    records
}

#[wasm_bindgen_test]
async fn lenet5_trains_on_webgpu_and_the_loss_goes_down() {
    let device = webgpu().await;
    let images = include_bytes!("fixtures/t10k-images-first512-idx3-ubyte");
    let labels = include_bytes!("fixtures/t10k-labels-first512-idx1-ubyte");
    let all = Split::from_idx(images, "t10k-images", labels, "t10k-labels").unwrap();
    let train = all.range(0..384);
    let test = all.range(384..512);
    // 384 images at batch 32: 12 Adam steps per epoch, two epochs.
    let settings = Settings {
        epochs: 2,
        learning_rate: 0.003,
        optimizer: Optimizer::Adam,
        seed: 5,
        train_size: 384,
        ..Settings::default()
    };
    let mut run = Run::new(RunConfig::new(&settings, 32), &device);
    let records = train_to_the_end(&mut run, &train, &test).await;
    assert_eq!(records.len(), 2);
    let (first, second) = (&records[0], &records[1]);
    web_sys::console::log_1(&format!("{first:?}\n{second:?}").into());
    assert_eq!(second.steps, 24);
    assert!(
        first.train_loss.is_finite() && first.train_loss < 2.4,
        "{first:?}"
    );
    assert!(
        second.train_loss < first.train_loss * 0.8,
        "{first:?} {second:?}"
    );
    assert!(second.test_accuracy > 0.3, "{second:?}");
    // The gradient-noise probe ran on WebGPU after each epoch.
    assert!(
        run.summary().noise_scale.is_some_and(f64::is_finite),
        "{:?}",
        run.summary()
    );

    // The full batch (all 384 images) as one step over gradients accumulated across three
    // micro-batches of 128, on WebGPU: no validation error, and the loss falls.
    let settings = Settings {
        epochs: 3,
        learning_rate: 0.003,
        ..settings
    };
    let mut run = Run::new(RunConfig::new(&settings, 384), &device).with_micro_batch(128);
    let records = train_to_the_end(&mut run, &train, &test).await;
    web_sys::console::log_1(&format!("{records:?}").into());
    assert_eq!(
        records.iter().map(|r| r.steps).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(records[2].train_loss < records[0].train_loss, "{records:?}");
}

/// On wasm32 `usize` is 32 bits: a forged count of 2^28 images makes `16 + count * 784` wrap
/// to exactly 16 there. The parser must still see a truncated file, not an empty valid one.
#[wasm_bindgen_test]
fn a_forged_count_that_wraps_32_bit_arithmetic_is_refused() {
    let mut header = Vec::new();
    for v in [2051u32, 1 << 28, 28, 28] {
        header.extend(v.to_be_bytes());
    }
    let err = batchlab::data::parse_images(&header, "forged").unwrap_err();
    assert_eq!(
        err,
        batchlab::data::DataError::Truncated {
            file: "forged".into(),
            count: 1 << 28,
            expected: 16 + (1u64 << 28) * 784,
            actual: 16
        }
    );
}

/// The largest difference between `a` and `b` over the largest magnitude in `b` (relative,
/// max-norm).
fn relative_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(f32::MIN_POSITIVE);
    a.iter().zip(b).fold(0.0f32, |m, (x, y)| m.max((x - y).abs())) / scale
}

async fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data_async().await.unwrap().try_into_vec::<f32>().unwrap()
}

/// The fused Adam update's CubeCL kernel (src/optim/adam.rs) on WebGPU against burn's own
/// operations on the CPU backend: the parameter and both moments after six steps, for LeNet-5's
/// largest weight and an odd size (not a multiple of any workgroup), to 1e-4 relative.
#[wasm_bindgen_test]
async fn the_fused_adam_kernel_on_webgpu_steps_as_burns_adam_on_the_cpu() {
    use batchlab::optim::adam::{AdamScalars, adam_update, unfused};
    use burn::tensor::Distribution;
    let gpu = webgpu().await;
    // The kernel runs (not burn's operations): the update is fused on WebGPU.
    assert!(batchlab::optim::adam::fused_on(&gpu));
    let cpu = Device::flex();
    cpu.seed(11);
    for dims in [[120, 400], [7, 143]] {
        let draw = |scale: f64| Tensor::<2>::random(dims, Distribution::Normal(0.0, scale), &cpu);
        let on_gpu = |t: &Tensor<2>| Tensor::<2>::from_data(t.to_data(), &gpu);
        let start = draw(0.1);
        let (mut p, mut m, mut v) = (start.clone(), start.zeros_like(), start.zeros_like());
        let (mut gp, mut gm, mut gv) = (on_gpu(&p), on_gpu(&m), on_gpu(&v));
        // A copy of the parameter kept across the first step: shared buffers are not written
        // in place (the kernel copies first), so it must keep its values.
        let kept = gp.clone();
        for time in 1..=6 {
            let g = draw(0.01 * time as f64);
            let s = AdamScalars::at(time, 0.003);
            // From the fourth step the gradient arrives transposed twice: not contiguous.
            let g_gpu = if time >= 4 { on_gpu(&g.clone().transpose()).transpose() } else { on_gpu(&g) };
            (gp, gm, gv) = adam_update(gp, g_gpu, gm, gv, s);
            (p, m, v) = unfused(p, g, m, v, s);
        }
        assert_eq!(
            relative_difference(&values(kept).await, &start.to_data().try_to_vec::<f32>().unwrap()),
            0.0,
            "{dims:?}: a tensor sharing the parameter's buffer was written"
        );
        // The parameter moved: six steps of about the learning rate each.
        let moved = relative_difference(&p.to_data().try_to_vec::<f32>().unwrap(), &start.to_data().try_to_vec::<f32>().unwrap());
        assert!(moved > 0.01, "{dims:?}: moved by {moved}");
        for (name, gpu_t, cpu_t) in [("parameter", gp, p), ("first moment", gm, m), ("second moment", gv, v)] {
            let d = relative_difference(&values(gpu_t).await, &cpu_t.to_data().try_to_vec::<f32>().unwrap());
            web_sys::console::log_1(&format!("{dims:?} {name}: {d:e}").into());
            assert!(d <= 1e-4, "{dims:?}: the {name} differs by {d:e} (relative)");
        }
    }
}

/// The CPU backend's fused Adam update in the browser (wasm SIMD, four lanes, and a scalar
/// remainder: 1,001 weights) gives burn's operations' values to the bit, writes no buffer that
/// another tensor holds, and takes a strided gradient (tests/optim.rs checks the same natively).
#[wasm_bindgen_test]
fn the_cpu_backends_fused_adam_in_wasm_gives_burns_values_to_the_bit() {
    // The SIMD path is compiled in (`.cargo/config.toml`'s `+simd128`, which a RUSTFLAGS
    // variable would silently replace).
    assert!(cfg!(target_feature = "simd128"), "built without wasm SIMD");
    adam_check::fused_adam_on_the_cpu_gives_burns_values_and_writes_only_what_it_owns();
}

/// The CPU backend's custom 2x2 max-pooling (src/kernels.rs) as the browser runs it (the release
/// profile's size-tuned wasm) against burn's `max_pool2d` (after burn's `relu`): the same values
/// and input gradients, to the bit, with ties (values in halves; ReLU's zeros) and NaN
/// (tests/kernels.rs checks it natively, to 1e-4).
#[wasm_bindgen_test]
fn the_cpu_backends_pooling_in_wasm_gives_burns_values_and_gradients() {
    use batchlab::kernels::{max_pool2x2, relu_max_pool2x2};
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::Distribution;
    use burn::tensor::activation::relu;
    let device = Device::flex().autodiff();
    device.seed(5);
    let pool = MaxPool2dConfig::new([2, 2]).init();
    let same = |a: Tensor<4>, b: Tensor<4>| {
        let (a, b) = (a.into_data().try_into_vec::<f32>().unwrap(), b.into_data().try_into_vec::<f32>().unwrap());
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    };
    for shape in [[4, 6, 28, 28], [2, 16, 10, 10], [3, 2, 7, 19]] {
        let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 2.0), &device).round().div_scalar(2.0);
        let x = x.clone().mask_fill(x.equal_elem(1.5), f32::NAN);
        for relu_first in [false, true] {
            let x = x.clone().detach().require_grad();
            let (ours, theirs) = if relu_first {
                (relu_max_pool2x2(&pool, x.clone()), pool.forward(relu(x.clone())))
            } else {
                (max_pool2x2(&pool, x.clone()), pool.forward(x.clone()))
            };
            let upstream = Tensor::<4>::random(theirs.dims(), Distribution::Normal(0.0, 1.0), &device);
            let ours_grads = (ours.clone() * upstream.clone()).sum().backward();
            let theirs_grads = (theirs.clone() * upstream).sum().backward();
            assert!(same(ours.inner(), theirs.inner()), "{shape:?} (ReLU first: {relu_first}): values differ");
            let (a, b) = (x.grad(&ours_grads).unwrap(), x.grad(&theirs_grads).unwrap());
            assert!(same(a, b), "{shape:?} (ReLU first: {relu_first}): gradients differ");
        }
    }
}

/// A short training run with the fused Adam: LeNet-5 from the same weights on WebGPU and on the
/// CPU backend, eight steps on the same batches of 32 MNIST images; the losses agree to 1e-3
/// relative at every step (the convolutions differ in summation order between the backends) and
/// fall.
#[wasm_bindgen_test]
async fn eight_adam_steps_on_webgpu_give_the_cpu_backends_losses() {
    use batchlab::model::{Model, Network};
    use batchlab::optim::build;
    use burn::module::Module;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::optim::GradientsParams;
    let gpu = webgpu().await.autodiff();
    let cpu = Device::flex().autodiff();
    cpu.seed(5);
    let images = include_bytes!("fixtures/t10k-images-first512-idx3-ubyte");
    let labels = include_bytes!("fixtures/t10k-labels-first512-idx1-ubyte");
    let all = Split::from_idx(images, "t10k-images", labels, "t10k-labels").unwrap();
    let start = Network::new(Model::Lenet5, &cpu);
    let mut losses = Vec::new();
    for device in [&cpu, &gpu] {
        let mut network = start.clone().fork(device);
        let mut optim = build(Optimizer::Adam);
        let mut run = Vec::new();
        for step in 0..8 {
            let indices: Vec<usize> = (step * 32..step * 32 + 32).collect();
            let batch = all.batch(&indices, device);
            let logits = network.forward(batch.images);
            let loss = CrossEntropyLossConfig::new().init(device).forward(logits, batch.targets);
            run.push(values(loss.clone()).await[0]);
            let grads = GradientsParams::from_grads(loss.backward(), &network);
            network = optim.step(0.003, network, grads);
        }
        losses.push(run);
    }
    web_sys::console::log_1(&format!("CPU {:?}\nWebGPU {:?}", losses[0], losses[1]).into());
    for (step, (c, g)) in losses[0].iter().zip(&losses[1]).enumerate() {
        assert!((c - g).abs() <= 1e-3 * c.abs(), "step {step}: {g} on WebGPU, {c} on the CPU");
    }
    assert!(losses[1][7] < losses[1][0], "{:?}", losses[1]);
}
