//! Adam with its update fused: one pass (one kernel on WebGPU) per parameter tensor instead of
//! burn 0.22.1's thirteen element-wise operations, with burn's arithmetic and state.
//!
//! Why (issue 14, points 2 and 4): burn's `Adam` updates a parameter with about 13 tensor
//! operations (moments, bias correction, square root, division, the step), each a separate
//! WebGPU dispatch — about 130 of the 225 dispatches of a LeNet-5 step at batch size 64 — and on
//! the CPU backend a separate pass with its own allocation. Here [`FusedAdam::adam_update`]
//! reads the parameter, its gradient and both moments once and writes all three back: a CubeCL
//! kernel on the cubecl backend (WebGPU; natively wgpu and CUDA), in place when the buffers are
//! not shared; on the CPU backend (`flex`) one pass over the buffers, in place when not shared
//! (a shared or strided one is copied first), four lanes at a time with wasm SIMD in the
//! browser. Any other backend or float type takes burn's operations ([`unfused`]).
//!
//! The state is burn's own `AdamState` (records and checkpoints are unchanged), and the
//! arithmetic is burn's, operation for operation — on the CPU to the bit; a GPU shader compiler
//! may contract `a·b + c·d` into fused multiply-adds (burn-optim 0.22.1, `optim/adam.rs`, after
//! Kingma & Ba 2014, Algorithm 1 with the ε̂ form of its section 2):
//!
//! ```text
//! m ← β₁·m + (1−β₁)·g          v ← β₂·v + (1−β₂)·g²          (t ← t + 1)
//! w ← w − lr · (m · √(1−β₂ᵗ)/(1−β₁ᵗ)) / (√v + ε·√(1−β₂ᵗ))
//! ```
//!
//! tests/optim.rs checks the CPU pass against burn's `Adam` and [`unfused`] (to the bit, with a
//! shared and a strided input), tests/webgpu.rs the same in the browser (the SIMD path) and the
//! kernel against [`unfused`] on the CPU backend (1e-4 relative), with a shared and a
//! non-contiguous input, and a short training run against the CPU backend's.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DispatchDevice, Flex, backend_extension};
use burn::optim::{AdamState, AdaptiveMomentumState, Optimizer as BurnOptimizer};
use burn::tensor::{DType, Device, Tensor};

/// β₁ of [`Adam`] (burn 0.22.1's `AdamConfig` default).
pub const ADAM_BETA_1: f32 = 0.9;
/// β₂ of [`Adam`] (burn 0.22.1's `AdamConfig` default).
pub const ADAM_BETA_2: f32 = 0.999;
/// ε of [`Adam`] (burn 0.22.1's `AdamConfig` default; PyTorch's is 1e-8).
pub const ADAM_EPSILON: f32 = 1e-5;

/// The constants of one Adam update, computed once per step on the host in f32, as burn does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamScalars {
    /// β₁.
    pub beta_1: f32,
    /// 1 − β₁.
    pub one_minus_beta_1: f32,
    /// β₂.
    pub beta_2: f32,
    /// 1 − β₂.
    pub one_minus_beta_2: f32,
    /// √(1−β₂ᵗ) / (1−β₁ᵗ): the bias corrections of both moments.
    pub step_factor: f32,
    /// ε·√(1−β₂ᵗ).
    pub epsilon: f32,
    /// The learning rate.
    pub learning_rate: f32,
}

impl AdamScalars {
    /// The constants of step `time` (1 for the first step) at learning rate `learning_rate`.
    pub fn at(time: usize, learning_rate: f64) -> Self {
        let time = i32::try_from(time).unwrap_or(i32::MAX);
        let bias_correction2_sqrt = (1.0 - ADAM_BETA_2.powi(time)).sqrt();
        Self {
            beta_1: ADAM_BETA_1,
            one_minus_beta_1: 1.0 - ADAM_BETA_1,
            beta_2: ADAM_BETA_2,
            one_minus_beta_2: 1.0 - ADAM_BETA_2,
            step_factor: bias_correction2_sqrt / (1.0 - ADAM_BETA_1.powi(time)),
            epsilon: ADAM_EPSILON * bias_correction2_sqrt,
            learning_rate: learning_rate as f32,
        }
    }

