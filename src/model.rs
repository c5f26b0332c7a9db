//! The networks: LeNet-5 as commonly trained on 28 x 28 MNIST (LeCun et al. 1998, with ReLU
//! and max-pooling), and the source article's LeNet, the Theano tutorial's
//! (deeplearning.net, "Convolutional Neural Networks (LeNet)"). [`Network`] is either.
//!
//! LeNet-5: conv 5x5 1→6 (padding 2) → ReLU → max-pool 2x2 → conv 5x5 6→16 → ReLU → max-pool
//! 2x2 → flatten 400 → linear 400→120 → ReLU → 120→84 → ReLU → 84→10 (logits).
//! 61,706 trainable parameters (checked by `tests/model.rs`).
//!
//! Owns the networks and the network choice ([`Model`]); must not know about training,
//! settings or backends: convolutions and max-pooling go through [`crate::kernels`], which runs
//! custom operations on the CPU backend and burn's own on any other (the same values).

use burn::module::Module;
use crate::kernels::{conv2d, max_pool2x2, relu_max_pool2x2};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor};

use serde::{Deserialize, Serialize};

use crate::data::NUM_CLASSES;

/// The network trained (`model=` in the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// LeNet-5 as commonly trained on MNIST (ReLU, max-pooling): 61,706 parameters.
    #[default]
    Lenet5,
    /// The source's network, the Theano LeNet tutorial's: 20 and 50 feature maps, 500 tanh
    /// hidden units: 431,080 parameters.
    Theano,
}

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
        let x = relu_max_pool2x2(&self.pool, conv2d(&self.conv1, images)); // [batch, 6, 14, 14]
        let x = relu_max_pool2x2(&self.pool, conv2d(&self.conv2, x)); // [batch, 16, 5, 5]
        let x: Tensor<2> = x.flatten(1, 3); // [batch, 400]
        let x = relu(self.fc1.forward(x));
        let x = relu(self.fc2.forward(x));
        self.fc3.forward(x)
    }
}

/// Trainable parameters of [`TheanoLeNet`]: 520 + 25,050 + 400,500 + 5,010.
pub const THEANO_LENET_PARAMETERS: usize = 431_080;

/// The Theano tutorial's LeNet. Input `[batch, 1, 28, 28]`, output logits `[batch, 10]`:
/// conv 5x5 1→20 → max-pool 2x2 → tanh → conv 5x5 20→50 → max-pool 2x2 → tanh → flatten 800 →
/// linear 800→500 → tanh → 500→10 (logits; the tutorial's softmax is in the loss).
/// 431,080 trainable parameters. (The tutorial adds each map's bias after pooling; max-pooling
/// commutes with adding a per-map constant, so the network is the same.)
#[derive(Module, Debug)]
pub struct TheanoLeNet {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    hidden: Linear,
    output: Linear,
}

impl TheanoLeNet {
    /// A freshly initialised network on `device` (burn's default initialisers).
    pub fn new(device: &Device) -> Self {
        Self {
            conv1: Conv2dConfig::new([1, 20], [5, 5]).init(device),
            conv2: Conv2dConfig::new([20, 50], [5, 5]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            hidden: LinearConfig::new(50 * 4 * 4, 500).init(device),
            output: LinearConfig::new(500, NUM_CLASSES).init(device),
        }
    }

    /// Logits `[batch, 10]` for images `[batch, 1, 28, 28]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = tanh(max_pool2x2(&self.pool, conv2d(&self.conv1, images))); // [batch, 20, 12, 12]
        let x = tanh(max_pool2x2(&self.pool, conv2d(&self.conv2, x))); // [batch, 50, 4, 4]
        let x: Tensor<2> = x.flatten(1, 3); // [batch, 800]
        self.output.forward(tanh(self.hidden.forward(x)))
    }
}

/// The network a run trains: either model, one type for the training loop.
#[derive(Module, Debug)]
pub enum Network {
    /// LeNet-5 (ReLU).
    LeNet5(LeNet5),
    /// The Theano tutorial's LeNet (tanh).
    Theano(TheanoLeNet),
}

impl Network {
    /// A freshly initialised network of kind `model` on `device`.
    pub fn new(model: Model, device: &Device) -> Self {
        match model {
            Model::Lenet5 => Network::LeNet5(LeNet5::new(device)),
            Model::Theano => Network::Theano(TheanoLeNet::new(device)),
        }
    }

    /// Logits `[batch, 10]` for images `[batch, 1, 28, 28]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Network::LeNet5(net) => net.forward(images),
            Network::Theano(net) => net.forward(images),
        }
    }
}

/// Bytes per image of the largest buffer one training pass of `model` allocates: the unfolded
/// (im2col) input of its largest convolution, `in_channels × 25 × out_height × out_width × 4`
/// bytes — LeNet-5's conv1: 1 × 25 × 28 × 28 × 4 = 78,400; the Theano LeNet's conv2:
/// 20 × 25 × 8 × 8 × 4 = 128,000. An upper bound whether or not the backend unfolds.
pub fn largest_buffer_bytes_per_image(model: Model) -> u64 {
    match model {
        Model::Lenet5 => 25 * 28 * 28 * 4,
        Model::Theano => 20 * 25 * 8 * 8 * 4,
    }
}
