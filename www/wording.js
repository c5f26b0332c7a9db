// The page's sentences: pure functions from numbers and records to the words the reader sees
// (status line, banners, notices). Owns no state.
// Must NOT: touch the DOM, keep state, or import any module of the page but format.js (pure).
import { number } from './format.js';

export { number };

export const fmt = (x) => x.toLocaleString('en');
export const percent = (fraction) => `${(100 * fraction).toFixed(2)} %`;
export const epochs = (n) => `${n} epoch${n === 1 ? '' : 's'}`;
/** Batch sizes for a sentence: "16, 64, 1,024". */
export const list = (sizes) => sizes.map(fmt).join(', ');
/** A duration: "40 s", "12 min", "2.5 h". */
export const duration = (s) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

/** What happens to the epochs finished so far, after a fault. */
export const finishedText = (n) => ['No epoch had finished.', 'The finished epoch is kept.'][n] ?? `The ${epochs(n)} finished are kept.`;

const PHASES = { train: 'training', probe: 'measuring the gradient noise on', validation: 'validating on', test: 'testing on', check: 'checking validation; trained' };
const SHORT_PHASES = { probe: 'noise probe ', validation: 'validating ', test: 'testing ', check: 'checking validation, ' };

/** " · about 3 min left" for a number of seconds; nothing when unknown. */
const left = (seconds) => (typeof seconds === 'number' && Number.isFinite(seconds) ? ` · about ${duration(Math.max(0, seconds))} left` : '');

/**
 * The status line while training, from a `progress` message (see worker.js): the run that
 * advanced, or every run under way when several train side by side (`running`), and the
 * sweep's time left (`etaSeconds`) when the trainer knows it. A progress that ended its phase
 * (`next`: `{ phase, total }`) is said as the start of the next phase.
 */
export function progressText(progress, epochsPerRun, trialEpochs = 1) {
  // A chunk that ended its phase names the one under way now (`next`), from its first image.
  const under = (r) => (r.next ? { ...r, phase: r.next.phase, done: 0, total: r.next.total, runningLoss: null } : r);
  const p = { ...under(progress), running: progress.running?.map(under) };
  // A learning-rate trial (lrpolicy=tuned) says which: "trial 3/7 (lr 0.01)".
  const trial = (r, short) => (r.trial ? `trial ${r.trial.number}${short ? '/' : ' of '}${r.trial.count} (learning rate ${significantRate(r.trial.learningRate)}), ` : '');
  if (Array.isArray(p.running) && p.running.length > 1) {
    const runs = p.running.map((r) => `${fmt(r.batchSize)}: ${trial(r, true)}epoch ${r.epoch}, ${SHORT_PHASES[r.phase] ?? ''}${r.total ? Math.floor((100 * r.done) / r.total) : 0} %`);
    return `Training ${p.running.length} batch sizes side by side · ${runs.join(' · ')}${left(p.etaSeconds)}`;
  }
  const loss = p.runningLoss == null ? '' : ` · loss ${number(p.runningLoss, 3)}`;
  const of = p.trial ? trialEpochs : epochsPerRun;
  return `Batch size ${fmt(p.batchSize)} · ${p.trial ? `${trial(p, false).replace(/, $/, '')} · ` : ''}epoch ${p.epoch} of ${of} · ${PHASES[p.phase]} ${fmt(p.done)} / ${fmt(p.total)} images${loss}${left(p.etaSeconds)}`;
}

/** A learning rate as written in a grid: 0.0316 (4 significant digits, no trailing zeros). */
const significantRate = (x) => String(Number(x.toPrecision(4)));

