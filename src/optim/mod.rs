//! The optimisers a run can use: burn's plain SGD and RMSProp; momentum, Nesterov and Adagrad
//! written here step for step as burn 0.22.1 writes them (burn keeps their state's fields
//! private, and [`state`] must list them); Adam with burn's arithmetic and state but its update
//! fused into one pass, one kernel on WebGPU ([`adam`]); Rprop (burn has none). Each is a burn
//! [`Optimizer`](burn::optim::Optimizer).
//!
//! Owns the optimiser choice ([`Optimizer`]) and its burn configuration ([`build`]); the
//! writing and reading of a run's optimiser state is [`state`]'s. Must not know about runs or
//! settings.

mod adagrad;
pub mod adam;
mod momentum;
mod rprop;
pub mod state;

pub use adagrad::{ADAGRAD_EPSILON, Adagrad, AdagradState};
pub use adam::{ADAM_BETA_1, ADAM_BETA_2, ADAM_EPSILON, Adam, AdamScalars, FusedAdam, adam_update, fused_on};
pub use momentum::{MOMENTUM, Momentum, MomentumState};
pub use rprop::{RPROP_DECREASE, RPROP_INCREASE, RPROP_MAX_STEP, RPROP_MIN_STEP, Rprop, RpropState};
pub use state::{ListedState, OnDevice, OnDeviceState, StateLayout, list_state, save_state};

use burn::optim::{ModuleOptimizer, OptimizerRecord, RmsPropConfig, SgdConfig};
use burn::tensor::Device;
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
    /// Adam (Kingma & Ba 2014) with burn's defaults: beta1 0.9, beta2 0.999, epsilon 1e-5; its
    /// update fused into one pass per parameter ([`adam`]).
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

/// A fresh optimiser of the given kind (no state yet). The learning rate is passed at each step.
/// Each is wrapped in [`OnDevice`], so that its state can be listed for one asynchronous read
/// ([`list_state`], [`save_state`]) and read back from a checkpoint onto the run's device
/// ([`load_state`]).
pub fn build(optimizer: Optimizer) -> ModuleOptimizer {
    match optimizer {
        Optimizer::Sgd => ModuleOptimizer::from(OnDevice(SgdConfig::new().build())),
        Optimizer::Momentum => ModuleOptimizer::from(OnDevice(Momentum { nesterov: false })),
        Optimizer::Nesterov => ModuleOptimizer::from(OnDevice(Momentum { nesterov: true })),
        // burn's RMSProp defaults to momentum 0.9; Tieleman & Hinton's has none.
        Optimizer::Rmsprop => {
            ModuleOptimizer::from(OnDevice(RmsPropConfig::new().with_momentum(0.0).build()))
        }
        Optimizer::Adagrad => ModuleOptimizer::from(OnDevice(Adagrad)),
        Optimizer::Adam => ModuleOptimizer::from(OnDevice(Adam)),
        Optimizer::Rprop => ModuleOptimizer::from(OnDevice(Rprop)),
    }
}

/// A fresh optimiser of kind `optimizer` with the state `bytes` ([`save_state`]'s), its tensors
/// created on `device` (burn 0.22.1's `ModuleOptimizer::load_record` would create them on the
/// default device, WebGPU in the browser's build, which cannot be set up synchronously there).
///
/// # Errors
/// When `bytes` are not an optimiser record, in words.
pub fn load_state(optimizer: Optimizer, bytes: &[u8], device: &Device) -> Result<ModuleOptimizer, String> {
    let load = |on: &Device| {
        state::loading_onto(on, || {
            build(optimizer).from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes.to_vec()))
        })
        .map_err(|e| e.to_string())
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
