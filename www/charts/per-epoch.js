// The per-epoch charts: validation accuracy (test accuracy for a sweep with no validation set)
// and training loss against the epoch, that accuracy against training time and against
// normalised training time, and validation accuracy against the steps from the checks within
// the epochs. One coloured line per batch size (and per `series`: another seed or arm, or a run
// restarted after a lost GPU device; the seeds of a batch size and arm share a colour, and on the
// charts against the epoch their mean is drawn bold in a min–max band); an imported sweep's lines
// dashed, in their batch size's colour; a diverged run ends in a cross at chance accuracy.
// Owns: the per-epoch records, the lines and their colours, and these five charts. Must NOT: draw
// the charts across batch sizes, or keep the run summaries (it reads them through `summaries`).

import { countTick, tick } from '../format.js';
import { colour, dash, pointStyle } from './palette.js';
import { fitPerEpoch, logTicks, tidyLogTicks, wholeTicks } from './axes.js';
import { baseOptions, chartOn, update } from './frame.js';
import { fmt, lineLabel, percent } from './text.js';

/** Accuracy of a classifier that guesses one of MNIST's ten digits, in %. */
const CHANCE = 10;
/**
 * The mean training loss past which a run has diverged, nats: 10 × ln 10, ten times an untrained
 * network's loss over 10 classes (the trainer's `DIVERGENCE_LOSS`, src/summary.rs).
 */
const DIVERGENCE_LOSS = 10 * Math.LN10;
/**
 * The line group of a record: its series without the seed (`"64 (fixed lr, seed 43)"` →
 * `"64 (fixed lr)"`, `"64 (seed 43)"` → 64), so that the seeds of a batch size and arm share a colour.
 */
const groupOf = (r) => {
  if (r.series == null) return r.batchSize;
  const group = r.series.replace(/,? ?seed \d+/, '').replace(' ()', '');
  return group === String(r.batchSize) ? r.batchSize : group;
};
/** A record's accuracy as drawn, in %: on the validation images, or on the test images when none were held out. */
const accuracyOf = (r) => 100 * (r.valAccuracy ?? r.testAccuracy);

function lineChart(canvas, { title, x, y, yType = 'linear', yMin, yMax, xIntegers = false, xType = 'linear' }) {
  const chart = chartOn(canvas, {
    type: 'line',
    data: { datasets: [] },
    options: {
      ...baseOptions({
        title,
        tooltip: {
          mode: 'nearest',
          intersect: false,
          callbacks: {
            // The divergence cross is not a measurement: say what it is.
            label: (c) => (c.raw.diverged ? `${c.dataset.label}: diverged in epoch ${c.raw.x}` : `${c.dataset.label}: ${fmt(c.parsed.y, 4)}`),
          },
        },
      }),
      scales: {
        // Epochs are whole numbers: no 0.5 ticks, and the axis spans the epochs drawn (fitPerEpoch);
        // a time axis starts at 0 and has a little room after its last point.
        x: xType === 'logarithmic'
          ? { type: 'logarithmic', title: { display: true, text: x }, afterBuildTicks: tidyLogTicks, ticks: { ...logTicks(countTick), autoSkip: false } }
          : xIntegers
            ? { type: 'linear', title: { display: true, text: x }, ticks: { precision: 0, callback: countTick }, afterBuildTicks: wholeTicks }
            : { type: 'linear', title: { display: true, text: x }, min: 0, grace: '4%', ticks: { callback: tick } },
        y: {
          type: yType,
          title: { display: true, text: y },
          min: yMin,
          max: yMax,
          // Room below the lowest point (an accuracy axis ends at 100 %: markers there are drawn unclipped).
          grace: yType === 'logarithmic' ? undefined : '5%',
          afterBuildTicks: yType === 'logarithmic' ? tidyLogTicks : undefined,
          ticks: yType === 'logarithmic' ? logTicks() : { callback: tick },
        },
      },
    },
  });
  chart.$xIntegers = xIntegers;
  return chart;
}

/**
 * Creates the per-epoch charts on the given canvases; `summaries()` gives the latest run summaries
 * (the normalised chart divides by a run's time to the target). See charts.js for the methods.
 */
