// The table of runs (one row per batch size, from the run summaries) and the list of findings.
// Text only: every value goes in through textContent, never as HTML. Counts are grouped
// ("60,000"); measured values of 10,000 and more are written "3.9·10¹⁹" (format.js).

import { number, count, significant } from './format.js';

const percent = (fraction) => (fraction == null ? '—' : `${(100 * fraction).toFixed(2)} %`);
const orNotReached = (x, write) => (x == null ? 'not reached' : write(x));

const OPTIMISERS = {
  sgd: 'SGD', momentum: 'SGD with momentum', nesterov: 'SGD with Nesterov momentum', rmsprop: 'RMSProp',
  adagrad: 'Adagrad', adam: 'Adam', rprop: 'Rprop (iRprop−)',
};
const POLICIES = { fixed: '', linear: ' (linear scaling)', sqrt: ' (square-root scaling)', tuned: ' (tuned)' };

/** What became of a run, in words. */
function status(run) {
  switch (run.status) {
    case 'done':
      return { target: 'done (target reached)', timeBudget: 'done (time budget)' }[run.endedBy] ?? 'done';
    case 'diverged':
      return run.divergedEpoch != null ? `diverged in epoch ${run.divergedEpoch}` : 'diverged';
    case 'stopped':
      return 'stopped';
    case 'running':
      return 'running';
    default:
      return String(run.status ?? '—');
  }
}

/** Column headings of `renderRuns`'s rows, in order (for the table's <thead>). */
export const RUN_COLUMNS = [
  'Batch size', 'Learning rate', 'Optimiser', 'Status', 'Epochs', 'Target epoch', 'Target steps',
  'Target time (s)', 'Best validation accuracy', 'Final validation accuracy', 'Best test accuracy', 'Final test accuracy', 'Throughput (samples/s)', 'Gradient noise scale',
];

/**
 * Fills `tbody` with one row per run summary (see the README), replacing what was there.
 * Rows get the class `run-<status>`; status, "not reached" and "—" cells get classes too.
 */
export function renderRuns(tbody, runs) {
  const rows = runs.map((r) => {
    const row = document.createElement('tr');
    row.className = `run-${r.status}`;
    const cells = [
      [r.series ? `${count(r.batchSize)} ${r.series.slice(String(r.batchSize).length + 1)}` : count(r.batchSize)],
      [r.learningRate == null || (r.tuning && r.tuning.chosen == null) ? '—' : `${significant(r.learningRate, 4)}${POLICIES[r.lrPolicy] ?? ''}`],
      [OPTIMISERS[r.optimizer] ?? String(r.optimizer ?? '—'), 'text'],
      [status(r), 'status'],
      [count(r.epochs ?? 0)],
      [orNotReached(r.targetEpoch, count)],
      [orNotReached(r.targetSteps, count)],
      [orNotReached(r.targetSeconds, (s) => number(s, 1))],
      [percent(r.bestValAccuracy)],
      [percent(r.finalValAccuracy)],
      [percent(r.bestTestAccuracy)],
      [percent(r.finalTestAccuracy)],
      [r.samplesPerSecond == null || !r.epochs ? '—' : count(r.samplesPerSecond)],
      [r.noiseScale == null ? '—' : count(r.noiseScale)],
    ];
    for (const [text, cls] of cells) {
      const cell = row.insertCell();
      cell.textContent = text;
      if (cls) cell.className = cls;
      else if (text === 'not reached' || text === '—') cell.className = 'missing';
    }
    return row;
  });
  tbody.replaceChildren(...rows);
}

/** A measure over seeds (`{ n, mean, min, max }` or null) as "mean (min–max)", each written by `write`. */
const spreadText = (s, write) => (s == null ? '—' : s.n > 1 ? `${write(s.mean)} (${write(s.min)}–${write(s.max)})` : write(s.mean));

/**
 * Fills `tbody` with one row per batch size and arm over its seeds (the trainer's seedSummaries:
 * `{ batchSize, lrPolicy, seeds, reached, diverged, learningRate, targetSteps, … }`, each measure
 * `{ n, mean, sd, min, max }` or null), replacing what was there.
 */
export function renderSeedSummaries(tbody, summaries) {
  const rows = summaries.map((s) => {
    const row = document.createElement('tr');
    const cells = [
      s.lrPolicy,
      count(s.batchSize),
      s.seeds.join(', '),
      `${s.reached} of ${s.seeds.length}`,
      `${s.diverged} of ${s.seeds.length}`,
      spreadText(s.learningRate, (x) => significant(x, 3)),
      spreadText(s.targetSteps, (x) => count(Math.round(x))),
      spreadText(s.targetSeconds, (x) => number(x, 1)),
      spreadText(s.finalValAccuracy, percent),
      spreadText(s.finalTestAccuracy, percent),
      spreadText(s.samplesPerSecond, (x) => count(Math.round(x))),
    ];
    for (const text of cells) row.insertCell().textContent = text;
    return row;
  });
  tbody.replaceChildren(...rows);
}

const BADGES = new Map([[true, ['shown', 'shown']], [false, ['not-shown', 'not shown in this sweep']], [null, ['unknown', 'cannot tell']]]);

/** An arm of a sweep by its learning-rate policy, as the findings panel names it. */
const ARM_NAMES = {
  fixed: 'Naive: one fixed learning rate',
  linear: 'Learning rate scaled linearly with the batch size',
  sqrt: 'Learning rate scaled with the square root of the batch size',
  tuned: 'Fair: the learning rate tuned per batch size',
};

/**
 * Fills `element` (an <ol>) with one <li> per finding: a badge ("shown", "not shown in this sweep",
 * "cannot tell"), the title in <strong>, then the text. The <li> gets the class `shown`, `not-shown`
 * or `unknown`, and its `value` is the finding's number. With several arms (`arms`: the trainer's
 * findingsByArm, e.g. a baseline beside lrpolicy=tuned), each <li> holds one <div class="arm">
 * per arm, side by side: its name, its badge and its text; the <li>'s class is the last arm's.
 */
export function renderFindings(element, findings, arms = [], named = false) {
  if (arms.length > 1 || (named && arms.length === 1)) {
    const items = arms[0].findings.map((first, i) => {
      const li = document.createElement('li');
      if (Number.isInteger(first.number)) li.value = first.number;
      const title = document.createElement('strong');
      title.textContent = first.title;
      li.append(title);
      for (const arm of arms) {
        const f = arm.findings[i];
        const [cls, badgeText] = BADGES.get(f?.shown ?? null) ?? BADGES.get(null);
        li.className = cls;
        const div = document.createElement('div');
        div.className = `arm ${cls}`;
        div.dataset.lrPolicy = arm.lrPolicy;
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = badgeText;
        const name = document.createElement('em');
        name.textContent = `${ARM_NAMES[arm.lrPolicy] ?? arm.lrPolicy}:`;
        div.append(badge, ' ', name, ' ', f?.text ?? '');
        li.append(div);
      }
      return li;
    });
    element.replaceChildren(...items);
    return;
  }
  const items = findings.map((f) => {
    const [cls, badgeText] = BADGES.get(f.shown ?? null) ?? BADGES.get(null);
    const li = document.createElement('li');
    li.className = cls;
    if (Number.isInteger(f.number)) li.value = f.number;
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = badgeText;
    const title = document.createElement('strong');
    title.textContent = f.title;
    li.append(badge, ' ', title, ' ', f.text ?? '');
    return li;
  });
  element.replaceChildren(...items);
}