/** What a batch size's learning-rate trials chose, in a sentence (`tuning` as in a run summary). */
export function tuningText(batchSize, tuning) {
  const diverged = tuning.trials.filter((t) => t.outcome === 'diverged').length;
  const infeasible = diverged ? ` ${diverged} of ${tuning.trials.length} rates diverged (infeasible).` : '';
  // A run key: the batch size, or a series such as "64 (tuned lr, seed 43)".
  const name = typeof batchSize === 'number' ? fmt(batchSize) : batchSize;
  if (tuning.chosen == null) return `Batch size ${name}: every learning rate of the grid diverged; nothing was trained.`;
  return `Batch size ${name} trains at learning rate ${significantRate(tuning.chosen)}: it ${tuning.reason}.${infeasible}`;
}

/** The progress bar: the mean of the runs under way's fractions (or the one run's). */
export function progressFraction(p) {
  const runs = Array.isArray(p.running) && p.running.length ? p.running : [p];
  return runs.reduce((sum, r) => sum + (r.total ? r.done / r.total : 0), 0) / runs.length;
}

export const doneText = (n) => (n ? `Done: ${epochs(n)} trained.` : 'Done: no epoch finished (every run diverged).');
export const stoppedText = (n) => (n === 0 ? 'Stopped before any epoch finished.' : `Stopped: ${n === 1 ? 'the finished epoch is' : `${epochs(n)} finished are`} kept.`);

/** The notice line of a run that diverged; `goesOn`: what the sweep does next, if anything. */
export function divergedText(batchSize, epoch, goesOn) {
  const next = { next: ' The sweep goes on with the next run.', others: ' The other runs go on.' }[goesOn] ?? '';
  return `Batch size ${batchSize} diverged in epoch ${epoch}: its training loss became infinite or NaN, or passed 23 nats, ten times an untrained network's (try a smaller learning rate).${next}`;
}

/** The notice after a lost GPU device; `left`: the batch sizes not finished. */
export function deviceLostText(reason, finished, left) {
  return `The GPU device was lost (${reason}). ${finishedText(finished)}` +
    (left.length ? ` Batch size${left.length === 1 ? '' : 's'} ${list(left)} ` +
      `${left.length === 1 ? 'is' : 'are'} left: continue the sweep on the CPU or on a new GPU device (an interrupted run goes on from its last finished epoch when it kept a checkpoint, else starts again from its first epoch).` : '');
}

export const panicText = (message, location, finished) =>
  `The trainer crashed, a bug in batchlab: “${message}” (${location}). ${finishedText(finished)} Press Start to begin a new sweep.`;

/**
 * The saved-sweep banner: when it was saved, how far it got, and what Resume does. `cut`: the
 * latest attempt at each unfinished batch size that got somewhere (run summaries); `goOn`: those
 * of them that go on from their last finished epoch (their checkpoint was kept).
 */
export function savedText({ savedAt, trained, sizes, left, cut, goOn = [] }) {
  const when = new Date(savedAt).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
  let text = `A sweep saved in this browser on ${when}: ${epochs(trained)} trained, ` +
    `${sizes.length - left.length} of ${sizes.length} batch size${sizes.length === 1 ? '' : 's'} finished.`;
  if (!left.length) return `${text} Every run had finished.`;
  text += ` Resume trains batch size${left.length === 1 ? '' : 's'} ${list(left)} on the backend chosen in the controls`;
  if (!cut.length) return `${text}.`;
  const named = (runs) => `batch size${runs.length === 1 ? '' : 's'} ${list(runs.map((r) => r.series ?? r.batchSize))} stopped after epoch${runs.length === 1 ? '' : 's'} ${runs.map((r) => r.epochs).join(', ')}`;
  const restart = cut.filter((r) => !goOn.includes(r));
  const parts = [];
  if (goOn.length) {
    parts.push(`${named(goOn)} and ${goOn.length === 1 ? 'goes' : 'go'} on from there (the model and optimiser were kept after each epoch)`);
  }
  if (restart.length) {
    const one = restart.length === 1;
    parts.push(`${named(restart)} ` + (one
      ? 'and restarts from its first epoch (no checkpoint of it was kept, e.g. saved by an older version of this page or while the storage was full: its finished epochs stay, drawn as a line of their own)'
      : 'and restart from their first epochs (no checkpoint of them was kept, e.g. saved by an older version of this page or while the storage was full: their finished epochs stay, drawn as lines of their own)'));
  }
  return `${text}; ${parts.join('; ')}.`;
}

