// The sweep store's state changes that several events share (sweep-events.js applies them):
// the status line, the notice, run summaries, a sweep replaced or shown. Each records in
// `changes` the aspects it changed (see sweep-store.js).
// Must NOT: touch the DOM, post to the worker, or be called from outside the store's modules
// (isBusy and unfinished aside: they only read).

export const isBusy = (status) => status === 'loading' || status === 'training';

/** The status line while a stop completes. */
const stoppingText = (state) => (state.queuedStart
  ? 'Stopping… the next sweep starts as soon as the stop has finished.'
  : 'Stopping… the step under way finishes first (at most a few seconds).');

/**
 * A run's key: its series from the trainer (another seed or arm, `"64 (fixed lr, seed 43)"`) or,
 * for a batch size's only run, its batch size. `state.sweep.finished` and `state.tuning` use it.
 */
export const keyOf = (x) => x.series ?? x.batchSize;
/** The batch size of a run key (`64` or `"64 (seed 43)"`). */
export const batchOfKey = (key) => (typeof key === 'number' ? key : Number.parseInt(key, 10));
/** Runs per batch size in a sweep of `settings`: one per seed and arm. */
const runsPerBatch = (settings) => (settings?.seeds ?? 1) * (settings?.baseline ? 2 : 1);

/** The batch sizes of the page's sweep of which some run (a seed, an arm) has not finished all its epochs. */
export const unfinished = (state) => {
  const settings = state.sweep?.settings;
  const finished = [...(state.sweep?.finished ?? [])].map(batchOfKey);
  return (settings?.batchSizes ?? []).filter((b) => finished.filter((k) => k === b).length < runsPerBatch(settings));
};

/**
 * Whether run summary `run` (a cut-short run: its batch size, line label and epochs) goes on
 * from one of the checkpoints of `keys`: one of its batch size, under its label, after its last epoch.
 */
export function goesOn(state, run, keys) {
  return keys.some((key) => {
    const checkpoint = state.checkpoints.get(key);
    return batchOfKey(key) === run.batchSize && checkpoint?.label === (run.series ?? undefined) && checkpoint.epoch === run.epochs;
  });
}

/**
 * Whether a continuation that resumes the runs `resumableKeys` restarts a run of batch size `b`
 * that has records: a run of it cut short (its latest attempt per seed and arm) whose checkpoint
 * does not follow its last epoch.
 */
export function restartsSomeRun(state, b, resumableKeys) {
  const sameRun = (r, later) => later.batchSize === b && later.seed === r.seed && later.lrPolicy === r.lrPolicy;
  const cut = state.runs.filter((r, i) => r.batchSize === b && (r.status === 'stopped' || r.status === 'running') && r.epochs > 0
    && !state.runs.slice(i + 1).some((later) => sameRun(r, later)));
  return cut.some((r) => !goesOn(state, r, resumableKeys));
}

/** Whether two settings objects train the same sweep: the preset, batch list as written and backend aside. */
export function sameSweep(a, b) {
  // Side by side or one after another, the runs train the same (`race` changes only the order).
  const trained = ({ preset, batch, backend, race, ...rest }) => JSON.stringify(rest);
  return trained(a ?? {}) === trained(b ?? {});
}

export function setStatus(state, changes, status, text) {
  state.status = status;
  // While a stop completes, the status line says so (and whether a Start waits for it).
  if (!isBusy(status)) state.stopping = false;
  else if (state.stopping) text = stoppingText(state);
  state.statusText = text;
  // A new status line is what the trainer's download progress gives back when it ends.
  state.loadingText = null;
  changes.set('status', true);
}

export function setNotice(state, changes, text, recover = false) {
  state.notice = text || null;
  state.recover = recover;
  changes.set('notice', true);
}

/**
 * The line label of `x` (a record, summary or progress: `{ batchSize, series }`): the trainer's
 * series (another seed or arm) or none, followed by the label of a restart of its batch size.
 */
export const seriesOf = (state, x) => {
  // A run going on from its checkpoint keeps the label its first epochs were drawn under.
  const key = x.series ?? x.batchSize;
  if (state.resumeLabels?.has(key)) return state.resumeLabels.get(key);
  const rerun = state.reruns.get(x.batchSize);
  const base = x.series ?? undefined;
  return rerun ? `${base ?? x.batchSize} ${rerun}` : base;
};

/** The run summary of `summary`'s run, replaced or added (a restarted run is keyed by its series). */
export function upsertRun(state, changes, summary) {
  const series = seriesOf(state, summary);
  const run = series ? { ...summary, series } : { ...summary };
  const key = (r) => r.series ?? r.batchSize;
  const i = state.runs.findIndex((r) => key(r) === key(run));
  if (i >= 0) state.runs[i] = run;
  else state.runs.push(run);
  if (run.tuning) {
    state.tuning.set(keyOf(summary), run.tuning);
    changes.set('tuning', true);
  }
  changes.set('runs', true).set('save', true);
}

/**
 * Labels the lines of batch size `b` as a restart (`why`: e.g. "after a stop"): its epochs so
 * far stay under their label, the restart's are drawn as a line of its own. Nothing to label
 * when `b` has no record yet.
 */
