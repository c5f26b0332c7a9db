//! The wasm-bindgen surface used by the page's Web Worker (`www/worker.js`).
//!
//! Plain data crosses the boundary: bytes in, serde structs out (`serde-wasm-bindgen`). The
//! worker drives training by calling [`Trainer::advance`] in a loop; nothing here calls back
//! into JavaScript.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use burn::tensor::Device;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::data::Mnist;
use crate::experiment::Sweep;
use crate::settings::{Settings, SettingsError};

thread_local! {
    /// The WebGPU device, initialised once per worker (burn refuses a second initialisation).
    static WEBGPU: RefCell<Option<(Device, AdapterInfo)>> = const { RefCell::new(None) };
}

/// Shows Rust panics in the console with their message (`console_error_panic_hook`).
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The WebGPU adapter in use (`camelCase` in JavaScript).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdapterInfo {
    /// One line for people, e.g. `"SwiftShader Device (Subzero) — Vulkan, CPU (software)"`.
    pub description: String,
    /// The adapter's name as the browser reports it.
    pub name: String,
    /// The native API behind WebGPU (e.g. `"Vulkan"`, `"Metal"`, `"BrowserWebGpu"`).
    pub backend: String,
    /// `"DiscreteGpu"`, `"IntegratedGpu"`, `"Cpu"` (software), … as wgpu reports it.
    pub device_type: String,
    /// Largest storage buffer binding the device allows, in bytes.
    pub max_storage_buffer_binding_size: u64,
    /// Largest buffer the device allows, in bytes.
    pub max_buffer_size: u64,
}

/// Initialises WebGPU through burn (asynchronously, as browsers require) and resolves to the
/// adapter in use, an [`AdapterInfo`] object. A second call resolves to the same adapter.
///
/// # Errors
/// Rejects with a message for people when the browser has no WebGPU, or no adapter, or the
/// device cannot be created.
#[wasm_bindgen(js_name = initWebGpu)]
pub async fn init_webgpu() -> Result<JsValue, JsError> {
    if let Some(info) = WEBGPU.with_borrow(|d| d.as_ref().map(|(_, info)| info.clone())) {
        return Ok(serde_wasm_bindgen::to_value(&info)?);
    }
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| {
            JsError::new(&format!(
                "This browser could not start WebGPU, which batchlab needs to train ({e}). \
                 Use a browser with WebGPU enabled, such as a recent Chrome or Edge."
            ))
        })?;
    let adapter = setup.adapter.get_info();
    let limits = setup.device.limits();
    let device_type = format!("{:?}", adapter.device_type);
    let backend = format!("{:?}", adapter.backend);
    let software = if device_type == "Cpu" {
        " (software)"
    } else {
        ""
    };
    let info = AdapterInfo {
        description: format!("{} — {backend}, {device_type}{software}", adapter.name),
        name: adapter.name,
        backend,
        device_type,
        max_storage_buffer_binding_size: u64::from(limits.max_storage_buffer_binding_size),
        max_buffer_size: limits.max_buffer_size,
    };
    WEBGPU.with_borrow_mut(|d| *d = Some((device, info.clone())));
    Ok(serde_wasm_bindgen::to_value(&info)?)
}

/// The four MNIST files, parsed and validated (see [`crate::data`]).
#[wasm_bindgen]
pub struct MnistData {
    inner: Mnist,
}

#[wasm_bindgen]
impl MnistData {
    /// Parses the four MNIST files (uncompressed IDX bytes).
    ///
    /// # Errors
    /// Throws an `Error` whose message names the file and its fault (still gzip-compressed, not
    /// IDX, truncated, wrong magic number or dimensions, mismatched counts, label outside 0–9).
    #[wasm_bindgen(constructor)]
    pub fn new(
        train_images: &[u8],
        train_labels: &[u8],
        test_images: &[u8],
        test_labels: &[u8],
    ) -> Result<MnistData, JsError> {
        let inner = Mnist::from_idx(train_images, train_labels, test_images, test_labels)?;
        Ok(Self { inner })
    }

