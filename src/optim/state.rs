//! Writing and reading a run's optimiser state without synchronous reads: every state tensor
//! is listed ([`list_state`]), read back by the caller in one asynchronous read (the only kind
//! WebGPU allows in the browser), and burn's record written from the values read
//! ([`save_state`]); a record is read back onto the device chosen ([`loading_onto`]).
//!
//! Owns the [`OnDevice`] wrapper every optimiser of [`crate::optim::build`] is put in, and the
//! [`ListedState`] trait; must not know which optimiser a run chose.

use std::collections::HashMap;

use burn::optim::{Optimizer as BurnOptimizer, ModuleOptimizer, RecordState, RmsProp, Sgd, StateSink, StateSource};
use burn::tensor::{Device, Tensor, TensorData};

use super::Adam;

/// Where every parameter's state tensors lie in the flat values that [`list_state`]'s tensors
/// read back to, in order: each parameter's record prefix and its tensors' lengths.
#[derive(Debug, Clone, Default)]
pub struct StateLayout(Vec<(String, Vec<usize>)>);

impl StateLayout {
    /// The number of values (`f32`) the state tensors hold together.
    pub fn len(&self) -> usize {
        self.0.iter().flat_map(|(_, lengths)| lengths).sum()
    }

    /// Whether the optimiser keeps no state tensor (plain SGD, or before the first step).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every state tensor of `optimizer`, flattened to one dimension, with their [`StateLayout`];
/// nothing is read from the device. Read them back together (e.g. `Tensor::cat(tensors, 0)`
/// and one asynchronous read, the only kind WebGPU allows in the browser), then write the
/// state with [`save_state`].
pub fn list_state(optimizer: &ModuleOptimizer) -> (StateLayout, Vec<Tensor<1>>) {
    let listed = with_pass(Pass::List(Vec::new()), || {
        optimizer.to_record();
    });
    let Pass::List(listed) = listed else {
        unreachable!("the pass set is the pass taken back")
    };
    let mut layout = StateLayout::default();
    let mut tensors = Vec::new();
    for (prefix, state) in listed {
        layout
            .0
            .push((prefix, state.iter().map(|t| t.shape().num_elements()).collect()));
        tensors.extend(state);
    }
    (layout, tensors)
}

/// The optimiser state of `optimizer` (every parameter's), as burn's `OptimizerRecord` in
/// burnpack bytes, written from `values`: [`list_state`]'s tensors read back, in its order
/// (`layout`). Reads nothing from the device, so it works on WebGPU in the browser too.
///
/// # Errors
/// When `values` do not fit `layout` (or the state changed since it was listed), and burn's
/// record error, in words.
pub fn save_state(
    optimizer: &ModuleOptimizer,
    layout: &StateLayout,
    values: &[f32],
) -> Result<Vec<u8>, String> {
    if values.len() != layout.len() {
        return Err(format!(
            "{} values read back for a state of {}",
            values.len(),
            layout.len()
        ));
    }
    let mut by_prefix = HashMap::new();
    let mut at = 0;
    for (prefix, lengths) in &layout.0 {
        let state: Vec<Vec<f32>> = lengths
            .iter()
            .map(|&n| {
                at += n;
                values[at - n..at].to_vec()
            })
            .collect();
        by_prefix.insert(prefix.clone(), state);
    }
    let mut record = None;
    let pass = Pass::Write {
        values: by_prefix,
        unread: 0,
    };
    match with_pass(pass, || record = Some(optimizer.to_record())) {
        Pass::Write { values, unread: 0 } if values.is_empty() => {}
        _ => return Err("the optimiser's state changed while it was read back".into()),
    }
    record
        .expect("to_record ran")
        .into_bytes()
        .map(|bytes| bytes.to_vec())
        .map_err(|e| e.to_string())
}

/// What an [`OnDeviceState`] does when burn asks it to write itself ([`RecordState::state_flatten`]).
enum Pass {
    /// Write itself, reading its tensors back synchronously (burn's own way; CPU only in the browser).
    Direct,
    /// Write nothing; list its tensors (handles, nothing read), by record prefix.
    List(Vec<(String, Vec<Tensor<1>>)>),
    /// Write itself from these values (its tensors read back already), by record prefix; each
    /// entry is taken out as it is used, and a state with no entry is counted in `unread`.
    Write {
        values: HashMap<String, Vec<Vec<f32>>>,
        unread: usize,
    },
}

thread_local! {
    /// The pass [`OnDeviceState::state_flatten`] makes (set only while [`list_state`] or
    /// [`save_state`] runs).
    static PASS: std::cell::RefCell<Pass> = const { std::cell::RefCell::new(Pass::Direct) };
}

/// Runs `f` with `pass` set, and gives the pass back as `f` left it (also if `f` panics, the
/// pass goes back to [`Pass::Direct`]).
fn with_pass(pass: Pass, f: impl FnOnce()) -> Pass {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            PASS.set(Pass::Direct);
        }
    }
    PASS.set(pass);
    let reset = Reset;
    f();
    let pass = PASS.replace(Pass::Direct);
    drop(reset);
    pass
}

