//! MNIST in the IDX format: parsing, validation and batches.
//!
//! The IDX format (LeCun et al., <http://yann.lecun.com/exdb/mnist/>): a big-endian `u32` magic
//! number (2051 for images, 2049 for labels), one big-endian `u32` per dimension, then the data,
//! row-major, one `u8` per pixel or label. Every fault a reader can meet (a file that is still
//! gzip-compressed, an HTML error page, a truncated download, the images and labels of different
//! sets) is its own [`DataError`] variant whose message names the file.
//!
//! Owns MNIST's bytes and their batches; must not know about models, runs or settings.

use burn::tensor::{Device, Int, Tensor, TensorData};

/// Side of an MNIST image, in pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in one MNIST image (28 x 28).
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Number of classes (digits 0–9).
pub const NUM_CLASSES: usize = 10;
/// Magic number of an IDX file of unsigned-byte images with 3 dimensions (0x00000803).
pub const IMAGES_MAGIC: u32 = 2051;
/// Magic number of an IDX file of unsigned-byte labels with 1 dimension (0x00000801).
pub const LABELS_MAGIC: u32 = 2049;
/// Bytes before the pixels of an images file: magic, count, rows, columns.
pub const IMAGES_HEADER_BYTES: usize = 16;
/// Bytes before the labels of a labels file: magic, count.
pub const LABELS_HEADER_BYTES: usize = 8;
/// Mean of the MNIST training pixels scaled to [0, 1] (as used by PyTorch's MNIST example).
pub const MNIST_MEAN: f32 = 0.1307;
/// Standard deviation of the MNIST training pixels scaled to [0, 1] (PyTorch's MNIST example).
pub const MNIST_STD: f32 = 0.3081;

/// Why an MNIST file was refused. Each message names the file and says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// Images a sweep needs are not among those loaded (the browser loads the training file in
    /// parts).
    #[error("{what} are not loaded")]
    NotLoaded {
        /// Which images, and what is loaded.
        what: String,
    },
    /// The bytes start with the gzip signature `1f 8b`: they were not decompressed.
    #[error(
        "{file} is still gzip-compressed (it starts with the gzip signature 1f 8b): it must be decompressed before it can be read"
    )]
    StillGzipped {
        /// The file's name.
        file: String,
    },
    /// The bytes are too few to hold an IDX header.
    #[error(
        "{file} is not an IDX file: it is only {len} bytes long, shorter than the {needed}-byte header"
    )]
    TooShort {
        /// The file's name.
        file: String,
        /// Bytes received.
        len: usize,
        /// Bytes an IDX header of this kind needs.
        needed: usize,
    },
    /// The first two bytes are not zero, as every IDX magic number's are: e.g. an HTML page.
    #[error(
        "{file} is not an IDX file: it starts with {start:?} instead of an IDX header (was an error page served instead of the data?)"
    )]
    NotIdx {
        /// The file's name.
        file: String,
        /// The first bytes, shown as text where printable.
        start: String,
    },
    /// An IDX file of the wrong kind (e.g. labels given where images are expected).
    #[error("{file} has the IDX magic number {found}, but an MNIST {kind} file has {expected}")]
    WrongMagic {
        /// The file's name.
        file: String,
        /// `"images"` or `"labels"`.
        kind: &'static str,
        /// The magic number read.
        found: u32,
        /// The magic number expected (2051 or 2049).
        expected: u32,
    },
    /// Images that are not 28 x 28 pixels.
    #[error("{file} holds images of {rows} x {cols} pixels, but MNIST images are 28 x 28")]
    WrongDimensions {
        /// The file's name.
        file: String,
        /// Rows per image in the header.
        rows: u32,
        /// Columns per image in the header.
        cols: u32,
    },
    /// Fewer bytes than the header's item count requires.
    #[error(
        "{file} is truncated: its header announces {count} items, which take {expected} bytes, but it has only {actual}"
    )]
    Truncated {
        /// The file's name.
        file: String,
        /// Items announced in the header.
        count: usize,
        /// Exact length the header implies, in bytes.
        expected: u64,
        /// Length received, in bytes.
        actual: u64,
    },
    /// More bytes than the header's item count accounts for.
    #[error(
        "{file} is {actual} bytes long, but its header announces {count} items, which take exactly {expected} bytes"
    )]
    TrailingBytes {
        /// The file's name.
        file: String,
        /// Items announced in the header.
        count: usize,
        /// Exact length the header implies, in bytes.
        expected: u64,
        /// Length received, in bytes.
        actual: u64,
    },
    /// A file that holds no items at all.
    #[error("{file} holds no items")]
    Empty {
        /// The file's name.
        file: String,
    },
    /// The images file and the labels file describe sets of different sizes.
    #[error(
        "{images_file} holds {images} images but {labels_file} holds {labels} labels: they do not belong together"
    )]
    CountMismatch {
        /// The images file's name.
        images_file: String,
        /// Images in it.
        images: usize,
        /// The labels file's name.
        labels_file: String,
        /// Labels in it.
        labels: usize,
    },
    /// A label that is not a digit 0–9.
    #[error("{file} has the label {label} at position {index}, but labels must be digits 0–9")]
    LabelOutOfRange {
        /// The file's name.
        file: String,
        /// Zero-based position of the label.
        index: usize,
        /// The label read.
        label: u8,
    },
}

