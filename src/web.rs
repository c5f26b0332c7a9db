//! The wasm-bindgen surface used by the page's Web Worker (`www/worker.js`).
//!
//! Plain data crosses the boundary: bytes in, serde structs out (`serde-wasm-bindgen`). The
//! worker starts WebGPU ([`init_webgpu`]), chooses the backend ([`choose_backend`]), and drives
//! training by calling [`Trainer::advance`] in a loop. The only call back into JavaScript is the
//! panic hook, which posts the panic message to the page before the module traps.
//!
//! Owns the wasm-bindgen surface and the active device; must not hold experiment logic (it
//! calls the modules above and converts their data).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::backend::{self, Backend, BackendPreference, DeviceLimits, WebGpuOutcome};
use crate::checkpoint::RunCheckpoint;
use crate::data::Mnist;
use crate::experiment::Sweep;
use crate::settings::{Settings, SettingsError};
use crate::summary::RunSummary;
use crate::train::TrainError;

thread_local! {
    /// The WebGPU device, initialised once per worker (burn refuses a second initialisation),
    /// with its adapter and a way to destroy it (to simulate a lost device).
    static WEBGPU: RefCell<Option<WebGpu>> = const { RefCell::new(None) };
    /// The device that trains (set by [`choose_backend`]), with its WebGPU limits (`None` on
    /// the CPU backend).
    static ACTIVE: RefCell<Option<(Device, Option<DeviceLimits>)>> = const { RefCell::new(None) };
}

/// A Rust value as a plain JavaScript object, with `None` as `null` (not `undefined`) and maps
/// (also structs with flattened fields, as in [`crate::export`]) as plain objects (not `Map`), so
/// that it survives `JSON.stringify` and `structuredClone` unchanged.
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, serde_wasm_bindgen::Error> {
    value.serialize(
        &serde_wasm_bindgen::Serializer::new()
            .serialize_missing_as_null(true)
            .serialize_maps_as_objects(true),
    )
}

/// The active device and the micro-batch size for `settings`' model on it.
fn active(settings: &Settings) -> Result<(Device, usize), JsError> {
    ACTIVE
        .with_borrow(|a| a.clone())
        .map(|(device, limits)| {
            (
                device,
                backend::micro_batch(limits.as_ref(), settings.model),
            )
        })
        .ok_or_else(|| JsError::new("no backend chosen: call chooseBackend() first"))
}

/// The active WebGPU device's limits (`None` on the CPU backend or before a choice).
fn active_limits() -> Option<DeviceLimits> {
    ACTIVE.with_borrow(|a| a.as_ref().and_then(|(_, limits)| *limits))
}

struct WebGpu {
    device: Device,
    info: AdapterInfo,
    destroy: Box<dyn Fn()>,
}

/// Installs the panic hook: a Rust panic is logged to the console (`console_error_panic_hook`)
/// and, inside a worker, posted to the page as `{ type: "panic", message, location }` before
/// the module traps, so the page can show it instead of waiting for a worker that is gone.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let message = info
            .payload_as_str()
            .unwrap_or("(a panic without a message)");
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(scope) = js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>() {
            let report = js_sys::Object::new();
            for (key, value) in [
                ("type", "panic"),
                ("message", message),
                ("location", &location),
            ] {
                let _ = js_sys::Reflect::set(&report, &key.into(), &value.into());
            }
            let _ = scope.post_message(&report);
        }
    }));
}

/// The WebGPU adapter in use (`camelCase` in JavaScript).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdapterInfo {
    /// One line for people, e.g. `"SwiftShader Device (Subzero) — Vulkan, CPU (software)"`.
    pub description: String,
    /// The adapter's name as the browser reports it (empty in browsers, which hide it from wgpu).
    pub name: String,
    /// The native API behind WebGPU (e.g. `"Vulkan"`, `"Metal"`, `"BrowserWebGpu"`).
    pub backend: String,
    /// `"DiscreteGpu"`, `"IntegratedGpu"`, `"Cpu"` (software), … as wgpu reports it.
    pub device_type: String,
    /// Largest storage buffer binding the device allows, in bytes.
    pub max_storage_buffer_binding_size: u64,
    /// Largest buffer the device allows, in bytes.
    pub max_buffer_size: u64,
    /// Most workgroups per dimension of one compute dispatch.
    pub max_compute_workgroups_per_dimension: u64,
}

impl AdapterInfo {
    fn limits(&self) -> DeviceLimits {
        DeviceLimits {
            max_storage_buffer_binding_size: self.max_storage_buffer_binding_size,
            max_buffer_size: self.max_buffer_size,
            max_compute_workgroups_per_dimension: self.max_compute_workgroups_per_dimension,
        }
    }
}