export function createPerEpochCharts({ accuracy, loss, time, normalised, checks }, summaries) {
  const perEpoch = [
    {
      chart: lineChart(accuracy, { title: 'Validation accuracy per epoch', x: 'Epoch', y: 'Validation accuracy (%)', yMax: 100, xIntegers: true }),
      point: (r) => ({ x: r.epoch, y: accuracyOf(r) }),
      title: (set) => `${set} per epoch`,
      byEpoch: true,
    },
    {
      chart: lineChart(loss, { title: 'Training loss per epoch (log scale)', x: 'Epoch', y: 'Mean cross-entropy (nats)', yType: 'logarithmic', xIntegers: true }),
      // A loss past the divergence bound is not drawn (the run is marked diverged instead), so
      // that one exploded run does not stretch the axis to 10²².
      point: (r) => ({ x: r.epoch, y: r.trainLoss > DIVERGENCE_LOSS ? NaN : r.trainLoss }),
      byEpoch: true,
    },
    {
      chart: lineChart(time, { title: 'Validation accuracy against training time', x: 'Training time (s)', y: 'Validation accuracy (%)', yMax: 100 }),
      point: (r) => ({ x: r.trainSeconds, y: accuracyOf(r) }),
      title: (set) => `${set} against training time`,
    },
  ];
  const accuracyChart = perEpoch[0].chart;
  const normalisedChart = lineChart(normalised, { title: 'Validation accuracy against normalised training time', x: 'Training time (normalised)', y: 'Validation accuracy (%)', yMax: 100 });
  /**
   * Validation accuracy against the optimiser steps (log scale), from the checks within the
   * epochs (`evalpoints`) and each epoch's end: drawn as they come, so that every batch size has
   * points long before its first epoch ends.
   */
  const checksChart = checks ? lineChart(checks, { title: 'Validation accuracy against steps, checked within the epochs', x: 'Optimiser steps (log scale)', y: 'Validation accuracy (%)', yMax: 100, xType: 'logarithmic' }) : null;
  /** Adds a validation check `{ steps, valAccuracy }` of the line of `r` ({ batchSize, series, imported }); a step drawn already is kept once. */
  function addCheck(r, point, draw = true) {
    if (!checksChart || point?.valAccuracy == null || !(point.steps > 0)) return;
    const line = datasetFor(checksChart, r);
    if (line.data.some((p) => p.x === point.steps)) return;
    line.data.push({ x: point.steps, y: 100 * point.valAccuracy });
    line.data.sort((a, b) => a.x - b.x);
    if (draw) update(checksChart);
  }
  /** Whether some record drawn has no validation accuracy (its test accuracy is drawn). */
  let someOnTest = false;
  /** Names what the accuracy charts draw: validation accuracy, or test where a sweep held none out. */
  function nameAccuracy(record) {
    if (record.valAccuracy != null || someOnTest) return;
    someOnTest = true;
    const set = 'Accuracy (validation; test where none was held out)';
    for (const { chart, title } of perEpoch) {
      if (!title) continue;
      chart.$title = title(set);
      chart.options.scales.y.title.text = 'Accuracy (%)';
    }
    normalisedChart.$title = `${set} against normalised training time`;
    normalisedChart.options.scales.y.title.text = 'Accuracy (%)';
  }

  /** line key (batch size, or a record's `series`) → index of its line (the legend's order) */
  let lines = new Map();
  /** colour key (a live line's key; an imported line's batch size) → palette slot */
  let slots = new Map();
  /** line key → `{ epoch, run }`: the epoch in which that run diverged, and its batch size and series */
  let divergedIn = new Map();
  /** every record given to add(), in order (the normalised chart is redrawn from them) */
  let records = [];
  /** Redraws a per-epoch chart, its axes fitted to its points. */
  const redraw = (chart) => {
    const epochChart = perEpoch.find((c) => c.chart === chart && c.byEpoch);
    if (epochChart) drawSeedBands(epochChart);
    fitPerEpoch(chart);
    update(chart);
  };

  /**
   * With several seeds (`seeds`): on a chart against the epoch, each batch size and arm whose
   * seeds have drawn an epoch gets its mean over those seeds as a bold line, in a band from the
   * seeds' minimum to their maximum (the seeds' own lines stay, thin and faint). Nothing with one
   * seed per line group.
   */
  function drawSeedBands({ chart, point }) {
    chart.data.datasets = chart.data.datasets.filter((d) => !d.seedBand);
    const groups = new Map();
    for (const r of records) {
      if (r.imported || r.seed == null) continue;
      const group = groupOf(r);
      if (!groups.has(group)) groups.set(group, { first: r, seeds: new Set(), byEpoch: new Map() });
      const g = groups.get(group);
      g.seeds.add(r.seed);
      const p = point(r);
      if (!Number.isFinite(p.y)) continue;
      if (!g.byEpoch.has(p.x)) g.byEpoch.set(p.x, new Map());
      // Of a seed's epoch drawn twice (a restart), the later point.
      g.byEpoch.get(p.x).set(r.seed, p.y);
    }
    for (const [group, g] of groups) {
      if (g.seeds.size < 2) continue;
      const c = colourOf(g.first);
      // The seeds' own lines: thin, faint, and out of the legend (the mean's entry names them).
      for (const d of chart.data.datasets) {
        if (d.data.length && groupOf(d.record ?? {}) === group) Object.assign(d, { borderWidth: 1, pointRadius: 1.5, borderColor: `${c}66`, backgroundColor: `${c}66`, hideInLegend: true });
      }
      const epochs = [...g.byEpoch.keys()].sort((a, b) => a - b);
      const stats = epochs.map((x) => {
        const ys = [...g.byEpoch.get(x).values()];
        return { x, n: ys.length, mean: ys.reduce((a, y) => a + y, 0) / ys.length, min: Math.min(...ys), max: Math.max(...ys) };
      });
      const name = `batch size ${group}`;
      const edge = (y) => ({ data: stats.map((s) => ({ x: s.x, y: s[y] })), borderColor: 'transparent', backgroundColor: `${c}26`, pointRadius: 0, pointHitRadius: 0, tension: 0, seedBand: true, hideInLegend: true });
      chart.data.datasets.push(
        { label: `${name}: mean of ${g.seeds.size} seeds, band min–max`, data: stats.map((s) => ({ x: s.x, y: s.mean })), borderColor: c, backgroundColor: c, borderWidth: 3, pointRadius: 3, tension: 0, seedBand: true, clip: false },
        edge('min'),
        { ...edge('max'), fill: '-1' },
      );
    }
  }

  const keyOf = (r) => r.series ?? r.batchSize;
  function indexOf(key) {
    if (!lines.has(key)) lines.set(key, lines.size);
    return lines.get(key);
  }
  /** An imported line takes its batch size's colour (dashed), so live lines keep theirs. */
  function colourOf(record) {
    return colour(slotOf(record));
  }
  /** The palette slot of `record`'s line: the seeds of one batch size and arm share one (their
   * series without the seed); an imported line takes its batch size's. */
  function slotOf(record) {
    const key = record.imported ? record.batchSize : groupOf(record);
    if (!slots.has(key)) slots.set(key, slots.size);
    return slots.get(key);
  }
  const labelFor = (r) => lineLabel(r) + (divergedIn.has(keyOf(r)) ? ' (diverged)' : '');

  function datasetFor(chart, record) {
    const key = keyOf(record);
    let dataset = chart.data.datasets.find((d) => d.key === key);
    if (!dataset) {
      indexOf(key);
      const c = colourOf(record);
      dataset = {
        label: labelFor(record),
        key,
        batchSize: record.batchSize,
        // The line's first record: its series and seed (the seed bands group lines by them).
        record: { batchSize: record.batchSize, series: record.series, seed: record.seed },
        data: [],
        borderColor: c,
        backgroundColor: c,
        // The divergence cross (a point with `diverged: true`) is large; the line to it is dashed.
        pointStyle: (ctx) => (ctx.raw?.diverged ? 'crossRot' : pointStyle(slotOf(record))),
        pointRadius: (ctx) => (ctx.raw?.diverged ? 8 : 3),
        pointHoverRadius: (ctx) => (ctx.raw?.diverged ? 10 : 4),
        pointBorderWidth: (ctx) => (ctx.raw?.diverged ? 3 : 1),
        segment: { borderDash: (ctx) => (dataset.data[ctx.p1DataIndex]?.diverged ? [4, 4] : undefined) },
        // An imported sweep's lines are dashed.
        // Past 8 lines, colours come round again with another dash (palette.js).
        borderDash: record.imported ? [7, 4] : dash(slotOf(record)),
        tension: 0,
        // Markers at an axis's end (100 %, say) are drawn whole.
        clip: false,
      };
      // A further seed of a batch size and arm already in the legend: its colour says which.
      const group = groupOf(record);
      if (record.series != null && chart.data.datasets.some((d) => !d.seedBand && d.record && d.key !== key && groupOf(d.record) === group)) {
        dataset.hideInLegend = true;
      }
      // Keep the lines in the order their runs started, whichever chart saw them first.
      chart.data.datasets.push(dataset);
      // (The seeds' bands stay last, in the order drawn: a band's edges must be neighbours.)
      const order = (d) => (d.seedBand ? Infinity : lines.get(d.key));
      chart.data.datasets.sort((a, b) => order(a) - order(b) || 0);
    }
    return dataset;
  }

  /** The time every run's training time is divided by on the normalised chart, and how to say it. */
  function normaliser() {
    const runs = summaries();
    const target = runs.find((r) => r.target != null)?.target;
    const reached = runs.map((r) => r.targetSeconds).filter((s) => s != null && s > 0);
    if (reached.length) {
      const t = Math.min(...reached);
      return { seconds: t, text: `Training time / ${fmt(t, 1)} s (fastest time to ${percent(target)})` };
    }
    const finished = runs.filter((r) => r.status !== 'running' && r.trainSeconds > 0);
    const candidates = (finished.length ? finished : runs.filter((r) => r.trainSeconds > 0)).map((r) => r.trainSeconds);
    if (!candidates.length) {
      // No summary yet: the shortest training time of any line so far.
      const last = new Map();
      for (const r of records) if (r.trainSeconds > 0) last.set(keyOf(r), r.trainSeconds);
      candidates.push(...last.values());
    }
    if (!candidates.length) return null;
    const t = Math.min(...candidates);
    const why = target != null ? `shortest run; no run reached ${percent(target)}` : 'shortest run';
    return { seconds: t, text: `Training time / ${fmt(t, 1)} s (${why})` };
  }

  function drawNormalised() {
    const norm = normaliser();
    normalisedChart.options.scales.x.title.text = norm ? norm.text : 'Training time (normalised)';
    normalisedChart.data.datasets = [];
    if (norm) {
      for (const r of records) {
        const p = { x: r.trainSeconds / norm.seconds, y: accuracyOf(r) };
        if (Number.isFinite(p.x) && Number.isFinite(p.y)) datasetFor(normalisedChart, r).data.push(p);
      }
    }
    // Diverged runs keep their "(diverged)" entry in the legend even without a finished epoch.
    for (const { run } of divergedIn.values()) datasetFor(normalisedChart, run).label = labelFor(run);
    fitPerEpoch(normalisedChart);
    update(normalisedChart);
  }

  const all = () => [...perEpoch.map((c) => c.chart), normalisedChart, ...(checksChart ? [checksChart] : [])];

  return {
    /** The per-epoch charts, the normalised one last. */
    charts: all,
    /** Forgets every record and line, and empties the charts. */
    reset() {
      lines = new Map();
      slots = new Map();
      // The accuracy charts' titles as made (an old sweep shown before may have renamed them).
      if (someOnTest) {
        for (const { chart, title } of perEpoch) {
          if (!title) continue;
          chart.$title = title('Validation accuracy');
          chart.options.scales.y.title.text = 'Validation accuracy (%)';
        }
        normalisedChart.$title = 'Validation accuracy against normalised training time';
        normalisedChart.options.scales.y.title.text = 'Validation accuracy (%)';
      }
      someOnTest = false;
      divergedIn = new Map();
      records = [];
      for (const chart of all()) {
        chart.data.datasets = [];
        if (perEpoch.some((c) => c.chart === chart)) fitPerEpoch(chart);
        update(chart);
      }
    },
    drawNormalised,
    /** `draw: false` only collects the point (many records at once): call `draw()` after. */
    add(record, { draw = true } = {}) {
      records.push(record);
      indexOf(keyOf(record));
      nameAccuracy(record);
      // An epoch's end is a validation point too (on every validation image).
      addCheck(record, { steps: record.steps, valAccuracy: record.valAccuracy }, draw);
      for (const { chart, point } of perEpoch) {
        const p = point(record);
        // A log axis cannot show 0 or NaN: a diverged loss is left out of the loss chart.
        if (!Number.isFinite(p.y) || (chart.options.scales.y.type === 'logarithmic' && p.y <= 0)) continue;
        datasetFor(chart, record).data.push(p);
        if (draw) redraw(chart);
      }
      if (draw) drawNormalised();
    },
    /**
     * Gives the runs' lines their places in the legend and their colours in the runs' order
     * (`runs`: summaries `{ batchSize, series }`, in the order the runs started), before any of
     * their points: live and replayed from a kept or imported sweep, a line has the same place and
     * colour whichever run's point came first.
     */
    orderLines(runs) {
      for (const r of runs) {
        indexOf(keyOf(r));
        slotOf(r);
      }
    },
    /** Draws a validation check within an epoch (a `progress` message's `check`); `draw: false` only collects it. */
    check(batchSize, series, point, { imported = false, draw = true } = {}) {
      const r = series != null ? { batchSize, series, imported } : { batchSize, imported };
      indexOf(keyOf(r));
      addCheck(r, point, draw);
    },
    /** Draws the per-epoch charts (after records added with `draw: false`). */
    draw() {
      for (const { chart } of perEpoch) redraw(chart);
      if (checksChart) update(checksChart);
      drawNormalised();
    },
    diverged(batchSize, epoch, series, { imported = false, draw = true } = {}) {
      const r = series != null ? { batchSize, series, imported } : { batchSize, imported };
      const key = keyOf(r);
      indexOf(key);
      divergedIn.set(key, { epoch, run: r });
      for (const { chart } of perEpoch) datasetFor(chart, r).label = labelFor(r);
      const line = datasetFor(accuracyChart, r);
      line.data = line.data.filter((p) => !p.diverged);
      line.data.push({ x: epoch, y: CHANCE, diverged: true });
      if (!draw) return;
      for (const { chart } of perEpoch) redraw(chart);
      drawNormalised();
    },
  };
}
