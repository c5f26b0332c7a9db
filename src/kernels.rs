//! The network's convolution and max-pooling on burn's CPU backend (`flex`) as custom
//! operations, forward and backward: [`conv2d`] (im2col + one matrix product), [`max_pool2x2`]
//! and [`relu_max_pool2x2`] (the ReLU before the pooling fused in), for f32 tensors. On any other
//! backend (WebGPU), or another float type, they call burn's own operations.
//!
//! Why (issue 14, point 4; profile in docs/speed.md, *Where a CPU step goes*): at batch size 64
//! burn-flex 0.22.1 spent about 11 of a 24 ms step on LeNet-5's second convolution, forward and
//! backward (a tiled im2col re-packed for every tile, and a direct weight-gradient loop), and
//! about 4 ms on 2x2 max-pooling (a general pooling loop that computes each window's bounds with
//! integer divisions). Here a convolution is one im2col matrix `[C·KH·KW, B·OH·OW]` and one
//! matrix product each for the output, the weight gradient and the input gradient (burn-flex's
//! `float_matmul`, i.e. the `gemm` crate, with wasm SIMD in the browser); pooling is a 2x2 loop.
//!
//! The operations are a burn backend extension (`#[backend_extension]`, burn's `extension`
//! feature) implemented for `Flex` and, with a hand-written backward pass, for `Autodiff<Flex>`.
//! They compute what burn's `conv2d` and `max_pool2d` compute (checked against them to 1e-4
//! relative by tests/kernels.rs, values and gradients, and by a short training run).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, DispatchDevice, Flex, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::{DType, Device, Tensor, TensorData};

/// The custom operations, as a burn backend extension (see the module's docs).
#[backend_extension(Flex, Autodiff)]
pub trait CpuKernels: Backend {
    /// A stride-1, undilated, ungrouped 2-D convolution with bias: `x [B, C, H, W]`,
    /// `weight [O, C, KH, KW]`, `bias [O]`, zero padding `pad_h`/`pad_w` on each side →
    /// `[B, O, H + 2·pad_h − KH + 1, W + 2·pad_w − KW + 1]`.
    fn conv2d_im2col(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self>;

    /// 2x2 max-pooling with stride 2, no padding, floor mode: `[B, C, H, W]` →
    /// `[B, C, H / 2, W / 2]`. Ties go to the first element of a window in row-major order and a
    /// NaN wins, as in burn-flex's `max_pool2d` (and PyTorch's). With `relu`, of `relu(x)`
    /// (computed as the ReLU of each window's maximum: the same values and gradients).
    fn max_pool2x2(x: FloatTensor<Self>, relu: bool) -> FloatTensor<Self>;
}

/// Whether `device` (or the device an autodiff device wraps) is burn's CPU backend, where
/// [`conv2d`] and [`max_pool2x2`] run the custom operations.
pub fn is_flex(device: &Device) -> bool {
    // Natively without the `wgpu` feature the CPU backend is the only one: the last arm is
    // unreachable there.
    #[allow(unreachable_patterns)]
    match device.as_dispatch() {
        DispatchDevice::Flex(_) => true,
        DispatchDevice::Autodiff(inner) => matches!(**inner, DispatchDevice::Flex(_)),
        _ => false,
    }
}

/// `conv.forward(x)`: on the CPU backend the custom im2col convolution when `conv` is one it
/// covers (f32, stride 1, no dilation, one group, a bias, explicit symmetric padding or none),
/// burn's `conv2d` otherwise. `x: [batch, in_channels, height, width]` → `[batch,
/// out_channels, height + 2·pad − kernel + 1, width + 2·pad − kernel + 1]` with stride 1.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => Some((0, 0)),
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            Some((top, left))
        }
        _ => None,
    };
    match (&conv.bias, padding) {
        (Some(bias), Some((pad_h, pad_w)))
            if is_flex(&x.device())
                && x.dtype() == DType::F32
                && conv.weight.val().dtype() == DType::F32
                && bias.val().dtype() == DType::F32
                && conv.stride == [1, 1]
                && conv.dilation == [1, 1]
                && conv.groups == 1 =>
        {
            Tensor::from_dispatch(<burn::backend::Dispatch as CpuKernels>::conv2d_im2col(
                x.into_dispatch(),
                conv.weight.val().into_dispatch(),
                bias.val().into_dispatch(),
                pad_h,
                pad_w,
            ))
        }
        _ => conv.forward(x),
    }
}