export function labelRestart(state, b, why) {
  if (!state.results.some((r) => r.batchSize === b)) {
    state.reruns.delete(b);
    return;
  }
  const n = (state.restarts.get(b) ?? 0) + 1;
  state.restarts.set(b, n);
  state.reruns.set(b, n === 1 ? `(restarted ${why})` : `(restart ${n}, ${why})`);
}

/**
 * The keys of the unfinished runs whose checkpoint follows their last record (the epoch of both
 * the same, under the same label): those a continuation can resume.
 */
export function resumable(state) {
  if (state.checkpointsOff) return [];
  const left = unfinished(state);
  return [...state.checkpoints].filter(([key, checkpoint]) => {
    const b = batchOfKey(key);
    if (!left.includes(b) || state.sweep?.finished.has(key)) return false;
    const last = state.results
      .filter((r) => r.batchSize === b && (r.series ?? undefined) === checkpoint.label)
      .reduce((epoch, r) => Math.max(epoch, r.epoch), 0);
    return last === checkpoint.epoch;
  }).map(([key]) => key);
}

/** Marks every run under way as stopped: by the reader, or by a failure. */
export function stopRunning(state, changes) {
  for (const run of state.runs) if (run.status === 'running') run.status = 'stopped';
  changes.set('runs', true);
}

/** Empties the page's sweep; `sweep` becomes the new one (or null). */
export function resetSweep(state, changes, sweep) {
  Object.assign(state, {
    results: [], memory: [], runs: [], findings: [], findingsPending: false, arms: [], seedSummaries: [], scaling: null, tuning: new Map(), reruns: new Map(), restarts: new Map(),
    checkpoints: new Map(), checkpointsOff: false, resumeLabels: new Map(), continuing: null, sweep,
  });
  changes.set('sweep', true);
}

/**
 * A sweep kept or imported (`{ id?, params, settings, results, runs, findings, … }`) becomes the
 * page's; `following`: another tab trains it (its runs under way stay so).
 */
export function showSweep(state, changes, sweep, imported = false, following = false) {
  // Runs and records saved before seeds were recorded trained with the settings' seed.
  const seed = sweep.settings?.seed;
  state.results = sweep.results.map((r) => ({ ...r, seed: r.seed ?? seed }));
  state.runs = sweep.runs.map((r) => ({ ...r, seed: r.seed ?? seed }));
  // Learning-rate trials (lrpolicy=tuned) are kept in the run summaries.
  state.tuning = new Map(state.runs.filter((r) => r.tuning).map((r) => [keyOf(r), r.tuning]));
  state.memory = (sweep.memory ?? []).map((m) => ({ ...m }));
  state.reruns = new Map(sweep.reruns ?? []);
  state.restarts = new Map(sweep.restarts ?? []);
  // Checkpoints of the runs cut short (an import has none: a file keeps no model).
  state.checkpoints = new Map(imported ? [] : (sweep.checkpoints ?? []));
  state.checkpointsOff = false;
  state.resumeLabels = new Map();
  const finished = sweep.finished ?? state.runs.filter((r) => r.status === 'done' || r.status === 'diverged').map(keyOf);
  state.sweep = { id: imported ? null : sweep.id ?? null, params: sweep.params, settings: sweep.settings, finished: new Set(finished), imported };
  // An imported sweep was trained elsewhere: its export says where, and by which version.
  if (imported) state.sweep.origin = { userAgent: sweep.userAgent, batchlabVersion: sweep.batchlabVersion };
  state.backend = sweep.backend ?? null;
  state.adapter = sweep.adapter ?? null;
  state.backendReason = sweep.backendReason ?? null;
  // A run that was training when the page closed was cut short (unless another tab trains it:
  // `following`).
  if (!following) for (const run of state.runs) if (run.status === 'running') run.status = 'stopped';
  state.findings = sweep.findings ?? [];
  state.findingsPending = false;
  state.arms = sweep.arms ?? [];
  state.seedSummaries = sweep.seedSummaries ?? [];
  // The fit is the trainer's, from the runs: asked for again (scaling.rs may have changed).
  state.scaling = null;
  changes.set('sweep', true).set('scalingWanted', true);
}

export function fail(state, changes, message) {
  if (state.estimating) {
    state.estimateText = 'No estimate: the trainer failed (see above).';
    changes.set('estimate', true);
  }
  state.estimating = false;
  stopRunning(state, changes);
  state.error = message;
  setNotice(state, changes, message);
  setStatus(state, changes, 'error', 'Stopped by an error; finished epochs are kept below.');
  changes.set('save', true);
}

/** An estimate ended (`text`: what its line says, if anything): the status line goes back. */
export function endEstimate(state, changes, text) {
  const { status, text: line } = state.estimating || { status: 'idle', text: 'Idle.' };
  state.estimating = false;
  if (text != null) {
    state.estimateText = text;
    changes.set('estimate', true);
  }
  setStatus(state, changes, status, line);
}

/** The settings the runs under way train with (a continuation's are the runs left). */
export const running = (state) => state.sweep?.running ?? state.sweep?.settings;
