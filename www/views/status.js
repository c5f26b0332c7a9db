// The status line, the progress bar and the buttons that follow the status: Start, Stop, Resume
// (after a stop) and Estimate duration (Stop, Resume and Estimate are wired to their actions
// here; Start is the form's).
// Renders from the sweep store.
// Must NOT: change the store other than through the actions it is given, or post to the worker.
import { isBusy, unfinished } from '../sweep-store.js';
import { $, setText } from './dom.js';

export function createStatusView(store, actions) {
  const text = $('status-text');
  const bar = $('progress');
  const start = $('start');
  const stop = $('stop');
  const estimate = $('estimate');
  const resume = $('resume-stopped');
  stop.addEventListener('click', () => actions.stop());
  resume.addEventListener('click', () => actions.resume());
  estimate.addEventListener('click', () => actions.estimateDuration());

  store.subscribe((state, changes) => {
    if (changes.has('progress') && bar.value !== state.progress) bar.value = state.progress ?? 0;
    if (!['status', 'saved', 'sweep', 'follower'].some((aspect) => changes.has(aspect))) return;
    setText(text, state.statusText);
    const busy = isBusy(state.status);
    // While a stop completes, Start stays pressable: the next sweep waits for the stop.
    start.disabled = (busy && !state.stopping) || !state.ready;
    estimate.disabled = busy || !state.ready;
    stop.disabled = !busy || state.stopping;
    // After Stop (or an error), the sweep's unfinished runs can be resumed from here; a sweep
    // restored after a reload has its own banner's Resume, and a lost device its own buttons.
    const resumable = !busy && state.ready && state.sweep && !state.sweep.imported && !state.saved && !state.lostDevice && !state.follower
      && unfinished(state).length > 0;
    resume.hidden = !resumable;
    document.body.dataset.status = state.status;
  });
}