    /// The constants in [`FusedAdam::adam_update`]'s order: `[β₁, 1−β₁, β₂, 1−β₂, step factor,
    /// ε̂, learning rate]`.
    fn to_array(self) -> [f32; 7] {
        [
            self.beta_1,
            self.one_minus_beta_1,
            self.beta_2,
            self.one_minus_beta_2,
            self.step_factor,
            self.epsilon,
            self.learning_rate,
        ]
    }
}

/// The fused update, as a burn backend extension (burn's `extension` feature): implemented for
/// the CPU backend and the cubecl backend (WebGPU, wgpu, CUDA).
#[backend_extension(Flex, Cube: cfg(any(target_arch = "wasm32", feature = "wgpu", feature = "cuda")))]
pub trait FusedAdam: Backend {
    /// One Adam update of a parameter: `param`, its gradient `grad` and the moments `moment_1`,
    /// `moment_2`, all f32 and of one shape (any), → the new `(param, moment_1, moment_2)`, of
    /// that shape. The formula is the module's; the constants `[β₁, 1−β₁, β₂, 1−β₂, step factor,
    /// ε̂, learning rate]` are [`AdamScalars`]' (passed as an array: extension operations take
    /// plain arguments). The CPU backend panics when the shapes differ or a tensor is not f32.
    fn adam_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        scalars: [f32; 7],
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// Whether `device` is one [`FusedAdam`] is implemented for in this build (the CPU backend, or
/// the cubecl backend when it is built in).
pub fn fused_on(device: &Device) -> bool {
    #[allow(unreachable_patterns)]
    match device.as_dispatch() {
        DispatchDevice::Flex(_) => true,
        #[cfg(any(target_arch = "wasm32", feature = "wgpu", feature = "cuda"))]
        DispatchDevice::Cube(_) => true,
        _ => false,
    }
}

/// One Adam update of `param` (any shape) with the gradient `grad` and the moments
/// `moment_1`, `moment_2` (the parameter's shape), with the constants of its step `scalars`
/// ([`AdamScalars::at`]): the new `(param, moment_1, moment_2)`, each of `param`'s shape.
/// Panics (on the fused path) when the four differ in shape (the CPU backend) or size. Fused
/// ([`FusedAdam`]) on the backends that have it and for f32 tensors; burn's tensor operations,
/// in burn's order, otherwise.
pub fn adam_update<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    moment_1: Tensor<D>,
    moment_2: Tensor<D>,
    scalars: AdamScalars,
) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
    let all_f32 = [&param, &grad, &moment_1, &moment_2]
        .iter()
        .all(|t| t.dtype() == DType::F32);
    if all_f32 && fused_on(&param.device()) {
        let (p, m, v) = <burn::backend::Dispatch as FusedAdam>::adam_update(
            param.into_dispatch(),
            grad.into_dispatch(),
            moment_1.into_dispatch(),
            moment_2.into_dispatch(),
            scalars.to_array(),
        );
        (Tensor::from_dispatch(p), Tensor::from_dispatch(m), Tensor::from_dispatch(v))
    } else {
        unfused(param, grad, moment_1, moment_2, scalars)
    }
}

/// [`adam_update`] in burn's tensor operations (burn-optim 0.22.1's `AdaptiveMomentum::transform`
/// and `Adam::step`, in their order).
pub fn unfused<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    moment_1: Tensor<D>,
    moment_2: Tensor<D>,
    s: AdamScalars,
) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
    let moment_1 = moment_1
        .mul_scalar(s.beta_1)
        .add(grad.clone().mul_scalar(s.one_minus_beta_1));
    let moment_2 = moment_2
        .mul_scalar(s.beta_2)
        .add(grad.square().mul_scalar(s.one_minus_beta_2));
    let update = moment_1
        .clone()
        .mul_scalar(s.step_factor)
        .div(moment_2.clone().sqrt().add_scalar(s.epsilon));
    (param - update.mul_scalar(s.learning_rate), moment_1, moment_2)
}

/// Adam (Kingma & Ba 2014) with burn 0.22.1's defaults (β₁ 0.9, β₂ 0.999, ε 1e-5, no weight
/// decay, no AMSGrad) and burn's state (`AdamState`, recorded under burn's names), its update
/// fused ([`adam_update`]). The first step starts from moments of −0.0, which gives burn's
/// first step exactly (`β·(−0) + (1−β)·g = (1−β)·g` for every `g`, ±0 included; from +0.0 a
/// gradient of −0.0 would give +0.0).
#[derive(Debug, Clone, Copy)]
pub struct Adam;

