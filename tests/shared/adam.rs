//! A check run both natively (tests/optim.rs) and in the browser (tests/webgpu.rs, where the CPU
//! backend's fused Adam takes its wasm SIMD path): included by both with `#[path]`.

use batchlab::optim::adam::{AdamScalars, adam_update, fused_on, unfused};
use burn::tensor::{Device, Tensor, TensorData};

/// The CPU backend's fused Adam update (src/optim/adam.rs) over three steps against burn's
/// operations ([`unfused`]): the parameter and both moments to the bit, for 1,001 weights (not a
/// multiple of the SIMD path's four lanes), a strided (transposed) gradient, and buffers that
/// other tensors hold at the first step left unwritten. Panics on a difference.
pub fn fused_adam_on_the_cpu_gives_burns_values_and_writes_only_what_it_owns() {
    let device = Device::flex();
    // The fused pass runs (not burn's operations, which `unfused` is).
    assert!(fused_on(&device));
    let draw = |k: f32, dims: [usize; 2]| {
        let values = (0..1001).map(|i| (i as f32 * k).sin()).collect::<Vec<f32>>();
        Tensor::<2>::from_data(TensorData::new(values, dims), &device)
    };
    let bits = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().unwrap().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let (mut p, mut m, mut v) = (draw(0.37, [7, 143]), draw(0.11, [7, 143]).neg(), draw(0.19, [7, 143]).abs());
    let (mut bp, mut bm, mut bv) = (p.clone(), m.clone(), v.clone());
    // Tensors sharing the first step's buffers: they must keep their values.
    let shared = [p.clone(), m.clone(), v.clone()];
    let kept = shared.clone().map(bits);
    for time in 1..=3 {
        let grad = draw(1.3 * time as f32, [143, 7]).transpose();
        let s = AdamScalars::at(time, 0.01);
        (p, m, v) = adam_update(p, grad.clone(), m, v, s);
        (bp, bm, bv) = unfused(bp, grad, bm, bv, s);
    }
    assert_eq!(shared.map(bits), kept, "a buffer another tensor holds was written");
    assert_ne!(bits(p.clone()), kept[0], "the parameter did not move");
    assert_eq!([p, m, v].map(bits), [bp, bm, bv].map(bits), "fused and burn's operations differ");
}
