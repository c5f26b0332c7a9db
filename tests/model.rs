//! LeNet-5's size and shapes, on the CPU backend.

#![cfg(not(target_arch = "wasm32"))]

use batchlab::model::{LENET5_PARAMETERS, LeNet5};
use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};

#[test]
fn lenet5_has_61706_trainable_parameters() {
    let device = Device::flex();
    let model = LeNet5::new(&device);
    assert_eq!(model.num_params(), 61_706);
    assert_eq!(LENET5_PARAMETERS, 61_706);
}

#[test]
fn logits_are_batch_by_10_and_finite() {
    let device = Device::flex();
    let model = LeNet5::new(&device);
    let images = Tensor::<4>::random([3, 1, 28, 28], Distribution::Default, &device);
    let logits = model.forward(images);
    assert_eq!(logits.dims(), [3, 10]);
    let values = logits.into_data().try_into_vec::<f32>().unwrap();
    assert!(values.iter().all(|v| v.is_finite()));
    // Different images give different logits (the network is not constant).
    assert_ne!(values[..10], values[10..20]);
}

#[test]
fn the_theano_lenet_has_431080_parameters_and_gives_logits() {
    use batchlab::model::{Network, THEANO_LENET_PARAMETERS};
    use batchlab::settings::Model;
    let device = Device::flex();
    let model = Network::new(Model::Theano, &device);
    // conv 1→20: 20·25 + 20 = 520; conv 20→50: 50·20·25 + 50 = 25,050; 800→500: 400,500;
    // 500→10: 5,010.
    assert_eq!(model.num_params(), 520 + 25_050 + 400_500 + 5_010);
    assert_eq!(THEANO_LENET_PARAMETERS, 431_080);
    let images = Tensor::<4>::random([2, 1, 28, 28], Distribution::Default, &device);
    assert_eq!(model.forward(images).dims(), [2, 10]);
    assert_eq!(Network::new(Model::Lenet5, &device).num_params(), 61_706);
}