impl BurnOptimizer for Adam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (time, moment_1, moment_2) = match state {
            Some(state) => {
                let m = state.momentum;
                (m.time + 1, m.moment_1, m.moment_2)
            }
            None => (1, tensor.zeros_like().neg(), tensor.zeros_like().neg()),
        };
        let (tensor, moment_1, moment_2) =
            adam_update(tensor, grad, moment_1, moment_2, AdamScalars::at(time, lr));
        let state = AdamState::new(AdaptiveMomentumState::new(time, moment_1, moment_2));
        (tensor, Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

// ---------------------------------------------------------------------------------------------
// The CPU backend: one pass, in place.

impl FusedAdam for Flex {
    fn adam_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        s: [f32; 7],
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let shape = param.layout().shape().clone();
        for (name, t) in [("gradient", &grad), ("first moment", &moment_1), ("second moment", &moment_2)] {
            assert_eq!(t.layout().shape(), &shape, "adam_update: the {name}'s shape is not the parameter's");
        }
        let (mut p, mut m, mut v) = (sole(param), sole(moment_1), sole(moment_2));
        let g = sole(grad);
        // Written in place where `sole` left one owner; a buffer another tensor holds is copied
        // first (burn-flex's copy-on-write `storage_mut`).
        update_slices(p.storage_mut(), m.storage_mut(), v.storage_mut(), g.storage(), s);
        (p, m, v)
    }
}

/// `t` (f32) as a tensor whose buffer is contiguous and holds exactly its elements (a view or a
/// strided tensor is copied), and which no other tensor shares when `t` was its buffer's only
/// owner (`to_contiguous` shares the buffer when it is already so; dropping `t` leaves one
/// owner). Panics when `t` is not f32.
fn sole(t: burn::backend::flex::FlexTensor) -> burn::backend::flex::FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "adam_update takes f32 tensors");
    let contiguous = t.to_contiguous();
    drop(t);
    contiguous
}

/// The update over flat slices, in place: `p` the parameter, `m`, `v` the moments, `g` the
/// gradient, all of one length; `s` as in [`FusedAdam::adam_update`]. Each element's arithmetic
/// is burn's, in burn's order, so that the result is burn's to the bit on any path: four lanes at
/// a time with wasm SIMD (`simd128`: IEEE multiply, add, divide and square root, exact as the
/// scalar ones; a NaN's payload may differ, which wasm leaves open), the scalar loop natively
/// (which the compiler vectorises at `opt-level = 3`) and for the remainder. Panics when the
/// lengths differ.
fn update_slices(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], s: [f32; 7]) {
    assert!(
        g.len() == p.len() && m.len() == p.len() && v.len() == p.len(),
        "adam_update: the parameter, gradient and moments differ in size"
    );
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = update_simd128(p, m, v, g, s);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    let [b1, c1, b2, c2, factor, eps, lr] = s;
    let rest = p[done..].iter_mut().zip(&mut m[done..]).zip(&mut v[done..]).zip(&g[done..]);
    for (((p, m), v), &g) in rest {
        *m = *m * b1 + g * c1;
        *v = *v * b2 + (g * g) * c2;
        *p -= (*m * factor) / (v.sqrt() + eps) * lr;
    }
}

/// [`update_slices`]' arithmetic on four elements at a time (wasm SIMD), over the longest prefix
/// whose length is a multiple of four; returns that length. The release build compiles
/// batchlab at `opt-level = "s"`, at which rustc does not vectorise loops (docs/speed.md).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn update_simd128(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], s: [f32; 7]) -> usize {
    use core::arch::wasm32::{f32x4_add, f32x4_div, f32x4_mul, f32x4_splat, f32x4_sqrt, f32x4_sub, v128, v128_load, v128_store};
    let [b1, c1, b2, c2, factor, eps, lr] = s.map(|x| f32x4_splat(x));
    let lanes = p.len() / 4 * 4;
    for i in (0..lanes).step_by(4) {
        // SAFETY: i + 4 <= lanes <= the length of all four slices (asserted by the caller);
        // v128_load and v128_store take unaligned addresses.
        unsafe {
            let at = |s: &[f32]| v128_load(s.as_ptr().add(i).cast::<v128>());
            let grad = at(g);
            let m_new = f32x4_add(f32x4_mul(at(m), b1), f32x4_mul(grad, c1));
            let v_new = f32x4_add(f32x4_mul(at(v), b2), f32x4_mul(f32x4_mul(grad, grad), c2));
            let update = f32x4_div(f32x4_mul(m_new, factor), f32x4_add(f32x4_sqrt(v_new), eps));
            let p_new = f32x4_sub(at(p), f32x4_mul(update, lr));
            v128_store(p.as_mut_ptr().add(i).cast::<v128>(), p_new);
            v128_store(m.as_mut_ptr().add(i).cast::<v128>(), m_new);
            v128_store(v.as_mut_ptr().add(i).cast::<v128>(), v_new);
        }
    }
    lanes
}

