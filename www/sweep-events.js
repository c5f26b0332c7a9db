// The sweep store's events: one handler per event type, `(state, event, changes)`, that changes
// the state and records which aspects changed (see sweep-store.js for both lists).
// Must NOT: touch the DOM, post to the worker, read the controls or storage, or import a view.
import {
  epochs, finishedText, progressText, progressFraction, doneText, stoppedText, divergedText, deviceLostText,
  panicText, savedText, heldText, estimateText, followerText,
} from './wording.js';
import {
  isBusy, unfinished, sameSweep, setStatus, setNotice, keyOf, seriesOf, upsertRun, stopRunning, resetSweep, showSweep, fail, endEstimate, running,
  labelRestart, resumable, restartsSomeRun, goesOn,
} from './sweep-state.js';

/**
 * The banner and status line of a sweep shown read-only because another tab writes it
 * (`saved`, as that tab saved it): nothing to resume here.
 */
function sayFollowed(state, changes, saved) {
  const trained = state.results.length;
  state.saved = { savedAt: saved.savedAt, epochs: trained, left: [] };
  state.savedText = followerText(saved.status, trained);
  changes.set('saved', true);
  setStatus(state, changes, saved.status === 'done' ? 'done' : 'idle', state.savedText);
}

/** One handler per event type: worker messages first, then the page's own events. */
export const HANDLERS = {
  trainerLoading(state, m, changes) {
    // Before the trainer answers, the status line shows its download, then what it showed.
    if (state.ready || isBusy(state.status)) return;
    state.loadingText ??= state.statusText;
    state.statusText = m.message;
    state.progress = m.fraction ?? 0;
    changes.set('status', true).set('progress', true);
  },
  settings(state, m, changes) {
    state.timings.trainerReady ??= performance.now();
    if (state.loadingText != null) {
      if (!isBusy(state.status)) state.statusText = state.loadingText;
      state.progress = 0;
      changes.set('progress', true);
    }
    state.version = m.version;
    state.ready = true;
    state.autoran = true;
    setStatus(state, changes, state.status, state.statusText);
  },
  settingsError(state, m, changes) {
    state.timings.trainerReady ??= performance.now();
    state.loadingText = null;
    state.progress = 0;
    state.autoran = true;
    state.version = m.version ?? state.version;
    changes.set('progress', true);
    // A refused estimate: said where the estimate goes; the sweep's state is untouched.
    if (state.estimating) return endEstimate(state, changes, `No estimate: ${m.message}`);
    // Refused on load: the controls are filled with the defaults; Start is enabled.
    if (m.defaults) state.ready = true;
    state.pending = null;
    state.error = m.message;
    setNotice(state, changes, m.message);
    setStatus(state, changes, 'error', `The setting “${m.parameter}” was refused; nothing was started.`);
  },
  loading(state, m, changes) {
    setStatus(state, changes, 'loading', m.message);
    state.progress = m.fraction;
    changes.set('progress', true);
  },
  started(state, m, changes) {
    // An estimate's settings are not a sweep's.
    if (state.estimating) return;
    const { params, keep, id } = state.pending ?? { params: {}, keep: false };
    state.pending = null;
    if (keep) {
      // The sweep keeps its full settings (for export and the next resume); these are the runs left.
      state.sweep.running = m.settings;
    } else {
      resetSweep(state, changes, { id, params, settings: m.settings, finished: new Set(), fresh: true });
      state.follower = false;
      changes.set('follower', true);
      state.keepText = null;
      changes.set('keep', true);
    }
    state.saved = null;
    state.error = null;
    state.lostDevice = false;
    state.backend = state.backendReason = state.adapter = null;
    state.runEpochs = m.settings.epochs;
    changes.set('saved', true);
    setNotice(state, changes, null);
  },
  estimate(state, m, changes) {
    state.estimate = m.estimate;
    endEstimate(state, changes, estimateText(m.estimate));
  },
  findings(state, m, changes) {
    // Findings that arrive after Clear saved results belong to nothing on the page; while a
    // sweep starts or trains, they are the previous sweep's (asked for as it stopped).
    if (!state.sweep || isBusy(state.status)) return;
    state.findingsPending = false;
    state.arms = m.arms ?? [];
    // The sweep's own findings are its lrpolicy arm's (a baseline's are in `arms`).
    const policy = state.sweep.settings?.lrPolicy;
    state.findings = state.arms.find((a) => a.lrPolicy === policy)?.findings ?? m.findings;
    state.seedSummaries = m.seedSummaries ?? [];
    state.scaling = m.scaling ?? null;
    changes.set('findings', true).set('scaling', true);
    if (m.findings.length) changes.set('save', true);
  },
  /** The critical batch size fit alone, for a sweep shown again (nothing to save). */
  scaling(state, m, changes) {
    if (!state.sweep || isBusy(state.status)) return;
    state.scaling = m.scaling ?? null;
    changes.set('scaling', true);
    // The spread over seeds is the trainer's, from the runs (a saved sweep does not keep it).
    if (m.seedSummaries) {
      state.seedSummaries = m.seedSummaries;
      changes.set('findings', true);
    }
  },
  runStarted: (state, m, changes) => upsertRun(state, changes, m.summary),
  /**
   * Which runs of a continuation go on from their checkpoints; a refused checkpoint's run starts
   * from its first epoch, as a restart (and the notice says why).
   */
  resuming(state, m, changes) {
    const offered = [...state.resumeLabels.keys()];
    // (A checkpoint that was not one at all is named by its place in the list offered.)
    const refusedKeys = m.refused.map((r) => r.key ?? offered[r.index]).filter((k) => k != null);
    for (const key of offered) if (!m.keys.includes(key)) state.resumeLabels.delete(key);
    // A batch size left unlabelled because its run was to go on: labelled as a restart now.
    const why = state.continuing;
    for (const key of offered.filter((k) => !m.keys.includes(k))) {
      if (why && typeof key === 'number') labelRestart(state, key, why);
    }
    if (m.refused.length) {
      const name = (key) => (key == null ? 'a run' : typeof key === 'number' ? `batch size ${key}` : key);
      const lines = m.refused.map((r) => `The checkpoint of ${name(r.key ?? offered[r.index])} could not be used (${r.message}): it starts again from its first epoch.`);
      setNotice(state, changes, [state.notice, ...lines].filter(Boolean).join('\n'));
    }
    for (const key of refusedKeys) state.checkpoints.delete(key);
  },
  /** A run cut short goes on from its checkpoint: its summary as it stood after that epoch. */
  runResumed(state, m, changes) {
    upsertRun(state, changes, m.summary);
  },
  backend(state, m, changes) {
    // An estimate measures on the backend a sweep would use; it is not a sweep's backend.
    if (state.estimating) return;
    state.backend = m.backend;
    state.backendReason = m.reason;
    state.adapter = m.backend === 'webgpu' ? m.adapter : null;
    state.backendBanner = m.reason;
    state.adapterText = m.backend === 'webgpu' ? `GPU adapter: ${m.adapter}` : 'GPU adapter: not used (training on the CPU).';
    changes.set('banner', true);
    // Side by side or one after another, as resolved for this backend (a link may leave it out).
    if (typeof m.race === 'boolean') {
      for (const settings of new Set([state.sweep?.settings, state.sweep?.running].filter(Boolean))) settings.race = m.race;
    }
  },
  memory(state, m) {
    state.memory.push({ batchSize: m.batchSize, epoch: m.epoch, backend: state.backend, ...m.usage });
  },
  progress(state, m, changes) {
    const p = m.progress;
    if (p.phase === 'train') state.timings.firstStep ??= performance.now();
    setStatus(state, changes, 'training', progressText(p, state.runEpochs, state.sweep?.settings?.lrTrialEpochs ?? 1));
    // A validation check within an epoch: drawn at once (the run's summary keeps it too).
    if (p.check) changes.set('check', { batchSize: p.batchSize, series: seriesOf(state, p), point: p.check });
    state.progress = progressFraction(p);
    changes.set('progress', true);
  },
  /** A learning-rate trial set up (lrpolicy=tuned): nothing to show until it ends. */
  trialStarted() {},
  /** A learning-rate trial ended: the batch size's tuning so far (drawn by the tuning charts). */
  trial(state, m, changes) {
    state.tuning.set(keyOf(m), m.tuning);
    changes.set('tuning', true);
  },
  epoch(state, m, changes) {
    const record = { ...m.record, backend: state.backend };
    const series = seriesOf(state, record);
    if (series) record.series = series;
    // Runs trained side by side finish in any order.
    const key = keyOf(m.summary);
    if (m.summary.status !== 'running') state.sweep?.finished.add(key);
    // The run's checkpoint is saved with this epoch's record (both or neither); a finished
    // run's is dropped.
    // It keeps the label of the run's line, which its records after a resume keep too.
    if (m.summary.status === 'running' && m.checkpoint && !state.checkpointsOff) state.checkpoints.set(key, { ...m.checkpoint, label: series });
    else state.checkpoints.delete(key);
    if (m.checkpointError && !state.checkpointsOff) {
      // No checkpoint is saved from now on: none is offered either.
      state.checkpointsOff = true;
      state.checkpoints.clear();
      state.keepText = `A run's progress could not be kept mid-way (${m.checkpointError}): a run cut short will start again from its first epoch. Every finished epoch is still saved.`;
      changes.set('keep', true);
    }
    state.results.push(record);
    changes.set('record', record);
    upsertRun(state, changes, m.summary);
  },
  diverged(state, m, changes) {
    state.sweep?.finished.add(keyOf(m.summary));
    state.checkpoints.delete(keyOf(m.summary));
    changes.set('divergence', { batchSize: m.batchSize, epoch: m.epoch, series: seriesOf(state, m.summary) });
    upsertRun(state, changes, m.summary);
    const settings = running(state);
    const sizes = settings?.batchSizes ?? [];
    let goesOn = null;
    const left = unfinished(state).length > 0;
    if (settings?.race) goesOn = left ? 'others' : null;
    else goesOn = left ? 'next' : null;
    // Several runs may diverge: each keeps its line in the notice.
    setNotice(state, changes, [state.notice, divergedText(m.summary?.series ?? m.batchSize, m.epoch, goesOn)].filter(Boolean).join('\n'), state.recover);
  },
  done(state, m, changes) {
    setStatus(state, changes, 'done', doneText(state.results.length));
    state.progress = 1;
    changes.set('progress', true).set('findingsWanted', true).set('save', true);
  },
  stopped(state, m, changes) {
    if (state.estimating) return endEstimate(state, changes, 'The estimate was stopped.');
    stopRunning(state, changes);
    changes.set('findingsWanted', true).set('save', true);
    setStatus(state, changes, 'stopped', stoppedText(state.results.length));
  },
  error: (state, m, changes) => fail(state, changes, m.message),
  panic: (state, m, changes) => fail(state, changes, panicText(m.message, m.location, state.results.length)),
  workerFailed: (state, m, changes) => fail(state, changes, `The training worker failed: ${m.message || 'it could not be loaded'}`),
  deviceLost(state, m, changes) {
    const left = unfinished(state);
    state.lostDevice = left.length > 0;
    stopRunning(state, changes);
    state.error = deviceLostText(m.reason, state.results.length, left);
    setNotice(state, changes, state.error, left.length > 0);
    setStatus(state, changes, 'error', 'Interrupted: the GPU device was lost; finished epochs are kept below.');
    changes.set('save', true);
  },

  startRequested(state, { params, keep, why, id, resumable = [] }, changes) {
    // Runs that go on from their checkpoints keep their labels; the others restart as lines of
    // their own (a batch size's only run that resumes is not labelled).
    state.resumeLabels = new Map(resumable.map((key) => [key, state.checkpoints.get(key)?.label]));
    state.continuing = why ?? null;
    if (why) {
      // Epochs of a run cut short stay in the results; each restart is drawn as a line of its own.
      // Only a batch size with a cut-short run that cannot go on needs a restart label (runs
      // not started yet have no line to tell apart).
      for (const b of unfinished(state)) if (restartsSomeRun(state, b, resumable)) labelRestart(state, b, why);
    }
    state.pending = { params, keep, id };
    setStatus(state, changes, 'loading', 'Starting…');
    state.progress = 0;
    changes.set('progress', true);
  },
  /** The storage is full: checkpoints are dropped and no longer kept; the results are saved again without them. */
  checkpointsDropped(state, { error, id }, changes) {
    // A failed save of a sweep the page no longer shows changes nothing here.
    if (state.sweep?.id !== id) return;
    state.checkpoints.clear();
    state.checkpointsOff = true;
    state.keepText = `The checkpoints could not be saved: ${error}. They are no longer kept, so a run cut short will start again from its first epoch; every finished epoch is still saved.`;
    changes.set('keep', true).set('save', true);
  },
  stopRequested(state, m, changes) {
    state.stopping = true;
    setStatus(state, changes, state.status, state.statusText);
  },
  /** Start pressed while a stop completes: it starts once the stop is done (actions.js). */
  startQueued(state, { params }, changes) {
    state.queuedStart = params;
    setStatus(state, changes, state.status, state.statusText);
  },
  startDequeued(state) {
    state.queuedStart = null;
  },
  estimateRequested(state, m, changes) {
    state.estimating = { status: state.status, text: state.statusText };
    setStatus(state, changes, 'loading', 'Estimating…');
    state.estimateText = 'Measuring a few training steps at each batch size…';
    changes.set('estimate', true);
  },
  restored(state, { saved, follower = false, takenOver = false }, changes) {
    let left;
    try {
      showSweep(state, changes, saved, false, follower);
      left = unfinished(state);
    } catch (e) {
      // A damaged record (another version, a bug): left as it is, the page starts empty.
      resetSweep(state, changes, null);
      state.saved = null;
      state.follower = false;
      changes.set('saved', true).set('follower', true);
      state.storageError = `the sweep saved here could not be read (${e.message}); it was left as it is (listed under “Saved in this browser”)`;
      changes.set('storage', true);
      return;
    }
    const trained = state.results.length;
    state.follower = follower;
    changes.set('follower', true);
    // Another tab writes this sweep: shown read-only, and live (`followed`).
    if (follower) return sayFollowed(state, changes, saved);
    state.saved = { savedAt: saved.savedAt, epochs: trained, left };
    // The latest attempt at each unfinished batch size that got somewhere; with several seeds or
    // arms, every run of theirs cut short.
    const settings = state.sweep.settings;
    const cut = (settings.seeds ?? 1) > 1 || settings.baseline
      ? state.runs.filter((r) => left.includes(r.batchSize) && (r.status === 'stopped' || r.status === 'running') && r.epochs > 0)
      : left.map((b) => state.runs.filter((r) => r.batchSize === b).at(-1)).filter((r) => r?.epochs > 0);
    // The cut runs whose checkpoint follows their last epoch go on from there.
    const keys = resumable(state);
    const goOn = cut.filter((r) => goesOn(state, r, keys));
    state.savedText = (takenOver ? 'The tab that wrote this sweep was closed or moved on: this tab keeps it now. ' : '')
      + savedText({ savedAt: saved.savedAt, trained, sizes: state.sweep.settings.batchSizes, left, cut, goOn });
    changes.set('saved', true);
    setStatus(state, changes, saved.status === 'done' && !left.length ? 'done' : 'stopped', `Restored from this browser: ${epochs(trained)}.`);
  },
  /** The tab that writes the sweep shown (this tab follows it) saved it: shown again. */
  followed(state, { saved }, changes) {
    if (!state.follower || state.sweep?.id !== saved.id) return;
    showSweep(state, changes, saved, false, true);
    sayFollowed(state, changes, saved);
  },
  history(state, { list }, changes) {
    state.history = list;
    changes.set('history', true);
  },
  held(state, { settings }, changes) {
    setStatus(state, changes, state.status, heldText(sameSweep(state.sweep?.settings, settings), state.saved?.left.length > 0, state.follower));
  },
  imported(state, { sweep, params, about }, changes) {
    showSweep(state, changes, { ...sweep, params }, true);
    state.follower = false;
    changes.set('follower', true);
    // The findings are stated again by this trainer from the file's runs (never the file's text).
    state.findings = [];
    state.arms = [];
    // Said until the trainer answers (it may still be loading MNIST, seconds on a slow device).
    state.findingsPending = true;
    changes.set('findingsWanted', true).set('findings', true);
    setStatus(state, changes, 'idle', `Showing the imported sweep ${about}. Start trains these settings again.`);
    state.keepText = `Showing the imported sweep ${about}; it is not saved in this browser (the file keeps it).`;
    changes.set('keep', true);
  },
  /** A sweep drawn dashed beside the page's: imported from a file, or (`from: 'saved'`) from the saved history. */
  compared(state, { name, sweep, about, from = 'imported' }, changes) {
    const suffix = (r) => `${r.series ?? r.batchSize} (${from})`;
    state.comparison = {
      name,
      exportedAt: sweep.exportedAt,
      batchlabVersion: sweep.batchlabVersion,
      settings: sweep.settings,
      results: sweep.results.map((r) => ({ ...r, series: suffix(r) })),
      // A run exported while it trained is not training here.
      runs: sweep.runs.map((r) => ({ ...r, series: suffix(r), status: r.status === 'running' ? 'stopped' : r.status })),
    };
    state.keepText = `Comparing with the ${from} sweep ${about}: its lines are dashed.`;
    changes.set('comparison', true).set('keep', true);
  },
  comparisonRemoved(state, m, changes) {
    state.comparison = null;
    state.keepText = 'The imported sweep was removed from the charts.';
    changes.set('comparison', true).set('keep', true);
  },
  cleared(state, m, changes) {
    Object.assign(state, { comparison: null, saved: null, error: null, lostDevice: false, follower: false });
    changes.set('follower', true);
    setNotice(state, changes, null);
    resetSweep(state, changes, null);
    state.keepText = 'Saved results cleared: nothing is kept in this browser until the next sweep.';
    changes.set('comparison', true).set('saved', true).set('keep', true);
    setStatus(state, changes, 'idle', 'Saved results cleared.');
  },
  storage(state, { error }, changes) {
    state.storageError = error;
    changes.set('storage', true);
  },
  said(state, { text }, changes) {
    state.keepText = text;
    changes.set('keep', true);
  },
};
