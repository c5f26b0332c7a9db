//! IDX parsing of the real MNIST files, and of each fault a reader can meet.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use batchlab::data::{DataError, FILE_NAMES, Split, parse_images, parse_labels};
use common::{mnist, mnist_file};

fn images_header(count: u32, rows: u32, cols: u32) -> Vec<u8> {
    [2051u32, count, rows, cols]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
}

fn labels_file(labels: &[u8]) -> Vec<u8> {
    let mut bytes: Vec<u8> = [2049u32, labels.len() as u32]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    bytes.extend_from_slice(labels);
    bytes
}

fn images_file(count: usize) -> Vec<u8> {
    let mut bytes = images_header(count as u32, 28, 28);
    bytes.extend(std::iter::repeat_n(7u8, count * 784));
    bytes
}

#[test]
fn real_mnist_parses_with_the_published_counts_and_first_labels() {
    let data = mnist();
    assert_eq!(data.train.len(), 60_000);
    assert_eq!(data.test.len(), 10_000);
    assert_eq!(&data.train.labels()[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(&data.test.labels()[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    // Every digit occurs, in roughly equal numbers (MNIST has 5,421 to 6,742 per class).
    let mut counts = [0usize; 10];
    for &l in data.train.labels() {
        counts[l as usize] += 1;
    }
    assert!(
        counts.iter().all(|&c| (5_000..7_000).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn real_images_have_ink_and_background() {
    let bytes = mnist_file(FILE_NAMES[2]);
    let pixels = parse_images(&bytes, FILE_NAMES[2]).unwrap();
    assert_eq!(pixels.len(), 10_000 * 784);
    let first = &pixels[..784];
    assert_eq!(first.iter().filter(|&&p| p == 0).count() > 500, true);
    assert_eq!(*first.iter().max().unwrap(), 255);
}

#[test]
fn a_file_still_gzip_compressed_is_refused_by_name() {
    let gz = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/www/data/t10k-labels-idx1-ubyte.gz"
    ))
    .unwrap();
    let err = parse_labels(&gz, "t10k-labels-idx1-ubyte").unwrap_err();
    assert_eq!(
        err,
        DataError::StillGzipped {
            file: "t10k-labels-idx1-ubyte".into()
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("t10k-labels-idx1-ubyte") && message.contains("gzip"),
        "{message}"
    );
}

#[test]
fn an_html_page_is_not_idx() {
    let html = b"<!DOCTYPE html><html><body>404 Not Found</body></html>";
    let err = parse_images(html, "train-images-idx3-ubyte").unwrap_err();
    assert!(
        matches!(err, DataError::NotIdx { ref start, .. } if start.starts_with("<!DOCTYPE")),
        "{err:?}"
    );
    assert!(err.to_string().contains("not an IDX file"), "{err}");
}

#[test]
fn a_header_cut_short_is_refused() {
    let err = parse_images(&[0, 0, 8, 3, 0, 0], "f").unwrap_err();
    assert_eq!(
        err,
        DataError::TooShort {
            file: "f".into(),
            len: 6,
            needed: 16
        }
    );
}

#[test]
fn labels_given_as_images_have_the_wrong_magic() {
    let err = parse_images(&labels_file(&[1; 20]), "x").unwrap_err();
    assert_eq!(
        err,
        DataError::WrongMagic {
            file: "x".into(),
            kind: "images",
            found: 2049,
            expected: 2051
        }
    );
    let err = parse_labels(&images_file(1), "y").unwrap_err();
    assert!(matches!(
        err,
        DataError::WrongMagic {
            found: 2051,
            expected: 2049,
            ..
        }
    ));
}

#[test]
fn images_that_are_not_28_by_28_are_refused() {
    let mut bytes = images_header(1, 32, 32);
    bytes.extend(vec![0u8; 32 * 32]);
    let err = parse_images(&bytes, "big").unwrap_err();
    assert_eq!(
        err,
        DataError::WrongDimensions {
            file: "big".into(),
            rows: 32,
            cols: 32
        }
    );
    assert!(err.to_string().contains("32 x 32"));
}

#[test]
fn a_truncated_file_says_how_much_is_missing() {
    let real = mnist_file(FILE_NAMES[3]);
    let err = parse_labels(&real[..real.len() - 1], FILE_NAMES[3]).unwrap_err();
    assert_eq!(
        err,
        DataError::Truncated {
            file: FILE_NAMES[3].into(),
            count: 10_000,
            expected: 10_008,
            actual: 10_007
        }
    );
    assert!(err.to_string().contains("truncated"));
    let images = images_file(3);
    let err = parse_images(&images[..16 + 784 * 2 + 5], "img").unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                count: 3,
                expected: 2368,
                actual: 1589,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn extra_bytes_after_the_data_are_refused() {
    let mut bytes = images_file(2);
    bytes.push(0);
    let err = parse_images(&bytes, "img").unwrap_err();
    assert_eq!(
        err,
        DataError::TrailingBytes {
            file: "img".into(),
            count: 2,
            expected: 1584,
            actual: 1585
        }
    );
}

#[test]
fn an_empty_set_is_refused() {
    let err = parse_labels(&labels_file(&[]), "none").unwrap_err();
    assert_eq!(
        err,
        DataError::Empty {
            file: "none".into()
        }
    );
}

#[test]
fn a_label_outside_0_to_9_is_refused_with_its_position() {
    let err = parse_labels(&labels_file(&[3, 9, 0, 10, 2]), "labels").unwrap_err();
    assert_eq!(
        err,
        DataError::LabelOutOfRange {
            file: "labels".into(),
            index: 3,
            label: 10
        }
    );
    assert!(err.to_string().contains("0–9"));
}

#[test]
fn images_and_labels_of_different_counts_do_not_pair() {
    let err = Split::from_idx(&images_file(3), "imgs", &labels_file(&[1, 2]), "lbls").unwrap_err();
    assert_eq!(
        err,
        DataError::CountMismatch {
            images_file: "imgs".into(),
            images: 3,
            labels_file: "lbls".into(),
            labels: 2
        }
    );
    let ok = Split::from_idx(&images_file(2), "imgs", &labels_file(&[1, 2]), "lbls").unwrap();
    assert_eq!(ok.len(), 2);
}

#[test]
fn the_browser_test_fixtures_are_the_first_512_real_test_images() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    let images = std::fs::read(format!("{dir}t10k-images-first512-idx3-ubyte")).unwrap();
    let labels = std::fs::read(format!("{dir}t10k-labels-first512-idx1-ubyte")).unwrap();
    let fixture = Split::from_idx(&images, "fixture images", &labels, "fixture labels").unwrap();
    assert_eq!(fixture.len(), 512);
    let real = mnist_file(FILE_NAMES[2]);
    assert_eq!(&images[16..], &real[16..16 + 512 * 784]);
    assert_eq!(fixture.labels(), &mnist().test.labels()[..512]);
}

#[test]
fn a_forged_huge_count_is_truncation_not_overflow() {
    // (The case that overflows 32-bit arithmetic runs in the browser: tests/webgpu.rs.)
    let mut bytes = images_header(u32::MAX, 28, 28);
    bytes.extend([0u8; 784]);
    let err = parse_images(&bytes, "forged").unwrap_err();
    assert_eq!(
        err,
        DataError::Truncated {
            file: "forged".into(),
            count: u32::MAX as usize,
            expected: 16 + u32::MAX as u64 * 784,
            actual: 800
        }
    );
}

#[test]
fn the_validation_set_is_the_last_images_of_the_training_file() {
    let data = mnist();
    let val = data.validation(10_000).unwrap();
    assert_eq!(val.len(), 10_000);
    assert_eq!(val.labels(), &data.train.labels()[50_000..]);
    assert_eq!(data.validation(300).unwrap().labels(), &data.train.labels()[59_700..]);
    assert!(data.validation(0).unwrap().is_empty());
    // In the browser the first parts and the last part are loaded apart.
    let mut parts = batchlab::data::Mnist {
        train: data.train.take(10_000),
        test: data.test.clone(),
        held_out: Split::empty(),
    };
    let error = parts.validation(10_000).unwrap_err();
    assert!(matches!(error, DataError::NotLoaded { .. }), "{error}");
    assert!(error.to_string().contains("10000 of the file's first"), "{error}");
    parts.held_out = data.train.range(50_000..60_000);
    assert_eq!(parts.validation(2_000).unwrap().labels(), &data.train.labels()[58_000..]);
}