/// Runs `f`, in which burn reads optimiser records, so that the state it reads is created on
/// `device` (burn 0.22.1 would create it on the default device: WebGPU in the browser's build,
/// which cannot be set up synchronously there).
pub fn loading_onto<T>(device: &Device, f: impl FnOnce() -> T) -> T {
    LOAD_DEVICE.with_borrow_mut(|d| *d = Some(device.clone()));
    let out = f();
    LOAD_DEVICE.with_borrow_mut(|d| *d = None);
    out
}

thread_local! {
    /// The device that [`loading_onto`] has state tensors created on (set only while it runs).
    static LOAD_DEVICE: std::cell::RefCell<Option<Device>> = const { std::cell::RefCell::new(None) };
}

/// An optimiser whose state tensors can be listed, and replaced by copies, without reading
/// them from the device: what [`list_state`] and [`save_state`] need to write a state with one
/// asynchronous read.
pub trait ListedState: BurnOptimizer {
    /// The tensors of `state`, in a fixed order, each flattened to one dimension (handles:
    /// nothing is read).
    fn state_tensors<const D: usize>(state: &Self::State<D>) -> Vec<Tensor<1>>;

    /// `state` with its tensors replaced, in [`ListedState::state_tensors`]' order, by
    /// `values` (each as long as the tensor it replaces, shaped like it) on `device`.
    fn state_from<const D: usize>(
        state: &Self::State<D>,
        values: &mut dyn Iterator<Item = Vec<f32>>,
        device: &Device,
    ) -> Self::State<D>;
}

/// `tensor` flattened to one dimension (a view: nothing is read).
pub(crate) fn flat<const D: usize>(tensor: &Tensor<D>) -> Tensor<1> {
    let n = tensor.shape().num_elements();
    tensor.clone().reshape([n])
}

/// A tensor shaped like `like` holding the next of `values`, on `device`.
pub(crate) fn refill<const D: usize>(
    like: &Tensor<D>,
    values: &mut dyn Iterator<Item = Vec<f32>>,
    device: &Device,
) -> Tensor<D> {
    let values = values.next().expect("a value for every listed tensor");
    Tensor::from_data(TensorData::new(values, like.shape()), device)
}

/// Plain SGD (burn's `Sgd` built without momentum): no state tensor. (A velocity read from
/// another optimiser's record would be unused by its steps: it is not listed, and dropped.)
impl ListedState for Sgd {
    fn state_tensors<const D: usize>(_state: &Self::State<D>) -> Vec<Tensor<1>> {
        Vec::new()
    }

    fn state_from<const D: usize>(
        state: &Self::State<D>,
        _values: &mut dyn Iterator<Item = Vec<f32>>,
        _device: &Device,
    ) -> Self::State<D> {
        let mut state = state.clone();
        state.momentum = None;
        state
    }
}