/// `pool.forward(x)`: on the CPU backend the custom 2x2 pooling when `pool` is 2x2 with stride
/// 2 (no padding, no dilation, floor mode) and `x` is f32, burn's `max_pool2d` otherwise.
/// `x: [batch, channels, height, width]`.
pub fn max_pool2x2(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    pool_of(pool, x, false)
}

/// `pool.forward(relu(x))`, in one pass on the CPU backend (as [`max_pool2x2`]):
/// `[batch, channels, height, width]` → `[batch, channels, height / 2, width / 2]`.
pub fn relu_max_pool2x2(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    pool_of(pool, x, true)
}

fn pool_of(pool: &MaxPool2d, x: Tensor<4>, relu: bool) -> Tensor<4> {
    let plain = pool.kernel_size == [2, 2]
        && pool.stride == [2, 2]
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && matches!(
            pool.padding,
            PaddingConfig2d::Valid | PaddingConfig2d::Explicit(0, 0, 0, 0)
        );
    if plain && is_flex(&x.device()) && x.dtype() == DType::F32 {
        Tensor::from_dispatch(<burn::backend::Dispatch as CpuKernels>::max_pool2x2(
            x.into_dispatch(),
            relu,
        ))
    } else if relu {
        pool.forward(burn::tensor::activation::relu(x))
    } else {
        pool.forward(x)
    }
}

// ---------------------------------------------------------------------------------------------
// The CPU backend's kernels.

/// Dimensions of one convolution.
#[derive(Debug, Clone, Copy)]
struct ConvShape {
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    out_channels: usize,
    kernel_h: usize,
    kernel_w: usize,
    pad_h: usize,
    pad_w: usize,
}

impl ConvShape {
    fn of(x: &FlexTensor, weight: &FlexTensor, pad_h: usize, pad_w: usize) -> Self {
        let xs = x.layout().shape();
        let ws = weight.layout().shape();
        assert_eq!(xs.num_dims(), 4, "conv2d_im2col: x must be [B, C, H, W]");
        assert_eq!(ws[1], xs[1], "conv2d_im2col: weight's input channels differ from x's");
        Self {
            batch: xs[0],
            channels: xs[1],
            height: xs[2],
            width: xs[3],
            out_channels: ws[0],
            kernel_h: ws[2],
            kernel_w: ws[3],
            pad_h,
            pad_w,
        }
    }
    fn out_h(&self) -> usize {
        self.height + 2 * self.pad_h + 1 - self.kernel_h
    }
    fn out_w(&self) -> usize {
        self.width + 2 * self.pad_w + 1 - self.kernel_w
    }
    /// Rows of the im2col matrix: `C · KH · KW`.
    fn rows(&self) -> usize {
        self.channels * self.kernel_h * self.kernel_w
    }
    /// Columns of the im2col matrix: `B · OH · OW`.
    fn columns(&self) -> usize {
        self.batch * self.out_h() * self.out_w()
    }
}

fn f32_data(t: &FlexTensor) -> FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "the custom CPU kernels take f32 tensors");
    t.to_contiguous()
}

