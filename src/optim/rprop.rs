//! iRprop− (burn has no Rprop), a burn optimiser whose state can be listed ([`ListedState`]).
//!
//! Owns [`Rprop`], its constants and its state; must not know about runs.

use burn::optim::{Optimizer as BurnOptimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};

use super::state::{ListedState, flat, refill};

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

impl ListedState for Rprop {
    fn state_tensors<const D: usize>(state: &Self::State<D>) -> Vec<Tensor<1>> {
        vec![flat(&state.previous_gradient), flat(&state.step_size)]
    }

    fn state_from<const D: usize>(
        state: &Self::State<D>,
        values: &mut dyn Iterator<Item = Vec<f32>>,
        device: &Device,
    ) -> Self::State<D> {
        RpropState {
            previous_gradient: refill(&state.previous_gradient, values, device),
            step_size: refill(&state.step_size, values, device),
        }
    }
}