fn be_u32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes([
        bytes[offset],
        bytes[offset + 1],
        bytes[offset + 2],
        bytes[offset + 3],
    ])
}

/// Checks what every IDX file shares: not gzip, long enough for the header, IDX-shaped magic
/// with the expected value. Returns the item count from the header.
fn check_header(
    bytes: &[u8],
    file: &str,
    kind: &'static str,
    expected_magic: u32,
    header_bytes: usize,
) -> Result<usize, DataError> {
    let file = file.to_string();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(DataError::StillGzipped { file });
    }
    if bytes.len() >= 2 && (bytes[0] != 0 || bytes[1] != 0) {
        let start = bytes
            .iter()
            .take(16)
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        return Err(DataError::NotIdx { file, start });
    }
    if bytes.len() < header_bytes {
        return Err(DataError::TooShort {
            file,
            len: bytes.len(),
            needed: header_bytes,
        });
    }
    let magic = be_u32(bytes, 0);
    if magic != expected_magic {
        return Err(DataError::WrongMagic {
            file,
            kind,
            found: magic,
            expected: expected_magic,
        });
    }
    Ok(be_u32(bytes, 4) as usize)
}

fn check_length(
    bytes: &[u8],
    file: &str,
    count: usize,
    item_bytes: usize,
    header: usize,
) -> Result<(), DataError> {
    let file = file.to_string();
    if count == 0 {
        return Err(DataError::Empty { file });
    }
    // In u64: on wasm32 a forged count times 784 would overflow usize.
    let expected = header as u64 + count as u64 * item_bytes as u64;
    let actual = bytes.len() as u64;
    match actual.cmp(&expected) {
        std::cmp::Ordering::Less => Err(DataError::Truncated {
            file,
            count,
            expected,
            actual,
        }),
        std::cmp::Ordering::Greater => Err(DataError::TrailingBytes {
            file,
            count,
            expected,
            actual,
        }),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// Parses an IDX images file (uncompressed bytes) into its pixels, `[n, 28, 28]` row-major `u8`.
///
/// `file` names the file in error messages.
///
/// # Errors
/// [`DataError::StillGzipped`], [`DataError::NotIdx`], [`DataError::TooShort`],
/// [`DataError::WrongMagic`], [`DataError::WrongDimensions`], [`DataError::Empty`],
/// [`DataError::Truncated`], [`DataError::TrailingBytes`].
pub fn parse_images<'a>(bytes: &'a [u8], file: &str) -> Result<&'a [u8], DataError> {
    let count = check_header(bytes, file, "images", IMAGES_MAGIC, IMAGES_HEADER_BYTES)?;
    let (rows, cols) = (be_u32(bytes, 8), be_u32(bytes, 12));
    if rows as usize != IMAGE_SIDE || cols as usize != IMAGE_SIDE {
        return Err(DataError::WrongDimensions {
            file: file.to_string(),
            rows,
            cols,
        });
    }
    check_length(bytes, file, count, IMAGE_PIXELS, IMAGES_HEADER_BYTES)?;
    Ok(&bytes[IMAGES_HEADER_BYTES..])
}

/// Parses an IDX labels file (uncompressed bytes) into its labels, `[n]` digits 0–9.
///
/// # Errors
/// [`DataError::StillGzipped`], [`DataError::NotIdx`], [`DataError::TooShort`],
/// [`DataError::WrongMagic`], [`DataError::Empty`], [`DataError::Truncated`],
/// [`DataError::TrailingBytes`], [`DataError::LabelOutOfRange`].
pub fn parse_labels<'a>(bytes: &'a [u8], file: &str) -> Result<&'a [u8], DataError> {
    let count = check_header(bytes, file, "labels", LABELS_MAGIC, LABELS_HEADER_BYTES)?;
    check_length(bytes, file, count, 1, LABELS_HEADER_BYTES)?;
    let labels = &bytes[LABELS_HEADER_BYTES..];
    if let Some((index, &label)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &l)| l as usize >= NUM_CLASSES)
    {
        return Err(DataError::LabelOutOfRange {
            file: file.to_string(),
            index,
            label,
        });
    }
    Ok(labels)
}