/// How many compute tasks CubeCL gathers into one command buffer before it submits, by default
/// (CubeCL's own default, `cubecl-wgpu` 0.11: 32). A chunk's read submits what is left.
pub const WEBGPU_TASKS_MAX: usize = 32;

/// Options of [`init_webgpu`] (bench/ measures them; the page passes none).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WebGpuOptions {
    /// Compute tasks per submitted command buffer (CubeCL's `tasks_max`); default
    /// [`WEBGPU_TASKS_MAX`].
    tasks_max: Option<usize>,
}

/// Initialises WebGPU through burn (asynchronously, as browsers require) and resolves to the
/// adapter in use, an [`AdapterInfo`] object. A second call resolves to the same adapter (its
/// options are those of the first). `options` (optional): `{ tasksMax }`, the compute tasks
/// CubeCL gathers into one command buffer before it submits (default [`WEBGPU_TASKS_MAX`]).
///
/// # Errors
/// Rejects with an `Error` whose message says why, in a sentence, when the browser has no
/// WebGPU, no adapter, or the device cannot be created; or when `options` is not as above.
#[wasm_bindgen(js_name = initWebGpu)]
pub async fn init_webgpu(options: JsValue) -> Result<JsValue, JsError> {
    if let Some(info) = WEBGPU.with_borrow(|w| w.as_ref().map(|w| w.info.clone())) {
        return Ok(to_js(&info)?);
    }
    let options: WebGpuOptions = if options.is_undefined() || options.is_null() {
        WebGpuOptions::default()
    } else {
        serde_wasm_bindgen::from_value(options)
            .map_err(|e| JsError::new(&format!("initWebGpu's options: {e}")))?
    };
    let tasks_max = options.tasks_max.unwrap_or(WEBGPU_TASKS_MAX);
    if tasks_max == 0 {
        return Err(JsError::new(
            "initWebGpu's options: tasksMax must be at least 1",
        ));
    }
    let (device, setup) = Device::wgpu_options()
        .tasks_max(tasks_max)
        .init_with_setup_async()
        .await
        .map_err(|e| {
            // wgpu's own text is for developers; say the common case in words.
            let e = e.to_string();
            JsError::new(&if e.contains("no adapters") || e.contains("No adapter") {
                "it offers no WebGPU adapter (no GPU, or no GPU driver, that WebGPU supports here)."
                    .to_string()
            } else {
                format!("no WebGPU device could be created ({e}).")
            })
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
        max_compute_workgroups_per_dimension: u64::from(
            limits.max_compute_workgroups_per_dimension,
        ),
    };
    let wgpu_device = setup.device.clone();
    WEBGPU.with_borrow_mut(|w| {
        *w = Some(WebGpu {
            device,
            info: info.clone(),
            destroy: Box::new(move || wgpu_device.destroy()),
        });
    });
    Ok(to_js(&info)?)
}

/// What the worker learnt about WebGPU before choosing: `{ error }` when it could not be started
/// (the reason, a sentence), `{ adapter, software }` when it started, `{}` when not tried.
#[derive(Deserialize)]
struct WebGpuReport {
    error: Option<String>,
    adapter: Option<String>,
    #[serde(default)]
    software: bool,
}

/// Chooses the backend that trains (see [`crate::backend::choose`]) and makes it the active
/// device for the next [`Trainer`]. `preference` is the settings' `backend` (`"auto"`,
/// `"webgpu"` or `"cpu"`); `webgpu` is `{ error }`, `{ adapter, software }` or `{}`.
/// Returns `{ backend: "webgpu" | "cpu", reason }`, the reason a sentence for the page.
///
/// # Errors
/// Throws an `Error` when `backend=webgpu` was asked for and WebGPU could not be started.
#[wasm_bindgen(js_name = chooseBackend)]
pub fn choose_backend(preference: JsValue, webgpu: JsValue) -> Result<JsValue, JsError> {
    let preference: BackendPreference = serde_wasm_bindgen::from_value(preference)?;
    let report: WebGpuReport = serde_wasm_bindgen::from_value(webgpu)?;
    let started = WEBGPU.with_borrow(|w| w.as_ref().map(|w| (w.device.clone(), w.info.limits())));
    let outcome = match (report.error, started.is_some()) {
        (Some(error), _) => WebGpuOutcome::Failed(error),
        (None, true) => WebGpuOutcome::Started {
            adapter: report.adapter.unwrap_or_else(|| "unnamed adapter".into()),
            software: report.software,
        },
        (None, false) => WebGpuOutcome::NotTried,
    };
    let choice = backend::choose(preference, &outcome).map_err(|e| JsError::new(&e.to_string()))?;
    let device = match choice.backend {
        Backend::Webgpu => {
            let (device, limits) = started.expect("WebGPU is chosen only once started");
            (device, Some(limits))
        }
        // `choose` refuses CUDA in the browser; the arm is for completeness.
        Backend::Cpu | Backend::Cuda => (Device::flex(), None),
    };
    ACTIVE.with_borrow_mut(|a| *a = Some(device));
    Ok(to_js(&choice)?)
}

/// `settings` (an object as returned by [`parse_settings`]) for a sweep on `backend`
/// (`"cpu"` or `"webgpu"`, as [`choose_backend`] returned it): `race` resolved when the link
/// left it out (side by side on the CPU, one after another on WebGPU; see
/// [`Settings::resolve_race`]), every other field as given.
///
/// # Errors
/// Throws an `Error` when `settings` or `backend` is not as above.
#[wasm_bindgen(js_name = settingsFor)]
pub fn settings_for(settings: JsValue, backend: &str) -> Result<JsValue, JsError> {
    let mut settings: Settings = serde_wasm_bindgen::from_value(settings)?;
    let backend = match backend {
        "cpu" => Backend::Cpu,
        "webgpu" => Backend::Webgpu,
        other => {
            return Err(JsError::new(&format!(
                "settingsFor: unknown backend {other:?}"
            )));
        }
    };
    settings.resolve_race(backend);
    Ok(to_js(&settings)?)
}

/// Memory in use, for the page's leak check (`camelCase` in JavaScript).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemoryUsage {
    /// Size of the wasm module's linear memory, in bytes (it only grows: a high-water mark).
    wasm_bytes: u64,
    /// Bytes burn reports in use on the active device (WebGPU); `null` on the CPU backend,
    /// whose tensors live in the wasm memory.
    device_bytes: Option<u64>,
}

