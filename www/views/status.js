// The status line, the progress bar and the buttons that follow the status: Start, Stop and
// Estimate duration (Stop and Estimate are wired to their actions here; Start is the form's).
// Renders from the sweep store.
// Must NOT: change the store other than through the actions it is given, or post to the worker.
import { isBusy } from '../sweep-store.js';
import { $, setText } from './dom.js';

export function createStatusView(store, actions) {
  const text = $('status-text');
  const bar = $('progress');
  const start = $('start');
  const stop = $('stop');
  const estimate = $('estimate');
  stop.addEventListener('click', () => actions.stop());
  estimate.addEventListener('click', () => actions.estimateDuration());

  store.subscribe((state, changes) => {
    if (changes.has('progress') && bar.value !== state.progress) bar.value = state.progress ?? 0;
    if (!changes.has('status')) return;
    setText(text, state.statusText);
    const busy = isBusy(state.status);
    start.disabled = busy || !state.ready;
    estimate.disabled = busy || !state.ready;
    stop.disabled = !busy;
    document.body.dataset.status = state.status;
  });
}
