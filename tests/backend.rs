//! The backend choice: what each `backend=` preference gives for each outcome of starting WebGPU,
//! and the reason shown to the reader.

use batchlab::backend::{Backend, BackendPreference, WebGpuOutcome, choose, choose_native};

fn started(software: bool) -> WebGpuOutcome {
    WebGpuOutcome::Started {
        adapter: "google · swiftshader".into(),
        software,
    }
}

fn failed() -> WebGpuOutcome {
    WebGpuOutcome::Failed("This browser does not offer WebGPU (navigator.gpu is missing).".into())
}

#[test]
fn auto_uses_a_hardware_adapter() {
    let c = choose(BackendPreference::Auto, &started(false)).unwrap();
    assert_eq!(c.backend, Backend::Webgpu);
    assert!(c.reason.contains("google · swiftshader"), "{}", c.reason);
}

#[test]
fn auto_falls_back_to_the_cpu_and_says_why() {
    let c = choose(BackendPreference::Auto, &failed()).unwrap();
    assert_eq!(c.backend, Backend::Cpu);
    assert!(c.reason.contains("could not start WebGPU"), "{}", c.reason);
    assert!(
        c.reason.contains("navigator.gpu is missing"),
        "{}",
        c.reason
    );

    let c = choose(BackendPreference::Auto, &started(true)).unwrap();
    assert_eq!(c.backend, Backend::Cpu);
    assert!(c.reason.contains("software renderer"), "{}", c.reason);
    assert!(c.reason.contains("backend=webgpu"), "{}", c.reason);
}

#[test]
fn a_forced_backend_is_obeyed() {
    for outcome in [
        started(true),
        started(false),
        failed(),
        WebGpuOutcome::NotTried,
    ] {
        let c = choose(BackendPreference::Cpu, &outcome).unwrap();
        assert_eq!(c.backend, Backend::Cpu);
        assert!(c.reason.contains("backend=cpu"), "{}", c.reason);
    }
    for software in [true, false] {
        let c = choose(BackendPreference::Webgpu, &started(software)).unwrap();
        assert_eq!(c.backend, Backend::Webgpu);
        assert!(c.reason.contains("backend=webgpu"), "{}", c.reason);
    }
}

#[test]
fn forced_webgpu_without_webgpu_is_an_error_in_words() {
    let e = choose(BackendPreference::Webgpu, &failed()).unwrap_err();
    let message = e.to_string();
    assert!(message.contains("navigator.gpu is missing"), "{message}");
    assert!(message.contains("backend=auto or backend=cpu"), "{message}");
}

#[test]
fn cuda_and_wgpu_are_read_by_the_pages_parser_and_the_page_refuses_cuda_in_words() {
    use batchlab::settings::Settings;
    let parse = |raw: &str| Settings::from_params(&[("backend".to_string(), raw.to_string())].into());
    assert_eq!(parse("wgpu").unwrap().backend, BackendPreference::Webgpu);
    assert_eq!(parse("cuda").unwrap().backend, BackendPreference::Cuda);
    let refused = parse("gpu").unwrap_err().to_string();
    assert!(refused.contains("auto, webgpu or cpu (or, from the command line, wgpu or cuda)"), "{refused}");
    for outcome in [started(false), failed(), WebGpuOutcome::NotTried] {
        let e = choose(BackendPreference::Cuda, &outcome).unwrap_err().to_string();
        assert!(e.contains("CUDA trains only from the command line"), "{e}");
        assert!(e.contains("choose auto, webgpu or cpu"), "{e}");
    }
}