fn flex(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// For each output column `ow` of a kernel tap whose input column is `ow + kw − pad_w`: the
/// range of `ow` that falls inside the input, as `(first, end)`.
fn valid_columns(out_w: usize, width: usize, kw: usize, pad_w: usize) -> (usize, usize) {
    let first = pad_w.saturating_sub(kw).min(out_w);
    let end = (width + pad_w).saturating_sub(kw).clamp(first, out_w);
    (first, end)
}

/// The im2col matrix `[C·KH·KW, B·OH·OW]` of `x` (row `(c·KH + kh)·KW + kw`, column
/// `(b·OH + oh)·OW + ow` holds `x[b, c, oh + kh − pad_h, ow + kw − pad_w]`, zero outside).
fn im2col(x: &[f32], s: &ConvShape) -> Vec<f32> {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let columns = s.columns();
    let mut cols = vec![0.0f32; s.rows() * columns];
    for c in 0..s.channels {
        for kh in 0..s.kernel_h {
            for kw in 0..s.kernel_w {
                let row = (c * s.kernel_h + kh) * s.kernel_w + kw;
                let dst = &mut cols[row * columns..(row + 1) * columns];
                let (first, end) = valid_columns(ow_n, s.width, kw, s.pad_w);
                for b in 0..s.batch {
                    let plane = &x[(b * s.channels + c) * s.height * s.width..][..s.height * s.width];
                    for oh in 0..oh_n {
                        let ih = oh + kh;
                        if ih < s.pad_h || ih - s.pad_h >= s.height || first >= end {
                            continue;
                        }
                        let src = &plane[(ih - s.pad_h) * s.width..][..s.width];
                        let out = &mut dst[(b * oh_n + oh) * ow_n..][..ow_n];
                        out[first..end]
                            .copy_from_slice(&src[first + kw - s.pad_w..end + kw - s.pad_w]);
                    }
                }
            }
        }
    }
    cols
}

/// The adjoint of [`im2col`]: adds each entry of `cols` into the input position it was read
/// from, in `x [B, C, H, W]`.
fn col2im(cols: &[f32], s: &ConvShape, x: &mut [f32]) {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let columns = s.columns();
    for c in 0..s.channels {
        for kh in 0..s.kernel_h {
            for kw in 0..s.kernel_w {
                let row = (c * s.kernel_h + kh) * s.kernel_w + kw;
                let src = &cols[row * columns..(row + 1) * columns];
                let (first, end) = valid_columns(ow_n, s.width, kw, s.pad_w);
                for b in 0..s.batch {
                    let plane =
                        &mut x[(b * s.channels + c) * s.height * s.width..][..s.height * s.width];
                    for oh in 0..oh_n {
                        let ih = oh + kh;
                        if ih < s.pad_h || ih - s.pad_h >= s.height || first >= end {
                            continue;
                        }
                        let dst = &mut plane[(ih - s.pad_h) * s.width..][..s.width];
                        let from = &src[(b * oh_n + oh) * ow_n..][..ow_n];
                        for (d, v) in dst[first + kw - s.pad_w..end + kw - s.pad_w]
                            .iter_mut()
                            .zip(&from[first..end])
                        {
                            *d += v;
                        }
                    }
                }
            }
        }
    }
}

/// Values in one chunk's im2col matrix, at most (4 MiB of f32): the batch is convolved a chunk
/// of images at a time, so that the matrix stays in cache and a micro-batch of 1,024 images
/// (the Theano LeNet's second convolution: 500 × 65,536 values, 131 MB whole) needs no large
/// buffer in the wasm memory, which never shrinks.
const CHUNK_VALUES: usize = 1 << 20;

/// The images of a batch, a chunk at a time: `(first image, the chunk's shape)`.
fn chunks(s: &ConvShape) -> impl Iterator<Item = (usize, ConvShape)> + '_ {
    let per_image = s.rows() * s.out_h() * s.out_w();
    let size = (CHUNK_VALUES / per_image.max(1)).clamp(1, s.batch.max(1));
    (0..s.batch).step_by(size).map(move |first| {
        (first, ConvShape { batch: size.min(s.batch - first), ..*s })
    })
}

/// `weight [O, C, KH, KW]` as the matrix `[O, C·KH·KW]` (a view: no copy).
fn weight_matrix(weight: FlexTensor, s: &ConvShape) -> FlexTensor {
    weight.reshape([s.out_channels, s.rows()].into())
}

fn conv_forward(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, pad: [usize; 2]) -> FlexTensor {
    let (x, weight, bias) = (f32_data(&x), f32_data(&weight), f32_data(&bias));
    let s = ConvShape::of(&x, &weight, pad[0], pad[1]);
    let (image, plane) = (s.channels * s.height * s.width, s.out_h() * s.out_w());
    let (x, bias) = (x.storage::<f32>(), bias.storage::<f32>());
    let mut out = vec![0.0f32; s.batch * s.out_channels * plane];
    for (first, chunk) in chunks(&s) {
        let cols = im2col(&x[first * image..][..chunk.batch * image], &chunk);
        let cols = flex(cols, vec![chunk.rows(), chunk.columns()]);
        // [O, K] × [K, n·P] = [O, n·P]
        let product = Flex::float_matmul(weight_matrix(weight.clone(), &s), cols).to_contiguous();
        let product = product.storage::<f32>();
        for o in 0..s.out_channels {
            for b in 0..chunk.batch {
                let src = &product[o * chunk.columns() + b * plane..][..plane];
                let dst = &mut out[((first + b) * s.out_channels + o) * plane..][..plane];
                for (d, v) in dst.iter_mut().zip(src) {
                    *d = v + bias[o];
                }
            }
        }
    }
    flex(out, vec![s.batch, s.out_channels, s.out_h(), s.out_w()])
}

