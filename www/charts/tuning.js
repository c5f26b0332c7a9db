// The charts of the learning rate tuned per batch size (lrpolicy=tuned), from the run summaries'
// `tuning` and the trials as they end: (1) each trial's validation outcome against its learning
// rate, one line per batch size — steps to the target where reached, the trials that did not
// reach it hollow at the top, the diverged ones as crosses (infeasible, kept) — so that the
// optimum can be seen moving with the batch size; (2) the chosen rate against the batch size
// on log-log axes, with slopes ½ (square-root scaling) and 1 (linear scaling) drawn through the
// smallest batch size's rate for reference.
// Owns: the tunings given (setTuning) and these two charts. Must NOT: choose a rate (the
// trainer does: src/tuning.rs), or draw the other charts.

import { count, countTick, tick } from '../format.js';
import { colour, dash, pointStyle, DIVERGED, NOT_REACHED } from './palette.js';
import { batchSizeAxis, logTicks, niceAbove, tidyLogTicks } from './axes.js';
import { baseOptions, chartOn, update } from './frame.js';
import { fmt } from './text.js';

/** A learning rate as the grid writes it: 0.0316. */
const rate = (x) => String(Number(x.toPrecision(3)));

function logAxis(title, label) {
  return {
    type: 'logarithmic',
    title: { display: true, text: title },
    afterBuildTicks: tidyLogTicks,
    ticks: { ...logTicks(label), autoSkip: false },
  };
}

/** A run key's batch size: the key itself, or the number a series starts with (`"64 (seed 43)"`). */
const batchOf = (key) => (typeof key === 'number' ? key : Number.parseInt(key, 10));
/** Run keys by batch size, then as written. */
const byBatch = (a, b) => batchOf(a) - batchOf(b) || String(a).localeCompare(String(b));

