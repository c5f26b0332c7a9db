//! The optimisers a run can use: burn's SGD (plain, momentum, Nesterov), RMSProp, Adagrad and
//! Adam, plus Rprop (burn has none), written here as a burn [`Optimizer`].
//!
//! Owns the optimiser choice ([`Optimizer`]) and its burn configuration; must not know about
//! runs or settings.

use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdaGradConfig, AdamConfig, ModuleOptimizer, Optimizer as BurnOptimizer, OptimizerRecord, RecordState,
    RmsPropConfig, SgdConfig, StateSink, StateSource,
};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// The optimiser of a run. Constants are burn 0.22.1's defaults unless stated; see [`crate::optim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Plain stochastic gradient descent: `w -= lr * g`.
    Sgd,
    /// SGD with classical momentum 0.9, no dampening: `v = 0.9 v + g; w -= lr * v`.
    Momentum,
    /// SGD with Nesterov momentum 0.9 (Sutskever et al. 2013, as PyTorch writes it):
    /// `v = 0.9 v + g; w -= lr * (g + 0.9 v)`.
    Nesterov,
    /// RMSProp (Tieleman & Hinton 2012): `s = 0.99 s + 0.01 g²; w -= lr * g / (√s + 1e-5)`.
    Rmsprop,
    /// Adagrad (Duchi et al. 2011): `s += g²; w -= lr * g / (√s + 1e-5)`.
    Adagrad,
    /// Adam (Kingma & Ba 2014) with burn's defaults: beta1 0.9, beta2 0.999, epsilon 1e-5.
    Adam,
    /// iRprop− (Igel & Hüsken 2000, a variant of Riedmiller & Braun 1993's Rprop): sign-based
    /// per-weight step sizes, meant for full-batch learning; the learning rate is the initial
    /// step size. See [`crate::optim::Rprop`].
    Rprop,
}

impl Optimizer {
    /// The name used in URLs and records, e.g. `sgd`, `nesterov` or `rprop`.
    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::Momentum => "momentum",
            Optimizer::Nesterov => "nesterov",
            Optimizer::Rmsprop => "rmsprop",
            Optimizer::Adagrad => "adagrad",
            Optimizer::Adam => "adam",
            Optimizer::Rprop => "rprop",
        }
    }
}


/// Momentum of the momentum and Nesterov optimisers (Sutskever et al. 2013 use 0.9 and up).
pub const MOMENTUM: f64 = 0.9;

/// A fresh optimiser of the given kind (no state yet). The learning rate is passed at each step.
/// Each is wrapped in [`OnDevice`], so that its state can be read back from a checkpoint onto
/// the run's device ([`load_state`]).
pub fn build(optimizer: Optimizer) -> ModuleOptimizer {
    let momentum = |nesterov| {
        SgdConfig::new()
            .with_momentum(Some(
                MomentumConfig::new()
                    .with_momentum(MOMENTUM)
                    .with_dampening(0.0)
                    .with_nesterov(nesterov),
            ))
            .build()
    };
    match optimizer {
        Optimizer::Sgd => ModuleOptimizer::from(OnDevice(SgdConfig::new().build())),
        Optimizer::Momentum => ModuleOptimizer::from(OnDevice(momentum(false))),
        Optimizer::Nesterov => ModuleOptimizer::from(OnDevice(momentum(true))),
        // burn's RMSProp defaults to momentum 0.9; Tieleman & Hinton's has none.
        Optimizer::Rmsprop => {
            ModuleOptimizer::from(OnDevice(RmsPropConfig::new().with_momentum(0.0).build()))
        }
        Optimizer::Adagrad => ModuleOptimizer::from(OnDevice(AdaGradConfig::new().build())),
        Optimizer::Adam => ModuleOptimizer::from(OnDevice(AdamConfig::new().build())),
        Optimizer::Rprop => ModuleOptimizer::from(OnDevice(Rprop)),
    }
}

/// The optimiser state of `optimizer` (every parameter's), as burn's `OptimizerRecord` in
/// burnpack bytes. Reads the state back from the device synchronously: on the CPU backend only
/// in the browser (WebGPU allows no synchronous read there).
///
/// # Errors
/// burn's record error, in words.
pub fn save_state(optimizer: &ModuleOptimizer) -> Result<Vec<u8>, String> {
    optimizer
        .into_bytes()
        .map(|bytes| bytes.to_vec())
        .map_err(|e| e.to_string())
}

/// A fresh optimiser of kind `optimizer` with the state `bytes` ([`save_state`]'s), its tensors
/// created on `device` (burn 0.22.1's `ModuleOptimizer::load_record` would create them on the
/// default device, WebGPU in the browser's build, which cannot be set up synchronously there).
///
/// # Errors
/// When `bytes` are not an optimiser record, in words.
pub fn load_state(optimizer: Optimizer, bytes: &[u8], device: &Device) -> Result<ModuleOptimizer, String> {
    let load = |on: &Device| {
        LOAD_DEVICE.with_borrow_mut(|d| *d = Some(on.clone()));
        let loaded = build(optimizer).from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes.to_vec()));
        LOAD_DEVICE.with_borrow_mut(|d| *d = None);
        loaded.map_err(|e| e.to_string())
    };
    // burn leaves out, without an error, the state of a parameter it cannot rebuild (another
    // optimiser's): read on the CPU first, every tensor of the record must be in the state.
    let record = OptimizerRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| e.to_string())?;
    let cpu = Device::flex();
    let on_cpu = load(&cpu)?;
    if on_cpu.to_record().len() != record.len() {
        return Err("it is another optimiser's state".into());
    }
    // On the CPU backend the state just read is the one wanted: not read twice.
    if *device == cpu { Ok(on_cpu) } else { load(device) }
}