/// One split of MNIST (training or test): images and their labels, validated, kept on the CPU.
#[derive(Debug, Clone)]
pub struct Split {
    /// Pixels, `[len, 28, 28]` row-major, 0 (background) to 255 (ink).
    images: Vec<u8>,
    /// Labels, `[len]`, digits 0–9.
    labels: Vec<u8>,
}

/// Images and labels of one batch, on a device.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Standardised pixels, `[batch, 1, 28, 28]`: `(x / 255 - MNIST_MEAN) / MNIST_STD`.
    pub images: Tensor<4>,
    /// Class indices, `[batch]`, 0–9.
    pub targets: Tensor<1, Int>,
}

impl Split {
    /// Parses and cross-checks an images file and a labels file (both uncompressed IDX bytes).
    ///
    /// # Errors
    /// Any error of [`parse_images`] and [`parse_labels`], and [`DataError::CountMismatch`] when
    /// the two files hold different numbers of items.
    pub fn from_idx(
        images: &[u8],
        images_file: &str,
        labels: &[u8],
        labels_file: &str,
    ) -> Result<Self, DataError> {
        let pixels = parse_images(images, images_file)?;
        let labels = parse_labels(labels, labels_file)?;
        let n_images = pixels.len() / IMAGE_PIXELS;
        if n_images != labels.len() {
            return Err(DataError::CountMismatch {
                images_file: images_file.to_string(),
                images: n_images,
                labels_file: labels_file.to_string(),
                labels: labels.len(),
            });
        }
        Ok(Self {
            images: pixels.to_vec(),
            labels: labels.to_vec(),
        })
    }