/// Memory in use now: `{ wasmBytes, deviceBytes }` (bytes; `deviceBytes` is `null` on the CPU
/// backend or before a backend was chosen).
#[wasm_bindgen(js_name = memoryUsage)]
pub fn memory_usage() -> Result<JsValue, JsError> {
    let device_bytes = ACTIVE.with_borrow(|a| {
        a.as_ref()
            .and_then(|(device, _)| device.memory_pool_usage())
            .map(|u| u.bytes_in_use)
    });
    let usage = MemoryUsage {
        wasm_bytes: core::arch::wasm32::memory_size::<0>() as u64 * 65_536,
        device_bytes,
    };
    Ok(to_js(&usage)?)
}

/// For tests of the page's fault handling: destroys the WebGPU device, as a GPU reset or a
/// driver crash would lose it (`GPUDevice.destroy()`). Returns whether there was one.
#[wasm_bindgen(js_name = loseWebGpuDevice)]
pub fn lose_webgpu_device() -> bool {
    WEBGPU.with_borrow(|w| w.as_ref().map(|w| (w.destroy)()).is_some())
}

/// For tests of the page's fault handling: panics with `message`, as a bug in the trainer would.
///
/// # Panics
/// Always.
#[wasm_bindgen(js_name = panicForTest)]
pub fn panic_for_test(message: &str) {
    panic!("{message}");
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

    /// The test split alone (uncompressed IDX bytes of `t10k-images-idx3-ubyte` and
    /// `t10k-labels-idx1-ubyte`), with no training image yet: add the training set's parts with
    /// [`MnistData::add_train_part`].
    ///
    /// # Errors
    /// As [`MnistData::new`], for the two test files.
    #[wasm_bindgen(js_name = testOnly)]
    pub fn test_only(test_images: &[u8], test_labels: &[u8]) -> Result<MnistData, JsError> {
        let test = crate::data::Split::from_idx(
            test_images,
            crate::data::FILE_NAMES[2],
            test_labels,
            crate::data::FILE_NAMES[3],
        )?;
        Ok(Self {
            inner: Mnist {
                train: crate::data::Split::empty(),
                test,
                held_out: crate::data::Split::empty(),
            },
        })
    }

    /// Appends a part of the training set: an images file and a labels file (uncompressed IDX
    /// bytes, e.g. 10,000 images each, as `scripts/build.sh` cuts them), named `imagesFile` and
    /// `labelsFile` in errors.
    ///
    /// # Errors
    /// As [`MnistData::new`], naming the part's files; the data loaded so far is kept.
    #[wasm_bindgen(js_name = addTrainPart)]
    pub fn add_train_part(
        &mut self,
        images: &[u8],
        labels: &[u8],
        images_file: &str,
        labels_file: &str,
    ) -> Result<(), JsError> {
        let part = crate::data::Split::from_idx(images, images_file, labels, labels_file)?;
        self.inner.train.append(&part);
        Ok(())
    }

    /// Sets the training file's last part (its last [`crate::data::HELD_OUT_PART`] images, from
    /// which the validation set is held out) when the parts before it are not all loaded: an
    /// images file and a labels file (uncompressed IDX bytes), named in errors.
    ///
    /// # Errors
    /// As [`MnistData::new`], naming the part's files, or when the part does not hold
    /// [`crate::data::HELD_OUT_PART`] images; the data loaded so far is kept.
    #[wasm_bindgen(js_name = setHeldOutPart)]
    pub fn set_held_out_part(
        &mut self,
        images: &[u8],
        labels: &[u8],
        images_file: &str,
        labels_file: &str,
    ) -> Result<(), JsError> {
        let part = crate::data::Split::from_idx(images, images_file, labels, labels_file)?;
        if part.len() != crate::data::HELD_OUT_PART {
            return Err(JsError::new(&format!(
                "{images_file} holds {} images, but the training file's last part holds {}",
                part.len(),
                crate::data::HELD_OUT_PART
            )));
        }
        self.inner.held_out = part;
        Ok(())
    }

    /// Images of the training file's last part set apart ([`MnistData::set_held_out_part`]):
    /// 0 or 10,000.
    #[wasm_bindgen(getter, js_name = heldOutSize)]
    pub fn held_out_size(&self) -> usize {
        self.inner.held_out.len()
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
    to_js(&SettingsRefusal {
        parameter: error.parameter,
        message: error.to_string(),
    })
    .unwrap_or_else(|_| JsValue::from_str(&error.to_string()))
}

/// Reads sweep settings from URL parameters: a plain object `{ batch: "16,128", epochs: "2", … }`
/// (all values strings, as in a query string). Resolves the preset and defaults for missing
/// parameters and returns the settings object (`preset`, `batch`, `batchSizes`, `epochs`,
/// `learningRate`, `optimizer`, `seed`, `trainSize`, `testSize`, `backend`, `model`, `lrPolicy`,
/// `lrReferenceBatch`, `warmupEpochs`, `target`, `endAtTarget`, `runBudgetSeconds`; see
/// [`Settings`]).
///
/// # Errors
/// Throws `{ parameter, message }` naming the refused parameter and the allowed range.
#[wasm_bindgen(js_name = parseSettings)]
pub fn parse_settings(params: JsValue) -> Result<JsValue, JsValue> {
    let params: BTreeMap<String, String> = serde_wasm_bindgen::from_value(params)
        .map_err(|e| JsValue::from_str(&format!("settings must be an object of strings: {e}")))?;
    let settings = Settings::from_params(&params).map_err(|e| refusal(&e))?;
    to_js(&settings).map_err(JsValue::from)
}

/// A sweep being trained on the active device (call [`choose_backend`] first).
#[wasm_bindgen]
pub struct Trainer {
    sweep: Rc<RefCell<Option<Sweep>>>,
    micro_batch: usize,
    /// The runs going on from a checkpoint, and the checkpoints refused (see [`Resuming`]).
    resuming: Resuming,
}

/// Which runs of a [`Trainer`] go on from their checkpoints (`camelCase` in JavaScript).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Resuming {
    /// The keys of the runs that go on from their checkpoints (a batch size, or a run's series).
    keys: Vec<RunKey>,
    /// The checkpoints that cannot be used: their run's key, and why (their run starts from its
    /// first epoch).
    refused: Vec<RefusedCheckpoint>,
}

