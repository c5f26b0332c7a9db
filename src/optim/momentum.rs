//! SGD with momentum (classical or Nesterov), written step for step as burn 0.22.1's `Sgd`
//! with a `MomentumConfig`, so that its velocity can be listed ([`ListedState`]).
//!
//! Owns [`Momentum`] and its state; must not know about runs.

use burn::optim::{Optimizer as BurnOptimizer, RecordState, StateSink, StateSource, join_path};
use burn::tensor::{Device, Tensor};

use super::state::{ListedState, flat, refill};

/// Momentum of the momentum and Nesterov optimisers (Sutskever et al. 2013 use 0.9 and up).
pub const MOMENTUM: f64 = 0.9;

/// SGD with classical or Nesterov momentum [`MOMENTUM`] and no dampening, step for step as
/// burn 0.22.1's `Sgd` with a `MomentumConfig` (Sutskever et al. 2013, as PyTorch writes it):
/// `v = g` at the first step, then `v = 0.9 v + g`; `w -= lr * v` (classical) or
/// `w -= lr * (0.9 v + g)` (Nesterov). Written here because burn keeps the velocity private.
#[derive(Debug, Clone, Copy)]
pub struct Momentum {
    /// Nesterov's momentum instead of the classical one.
    pub nesterov: bool,
}

/// The state of [`Momentum`]: the velocity, shaped like the weight. Recorded under the names
/// burn's `SgdState` uses (`momentum.velocity`), so checkpoints of either read alike.
#[derive(Clone)]
pub struct MomentumState<const D: usize> {
    /// The velocity `v`.
    pub velocity: Tensor<D>,
}

impl<const D: usize> RecordState for MomentumState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        out.push_tensor(&join_path(prefix, "momentum"), "velocity", self.velocity.clone().into_data());
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let data = src.take_tensor(&join_path(prefix, "momentum"), "velocity")?;
        Some(Self {
            velocity: Tensor::from_data(data, device),
        })
    }
}

impl BurnOptimizer for Momentum {
    type State<const D: usize> = MomentumState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        // burn multiplies by its momentum as an f32 and the gradient by 1 - dampening (1.0,
        // exact): the same values, one kernel fewer.
        let momentum = MOMENTUM as f32;
        let velocity = match state {
            Some(state) => grad.clone().add(state.velocity.mul_scalar(momentum)),
            None => grad.clone(),
        };
        let grad = if self.nesterov {
            velocity.clone().mul_scalar(momentum).add(grad)
        } else {
            velocity.clone()
        };
        (tensor - grad.mul_scalar(lr), Some(MomentumState { velocity }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        MomentumState {
            velocity: state.velocity.to_device(device),
        }
    }
}

impl ListedState for Momentum {
    fn state_tensors<const D: usize>(state: &Self::State<D>) -> Vec<Tensor<1>> {
        vec![flat(&state.velocity)]
    }

    fn state_from<const D: usize>(
        state: &Self::State<D>,
        values: &mut dyn Iterator<Item = Vec<f32>>,
        device: &Device,
    ) -> Self::State<D> {
        MomentumState {
            velocity: refill(&state.velocity, values, device),
        }
    }
}