// ---------------------------------------------------------------------------------------------
// The cubecl backend (WebGPU in the browser): one kernel, one thread per element.

#[cfg(any(target_arch = "wasm32", feature = "wgpu", feature = "cuda"))]
mod cube {
    use burn::backend::Cube;
    use burn::backend::tensor::FloatTensor;
    use burn_cubecl::kernel::into_contiguous;
    use burn_cubecl::tensor::CubeTensor;
    use cubecl::prelude::*;
    use cubecl::calculate_cube_count_elemwise;

    use super::FusedAdam;

    /// One thread per element: reads `param`, `grad`, `m`, `v` at its index once and writes the
    /// new `param`, `m`, `v` there (the module's formula, in burn's order of operations).
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    fn adam_kernel<F: Float>(
        param: &mut Tensor<F>,
        grad: &Tensor<F>,
        m: &mut Tensor<F>,
        v: &mut Tensor<F>,
        beta_1: f32,
        one_minus_beta_1: f32,
        beta_2: f32,
        one_minus_beta_2: f32,
        step_factor: f32,
        epsilon: f32,
        learning_rate: f32,
        #[define(F)] _dtype: ElemType,
    ) {
        let i = ABSOLUTE_POS;
        if i >= param.len() {
            terminate!();
        }
        let g = grad[i];
        let m1 = m[i] * F::cast_from(beta_1) + g * F::cast_from(one_minus_beta_1);
        let m2 = v[i] * F::cast_from(beta_2) + (g * g) * F::cast_from(one_minus_beta_2);
        m[i] = m1;
        v[i] = m2;
        let update = (m1 * F::cast_from(step_factor)) / (F::sqrt(m2) + F::cast_from(epsilon));
        param[i] = param[i] - update * F::cast_from(learning_rate);
    }

    /// `tensor`, contiguous (`into_contiguous` also undoes a storage tiling, and returns a
    /// contiguous tensor as it is) and not shared with any other tensor (copied when it is), so
    /// that the kernel may write into it.
    fn writable(tensor: CubeTensor) -> CubeTensor {
        let tensor = into_contiguous(tensor);
        if tensor.can_mut() { tensor } else { tensor.copy() }
    }

    impl FusedAdam for Cube {
        fn adam_update(
            param: FloatTensor<Self>,
            grad: FloatTensor<Self>,
            moment_1: FloatTensor<Self>,
            moment_2: FloatTensor<Self>,
            s: [f32; 7],
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
            let (param, m, v) = (writable(param), writable(moment_1), writable(moment_2));
            let grad = into_contiguous(grad);
            let n = param.meta.num_elements();
            assert!(
                grad.meta.num_elements() == n && m.meta.num_elements() == n && v.meta.num_elements() == n,
                "adam_update: the parameter, gradient and moments differ in size"
            );
            let client = param.client.clone();
            let cube_dim = CubeDim::new(&client, n);
            let cube_count = calculate_cube_count_elemwise(&client, n, cube_dim);
            let [b1, c1, b2, c2, factor, eps, lr] = s;
            adam_kernel::launch(
                &client,
                cube_count,
                cube_dim,
                param.clone().into_tensor_arg(),
                grad.into_tensor_arg(),
                m.clone().into_tensor_arg(),
                v.clone().into_tensor_arg(),
                b1,
                c1,
                b2,
                c2,
                factor,
                eps,
                lr,
                ElemType::Float(cubecl::ir::FloatKind::F32),
            );
            (param, m, v)
        }
    }
}
