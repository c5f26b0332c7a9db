// The per-epoch results table, the runs table (summary.js draws its rows) and the findings
// panel. Renders from the sweep store: a finished epoch adds one row; a new sweep redraws all.
// Must NOT: change the store, or post to the worker.
import { renderRuns, renderFindings, renderSeedSummaries } from '../summary.js';
import { measuredOn, percent } from '../wording.js';
import { count, number } from '../format.js';
import { $ } from './dom.js';

function addRow(tbody, r) {
  const cells = [
    r.series ? `${count(r.batchSize)} ${r.series.slice(String(r.batchSize).length + 1)}` : count(r.batchSize), r.epoch, count(r.steps), count(r.samples),
    number(r.trainLoss, 4), percent(r.trainAccuracy), r.valLoss == null ? '—' : number(r.valLoss, 4), r.valAccuracy == null ? '—' : percent(r.valAccuracy),
    number(r.testLoss, 4), percent(r.testAccuracy),
    number(r.trainSeconds, 1), count(r.samplesPerSecond), r.backend === 'webgpu' ? 'WebGPU' : 'CPU',
  ];
  const row = tbody.insertRow();
  for (const text of cells) row.insertCell().textContent = text;
}

export function createTables(store) {
  const results = document.querySelector('#results tbody');
  const runs = document.querySelector('#runs tbody');
  const findings = $('findings');
  const findingsEmpty = $('findings-empty');
  const spread = $('spread');
  const spreadRows = document.querySelector('#seed-summaries tbody');
  const measured = $('measured-text');

  store.subscribe((state, changes) => {
    const all = changes.has('sweep');
    if (all) {
      const settings = state.sweep?.settings;
      measured.hidden = !settings;
      measured.textContent = settings ? measuredOn(settings) : '';
      results.replaceChildren();
      for (const r of state.results) addRow(results, r);
    } else if (changes.has('record')) {
      addRow(results, changes.get('record'));
    }
    // The imported sweep's runs are listed after the page's.
    if (all || changes.has('runs') || changes.has('comparison')) renderRuns(runs, [...state.runs, ...(state.comparison?.runs ?? [])]);
    if (all || changes.has('findings')) {
      // With a baseline every arm is named, even while only one has ended.
      renderFindings(findings, state.findings, state.arms ?? [], Boolean(state.sweep?.settings?.baseline));
      // The table over seeds: for a sweep with several seeds or arms.
      const summaries = state.seedSummaries ?? [];
      const several = summaries.some((s) => s.seeds.length > 1) || new Set(summaries.map((s) => s.lrPolicy)).size > 1;
      spread.hidden = !several;
      renderSeedSummaries(spreadRows, several ? summaries : []);
      findingsEmpty.hidden = state.findings.length > 0;
      findingsEmpty.textContent = state.findingsPending
        ? 'Stating the findings from the imported runs (once the trainer has loaded)…'
        : 'The findings appear when a sweep ends.';
    }
  });
}