/// A checkpoint refused, and why: its index in the array given, its run's key when it could
/// be read.
#[derive(Debug, Clone, Serialize)]
struct RefusedCheckpoint {
    index: usize,
    key: Option<RunKey>,
    message: String,
}

/// A run's key as the page writes it: a batch size (a number; a batch size's only run) or the
/// run's series (a string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum RunKey {
    Batch(usize),
    Series(String),
}

impl RunKey {
    fn of(batch_size: usize, series: Option<&str>) -> Self {
        match series {
            Some(series) => RunKey::Series(series.to_string()),
            None => RunKey::Batch(batch_size),
        }
    }
}

#[wasm_bindgen]
impl Trainer {
    /// A sweep of `settings` (an object as returned by [`parse_settings`]) on `data`.
    ///
    /// Trains on the backend chosen by [`choose_backend`].
    ///
    /// # Errors
    /// Throws `{ parameter, message }` for invalid settings, or an `Error` when no backend was
    /// chosen.
    ///
    /// `finished`: `null`, or the keys of runs already finished (a continuation): each a batch
    /// size (a run that is its batch size's only one) or a run's `series`; the sweep then trains
    /// only the runs of its plan not listed.
    ///
    /// `checkpoints`: `null`/`undefined`, or an array of `Uint8Array`s, each a run's checkpoint
    /// as [`Trainer::checkpoint`] wrote it: those runs go on from their last finished epoch.
    /// A checkpoint that cannot be used is left out (its run starts from its first epoch) and
    /// said in [`Trainer::resuming`].
    #[wasm_bindgen(constructor)]
    pub fn new(
        data: &MnistData,
        settings: JsValue,
        finished: JsValue,
        checkpoints: JsValue,
    ) -> Result<Trainer, JsValue> {
        let settings: Settings = serde_wasm_bindgen::from_value(settings)?;
        let finished: Option<Vec<RunKey>> = serde_wasm_bindgen::from_value(finished)?;
        let left: Option<Vec<usize>> = finished.map(|done| {
            let plan = settings.plan();
            (0..plan.len())
                .filter(|&i| {
                    !done.contains(&RunKey::of(plan[i].batch_size, plan[i].series.as_deref()))
                })
                .collect()
        });
        let mut resuming = Resuming::default();
        let mut read = Vec::new();
        if !checkpoints.is_undefined() && !checkpoints.is_null() {
            for (index, bytes) in js_sys::Array::from(&checkpoints).iter().enumerate() {
                let Some(bytes) = bytes.dyn_ref::<js_sys::Uint8Array>() else {
                    return Err(JsError::new("checkpoints must be Uint8Arrays").into());
                };
                match RunCheckpoint::from_bytes(&bytes.to_vec()) {
                    Ok(checkpoint) => read.push((index, checkpoint)),
                    Err(e) => resuming.refused.push(RefusedCheckpoint {
                        index,
                        key: None,
                        message: e.to_string(),
                    }),
                }
            }
        }
        let (device, micro_batch) = active(&settings)?;
        let on_device =
            backend::training_set_on_device(active_limits().as_ref(), settings.train_size);
        let mut sweep = Sweep::new(settings, &data.inner, device)
            .map_err(|e| refusal(&e))?
            .with_micro_batch(micro_batch);
        if let Some(left) = left {
            sweep = sweep.with_runs(&left);
        }
        let indices: Vec<(usize, RunKey)> = read
            .iter()
            .map(|(i, c)| (*i, RunKey::of(c.batch_size, c.series.as_deref())))
            .collect();
        let (mut sweep, refused) =
            sweep.with_checkpoints(read.into_iter().map(|(_, c)| c).collect());
        resuming.refused.extend(refused.into_iter().map(|(c, e)| {
            let key = RunKey::of(c.batch_size, c.series.as_deref());
            RefusedCheckpoint {
                index: indices
                    .iter()
                    .find(|(_, k)| *k == key)
                    .map_or(0, |(i, _)| *i),
                key: Some(key),
                message: e.to_string(),
            }
        }));
        resuming.keys = sweep
            .resuming()
            .iter()
            .map(|c| RunKey::of(c.batch_size, c.series.as_deref()))
            .collect();
        if on_device {
            sweep = sweep.with_training_set_on_device();
        }
        Ok(Self {
            sweep: Rc::new(RefCell::new(Some(sweep))),
            micro_batch,
            resuming,
        })
    }

