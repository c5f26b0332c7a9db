//! The backend choice: what each `backend=` preference gives for each outcome of starting WebGPU,
//! and the reason shown to the reader.

use batchlab::backend::{Backend, BackendPreference, WebGpuOutcome, choose};

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