thread_local! {
    /// The device that [`load_state`] creates state tensors on (set only while it runs).
    static LOAD_DEVICE: std::cell::RefCell<Option<Device>> = const { std::cell::RefCell::new(None) };
}

/// One of burn's optimisers (or [`Rprop`]) whose state, read from a record, is created on the
/// device [`load_state`] names instead of burn's default device. Steps exactly as `O` does.
#[derive(Clone)]
pub struct OnDevice<O>(pub O);

/// The state of an [`OnDevice`] optimiser: `O`'s state, unchanged.
#[derive(Clone)]
pub struct OnDeviceState<S>(pub S);

impl<S: RecordState + Clone> RecordState for OnDeviceState<S> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        self.0.state_flatten(prefix, out);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let chosen = LOAD_DEVICE.with_borrow(|d| d.clone());
        S::state_unflatten(prefix, src, chosen.as_ref().unwrap_or(device)).map(OnDeviceState)
    }
}

impl<O: BurnOptimizer> BurnOptimizer for OnDevice<O> {
    type State<const D: usize> = OnDeviceState<O::State<D>>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (tensor, state) = self.0.step(lr, tensor, grad, state.map(|s| s.0));
        (tensor, state.map(OnDeviceState))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        OnDeviceState(O::to_device(state.0, device))
    }
}

/// Factor by which a weight's step grows while its gradient keeps its sign (Riedmiller & Braun
/// 1993: η+ = 1.2).
pub const RPROP_INCREASE: f32 = 1.2;
/// Factor by which a weight's step shrinks when its gradient changes sign (η− = 0.5).
pub const RPROP_DECREASE: f32 = 0.5;
/// Largest step size (Riedmiller & Braun 1993: Δmax = 50).
pub const RPROP_MAX_STEP: f32 = 50.0;
/// Smallest step size (Δmin = 1e-6, as in PyTorch's `Rprop`).
pub const RPROP_MIN_STEP: f32 = 1e-6;

/// iRprop− (Igel & Hüsken 2000, "Improving the Rprop learning algorithm"), the variant of
/// Rprop (Riedmiller & Braun 1993) without weight backtracking. Every weight has its own step
/// size Δ, starting at the learning rate. At each step, with `g` the gradient and `g'` the one
/// remembered from the previous step:
///
/// - `g·g' > 0`: `Δ = min(1.2 Δ, 50)`;
/// - `g·g' < 0`: `Δ = max(0.5 Δ, 1e-6)` and `g = 0` (no move this step; remembered as 0);
/// - then `w -= sign(g) · Δ` and `g' = g`.
///
/// Only the gradient's sign is used, so it is meant for the full batch (exact gradients); with
/// noisy mini-batch gradients the signs flip at random.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rprop;

/// The per-weight state of [`Rprop`]: the previous gradient (zeroed where it changed sign) and
/// the step sizes, both shaped like the weight.
#[derive(Clone)]
pub struct RpropState<const D: usize> {
    /// The gradient of the previous step, with zeros where its sign had flipped.
    pub previous_gradient: Tensor<D>,
    /// Each weight's step size Δ.
    pub step_size: Tensor<D>,
}

impl<const D: usize> RecordState for RpropState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        out.push_tensor(
            prefix,
            "previous_gradient",
            self.previous_gradient.clone().into_data(),
        );
        out.push_tensor(prefix, "step_size", self.step_size.clone().into_data());
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            previous_gradient: Tensor::from_data(
                src.take_tensor(prefix, "previous_gradient")?,
                device,
            ),
            step_size: Tensor::from_data(src.take_tensor(prefix, "step_size")?, device),
        })
    }
}

impl BurnOptimizer for Rprop {
    type State<const D: usize> = RpropState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (grad, step_size) = match state {
            // The first step moves every weight by the initial step size.
            None => {
                let step_size = grad.zeros_like().add_scalar(lr);
                (grad, step_size)
            }
            Some(RpropState {
                previous_gradient,
                step_size,
            }) => {
                let product = grad.clone().mul(previous_gradient);
                let same_sign = product.clone().greater_elem(0.0);
                let flipped = product.lower_elem(0.0);
                let grown = step_size
                    .clone()
                    .mul_scalar(RPROP_INCREASE)
                    .clamp_max(RPROP_MAX_STEP);
                let shrunk = step_size
                    .clone()
                    .mul_scalar(RPROP_DECREASE)
                    .clamp_min(RPROP_MIN_STEP);
                let step_size = step_size
                    .mask_where(same_sign, grown)
                    .mask_where(flipped.clone(), shrunk);
                (grad.mask_fill(flipped, 0.0), step_size)
            }
        };
        let update = grad.clone().sign().mul(step_size.clone());
        (
            tensor - update,
            Some(RpropState {
                previous_gradient: grad,
                step_size,
            }),
        )
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        RpropState {
            previous_gradient: state.previous_gradient.to_device(device),
            step_size: state.step_size.to_device(device),
        }
    }
}
