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