/**
 * The status line when `autorun=1` meets a saved sweep, which is never replaced unasked;
 * `follower`: another tab writes it (tabs.js).
 */
export function heldText(same, unfinished, follower = false) {
  if (follower) {
    return `${same ? 'This link’s sweep' : 'This link starts a new sweep, but the sweep saved in this browser'} is shown read-only: another tab of this page ` +
      'writes it. Start trains the link’s sweep anew in this tab (the other stays saved).';
  }
  if (!same) return 'This link starts a new sweep, but the sweep saved in this browser is shown so as not to replace it unasked: press Start to run the link’s sweep (the saved one stays listed under “Saved in this browser”).';
  return unfinished
    ? 'This link’s sweep is saved in this browser, unfinished: Resume the sweep continues it; Start trains it again from the beginning.'
    : 'This link’s sweep is saved in this browser and had finished: it is shown below. Start trains it again.';
}

/** A duration estimate in words. */
export function estimateText(estimate) {
  // `diverges`: the run diverged while measured (the sweep's own run, same seed and rate).
  const perRun = estimate.runs.map((r) => `batch size ${fmt(r.batchSize)}: ${duration(r.seconds)}${r.diverges ? ' (diverged while measured)' : ''}`).join(', ');
  return `Estimated on this device: ${estimate.atMost ? 'at most ' : 'about '}${duration(estimate.totalSeconds)} ` +
    `(${perRun}; measured in ${estimate.measuredInSeconds.toFixed(1)} s${estimate.atMost ? '; runs end early at the target' : ''}).`;
}

/** An imported file for a sentence: "sweep.json (batchlab 0.1.0, exported 30/11/2026, 23:41:00)". */
export function aboutImport(name, sweep) {
  const when = new Date(sweep.exportedAt);
  return `${name} (batchlab ${sweep.batchlabVersion}, exported ${Number.isNaN(when.getTime()) ? sweep.exportedAt : when.toLocaleString('en-GB')})`;
}

export const storageText = (reason) =>
  `Results cannot be saved in this browser: ${reason}. They stay on this page until it is closed: download them (JSON or CSV) to keep them.`;

/**
 * Where a sweep's target is measured, in a sentence, from its settings (`valSize`, `testSize`,
 * `target`, as the trainer resolves them): on the validation images held out of the training
 * file, or on the test set when the sweep holds none out (`val=0`, or saved before the
 * validation split existed, when `valSize` is missing).
 */
export function measuredOn(settings) {
  const target = settings.target == null ? 'the target accuracy' : `the target (${(100 * settings.target).toFixed(settings.target * 100 % 1 ? 2 : 0)} %)`;
  const test = `${fmt(settings.testSize ?? 10_000)} test images`;
  if (settings.valSize > 0) {
    return `Each run's ${target.replace(/^the /, '')} is measured on ${fmt(settings.valSize)} validation images held out from the end of the 60,000 training images and never trained on; the ${test} are reported and choose nothing.`;
  }
  const why = 'this sweep holds no validation images out (val=0, or it was saved before the validation split existed)';
  return `Each run's ${target.replace(/^the /, '')} is measured on the ${test}: ${why}.`;
}

/**
 * The status line of a tab that follows a sweep another tab of this page writes (tabs.js):
 * `status`, that tab's status as saved; `n`, the epochs saved so far.
 */
export function followerText(status, n) {
  const what = status === 'training' || status === 'loading'
    ? `Another tab of this page is training this sweep (${epochs(n)} so far): shown here live, read-only.`
    : `Another tab of this page shows this sweep (${epochs(n)}): shown here read-only.`;
  return `${what} Start trains a new sweep in this tab; this one can be resumed here once that tab is closed.`;
}