/// Adam (ours, with burn's state: [`super::Adam`]): the first and second moments (and AMSGrad's maximum, unused here).
impl ListedState for Adam {
    fn state_tensors<const D: usize>(state: &Self::State<D>) -> Vec<Tensor<1>> {
        let m = &state.momentum;
        [Some(&m.moment_1), Some(&m.moment_2), m.max_moment_2.as_ref()]
            .into_iter()
            .flatten()
            .map(flat)
            .collect()
    }

    fn state_from<const D: usize>(
        state: &Self::State<D>,
        values: &mut dyn Iterator<Item = Vec<f32>>,
        device: &Device,
    ) -> Self::State<D> {
        let mut state = state.clone();
        let m = &mut state.momentum;
        m.moment_1 = refill(&m.moment_1, values, device);
        m.moment_2 = refill(&m.moment_2, values, device);
        m.max_moment_2 = m.max_moment_2.as_ref().map(|t| refill(t, values, device));
        state
    }
}

/// burn's RMSProp, built without momentum: the squared average and the centred averages. (A
/// momentum buffer read from another record would be unused by its steps: not listed, dropped.)
impl ListedState for RmsProp {
    fn state_tensors<const D: usize>(state: &Self::State<D>) -> Vec<Tensor<1>> {
        let c = &state.centered;
        [Some(&state.square_avg.square_avg), Some(&c.avg), c.grad_avg.as_ref()]
            .into_iter()
            .flatten()
            .map(flat)
            .collect()
    }

    fn state_from<const D: usize>(
        state: &Self::State<D>,
        values: &mut dyn Iterator<Item = Vec<f32>>,
        device: &Device,
    ) -> Self::State<D> {
        let mut state = state.clone();
        state.square_avg.square_avg = refill(&state.square_avg.square_avg, values, device);
        let c = &mut state.centered;
        c.avg = refill(&c.avg, values, device);
        c.grad_avg = c.grad_avg.as_ref().map(|t| refill(t, values, device));
        state.momentum = None;
        state
    }
}

/// One of this module's or burn's optimisers whose state, read from a record, is created on
/// the device [`loading_onto`] names instead of burn's default device, and whose state can be
/// written from values read back in one asynchronous read ([`save_state`]). Steps exactly as
/// `O` does.
#[derive(Clone)]
pub struct OnDevice<O>(pub O);

/// The state of an [`OnDevice`] optimiser for a parameter of rank `D`: `O`'s state, unchanged.
pub struct OnDeviceState<O: BurnOptimizer, const D: usize>(pub O::State<D>);

impl<O: BurnOptimizer, const D: usize> Clone for OnDeviceState<O, D> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<O: ListedState, const D: usize> RecordState for OnDeviceState<O, D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        PASS.with_borrow_mut(|pass| match pass {
            Pass::Direct => self.0.state_flatten(prefix, out),
            Pass::List(listed) => listed.push((prefix.to_string(), O::state_tensors(&self.0))),
            Pass::Write { values, unread } => match values.remove(prefix) {
                Some(values) => O::state_from(&self.0, &mut values.into_iter(), &Device::flex())
                    .state_flatten(prefix, out),
                // A state that was not listed when the values were read: left out, and said.
                None => *unread += 1,
            },
        });
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let chosen = LOAD_DEVICE.with_borrow(|d| d.clone());
        O::State::<D>::state_unflatten(prefix, src, chosen.as_ref().unwrap_or(device)).map(OnDeviceState)
    }
}

impl<O: ListedState> BurnOptimizer for OnDevice<O> {
    type State<const D: usize> = OnDeviceState<O, D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (tensor, state) = self.0.step(lr, tensor, grad, state.map(|s| s.0));
        (tensor, state.map(OnDeviceState))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        OnDeviceState(O::to_device(state.0, device))
    }
}