    /// Which runs go on from their checkpoints: `{ keys, refused }`, `keys` the run keys (a
    /// batch size, or a series) given a usable checkpoint, `refused` `[{ index, key, message }]`
    /// the checkpoints that could not be used and why in words (`index` in the array given;
    /// `key` null when the bytes were not a checkpoint at all).
    pub fn resuming(&self) -> Result<JsValue, JsError> {
        Ok(to_js(&self.resuming)?)
    }

    /// Resolves to the checkpoint of the run of batch size `batch_size` and series `series`
    /// (`undefined` for a batch size's only run) right after its epoch ended (an `"epoch"` event
    /// whose summary is still `"running"`), as bytes to keep and pass back to [`Trainer::new`];
    /// about 0.75 MB for LeNet-5 with Adam. `undefined` when the run is not under way. The
    /// model and the optimiser's state are read back in one asynchronous read, so every
    /// optimiser's runs keep checkpoints, on WebGPU as on the CPU.
    ///
    /// # Errors
    /// Rejects with an `Error` in words when the run is in the middle of an epoch, its state
    /// cannot be written or read back, or a call is under way.
    pub fn checkpoint(&self, batch_size: usize, series: Option<String>) -> js_sys::Promise {
        let cell = self.sweep.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let sweep = cell.borrow_mut().take().ok_or_else(|| {
                JsError::new("checkpoint() was called while a call was under way")
            })?;
            let result = sweep.checkpoint(batch_size, series.as_deref()).await;
            *cell.borrow_mut() = Some(sweep);
            let checkpoint = result.map_err(|e| JsError::new(&e.to_string()))?;
            Ok(checkpoint.map_or(JsValue::UNDEFINED, |c| {
                js_sys::Uint8Array::from(c.to_bytes().as_slice()).into()
            }))
        })
    }

    /// The micro-batch size of this sweep's runs: most images per forward/backward pass, from
    /// the device's limits ([`crate::backend::micro_batch`]).
    #[wasm_bindgen(getter, js_name = microBatch)]
    pub fn micro_batch(&self) -> usize {
        self.micro_batch
    }

    /// Trains for about `budgetMs` milliseconds and resolves to what was done: an event object
    /// with `kind` `"runStarted"` (`summary`: the new run's summary, see the README),
    /// `"runResumed"` (`summary, epochs`: a run going on from its checkpoint after `epochs`),
    /// `"progress"` (`progress`: `batchSize, epoch, phase, done, total, runningLoss`; `phase`
    /// `"train"`, `"probe"` or `"test"`), `"epoch"` (`record`: the per-epoch record; `summary`:
    /// the run's summary after it), `"diverged"` (`batchSize, epoch, summary`) or `"done"`.
    ///
    /// # Errors
    /// Rejects with `{ kind, message, reason }` when the device fails: `kind` is
    /// `"deviceLost"` when the GPU device was lost, `"device"` for another failure; `reason` is
    /// the cause alone (e.g. `"Destroyed: Device was destroyed"`); with an `Error` when called
    /// again before the previous call resolved.
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
            let event = result.map_err(|e| device_failure(&e))?;
            Ok(to_js(&event)?)
        })
    }
}