    /// A split with no image (training parts are added to it with [`Split::append`]).
    pub fn empty() -> Self {
        Self {
            images: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// Adds the images and labels of `part` after this split's (the training set arrives in
    /// parts of 10,000 images in the browser: only those a sweep needs are downloaded).
    pub fn append(&mut self, part: &Split) {
        self.images.extend_from_slice(&part.images);
        self.labels.extend_from_slice(&part.labels);
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split holds no image (never true for a parsed split).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The first `n` images and labels (all of them when `n >= len`).
    pub fn take(&self, n: usize) -> Self {
        self.range(0..n.min(self.len()))
    }

    /// The images and labels at positions `range`.
    ///
    /// # Panics
    /// If `range` reaches past `len()`.
    pub fn range(&self, range: std::ops::Range<usize>) -> Self {
        Self {
            images: self.images[range.start * IMAGE_PIXELS..range.end * IMAGE_PIXELS].to_vec(),
            labels: self.labels[range].to_vec(),
        }
    }

    /// Labels, `[len]`.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Uploads the images at `indices` (in that order) to `device` as one batch.
    ///
    /// # Panics
    /// If an index is `>= len()`.
    pub fn batch(&self, indices: &[usize], device: &Device) -> Batch {
        let mut pixels = Vec::with_capacity(indices.len() * IMAGE_PIXELS);
        let mut targets = Vec::with_capacity(indices.len());
        for &i in indices {
            let image = &self.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS];
            pixels.extend(
                image
                    .iter()
                    .map(|&p| (p as f32 / 255.0 - MNIST_MEAN) / MNIST_STD),
            );
            targets.push(self.labels[i] as i32);
        }
        let n = indices.len();
        Batch {
            images: Tensor::from_data(
                TensorData::new(pixels, [n, 1, IMAGE_SIDE, IMAGE_SIDE]),
                device,
            ),
            targets: Tensor::from_data(TensorData::new(targets, [n]), device),
        }
    }
}

/// Where a run draws its batches from: a [`Split`] on the CPU (each batch uploaded as it is
/// used), or a [`DeviceSplit`] uploaded once (each batch gathered on the device).
pub trait Batches {
    /// Number of images.
    fn len(&self) -> usize;

    /// Whether there is no image.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The images at `indices` (in that order) as one batch on `device`: standardised pixels
    /// `[indices.len(), 1, 28, 28]` and class indices `[indices.len()]`.
    ///
    /// # Panics
    /// If an index is `>= len()`.
    fn batch(&self, indices: &[usize], device: &Device) -> Batch;
}

impl Batches for Split {
    fn len(&self) -> usize {
        Split::len(self)
    }

    fn batch(&self, indices: &[usize], device: &Device) -> Batch {
        Split::batch(self, indices, device)
    }
}

/// Bytes a [`DeviceSplit`] of `images` images takes on its device: 28 × 28 `f32` pixels and an
/// `i32` label each (3,140 bytes an image).
pub fn device_split_bytes(images: usize) -> u64 {
    (images * (IMAGE_PIXELS * 4 + 4)) as u64
}

/// A split uploaded once to a device, standardised: batches are gathered there (`select` along
/// the batch dimension), so that a training step uploads only its indices, not its images.
#[derive(Debug, Clone)]
pub struct DeviceSplit {
    /// Standardised pixels, `[len, 1, 28, 28]`.
    images: Tensor<4>,
    /// Class indices, `[len]`.
    targets: Tensor<1, Int>,
}

impl DeviceSplit {
    /// Uploads all of `split` to `device` (the device the runs train on: with autodiff).
    /// Keeps [`device_split_bytes`]`(split.len())` bytes there, and needs about twice that
    /// while the uploaded parts are joined.
    pub fn new(split: &Split, device: &Device) -> Self {
        // Uploaded in parts (joined on the device), so that the CPU never holds all of it as
        // `f32` at once: wasm memory, once grown, is never given back.
        const PART: usize = 10_000;
        let (images, targets): (Vec<_>, Vec<_>) = (0..split.len())
            .step_by(PART)
            .map(|start| {
                let part: Vec<usize> = (start..(start + PART).min(split.len())).collect();
                let Batch { images, targets } = split.batch(&part, device);
                (images, targets)
            })
            .unzip();
        Self {
            images: Tensor::cat(images, 0),
            targets: Tensor::cat(targets, 0),
        }
    }
}

impl Batches for DeviceSplit {
    fn len(&self) -> usize {
        self.targets.dims()[0]
    }

    fn batch(&self, indices: &[usize], device: &Device) -> Batch {
        let indices: Vec<i32> = indices.iter().map(|&i| i as i32).collect();
        let n = indices.len();
        let indices = Tensor::<1, Int>::from_data(TensorData::new(indices, [n]), device);
        Batch {
            images: self.images.clone().select(0, indices.clone()),
            targets: self.targets.clone().select(0, indices),
        }
    }
}

/// Images in MNIST's training file.
pub const TRAIN_FILE_SIZE: usize = 60_000;
/// Images in MNIST's test file.
pub const TEST_FILE_SIZE: usize = 10_000;

/// Images in the last part of the training file, from which validation images are held out
/// (images 50,000–59,999; `scripts/build.sh` cuts the file into parts of this size).
pub const HELD_OUT_PART: usize = 10_000;

/// The MNIST data set: 60,000 training and 10,000 test images in the original files.
#[derive(Debug, Clone)]
pub struct Mnist {
    /// The training file's images loaded, from its first (`train-images-idx3-ubyte`,
    /// `train-labels-idx1-ubyte`): all 60,000, or the first parts of it in the browser.
    pub train: Split,
    /// The test split (`t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`).
    pub test: Split,
    /// The training file's last [`HELD_OUT_PART`] images, when loaded apart from `train` (the
    /// browser loads only the parts a sweep needs); empty otherwise.
    pub held_out: Split,
}

/// File names of the four MNIST files, as published and as committed under `www/data/` (`.gz`).
pub const FILE_NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

impl Mnist {
    /// Parses the four uncompressed MNIST files, in the order of [`FILE_NAMES`].
    ///
    /// # Errors
    /// The first [`DataError`] met, naming its file.
    pub fn from_idx(
        train_images: &[u8],
        train_labels: &[u8],
        test_images: &[u8],
        test_labels: &[u8],
    ) -> Result<Self, DataError> {
        Ok(Self {
            train: Split::from_idx(train_images, FILE_NAMES[0], train_labels, FILE_NAMES[1])?,
            test: Split::from_idx(test_images, FILE_NAMES[2], test_labels, FILE_NAMES[3])?,
            held_out: Split::empty(),
        })
    }

    /// The validation set: the last `n` of the training file's 60,000 images (never among the
    /// first `60,000 − n` trained on), from `train` when the whole file is loaded, else from
    /// `held_out`. `n` = 0 gives an empty split.
    ///
    /// # Errors
    /// [`DataError::NotLoaded`] when neither holds those images.
    pub fn validation(&self, n: usize) -> Result<Split, DataError> {
        let file = TRAIN_FILE_SIZE;
        if n == 0 {
            Ok(Split::empty())
        } else if self.train.len() == file && n <= file {
            Ok(self.train.range(file - n..file))
        } else if self.held_out.len() == HELD_OUT_PART && n <= HELD_OUT_PART {
            Ok(self.held_out.range(HELD_OUT_PART - n..HELD_OUT_PART))
        } else {
            Err(DataError::NotLoaded {
                what: format!(
                    "the last {n} training images (the validation set): {} of the file's first and {} of its last are loaded",
                    self.train.len(),
                    self.held_out.len()
                ),
            })
        }
    }
}
