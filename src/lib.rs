//! batchlab: LeNet-5 trained on MNIST in the browser, on WebGPU, to see how the batch size
//! changes learning — from batch size 1 (online learning) to the full batch.
//!
//! The modules follow the pipeline: [`data`] (MNIST IDX files → batches), [`model`] (LeNet-5),
//! [`train`] (one run at one batch size), [`experiment`] (a sweep over batch sizes), [`settings`]
//! (the sweep's settings, as read from the page's URL), [`backend`] (WebGPU or the CPU, chosen at
//! run time), and `web` (the wasm-bindgen surface, on wasm32 only). The model and loop are written
//! once for every burn backend: native tests run on the CPU backend (`flex`); the browser trains
//! on WebGPU or on the same CPU backend compiled to wasm.

pub mod backend;
pub mod data;
pub mod experiment;
pub mod model;
pub mod settings;
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod web;
