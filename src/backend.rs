//! Which burn backend trains: WebGPU, or the CPU backend (burn's `flex`) compiled into the same
//! wasm module; natively (the command line) also burn's wgpu backend on Vulkan/Metal/DX12 and,
//! when built with the `cuda` feature, CUDA. The choice is made at run time, from the reader's
//! `backend=` URL parameter (or `--backend` flag) and what the GPU turned out to offer, and it
//! always comes with a reason in words.
//!
//! Owns the backend choice, the micro-batch size and whether the training set fits on the device;
//! must not train, parse settings or touch the page.

use serde::{Deserialize, Serialize};

/// What the reader asked for (`backend=` in the URL, `--backend` on the command line; default
/// `auto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendPreference {
    /// WebGPU on a hardware adapter; otherwise the CPU backend.
    #[default]
    Auto,
    /// burn's wgpu backend or nothing (an error when no adapter can be started): WebGPU in the
    /// browser, Vulkan/Metal/DX12 natively. `wgpu` is read as the same choice.
    #[serde(alias = "wgpu")]
    Webgpu,
    /// The CPU backend, without touching the GPU.
    Cpu,
    /// burn's CUDA backend (an NVIDIA GPU): the command line only, when built with the `cuda`
    /// feature; the page refuses it in words.
    Cuda,
}

impl BackendPreference {
    /// The name used in URLs: `auto`, `webgpu`, `cpu` or `cuda`.
    pub fn name(self) -> &'static str {
        match self {
            BackendPreference::Auto => "auto",
            BackendPreference::Webgpu => "webgpu",
            BackendPreference::Cpu => "cpu",
            BackendPreference::Cuda => "cuda",
        }
    }
}

/// The backend a sweep trains on (`"webgpu"`, `"cpu"` or `"cuda"` in JavaScript and exports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn's WebGPU backend (`wgpu`, through CubeCL): the browser's WebGPU, or natively
    /// Vulkan/Metal/DX12.
    Webgpu,
    /// burn's CPU backend (`flex`): in WebAssembly on one thread with wasm SIMD; natively on
    /// every core.
    Cpu,
    /// burn's CUDA backend (command line only).
    Cuda,
}

impl Backend {
    /// The name in exports and in the page: `webgpu`, `cpu` or `cuda`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Webgpu => "webgpu",
            Backend::Cpu => "cpu",
            Backend::Cuda => "cuda",
        }
    }
}

/// What starting WebGPU gave, as seen before choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebGpuOutcome {
    /// Not tried (the reader asked for the CPU).
    NotTried,
    /// The browser could not start WebGPU: no `navigator.gpu`, no adapter, a failed device
    /// request, or no answer in time. The message says which, for people.
    Failed(String),
    /// A device was created on this adapter.
    Started {
        /// The adapter's name for people, e.g. `google · swiftshader`.
        adapter: String,
        /// Whether the adapter is a software renderer on the CPU (WebGPU's
        /// `isFallbackAdapter`, or a CPU device type): e.g. SwiftShader.
        software: bool,
    },
}

/// The backend chosen and why, in a sentence for the page's banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendChoice {
    /// The backend that will train.
    pub backend: Backend,
    /// Why, in words a reader understands (one sentence, no markup).
    pub reason: String,
}

/// Why the backend the reader chose cannot train here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// WebGPU was chosen (`backend=webgpu`) but could not be started; the reason, a sentence.
    #[error(
        "The WebGPU backend was chosen (backend=webgpu), but this browser could not start it: {0} Choose the automatic or the CPU backend (backend=auto or backend=cpu) to train on the CPU instead."
    )]
    WebGpu(String),
    /// CUDA was chosen in the browser, which has none.
    #[error(
        "The CUDA backend was chosen (backend=cuda), but CUDA trains only from the command line (batchlab sweep --backend cuda, built with the cuda feature). In the browser choose auto, webgpu or cpu."
    )]
    CudaInBrowser,
}