/// A device failure, as a plain object `{ kind, message, reason }` for the page.
#[derive(Serialize)]
struct DeviceFailure {
    kind: &'static str,
    message: String,
    reason: String,
}

fn device_failure(error: &TrainError) -> JsValue {
    let kind = match error {
        TrainError::DeviceLost(_) => "deviceLost",
        TrainError::Read(_) => "device",
    };
    to_js(&DeviceFailure {
        kind,
        message: error.to_string(),
        reason: error.reason().to_string(),
    })
    .unwrap_or_else(|_| JsValue::from_str(&error.to_string()))
}

/// Estimates how long a sweep of `settings` (an object as returned by [`parse_settings`]) will
/// take on the active device, from a short measured warm-up on `data` (a few training steps per
/// batch size; about half a second each, plus shader compilation on WebGPU). Resolves to
/// `{ runs: [{ batchSize, samplesPerSecond, seconds, diverges }], totalSeconds, atMost,
/// evaluationImagesPerSecond, measuredInSeconds }` (seconds; `atMost`: runs end at the target,
/// so they may take less; `diverges`: its run diverged while measured, so the sweep's run of the
/// same seed and rate diverges too and is estimated as ending there).
///
/// # Errors
/// Rejects with `{ parameter, message }` for invalid settings, `{ kind, message, reason }` when
/// the device fails (as [`Trainer::advance`]), or an `Error` when no backend was chosen.
#[wasm_bindgen(js_name = estimateDuration)]
pub async fn estimate_duration(data: &MnistData, settings: JsValue) -> Result<JsValue, JsValue> {
    let settings: Settings = serde_wasm_bindgen::from_value(settings)?;
    settings.validate().map_err(|e| refusal(&e))?;
    if settings.train_size > data.inner.train.len() {
        return Err(JsError::new("more training images asked for than loaded").into());
    }
    let (device, micro_batch) = active(&settings)?;
    let train = data.inner.train.take(settings.train_size);
    let on_device = backend::training_set_on_device(active_limits().as_ref(), settings.train_size);
    let estimate = crate::estimate::estimate(&settings, micro_batch, &train, on_device, &device)
        .await
        .map_err(|e| device_failure(&e))?;
    Ok(to_js(&estimate)?)
}

/// Checks benchmark settings and hands back the active device, the micro-batch size and the
/// training images the settings ask for.
fn bench_setup(
    data: &MnistData,
    settings: JsValue,
    options: JsValue,
) -> Result<(Settings, crate::bench::BenchOptions, Device, usize), JsValue> {
    let settings: Settings = serde_wasm_bindgen::from_value(settings)?;
    settings.validate().map_err(|e| refusal(&e))?;
    if settings.train_size > data.inner.train.len() {
        return Err(JsError::new("more training images asked for than loaded").into());
    }
    let options = if options.is_undefined() || options.is_null() {
        crate::bench::BenchOptions::default()
    } else {
        serde_wasm_bindgen::from_value(options)?
    };
    let (device, micro_batch) = active(&settings)?;
    Ok((settings, options, device, micro_batch))
}

