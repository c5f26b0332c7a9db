//! batchlab: LeNet-5 trained on MNIST in the browser, on WebGPU, to see how the batch size
//! changes learning — from batch size 1 (online learning) to the full batch.
//!
//! The modules follow the pipeline: [`data`] (MNIST IDX files → batches), [`model`] (LeNet-5
//! and the Theano tutorial's LeNet), [`optim`] (the optimisers, Rprop among them), [`schedule`]
//! (learning rate per batch size), [`tuning`] (the learning rate tuned per batch size on a
//! grid), [`noise`] (the gradient noise scale), [`record`] (a run's
//! per-epoch records and progress), [`train`] (one run at one batch size), [`checkpoint`] (a run stopped after an epoch, to resume it), [`summary`] (a run's summary: target reached, best accuracy),
//! [`experiment`] (a sweep over batch sizes), [`estimate`] (how long a sweep will take),
//! [`scaling`] (the critical batch size, fitted to steps-to-target), [`findings`] (the
//! source's six findings, from the measured runs), [`export`] (a sweep as
//! JSON and CSV files, and the import of a JSON export), `report` (an export's charts as PNG and SVG, native only), [`settings`] (the sweep's
//! settings and presets, as read from the page's URL), [`backend`] (WebGPU or the CPU, chosen
//! at run time; the micro-batch size from the device's limits), [`bench`] (speed figures for the
//! benchmark in `bench/`), and `web` (the wasm-bindgen
//! surface, on wasm32 only). The model and loop are written
//! once for every burn backend: native tests run on the CPU backend (`flex`); the browser trains
//! on WebGPU or on the same CPU backend compiled to wasm.

pub mod backend;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod bench;
pub mod checkpoint;
pub mod data;
pub mod estimate;
pub mod experiment;
pub mod export;
pub mod findings;
pub mod kernels;
pub mod model;
pub mod noise;
pub mod optim;
pub mod record;
#[cfg(not(target_arch = "wasm32"))]
pub mod report;
pub mod scaling;
pub mod seeds;
pub mod schedule;
pub mod settings;
pub mod summary;
pub mod train;
pub mod tuning;
#[cfg(target_arch = "wasm32")]
pub mod web;
