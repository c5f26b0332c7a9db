//! Helpers shared by the native tests (and the native benchmark, bench/native.rs): the committed
//! MNIST files, decompressed.

use std::io::Read;
use std::path::PathBuf;

use batchlab::data::{FILE_NAMES, Mnist};

/// The uncompressed bytes of `www/data/<name>.gz`.
pub fn mnist_file(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("www/data")
        .join(format!("{name}.gz"));
    let gz = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut bytes)
        .expect("gunzip");
    bytes
}

/// The real MNIST data set, parsed.
#[allow(dead_code)]
pub fn mnist() -> Mnist {
    let [a, b, c, d] = FILE_NAMES.map(mnist_file);
    Mnist::from_idx(&a, &b, &c, &d).expect("the committed MNIST files are valid")
}

/// Serialises the tests of one binary that train: burn seeds a device's random generator
/// globally (`device.seed`), so two runs set up at once in parallel tests would draw each
/// other's initial weights. Hold the guard for the whole test.
#[allow(dead_code)]
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