    /// Training images loaded (60,000 for the full files).
    #[wasm_bindgen(getter, js_name = trainSize)]
    pub fn train_size(&self) -> usize {
        self.inner.train.len()
    }

    /// Test images loaded (10,000 for the full files).
    #[wasm_bindgen(getter, js_name = testSize)]
    pub fn test_size(&self) -> usize {
        self.inner.test.len()
    }
}

/// A refused setting, as a plain object `{ parameter, message }` for the page.
#[derive(Serialize)]
struct SettingsRefusal<'a> {
    parameter: &'a str,
    message: String,
}

fn refusal(error: &SettingsError) -> JsValue {
    serde_wasm_bindgen::to_value(&SettingsRefusal {
        parameter: error.parameter,
        message: error.to_string(),
    })
    .unwrap_or_else(|_| JsValue::from_str(&error.to_string()))
}

/// Reads sweep settings from URL parameters: a plain object `{ batch: "16,128", epochs: "2", … }`
/// (all values strings, as in a query string). Resolves defaults for missing parameters and
/// returns the settings object (`batchSizes`, `epochs`, `learningRate`, `optimizer`, `seed`,
/// `trainSize`, `testSize`).
///
/// # Errors
/// Throws `{ parameter, message }` naming the refused parameter and the allowed range.
#[wasm_bindgen(js_name = parseSettings)]
pub fn parse_settings(params: JsValue) -> Result<JsValue, JsValue> {
    let params: BTreeMap<String, String> = serde_wasm_bindgen::from_value(params)
        .map_err(|e| JsValue::from_str(&format!("settings must be an object of strings: {e}")))?;
    let settings = Settings::from_params(&params).map_err(|e| refusal(&e))?;
    serde_wasm_bindgen::to_value(&settings).map_err(JsValue::from)
}

/// A sweep being trained on the WebGPU device (call [`init_webgpu`] first).
#[wasm_bindgen]
pub struct Trainer {
    sweep: Rc<RefCell<Option<Sweep>>>,
}

#[wasm_bindgen]
impl Trainer {
    /// A sweep of `settings` (an object as returned by [`parse_settings`]) on `data`.
    ///
    /// # Errors
    /// Throws `{ parameter, message }` for invalid settings, or an `Error` when WebGPU was not
    /// initialised.
    #[wasm_bindgen(constructor)]
    pub fn new(data: &MnistData, settings: JsValue) -> Result<Trainer, JsValue> {
        let settings: Settings = serde_wasm_bindgen::from_value(settings)?;
        let device = WEBGPU
            .with_borrow(|d| d.as_ref().map(|(device, _)| device.clone()))
            .ok_or_else(|| JsError::new("WebGPU is not initialised: call initWebGpu() first"))?;
        let sweep = Sweep::new(settings, &data.inner, device).map_err(|e| refusal(&e))?;
        Ok(Self {
            sweep: Rc::new(RefCell::new(Some(sweep))),
        })
    }

    /// Trains for about `budgetMs` milliseconds and resolves to what was done: an event object
    /// with `kind` `"progress"` (`progress`: `batchSize, epoch, phase, done, total,
    /// runningLoss`), `"epoch"` (`record`: the per-epoch record, see the README), `"diverged"`
    /// (`batchSize, epoch`) or `"done"`.
    ///
    /// # Errors
    /// Rejects with an `Error` when the device fails (e.g. it was lost), or when called again
    /// before the previous call resolved.
    pub fn advance(&self, budget_ms: f64) -> js_sys::Promise {
        let cell = self.sweep.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut sweep = cell
                .borrow_mut()
                .take()
                .ok_or_else(|| JsError::new("advance() was called while a call was under way"))?;
            let budget = Duration::from_secs_f64(budget_ms.max(1.0) / 1000.0);
            let result = sweep.advance(budget).await;
            *cell.borrow_mut() = Some(sweep);
            let event = result.map_err(|e| JsError::new(&e.to_string()))?;
            Ok(serde_wasm_bindgen::to_value(&event)?)
        })
    }
}
