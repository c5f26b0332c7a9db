// The charts (charts.js draws them): per epoch, across batch sizes, the learning-rate tuning
// (with its sentences, one per batch size), and an imported sweep dashed next to the page's. Renders from the sweep store: a finished epoch adds its
// points; a new sweep, or a comparison added or removed, draws everything again.
// Must NOT: change the store, or post to the worker.
import { createCharts } from '../charts.js';
import { tuningText } from '../wording.js';
import { $ } from './dom.js';

export function createChartsView(store) {
  const charts = createCharts({
    accuracy: $('chart-accuracy'), loss: $('chart-loss'), time: $('chart-time'), normalised: $('chart-normalised'), checks: $('chart-checks'),
    epochsToTarget: $('chart-epochs'), stepsToTarget: $('chart-steps'), timeToTarget: $('chart-target-time'),
    finalAccuracy: $('chart-final'), tuningOutcome: $('chart-tuning-outcome'), tuningChosen: $('chart-tuning-chosen'),
  });
  const tuningSection = $('tuning');
  const tuningList = $('tuning-text');

  /** The tuning section: shown once a batch size has tried a learning rate; a sentence per batch size that chose one. */
  function drawTuning(state) {
    tuningSection.hidden = state.tuning.size === 0;
    charts.setTuning(state.tuning);
    const batchOf = (k) => (typeof k === 'number' ? k : Number.parseInt(k, 10));
    const done = [...state.tuning.entries()].filter(([, t]) => t.chosen != null || t.reason)
      .sort((a, b) => batchOf(a[0]) - batchOf(b[0]) || String(a[0]).localeCompare(String(b[0])));
    tuningList.replaceChildren(...done.map(([b, t]) => Object.assign(document.createElement('li'), { textContent: tuningText(b, t) })));
  }

  /**
   * Draws every chart again from the records and run summaries kept (the page's sweep, then an
   * imported one's, dashed), in the order they were trained, so that each line has the colour
   * and points it had live.
   */
  function redraw(state) {
    charts.reset();
    const replay = (results, runs, extra) => {
      const key = (r) => r.series ?? r.batchSize;
      const done = new Set();
      // Lines in the order their runs started (as live: charts.setRuns places them so), then
      // records of no run kept (an older file's).
      if (!extra.imported) charts.orderLines(runs);
      for (const k of [...runs.map(key), ...results.map(key)]) {
        if (done.has(k)) continue;
        done.add(k);
        for (const r of results) if (key(r) === k) charts.add({ ...r, ...extra }, { draw: false });
        const run = runs.find((x) => key(x) === k);
        // The validation checks kept in the run's summary (its epochs' ends are among them).
        for (const p of run?.evals ?? []) charts.check(run.batchSize, run.series, p, { imported: Boolean(extra.imported), draw: false });
        if (run?.status === 'diverged') charts.diverged(run.batchSize, run.divergedEpoch, run.series, { imported: Boolean(extra.imported), draw: false });
      }
    };
    replay(state.results, state.runs, {});
    if (state.comparison) replay(state.comparison.results, state.comparison.runs, { imported: true });
    charts.draw();
    charts.setComparison(state.comparison?.runs ?? []);
    charts.setRuns(state.runs, state.sweep?.settings?.batchSizes);
    charts.setScaling(state.scaling);
    drawTuning(state);
  }

  store.subscribe((state, changes) => {
    if (changes.has('sweep') || changes.has('comparison')) {
      redraw(state);
      return;
    }
    if (changes.has('record')) charts.add(changes.get('record'));
    const check = changes.get('check');
    if (check) charts.check(check.batchSize, check.series, check.point);
    const diverged = changes.get('divergence');
    if (diverged) charts.diverged(diverged.batchSize, diverged.epoch, diverged.series);
    if (changes.has('runs')) charts.setRuns(state.runs, state.sweep?.settings?.batchSizes);
    if (changes.has('scaling')) charts.setScaling(state.scaling);
    if (changes.has('tuning')) drawTuning(state);
  });
}