#[test]
fn the_command_line_chooses_natively_and_says_why() {
    let lavapipe = WebGpuOutcome::Started { adapter: "llvmpipe (LLVM 15.0.6, 256 bits) — Vulkan, Cpu".into(), software: true };
    let gpu = WebGpuOutcome::Started { adapter: "NVIDIA H200 — Vulkan, DiscreteGpu".into(), software: false };
    let broken = WebGpuOutcome::Failed("no Vulkan driver.".into());
    // auto: a hardware GPU, else every core of the CPU, with the reason.
    let c = choose_native(BackendPreference::Auto, &gpu, false, 16).unwrap();
    assert_eq!(c.backend, Backend::Webgpu);
    assert!(c.reason.contains("NVIDIA H200"), "{}", c.reason);
    let c = choose_native(BackendPreference::Auto, &lavapipe, false, 2).unwrap();
    assert_eq!(c.backend, Backend::Cpu);
    assert!(c.reason.contains("2 threads") && c.reason.contains("software renderer (llvmpipe"), "{}", c.reason);
    let c = choose_native(BackendPreference::Auto, &broken, true, 2).unwrap();
    assert_eq!(c.backend, Backend::Cpu, "auto never picks CUDA");
    assert!(c.reason.contains("no Vulkan driver"), "{}", c.reason);
    // Chosen by name: obeyed, or refused in words naming the flag.
    let c = choose_native(BackendPreference::Webgpu, &lavapipe, false, 2).unwrap();
    assert_eq!(c.backend, Backend::Webgpu);
    assert!(c.reason.contains("--backend webgpu"), "{}", c.reason);
    let e = choose_native(BackendPreference::Webgpu, &broken, false, 2).unwrap_err();
    assert!(e.contains("no wgpu adapter could be started: no Vulkan driver"), "{e}");
    let e = choose_native(BackendPreference::Webgpu, &WebGpuOutcome::NotTried, false, 2).unwrap_err();
    assert!(e.contains("--features wgpu"), "{e}");
    assert_eq!(choose_native(BackendPreference::Cuda, &WebGpuOutcome::NotTried, true, 2).unwrap().backend, Backend::Cuda);
    let e = choose_native(BackendPreference::Cuda, &WebGpuOutcome::NotTried, false, 2).unwrap_err();
    assert!(e.contains("--features cuda"), "{e}");
    let c = choose_native(BackendPreference::Cpu, &gpu, true, 16).unwrap();
    assert_eq!((c.backend, c.backend.name()), (Backend::Cpu, "cpu"));
    assert!(c.reason.contains("16 threads") && c.reason.contains("--backend cpu"), "{}", c.reason);
}

#[test]
fn the_micro_batch_follows_the_device_limits() {
    use batchlab::backend::{DeviceLimits, MAX_MICRO_BATCH, micro_batch};
    use batchlab::settings::Model;
    let limits = |binding: u64, buffer: u64, workgroups: u64| DeviceLimits {
        max_storage_buffer_binding_size: binding,
        max_buffer_size: buffer,
        max_compute_workgroups_per_dimension: workgroups,
    };
    let default = limits(128 << 20, 256 << 20, 65_535);
    // WebGPU's default limits: 80 % of 128 MiB / 78,400 B = 1,369 → 1,024 for LeNet-5;
    // / 128,000 B = 838 → 512 for the Theano LeNet.
    assert_eq!(micro_batch(Some(&default), Model::Lenet5), 1024);
    assert_eq!(micro_batch(Some(&default), Model::Theano), 512);
    // A small binding limit (a phone): 16 MiB → 171 → 128.
    assert_eq!(
        micro_batch(Some(&limits(16 << 20, 256 << 20, 65_535)), Model::Lenet5),
        128
    );
    // The smaller of the two buffer limits counts.
    assert_eq!(
        micro_batch(Some(&limits(1 << 30, 16 << 20, 65_535)), Model::Lenet5),
        128
    );
    // Few workgroups per dimension: 64² × 256 / 19,600 elements = 53 → 32.
    assert_eq!(
        micro_batch(Some(&limits(1 << 30, 1 << 30, 64)), Model::Lenet5),
        32
    );
    // Never 0, never above the cap; the CPU has no limits.
    assert_eq!(micro_batch(Some(&limits(1000, 1000, 1)), Model::Lenet5), 1);
    assert_eq!(
        micro_batch(Some(&limits(u64::MAX, u64::MAX, u64::MAX)), Model::Lenet5),
        MAX_MICRO_BATCH
    );
    assert_eq!(micro_batch(None, Model::Theano), MAX_MICRO_BATCH);
}