/// The decision behind a backend choice, taken alike in the browser ([`choose`]) and natively
/// ([`choose_native`]), each of which words it for its readers.
///
/// `auto` prefers WebGPU (natively: a wgpu adapter) on hardware. On a software adapter
/// (SwiftShader in the browser, Mesa's lavapipe natively) it picks the CPU backend, which trains
/// LeNet-5 far faster on the same cores (the figures are in each wording). CUDA is chosen only
/// by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision<'a> {
    /// The CPU, as chosen.
    CpuAsChosen,
    /// CUDA, as chosen.
    CudaAsChosen,
    /// WebGPU started on this adapter, as chosen.
    WebgpuAsChosen(&'a str),
    /// WebGPU was chosen and could not start: why.
    WebgpuFailed(&'a str),
    /// WebGPU was chosen and not tried (natively: a build without it).
    WebgpuNotTried,
    /// `auto`: WebGPU on this hardware adapter.
    HardwareAdapter(&'a str),
    /// `auto`: the CPU, because the only adapter is this software renderer.
    SoftwareAdapter(&'a str),
    /// `auto`: the CPU, because WebGPU could not start: why.
    CpuWebgpuFailed(&'a str),
    /// `auto`: the CPU, WebGPU not tried.
    CpuWebgpuNotTried,
}

fn decide(preference: BackendPreference, webgpu: &WebGpuOutcome) -> Decision<'_> {
    use {BackendPreference as P, Decision as D, WebGpuOutcome as W};
    match (preference, webgpu) {
        (P::Cpu, _) => D::CpuAsChosen,
        (P::Cuda, _) => D::CudaAsChosen,
        (P::Webgpu, W::Started { adapter, .. }) => D::WebgpuAsChosen(adapter),
        (P::Webgpu, W::Failed(why)) => D::WebgpuFailed(why),
        (P::Webgpu, W::NotTried) => D::WebgpuNotTried,
        (
            P::Auto,
            W::Started {
                adapter,
                software: false,
            },
        ) => D::HardwareAdapter(adapter),
        (
            P::Auto,
            W::Started {
                adapter,
                software: true,
            },
        ) => D::SoftwareAdapter(adapter),
        (P::Auto, W::Failed(why)) => D::CpuWebgpuFailed(why),
        (P::Auto, W::NotTried) => D::CpuWebgpuNotTried,
    }
}

/// Chooses the backend for `preference`, given what starting WebGPU gave (see [`Decision`]).
///
/// On a software adapter `auto` picks the CPU backend: measured by the benchmark (`bench/`,
/// docs/speed.md; the quick run of 2026-12-03) on the project's 2-core machine in one browser
/// session, LeNet-5 trains 30–500× faster on the CPU backend (about 900, 3,800 and 4,200
/// samples/s at batch sizes 1, 64 and 1,024) than on SwiftShader's WebGPU (about 1.7, 80 and
/// 130).
///
/// # Errors
/// [`Unavailable::WebGpu`] when `preference` is [`BackendPreference::Webgpu`] and WebGPU
/// failed; [`Unavailable::CudaInBrowser`] for [`BackendPreference::Cuda`].
pub fn choose(
    preference: BackendPreference,
    webgpu: &WebGpuOutcome,
) -> Result<BackendChoice, Unavailable> {
    let choice = |backend, reason: String| Ok(BackendChoice { backend, reason });
    match decide(preference, webgpu) {
        Decision::CpuAsChosen => choice(
            Backend::Cpu,
            "Training on the CPU (WebAssembly, one thread), as chosen (backend=cpu).".into(),
        ),
        Decision::CudaAsChosen => Err(Unavailable::CudaInBrowser),
        Decision::WebgpuAsChosen(adapter) => choice(
            Backend::Webgpu,
            format!("Training on WebGPU ({adapter}), as chosen (backend=webgpu)."),
        ),
        Decision::WebgpuFailed(why) => Err(Unavailable::WebGpu(why.to_string())),
        Decision::WebgpuNotTried => Err(Unavailable::WebGpu("WebGPU was not tried.".into())),
        Decision::HardwareAdapter(adapter) => {
            choice(Backend::Webgpu, format!("Training on WebGPU ({adapter})."))
        }
        Decision::SoftwareAdapter(adapter) => choice(
            Backend::Cpu,
            format!(
                "Training on the CPU (WebAssembly, one thread): the only WebGPU adapter here is a \
                 software renderer ({adapter}), on which LeNet-5 trains 30 to 500 times slower \
                 (measured on a 2-core machine: about 80 against 3,800 samples/s at batch size 64). \
                 Choose the WebGPU backend (backend=webgpu) to use it anyway."
            ),
        ),
        Decision::CpuWebgpuFailed(why) => choice(
            Backend::Cpu,
            format!(
                "Training on the CPU (WebAssembly, one thread), because this browser could not \
                 start WebGPU: {why} A browser with WebGPU (a recent Chrome or Edge) trains \
                 faster on a GPU."
            ),
        ),
        Decision::CpuWebgpuNotTried => choice(
            Backend::Cpu,
            "Training on the CPU (WebAssembly, one thread): WebGPU was not tried.".into(),
        ),
    }
}

/// Chooses the backend of the command line (natively) for `preference` (see [`Decision`]):
/// `wgpu` is what starting burn's wgpu backend gave ([`WebGpuOutcome::NotTried`] in a build
/// without the `wgpu` feature), `cuda_built` whether this build has the `cuda` feature,
/// `threads` the CPU backend's threads (rayon's pool: every core).
///
/// On a software adapter (Mesa's lavapipe) `auto` picks the CPU: measured on 2 cores, 82
/// against 1,440 samples/s at batch size 64 (docs/cli.md).
///
/// # Errors
/// A sentence for people, naming `--backend`, when the chosen backend cannot train here.
pub fn choose_native(
    preference: BackendPreference,
    wgpu: &WebGpuOutcome,
    cuda_built: bool,
    threads: usize,
) -> Result<BackendChoice, String> {
    let plural = if threads == 1 { "" } else { "s" };
    let cpu = format!("the CPU (burn's flex, {threads} thread{plural})");
    let choice = |backend, reason: String| Ok(BackendChoice { backend, reason });
    match decide(preference, wgpu) {
        Decision::CpuAsChosen => choice(Backend::Cpu, format!("Training on {cpu}, as chosen (--backend cpu).")),
        Decision::CudaAsChosen if cuda_built => choice(
            Backend::Cuda,
            "Training on CUDA (burn's cuda backend, device 0), as chosen (--backend cuda).".into(),
        ),
        Decision::CudaAsChosen => Err(
            "--backend cuda was chosen, but this build of the command line has no CUDA: build it with \
             `cargo install --path . --profile cli --features cuda`, or choose --backend auto, webgpu or cpu."
                .into(),
        ),
        Decision::WebgpuAsChosen(adapter) => choice(
            Backend::Webgpu,
            format!("Training on the GPU through wgpu ({adapter}), as chosen (--backend webgpu)."),
        ),
        Decision::WebgpuFailed(why) => Err(format!(
            "--backend webgpu was chosen, but no wgpu adapter could be started: {why} Choose --backend auto or cpu to train on the CPU."
        )),
        Decision::WebgpuNotTried => Err(
            "--backend webgpu was chosen, but this build of the command line has no wgpu backend: \
             build it with `cargo install --path . --profile cli --features wgpu`, or choose --backend auto or cpu."
                .into(),
        ),
        Decision::HardwareAdapter(adapter) => {
            choice(Backend::Webgpu, format!("Training on the GPU through wgpu ({adapter})."))
        }
        Decision::SoftwareAdapter(adapter) => choice(
            Backend::Cpu,
            format!(
                "Training on {cpu}: the only wgpu adapter here is a software renderer ({adapter}), \
                 on which LeNet-5 trains 15 to 20 times slower than on the CPU backend (measured on \
                 2 cores with Mesa's lavapipe: 82 against 1,440 samples/s at batch size 64). \
                 Choose --backend webgpu to use it anyway."
            ),
        ),
        Decision::CpuWebgpuFailed(why) => choice(
            Backend::Cpu,
            format!("Training on {cpu}: no GPU adapter could be started through wgpu: {why}"),
        ),
        Decision::CpuWebgpuNotTried => choice(
            Backend::Cpu,
            format!("Training on {cpu}: this build has no GPU backend (the wgpu feature)."),
        ),
    }
}

/// Most images per forward/backward pass on any backend: a larger batch is one optimiser step
/// over gradients accumulated across micro-batches of at most this many images.
pub const MAX_MICRO_BATCH: usize = 1024;

/// Spare room kept under the adapter's buffer limits: the largest buffer is sized for 80 % of
/// the limit (burn may pad or keep a second buffer of the same size alive).
const LIMIT_HEADROOM: f64 = 0.8;

/// Threads per workgroup of CubeCL's element-wise kernels; a dispatch larger than the
/// per-dimension limit is spread over the x and y dimensions.
const WORKGROUP_SIZE: u64 = 256;

/// The limits of a WebGPU device that bound how many images one pass may hold (as WebGPU names
/// them: `maxStorageBufferBindingSize`, `maxBufferSize` in bytes;
/// `maxComputeWorkgroupsPerDimension`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceLimits {
    /// Largest storage buffer a shader may bind, in bytes (WebGPU's default: 128 MiB).
    pub max_storage_buffer_binding_size: u64,
    /// Largest buffer, in bytes (WebGPU's default: 256 MiB).
    pub max_buffer_size: u64,
    /// Most workgroups per dimension of one dispatch (WebGPU's default: 65,535).
    pub max_compute_workgroups_per_dimension: u64,
}

/// The micro-batch size for `model`: the largest power of two up to [`MAX_MICRO_BATCH`] whose
/// largest buffer ([`crate::model::largest_buffer_bytes_per_image`]) fits in 80 % of the
/// device's storage-binding and buffer limits, and whose element count fits in one dispatch
/// (`workgroups² × 256` elements). `None` (the CPU backend) gives [`MAX_MICRO_BATCH`]. Always
/// at least 1.
pub fn micro_batch(limits: Option<&DeviceLimits>, model: crate::model::Model) -> usize {
    let Some(limits) = limits else {
        return MAX_MICRO_BATCH;
    };
    let bytes = crate::model::largest_buffer_bytes_per_image(model);
    let buffer = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size) as f64
        * LIMIT_HEADROOM;
    let by_buffer = (buffer / bytes as f64) as u64;
    let workgroups = limits.max_compute_workgroups_per_dimension;
    let by_dispatch = workgroups
        .saturating_mul(workgroups)
        .saturating_mul(WORKGROUP_SIZE)
        / (bytes / 4);
    let fit = by_buffer.min(by_dispatch).clamp(1, MAX_MICRO_BATCH as u64);
    // The largest power of two not above `fit`.
    1 << (63 - fit.leading_zeros())
}

/// Whether the first `images` training images fit on a WebGPU device with `limits` as one
/// tensor ([`crate::data::DeviceSplit`]): their pixels (`images × 3,136` bytes) within 80 % of
/// the storage-binding and buffer limits. `None` (the CPU backend, whose "device" is the wasm
/// memory) gives `false`: batches are then gathered from the CPU copy.
pub fn training_set_on_device(limits: Option<&DeviceLimits>, images: usize) -> bool {
    limits.is_some_and(|limits| {
        let buffer = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size) as f64
            * LIMIT_HEADROOM;
        (images * crate::data::IMAGE_PIXELS * 4) as f64 <= buffer
    })
}