/// Benchmark (`bench/`): measures training at `batchSize` on the active device with the run of
/// `settings` (an object as returned by [`parse_settings`]; its first `trainSize` images of
/// `data`, evaluated on its first `testSize` after each epoch). `options` is `{ warmupSeconds,
/// windowSeconds, windows, limitSeconds, epoch, hostBatches }` (seconds; a missing field takes
/// its default: 2 s of warm-up, then 3 windows of 3 s, within 120 s; see [`crate::bench`]). Resolves to `{ batchSize, microBatch,
/// firstStepSeconds, windows, windowSeconds, samplesPerSecond, msPerStep, epochSeconds,
/// epochTestAccuracy, totalSeconds }` (samples/s, milliseconds, seconds; `epoch…` `null` unless
/// asked for). `onChunk` (optional): called as `onChunk('start')` before each timed chunk and
/// `onChunk('measured', images)` after one that counted in the windows (bench/ counts the WebGPU
/// calls of the measured chunks with it); an exception it throws is ignored.
///
/// # Errors
/// Rejects as [`estimate_duration`] does.
#[wasm_bindgen(js_name = benchTraining)]
pub async fn bench_training(
    data: &MnistData,
    settings: JsValue,
    batch_size: usize,
    options: JsValue,
    on_chunk: Option<js_sys::Function>,
) -> Result<JsValue, JsValue> {
    if batch_size == 0 {
        return Err(JsError::new("the batch size must be at least 1").into());
    }
    let (settings, options, device, micro_batch) = bench_setup(data, settings, options)?;
    let test = data.inner.test.take(settings.test_size);
    let on_device = backend::training_set_on_device(active_limits().as_ref(), settings.train_size);
    let mut tell = |edge: crate::bench::ChunkEdge| {
        let Some(f) = &on_chunk else { return };
        let _ = match edge {
            crate::bench::ChunkEdge::Start => f.call1(&JsValue::NULL, &JsValue::from_str("start")),
            crate::bench::ChunkEdge::Measured(images) => f.call2(
                &JsValue::NULL,
                &JsValue::from_str("measured"),
                &JsValue::from(images as f64),
            ),
        };
    };
    let figures = crate::bench::training(
        &settings,
        batch_size,
        micro_batch,
        on_device,
        &data.inner.train,
        &test,
        &device,
        options,
        &mut tell,
    )
    .await
    .map_err(|e| device_failure(&e))?;
    Ok(to_js(&figures)?)
}

/// Benchmark (`bench/`): measures evaluation (forward passes over the first `testSize` test
/// images of `data`, 1,000 per pass) on the active device. `settings` and `options` as for
/// [`bench_training`]. Resolves to `{ evalBatch, windows, imagesPerSecond }` (images/s).
///
/// # Errors
/// Rejects as [`estimate_duration`] does.
#[wasm_bindgen(js_name = benchEvaluation)]
pub async fn bench_evaluation(
    data: &MnistData,
    settings: JsValue,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    let (settings, options, device, micro_batch) = bench_setup(data, settings, options)?;
    let test = data.inner.test.take(settings.test_size);
    let figures = crate::bench::evaluation(
        &settings,
        micro_batch,
        &data.inner.train,
        &test,
        &device,
        options,
    )
    .await
    .map_err(|e| device_failure(&e))?;
    Ok(to_js(&figures)?)
}

/// The source's six findings ([`crate::findings`]) stated from a sweep's run summaries: `runs`
/// is an array of run summaries (as the trainer reports them), `testSize` the test images
/// evaluated. Returns `[{ number, title, shown, text }]` (`shown`: `true`, `false`, or `null`
/// when the sweep cannot tell).
///
/// # Errors
/// Throws an `Error` when `runs` is not an array of run summaries.
///
/// With several arms (`baseline`), the last arm's (the `lrpolicy` arm's) findings; with
/// several seeds, stated on the means over the seeds (see [`findings_by_arm`]).
#[wasm_bindgen]
pub fn findings(runs: JsValue, test_size: usize) -> Result<JsValue, JsError> {
    let runs: Vec<RunSummary> = serde_wasm_bindgen::from_value(runs)?;
    let arms = crate::findings::findings_by_arm(&runs, test_size);
    let main = arms
        .into_iter()
        .last()
        .map_or_else(|| crate::findings::findings(&[], test_size), |a| a.findings);
    Ok(to_js(&main)?)
}

/// The six findings per arm of a sweep ([`crate::findings::findings_by_arm`]): `runs` and
/// `testSize` as for [`findings`]. Returns `[{ lrPolicy, seeds, findings }]`, the arms in the
/// order their first runs appear (the `baseline` arm first); each finding as [`findings`]'s,
/// plus `seeds: [true | false | null]` (each seed's verdict) when the arm has several seeds.
///
/// # Errors
/// Throws an `Error` when `runs` is not an array of run summaries.
#[wasm_bindgen(js_name = findingsByArm)]
pub fn findings_by_arm(runs: JsValue, test_size: usize) -> Result<JsValue, JsError> {
    let runs: Vec<RunSummary> = serde_wasm_bindgen::from_value(runs)?;
    Ok(to_js(&crate::findings::findings_by_arm(&runs, test_size))?)
}

/// Every batch size of every arm over its seeds ([`crate::seeds::aggregate`]): `runs` as for
/// [`findings`]. Returns `[{ batchSize, lrPolicy, seeds, reached, diverged, learningRate,
/// targetSteps, targetSeconds, samplesPerSecond, finalTestAccuracy, bestValAccuracy,
/// finalValAccuracy, noiseScale }]`, each measure `{ n, mean, sd, min, max }` or `null`.
///
/// # Errors
/// Throws an `Error` when `runs` is not an array of run summaries.
#[wasm_bindgen(js_name = seedSummaries)]
pub fn seed_summaries(runs: JsValue) -> Result<JsValue, JsError> {
    let runs: Vec<RunSummary> = serde_wasm_bindgen::from_value(runs)?;
    Ok(to_js(&crate::seeds::aggregate(&runs))?)
}

