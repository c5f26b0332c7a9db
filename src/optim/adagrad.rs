//! Adagrad, written step for step as burn 0.22.1's `AdaGrad`, so that its sum of squares can
//! be listed ([`ListedState`]).
//!
//! Owns [`Adagrad`] and its state; must not know about runs.

use burn::optim::{Optimizer as BurnOptimizer, RecordState, StateSink, StateSource, join_path};
use burn::tensor::{Device, Tensor};

use super::state::{ListedState, flat, refill};

/// Epsilon of [`Adagrad`] (burn 0.22.1's `AdaGradConfig` default).
pub const ADAGRAD_EPSILON: f32 = 1e-5;

/// Adagrad (Duchi et al. 2011) without learning-rate decay, step for step as burn 0.22.1's
/// `AdaGrad` with its defaults: `s += g²` (`s = g²` at the first step);
/// `w -= lr * g / (√s + 1e-5)`. Written here because burn keeps the sum private.
#[derive(Debug, Clone, Copy)]
pub struct Adagrad;

/// The state of [`Adagrad`]: the steps taken and the sum of squared gradients. Recorded under
/// the names burn's `AdaGradState` uses (`lr_decay.time`, `lr_decay.sum`).
#[derive(Clone)]
pub struct AdagradState<const D: usize> {
    /// Steps taken (burn's `time`).
    pub time: usize,
    /// The sum `s` of squared gradients, shaped like the weight.
    pub sum: Tensor<D>,
}

impl<const D: usize> RecordState for AdagradState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        let path = join_path(prefix, "lr_decay");
        out.push_scalar(&path, "time", self.time.into());
        out.push_tensor(&path, "sum", self.sum.clone().into_data());
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let path = join_path(prefix, "lr_decay");
        let time = usize::try_from(src.take_scalar(&path, "time")?).ok()?;
        let sum = src.take_tensor(&path, "sum")?;
        Some(Self {
            time,
            sum: Tensor::from_data(sum, device),
        })
    }
}

impl BurnOptimizer for Adagrad {
    type State<const D: usize> = AdagradState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let state = match state {
            Some(state) => AdagradState {
                time: state.time + 1,
                sum: state.sum.add(grad.clone().square()),
            },
            None => AdagradState {
                time: 1,
                sum: grad.clone().square(),
            },
        };
        // burn divides the rate by 1 + (time - 1) · lr_decay, with lr_decay 0: by 1.0.
        let update = grad
            .div(state.sum.clone().sqrt().add_scalar(ADAGRAD_EPSILON))
            .mul_scalar(lr);
        (tensor - update, Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdagradState {
            time: state.time,
            sum: state.sum.to_device(device),
        }
    }
}

impl ListedState for Adagrad {
    fn state_tensors<const D: usize>(state: &Self::State<D>) -> Vec<Tensor<1>> {
        vec![flat(&state.sum)]
    }

    fn state_from<const D: usize>(
        state: &Self::State<D>,
        values: &mut dyn Iterator<Item = Vec<f32>>,
        device: &Device,
    ) -> Self::State<D> {
        AdagradState {
            time: state.time,
            sum: refill(&state.sum, values, device),
        }
    }
}