/// The gradients of [`conv_forward`] for the output gradient `grad [B, O, OH, OW]`:
/// `(input, weight, bias)`, the input's only when `want_input`.
fn conv_backward(
    x: FlexTensor,
    weight: FlexTensor,
    grad: FlexTensor,
    pad: [usize; 2],
    want_input: bool,
) -> (Option<FlexTensor>, FlexTensor, FlexTensor) {
    let (x, weight, grad) = (f32_data(&x), f32_data(&weight), f32_data(&grad));
    let weight_shape = weight.layout().shape().clone();
    let s = ConvShape::of(&x, &weight, pad[0], pad[1]);
    let (image, plane) = (s.channels * s.height * s.width, s.out_h() * s.out_w());
    let (x, g) = (x.storage::<f32>(), grad.storage::<f32>());
    let mut weight_grad = vec![0.0f32; s.out_channels * s.rows()];
    let mut bias_grad = vec![0.0f32; s.out_channels];
    let mut input_grad = want_input.then(|| vec![0.0f32; s.batch * image]);
    let w_t = Flex::float_transpose(weight_matrix(weight, &s));
    for (first, chunk) in chunks(&s) {
        // The chunk's output gradient as [O, n·P]; the bias gradient: its row sums.
        let mut g_rows = vec![0.0f32; s.out_channels * chunk.columns()];
        for o in 0..s.out_channels {
            for b in 0..chunk.batch {
                let src = &g[((first + b) * s.out_channels + o) * plane..][..plane];
                g_rows[o * chunk.columns() + b * plane..][..plane].copy_from_slice(src);
                bias_grad[o] += src.iter().sum::<f32>();
            }
        }
        let g_rows = flex(g_rows, vec![s.out_channels, chunk.columns()]);
        let cols = im2col(&x[first * image..][..chunk.batch * image], &chunk);
        let cols = flex(cols, vec![chunk.rows(), chunk.columns()]);
        // dW [O, K] += g [O, n·P] × colsᵀ [n·P, K]
        let part = Flex::float_matmul(g_rows.clone(), Flex::float_transpose(cols)).to_contiguous();
        for (w, p) in weight_grad.iter_mut().zip(part.storage::<f32>()) {
            *w += p;
        }
        if let Some(input_grad) = input_grad.as_mut() {
            // dcols [K, n·P] = Wᵀ [K, O] × g [O, n·P], added back into the input's positions.
            let dcols = Flex::float_matmul(w_t.clone(), g_rows).to_contiguous();
            col2im(
                dcols.storage::<f32>(),
                &chunk,
                &mut input_grad[first * image..][..chunk.batch * image],
            );
        }
    }
    (
        input_grad.map(|dx| flex(dx, vec![s.batch, s.channels, s.height, s.width])),
        flex(weight_grad, weight_shape.to_vec()),
        flex(bias_grad, vec![s.out_channels]),
    )
}

/// The index (0..4, row-major in the window) of each 2x2 window's maximum, and the maximum, in
/// burn-flex's order: the first maximum wins a tie, a NaN wins (the last NaN).
#[inline]
fn window_max(v: [f32; 4]) -> (usize, f32) {
    let (mut at, mut max) = (0, v[0]);
    for (i, &x) in v.iter().enumerate().skip(1) {
        if x > max || x.is_nan() {
            (at, max) = (i, x);
        }
    }
    (at, max)
}

/// Calls `visit(output index, input index of the window's maximum, the maximum)` for every
/// 2x2 window of `x [B, C, H, W]` (stride 2, floor).
fn for_each_window(x: &[f32], shape: &[usize], mut visit: impl FnMut(usize, usize, f32)) {
    let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3]);
    let (oh_n, ow_n) = (h / 2, w / 2);
    for p in 0..planes {
        for oh in 0..oh_n {
            let start = p * h * w + 2 * oh * w;
            let top = &x[start..start + 2 * ow_n];
            let bottom = &x[start + w..start + w + 2 * ow_n];
            let out = (p * oh_n + oh) * ow_n;
            for (ow, (t, b)) in top.chunks_exact(2).zip(bottom.chunks_exact(2)).enumerate() {
                let (at, max) = window_max([t[0], t[1], b[0], b[1]]);
                let row = if at < 2 { 0 } else { w - 2 };
                visit(out + ow, start + 2 * ow + at + row, max);
            }
        }
    }
}