/// The critical batch size fitted to the runs that reached the target (see [`crate::scaling`];
/// with a `baseline`, those of the `lrpolicy` arm; with several seeds, the runs of the means over
/// the seeds, [`crate::seeds::mean_run`]): `runs` as for [`findings`]. Returns `{ minSteps, criticalBatch, points: [[batchSize, steps]],
/// rmsRelativeError, verdict }`, `verdict` one of `"fitted"`, `"aboveRange"`, `"belowRange"`,
/// `"tooFewPoints"` (`minSteps` and `criticalBatch` are `null` unless `"fitted"`).
///
/// # Errors
/// Throws an `Error` when `runs` is not an array of run summaries.
#[wasm_bindgen(js_name = scalingFit)]
pub fn scaling_fit(runs: JsValue) -> Result<JsValue, JsError> {
    let runs: Vec<RunSummary> = serde_wasm_bindgen::from_value(runs)?;
    // With a baseline, the `lrpolicy` arm's runs: the arm whose first run comes last.
    let mut arms = Vec::new();
    for r in &runs {
        if !arms.contains(&r.lr_policy) {
            arms.push(r.lr_policy);
        }
    }
    let main = arms.last().copied();
    // With several seeds, fitted to the runs of the means over the seeds (as the findings are).
    let means: Vec<RunSummary> = crate::seeds::groups(&runs)
        .into_iter()
        .filter(|g| Some(g.0) == main)
        .map(|g| crate::seeds::mean_run(&g.2))
        .collect();
    Ok(to_js(&crate::scaling::fit_runs(&means))?)
}

/// This build's version (`Cargo.toml`'s `package.version`, e.g. `"0.1.0"`).
#[wasm_bindgen]
pub fn version() -> String {
    crate::export::VERSION.to_string()
}

/// Writes a sweep as a file ([`crate::export`]): `sweep` is `{ exportedAt, link, userAgent,
/// backend, adapter, settings, results, runs, findings }` as the page keeps them (records and
/// runs may carry a `series`), and `batchlabVersion` for a sweep trained by another version
/// (an imported one; else this build's version is written); `format` is `"json"` (the whole
/// sweep, readable by [`import_sweep`]), `"epochs.csv"` (one row per epoch) or `"runs.csv"`
/// (one row per run). Returns the file's text; the format name and version are added.
///
/// # Errors
/// Throws an `Error` for an unknown format or a sweep that is not in the page's shape.
#[wasm_bindgen(js_name = exportSweep)]
pub fn export_sweep(sweep: JsValue, format: &str) -> Result<String, JsError> {
    use crate::export::{FORMAT, FORMAT_VERSION, SweepExport, VERSION};
    if !sweep.is_object() {
        return Err(JsError::new("the sweep to export must be an object"));
    }
    let version = js_sys::Reflect::get(&sweep, &JsValue::from_str("batchlabVersion"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| VERSION.to_string());
    for (key, value) in [
        ("format", JsValue::from_str(FORMAT)),
        ("formatVersion", JsValue::from(FORMAT_VERSION)),
        ("batchlabVersion", JsValue::from_str(&version)),
    ] {
        js_sys::Reflect::set(&sweep, &JsValue::from_str(key), &value)
            .map_err(|_| JsError::new("the sweep to export must be an object"))?;
    }
    let export: SweepExport = serde_wasm_bindgen::from_value(sweep)
        .map_err(|e| JsError::new(&format!("the sweep could not be exported: {e}")))?;
    let text = match format {
        "json" => export.to_json(),
        "epochs.csv" => export.epochs_csv(),
        "runs.csv" => export.runs_csv(),
        other => return Err(JsError::new(&format!("no export format “{other}”"))),
    };
    text.map_err(|e| JsError::new(&e.to_string()))
}

/// Reads a JSON export (the text of a file written by [`export_sweep`]) and checks it. Returns
/// the sweep as a plain object, in the shape [`export_sweep`] takes (with `format`,
/// `formatVersion`, `batchlabVersion`).
///
/// # Errors
/// Throws an `Error` whose message says, for a reader, why the file cannot be read: not JSON,
/// not a batchlab export (naming the first bad field), a newer format, or contents that do not
/// add up.
#[wasm_bindgen(js_name = importSweep)]
pub fn import_sweep(text: &str) -> Result<JsValue, JsError> {
    let export =
        crate::export::SweepExport::from_json(text).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(to_js(&export)?)
}
