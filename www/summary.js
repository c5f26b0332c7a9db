// The table of runs (one row per batch size, from the run summaries) and the list of findings.
// Text only: every value goes in through textContent, never as HTML.

const fmt = (x, digits = 0) => x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percent = (fraction) => (fraction == null ? '—' : `${(100 * fraction).toFixed(2)} %`);
const orNotReached = (x, digits) => (x == null ? 'not reached' : fmt(x, digits));

const OPTIMISERS = {
  sgd: 'SGD', momentum: 'SGD with momentum', nesterov: 'SGD with Nesterov momentum', rmsprop: 'RMSProp',
  adagrad: 'Adagrad', adam: 'Adam', rprop: 'Rprop (iRprop−)',
};
const POLICIES = { fixed: '', linear: ' (linear scaling)', sqrt: ' (square-root scaling)' };

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
  'Target time (s)', 'Best test accuracy', 'Final test accuracy', 'Throughput (samples/s)', 'Gradient noise scale',
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
      [r.series ? `${fmt(r.batchSize)} ${r.series.slice(String(r.batchSize).length + 1)}` : fmt(r.batchSize)],
      [r.learningRate == null ? '—' : `${Number(r.learningRate.toPrecision(4))}${POLICIES[r.lrPolicy] ?? ''}`],
      [OPTIMISERS[r.optimizer] ?? String(r.optimizer ?? '—'), 'text'],
      [status(r), 'status'],
      [fmt(r.epochs ?? 0)],
      [orNotReached(r.targetEpoch, 0)],
      [orNotReached(r.targetSteps, 0)],
      [orNotReached(r.targetSeconds, 1)],
      [percent(r.bestTestAccuracy)],
      [percent(r.finalTestAccuracy)],
      [r.samplesPerSecond == null || !r.epochs ? '—' : fmt(r.samplesPerSecond, 0)],
      [r.noiseScale == null ? '—' : fmt(r.noiseScale, 0)],
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

const BADGES = new Map([[true, ['shown', 'shown']], [false, ['not-shown', 'not shown in this sweep']], [null, ['unknown', 'cannot tell']]]);

/**
 * Fills `element` (an <ol>) with one <li> per finding: a badge ("shown", "not shown in this sweep",
 * "cannot tell"), the title in <strong>, then the text. The <li> gets the class `shown`, `not-shown`
 * or `unknown`, and its `value` is the finding's number.
 */
export function renderFindings(element, findings) {
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