/// ReLU of a window's maximum, which is the maximum of the window's ReLUs (ReLU is monotone; a
/// NaN stays NaN, as burn's `relu` leaves it).
#[inline]
fn relu_of(max: f32) -> f32 {
    if max > 0.0 || max.is_nan() { max } else { 0.0 }
}

fn pool_forward(x: FlexTensor, relu: bool) -> FlexTensor {
    let x = f32_data(&x);
    let shape = x.layout().shape().to_vec();
    let mut out = vec![0.0f32; shape[0] * shape[1] * (shape[2] / 2) * (shape[3] / 2)];
    if relu {
        for_each_window(x.storage::<f32>(), &shape, |o, _, max| out[o] = relu_of(max));
    } else {
        for_each_window(x.storage::<f32>(), &shape, |o, _, max| out[o] = max);
    }
    flex(out, vec![shape[0], shape[1], shape[2] / 2, shape[3] / 2])
}

/// The gradient of [`pool_forward`]: each window's output gradient goes to its maximum (with
/// `relu`, only where that maximum is positive, or NaN, as burn's `relu` backward passes it).
fn pool_backward(x: FlexTensor, grad: FlexTensor, relu: bool) -> FlexTensor {
    let (x, grad) = (f32_data(&x), f32_data(&grad));
    let shape = x.layout().shape().to_vec();
    let g = grad.storage::<f32>();
    let mut dx = vec![0.0f32; shape.iter().product()];
    for_each_window(x.storage::<f32>(), &shape, |o, i, max| {
        if !relu || max > 0.0 || max.is_nan() {
            dx[i] += g[o];
        }
    });
    flex(dx, shape)
}

impl CpuKernels for Flex {
    fn conv2d_im2col(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        pad_h: usize,
        pad_w: usize,
    ) -> FlexTensor {
        conv_forward(x, weight, bias, [pad_h, pad_w])
    }

    fn max_pool2x2(x: FlexTensor, relu: bool) -> FlexTensor {
        pool_forward(x, relu)
    }
}

// ---------------------------------------------------------------------------------------------
// Backward passes (burn-autodiff's pattern, as its own `conv2d` and `max_pool2d`).

#[derive(Debug)]
struct Conv2dIm2col;

impl Backward<Flex, 3> for Conv2dIm2col {
    /// The input's and the weight's checkpoints, and the padding.
    type State = (NodeId, NodeId, [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x_state, weight_state, pad) = ops.state;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(x_state);
        let weight = checkpointer.retrieve_node_output::<FlexTensor>(weight_state);
        let (input_grad, weight_grad, bias_grad) =
            conv_backward(x, weight, grad, pad, node_x.is_some());
        if let (Some(node), Some(input_grad)) = (node_x, input_grad) {
            grads.register::<Flex>(node.id, input_grad);
        }
        if let Some(node) = node_weight {
            grads.register::<Flex>(node.id, weight_grad);
        }
        if let Some(node) = node_bias {
            grads.register::<Flex>(node.id, bias_grad);
        }
    }
}

#[derive(Debug)]
struct MaxPool2x2;

impl Backward<Flex, 1> for MaxPool2x2 {
    /// The input's checkpoint (the window maxima are found again from it), and whether a ReLU
    /// came first.
    type State = (NodeId, bool);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x_state, relu) = ops.state;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(x_state);
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, pool_backward(x, grad, relu));
        }
    }
}

impl<C: CheckpointStrategy> CpuKernels for Autodiff<Flex, C> {
    fn conv2d_im2col(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self> {
        let pad = [pad_h, pad_w];
        match Conv2dIm2col
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                prep.finish(
                    (x_state, weight_state, pad),
                    conv_forward(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), pad),
                )
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(conv_forward(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), pad))
            }
        }
    }

    fn max_pool2x2(x: FloatTensor<Self>, relu: bool) -> FloatTensor<Self> {
        match MaxPool2x2.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                prep.finish((x_state, relu), pool_forward(x.into_primitive(), relu))
            }
            OpsKind::UnTracked(prep) => prep.finish(pool_forward(x.into_primitive(), relu)),
        }
    }
}
