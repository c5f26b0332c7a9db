//! LeNet-5 as commonly trained on 28 x 28 MNIST (LeCun et al. 1998, with ReLU and max-pooling).
//!
//! conv 5x5 1→6 (padding 2) → ReLU → max-pool 2x2 → conv 5x5 6→16 → ReLU → max-pool 2x2 →
//! flatten 400 → linear 400→120 → ReLU → 120→84 → ReLU → 84→10 (logits).
//! 61,706 trainable parameters (checked by `tests/model.rs`).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::data::NUM_CLASSES;

/// Trainable parameters of [`LeNet5`]: 156 + 2,416 + 48,120 + 10,164 + 850.
pub const LENET5_PARAMETERS: usize = 61_706;

/// LeNet-5. Input `[batch, 1, 28, 28]`, output logits `[batch, 10]`.
#[derive(Module, Debug)]
pub struct LeNet5 {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
}

impl LeNet5 {
    /// A freshly initialised LeNet-5 on `device` (burn's default initialisers: Kaiming uniform).
    /// Seed the device first (`device.seed(..)`) for reproducible weights.
    pub fn new(device: &Device) -> Self {
        Self {
            conv1: Conv2dConfig::new([1, 6], [5, 5])
                .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                .init(device),
            conv2: Conv2dConfig::new([6, 16], [5, 5]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(16 * 5 * 5, 120).init(device),
            fc2: LinearConfig::new(120, 84).init(device),
            fc3: LinearConfig::new(84, NUM_CLASSES).init(device),
        }
    }

    /// Logits `[batch, 10]` for images `[batch, 1, 28, 28]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(relu(self.conv1.forward(images))); // [batch, 6, 14, 14]
        let x = self.pool.forward(relu(self.conv2.forward(x))); // [batch, 16, 5, 5]
        let x: Tensor<2> = x.flatten(1, 3); // [batch, 400]
        let x = relu(self.fc1.forward(x));
        let x = relu(self.fc2.forward(x));
        self.fc3.forward(x)
    }
}