/** Creates the two tuning charts on the given canvases: `{ charts(), reset(), setTuning(map) }`. */
export function createTuningCharts({ outcome, chosen }) {
  const tooltip = {
    mode: 'nearest',
    intersect: true,
    callbacks: { label: (c) => `${c.dataset.label}: ${c.raw.text ?? fmt(c.parsed.y, 4)}` },
  };
  const outcomeChart = chartOn(outcome, {
    type: 'line',
    data: { datasets: [] },
    options: {
      ...baseOptions({ title: 'Learning-rate trials: steps to the target on validation', legend: { labels: { usePointStyle: true } }, tooltip }),
      scales: { x: logAxis('Learning rate (log scale)', tick), y: logAxis('Steps to the target (log scale)', countTick) },
    },
  });
  const chosenChart = chartOn(chosen, {
    type: 'line',
    data: { datasets: [] },
    options: {
      ...baseOptions({ title: 'Learning rate chosen per batch size (log-log)', legend: { labels: { usePointStyle: true } }, tooltip }),
      scales: { x: batchSizeAxis(), y: logAxis('Learning rate (log scale)', tick) },
    },
  });

  /** batch size → tuning (as in a run summary), in the sweep's order */
  let tunings = new Map();

  function drawOutcome() {
    const sizes = [...tunings.keys()].sort(byBatch);
    const reachedSteps = sizes.flatMap((b) => tunings.get(b).trials.filter((t) => t.outcome === 'reached').map((t) => t.targetSteps));
    const top = reachedSteps.length ? niceAbove(1.5 * Math.max(...reachedSteps)) : 10;
    const datasets = [];
    const batches = [...new Set(sizes.map(batchOf))];
    sizes.forEach((key) => {
      const b = batchOf(key);
      // Seeds of a batch size share its colour.
      const c = colour(batches.indexOf(b));
      const lineDash = dash(batches.indexOf(b));
      const points = pointStyle(batches.indexOf(b));
      const trials = tunings.get(key).trials;
      const reached = trials.filter((t) => t.outcome === 'reached');
      datasets.push({
        label: `batch size ${typeof key === 'number' ? count(b) : key}`,
        data: reached.map((t) => ({ x: t.learningRate, y: t.targetSteps, text: `${count(t.targetSteps)} steps at learning rate ${rate(t.learningRate)}` })),
        borderColor: c,
        backgroundColor: c,
        borderDash: lineDash,
        pointStyle: points,
        pointRadius: 4,
        tension: 0,
      });
      const missed = trials.filter((t) => t.outcome !== 'reached');
      if (missed.length) {
        datasets.push({
          label: `batch size ${typeof key === 'number' ? count(b) : key}: not reached or diverged (at the top)`,
          data: missed.map((t) => ({
            x: t.learningRate,
            y: top,
            text: t.outcome === 'diverged' ? `diverged at learning rate ${rate(t.learningRate)} (infeasible)` : `not reached at learning rate ${rate(t.learningRate)} (validation loss ${fmt(t.valLoss, 3)})`,
            diverged: t.outcome === 'diverged',
          })),
          showLine: false,
          borderColor: (ctx) => (ctx.raw?.diverged ? DIVERGED : c),
          backgroundColor: 'transparent',
          pointStyle: (ctx) => (ctx.raw?.diverged ? 'crossRot' : 'circle'),
          pointRadius: 6,
          pointBorderWidth: 2,
          clip: false,
        });
      }
    });
    outcomeChart.data.datasets = datasets;
    update(outcomeChart);
  }

  function drawChosen() {
    const points = [...tunings.entries()].filter(([, t]) => t.chosen != null).sort((a, b) => byBatch(a[0], b[0])).map(([k, t]) => [batchOf(k), t]);
    // Several seeds: a point per seed, not joined (a line would run up and down at one batch size).
    const onePerBatch = new Set(points.map(([b]) => b)).size === points.length;
    const datasets = [{
      label: onePerBatch ? 'chosen learning rate' : 'chosen learning rate (a point per seed)',
      showLine: onePerBatch,
      data: points.map(([b, t]) => ({ x: Math.log2(b), y: t.chosen, text: `${rate(t.chosen)} at batch size ${count(b)}` })),
      borderColor: NOT_REACHED,
      backgroundColor: NOT_REACHED,
      pointRadius: 5,
      tension: 0,
    }];
    if (points.length >= 2) {
      const [b0, t0] = points[0];
      const b1 = points.at(-1)[0];
      const line = (k, label, dash) => ({
        label,
        data: [b0, b1].map((b) => ({ x: Math.log2(b), y: t0.chosen * (b / b0) ** k, text: `${rate(t0.chosen * (b / b0) ** k)} (${label})` })),
        borderColor: NOT_REACHED,
        backgroundColor: 'transparent',
        borderDash: dash,
        borderWidth: 1.5,
        pointRadius: 0,
        pointHitRadius: 0,
        tension: 0,
      });
      datasets.push(line(0.5, 'slope ½ (square-root scaling)', [2, 3]), line(1, 'slope 1 (linear scaling)', [8, 3]));
    }
    chosenChart.data.datasets = datasets;
    const xs = points.map(([b]) => Math.log2(b));
    chosenChart.options.scales.x.min = xs.length ? Math.min(...xs) - 0.5 : undefined;
    chosenChart.options.scales.x.max = xs.length ? Math.max(...xs) + 0.5 : undefined;
    update(chosenChart);
  }

  return {
    charts: () => [outcomeChart, chosenChart],
    reset() {
      tunings = new Map();
      drawOutcome();
      drawChosen();
    },
    /**
     * `map`: run key → tuning (`{ trialEpochs, trials, chosen, reason }`); the key is the batch
     * size, or the run's series (`"64 (tuned lr, seed 43)"`) with several seeds or arms. Redraws both charts.
     */
    setTuning(map) {
      tunings = new Map(map);
      drawOutcome();
      drawChosen();
    },
  };
}
