// The charts across batch sizes, from the run summaries: epochs, steps and training time to the
// target accuracy, and final and best test accuracy, each against the batch size on a log2 axis.
// Runs that missed the target are drawn at the top; an imported sweep is one more, dashed line;
// the steps chart marks the gradient noise scale with a dashed vertical line, and draws perfect
// scaling and the fitted critical batch size (setScaling).
// Owns: the run summaries, the imported sweep's, the sweep's batch sizes, and these four charts.
// Must NOT: draw the per-epoch charts or keep records.

import { count, countTick, tick } from '../format.js';
import { BEST, DIVERGED, FASTEST, NOT_REACHED, REACHED } from './palette.js';
import { batchSizeAxis, fitBatchY, logTicks, niceAbove, tidyLogTicks } from './axes.js';
import { baseOptions, chartOn, update } from './frame.js';
import { verticalLine } from './plugins.js';
import { fmt, percent, runName } from './text.js';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Colours of the arms before the last (a baseline's), on the across-batch-size charts. */
const ARM_COLOURS = [FASTEST, BEST];

/**
 * The ended runs per arm and batch size: `[{ lrPolicy, batchSize, runs }]`, arms in the order
 * their first run appears, batch sizes ascending; of a seed run twice (a restart), the later run.
 */
function seedGroups(runs) {
  const latest = new Map();
  for (const r of runs) {
    if (r.status !== 'done' && r.status !== 'diverged') continue;
    latest.set(`${r.lrPolicy}|${r.batchSize}|${r.seed}`, r);
  }
  const groups = new Map();
  for (const r of latest.values()) {
    const key = `${r.lrPolicy}|${r.batchSize}`;
    if (!groups.has(key)) groups.set(key, { lrPolicy: r.lrPolicy, batchSize: r.batchSize, runs: [] });
    groups.get(key).runs.push(r);
  }
  const arms = [...new Set(runs.map((r) => r.lrPolicy))];
  return [...groups.values()].sort((a, b) => arms.indexOf(a.lrPolicy) - arms.indexOf(b.lrPolicy) || a.batchSize - b.batchSize);
}

/** Whether runs hold several seeds or arms (`seeds`, `baseline`): their lines are drawn per arm, over seeds. */
const byArmAndSeed = (runs) => new Set(runs.map((r) => r.lrPolicy)).size > 1 || new Set(runs.map((r) => r.seed ?? null)).size > 1;

/**
 * A chart of one value per run against the batch size on a log2 axis: a linear axis over
 * log2(batch size) with a tick at every power of two, labelled 1, 2, 4, …, 65,536.
 */
function batchChart(canvas, { title, y, yType = 'linear', yMin, yMax, yIntegers = false }) {
  const chart = chartOn(canvas, {
    type: 'line',
    data: { datasets: [] },
    plugins: [verticalLine],
    options: {
      ...baseOptions({
        title,
        legend: { labels: { usePointStyle: true } },
        tooltip: {
          mode: 'nearest',
          intersect: true,
          callbacks: {
            title: (items) => items.map((c) => c.raw.name ?? ''),
            label: (c) => `${c.dataset.label}: ${c.raw.text ?? fmt(c.parsed.y, 2)}`,
          },
        },
      }),
      scales: {
        x: batchSizeAxis(),
        y: {
          type: yType,
          title: { display: true, text: y },
          min: yMin,
          max: yMax,
          afterBuildTicks: yType === 'logarithmic' ? tidyLogTicks : undefined,
          // Most log ticks have no label: skipping ticks would drop the labelled ones. Steps and
          // epochs are counts ("20,000"); times and accuracies measured values ("2·10⁴").
          ticks: yType === 'logarithmic'
            ? { ...logTicks(yIntegers ? countTick : tick), autoSkip: false }
            : { precision: yIntegers ? 0 : undefined, callback: yIntegers ? countTick : tick },
        },
      },
    },
  });
  chart.$yIntegers = yIntegers;
  return chart;
}

/** Creates the charts across batch sizes on the given canvases. See charts.js for the methods. */
export function createAcrossCharts({ epochsToTarget, stepsToTarget, timeToTarget, finalAccuracy }) {
  const epochsChart = batchChart(epochsToTarget, { title: 'Epochs to reach the target', y: 'Epochs', yMin: 0, yIntegers: true });
  const stepsChart = batchChart(stepsToTarget, { title: 'Steps to reach the target (log scale)', y: 'Training steps', yType: 'logarithmic', yIntegers: true });
  const timeChart = batchChart(timeToTarget, { title: 'Training time to reach the target (log scale)', y: 'Training time (s)', yType: 'logarithmic' });
  const finalChart = batchChart(finalAccuracy, { title: 'Final and best test accuracy', y: 'Test accuracy (%)', yMax: 100 });

  /** the latest run summaries given to setRuns() */
  let runs = [];
  /** the imported sweep's run summaries (setComparison), drawn dashed */
  let comparison = [];
  /** the sweep's batch sizes (setRuns, setBatchSizes), for the across-batch-size axis */
  let batchSizes = [];
  /** the critical batch size fit (setScaling: the trainer's scalingFit), or null */
  let scaling = null;

  /** A point of an across-batch-size chart for `run` at height y. */
  /** Epochs and steps are counts; seconds a measurement. */
  const amount = (x, what) => (what === 's' ? fmt(x, 1) : count(x));
  const at = (run, y, text) => ({ x: Math.log2(run.batchSize), y, name: `Batch size ${runName(run)}`, text });

  /**
   * Redraws one across-batch-size chart: the runs that reached the target as a line, the runs that
   * did not (finished or stopped) as hollow circles and the diverged ones as red crosses, both at the
   * top of the plotted range.
   */
  function drawToTarget(chart, options) {
    if (byArmAndSeed(runs)) return drawGroupsToTarget(chart, options);
    const { value, total, what, unit, log, extra } = options;
    const sorted = [...runs].sort((a, b) => a.batchSize - b.batchSize);
    const reached = sorted.filter((r) => r[value] != null && r[value] > 0);
    // A stopped run had no chance to reach the target: it is left out here (the runs table lists it).
    const notReached = sorted.filter((r) => r[value] == null && r.status === 'done');
    const diverged = sorted.filter((r) => r[value] == null && r.status === 'diverged');
    const ys = reached.map((r) => r[value]);
    if (!ys.length) ys.push(...sorted.map((r) => r[total]).filter((t) => t > 0));
    const highest = ys.length ? Math.max(...ys) : (log ? 10 : 1);
    const top = log ? niceAbove(1.3 * highest) : (unit === 'epochs' ? Math.ceil(highest) + 1 : 1.15 * highest);
    const misses = notReached.length + diverged.length;
    const datasets = [{
      label: `reached ${targetText}`,
      data: reached.map((r) => at(r, r[value], `${amount(r[value], what)} ${what}`)),
      borderColor: REACHED,
      backgroundColor: REACHED,
      pointRadius: 4,
      pointHoverRadius: 6,
      tension: 0,
    }];
    if (notReached.length) {
      datasets.push({
        label: `not reached (drawn at the top)`,
        data: notReached.map((r) => at(r, top, `not reached in ${amount(r[total], what)} ${what} (${r.status})`)),
        showLine: false,
        borderColor: NOT_REACHED,
        backgroundColor: 'transparent',
        pointStyle: 'circle',
        pointRadius: 6,
        pointHoverRadius: 8,
        pointBorderWidth: 2,
        clip: false,
      });
    }
    if (diverged.length) {
      datasets.push({
        label: 'diverged',
        data: diverged.map((r) => at(r, top, `diverged${r.divergedEpoch != null ? ` in epoch ${r.divergedEpoch}` : ''}`)),
        showLine: false,
        borderColor: DIVERGED,
        backgroundColor: DIVERGED,
        pointStyle: 'crossRot',
        pointRadius: 8,
        pointHoverRadius: 10,
        pointBorderWidth: 3,
        clip: false,
      });
    }
    if (extra) datasets.push(...extra(reached));
    const theirs = comparison.filter((r) => r[value] != null && r[value] > 0).sort((a, b) => a.batchSize - b.batchSize);
    if (theirs.length) {
      datasets.push(importedLine(`reached ${targetText} (imported sweep)`,
        theirs.map((r) => at(r, r[value], `${amount(r[value], what)} ${what} (imported)`))));
    }
    chart.data.datasets = datasets;
    // Markers "at the top" are at the top even when no run reached the target: the axis then
    // reaches down a decade below them (a log axis) or to 0.
    fitBatchY(chart, reached.length || theirs.length || !misses ? [] : [log ? top / 10 : 0]);
  }

  /**
   * A sweep with several seeds or arms (`seeds`, `baseline`), on an across-batch-size chart: per
   * arm, a line through the mean over seeds of the batch sizes whose every ended seed reached the
   * target, in a band from the seeds' minimum to their maximum; batch sizes that some seed did not
   * reach are drawn at the top (a cross when most seeds diverged). `extra` gets the last arm's
   * (the lrpolicy arm's) means as runs.
   */
  function drawGroupsToTarget(chart, { value, total, what, log, extra }) {
    const groups = seedGroups(runs);
    const arms = [...new Set(groups.map((g) => g.lrPolicy))];
    const means = groups.filter((g) => g.runs.every((r) => r[value] != null && r[value] > 0)).map((g) => {
      const ys = g.runs.map((r) => r[value]);
      return { ...g, mean: ys.reduce((a, b) => a + b, 0) / ys.length, min: Math.min(...ys), max: Math.max(...ys) };
    });
    const missed = groups.filter((g) => !means.includes(g) && !means.some((m) => m.lrPolicy === g.lrPolicy && m.batchSize === g.batchSize));
    const ys = means.flatMap((m) => [m.max]);
    if (!ys.length) ys.push(...groups.flatMap((g) => g.runs.map((r) => r[total])).filter((t) => t > 0));
    const highest = ys.length ? Math.max(...ys) : (log ? 10 : 1);
    const top = log ? niceAbove(1.3 * highest) : 1.15 * highest;
    const datasets = [];
    arms.forEach((arm, k) => {
      const c = k === arms.length - 1 ? REACHED : ARM_COLOURS[k % ARM_COLOURS.length];
      const of = means.filter((m) => m.lrPolicy === arm);
      const n = Math.max(0, ...groups.filter((g) => g.lrPolicy === arm).map((g) => g.runs.length));
      const name = `${arm} lr`;
      const point = (m, y, text) => ({ x: Math.log2(m.batchSize), y, name: `Batch size ${count(m.batchSize)} (${name})`, text });
      datasets.push({
        label: `${name}: reached ${targetText}, mean of ${n} seed${n === 1 ? '' : 's'}`,
        data: of.map((m) => point(m, m.mean, `${amount(m.mean, what)} ${what} (mean; ${amount(m.min, what)}–${amount(m.max, what)} over ${m.runs.length} seeds)`)),
        borderColor: c,
        backgroundColor: c,
        pointRadius: 4,
        pointHoverRadius: 6,
        tension: 0,
      });
      if (n > 1) {
        // The band: the seeds' minimum, then their maximum filled down to it.
        const edge = (y, label) => ({
          label, data: of.map((m) => point(m, m[y], `${amount(m[y], what)} ${what} (${y} over seeds)`)),
          borderColor: 'transparent', backgroundColor: `${c}33`, pointRadius: 0, pointHitRadius: 0, tension: 0, band: true,
        });
        datasets.push(edge('min', `${name}: min–max over seeds`), { ...edge('max', `${name}: band`), fill: '-1', hideInLegend: true });
      }
      const misses = missed.filter((g) => g.lrPolicy === arm);
      if (misses.length) {
        datasets.push({
          label: `${name}: not reached by every seed, or diverged (at the top)`,
          data: misses.map((g) => {
            const diverged = g.runs.filter((r) => r.status === 'diverged').length;
            const reached = g.runs.filter((r) => r[value] != null).length;
            return { ...point(g, top, `${reached} of ${g.runs.length} seeds reached it; ${diverged} diverged`), diverged: 2 * diverged > g.runs.length };
          }),
          showLine: false,
          borderColor: (ctx) => (ctx.raw?.diverged ? DIVERGED : c),
          backgroundColor: 'transparent',
          pointStyle: (ctx) => (ctx.raw?.diverged ? 'crossRot' : 'circle'),
          pointRadius: 7,
          pointBorderWidth: 2,
          clip: false,
        });
      }
    });
    if (extra) {
      const main = means.filter((m) => m.lrPolicy === arms.at(-1)).map((m) => ({ ...m.runs[0], series: `${m.batchSize} (${m.lrPolicy} lr, mean)`, [value]: m.mean }));
      datasets.push(...extra(main));
    }
    // An imported sweep, dashed, as for a sweep of one seed and arm.
    const theirs = comparison.filter((r) => r[value] != null && r[value] > 0).sort((a, b) => a.batchSize - b.batchSize);
    if (theirs.length) {
      datasets.push(importedLine(`reached ${targetText} (imported sweep)`,
        theirs.map((r) => at(r, r[value], `${amount(r[value], what)} ${what} (imported)`))));
    }
    chart.data.datasets = datasets;
    fitBatchY(chart, means.length ? [] : [log ? top / 10 : 0]);
  }

  /** Several seeds or arms: per arm, the mean final test accuracy over the seeds that did not diverge, in a min–max band. */
  function finalByArm() {
    const groups = seedGroups(runs);
    const arms = [...new Set(groups.map((g) => g.lrPolicy))];
    return arms.flatMap((arm, k) => {
      const c = k === arms.length - 1 ? REACHED : ARM_COLOURS[k % ARM_COLOURS.length];
      const points = groups.filter((g) => g.lrPolicy === arm).map((g) => {
        const ys = g.runs.filter((r) => r.status !== 'diverged' && r.finalTestAccuracy != null).map((r) => 100 * r.finalTestAccuracy);
        return ys.length ? { b: g.batchSize, n: ys.length, mean: ys.reduce((a, x) => a + x, 0) / ys.length, min: Math.min(...ys), max: Math.max(...ys) } : null;
      }).filter(Boolean);
      const point = (p, y, text) => ({ x: Math.log2(p.b), y, name: `Batch size ${count(p.b)} (${arm} lr)`, text });
      const edge = (y) => ({ data: points.map((p) => point(p, p[y], `${fmt(p[y], 2)} % (${y} over seeds)`)), borderColor: 'transparent', backgroundColor: `${c}33`, pointRadius: 0, pointHitRadius: 0, tension: 0 });
      return [
        { label: `${arm} lr: final test accuracy, mean over seeds (diverged seeds left out)`, data: points.map((p) => point(p, p.mean, `${fmt(p.mean, 2)} % (mean of ${p.n}; ${fmt(p.min, 2)}–${fmt(p.max, 2)} %)`)), borderColor: c, backgroundColor: c, pointRadius: 4, tension: 0, clip: false },
        { ...edge('min'), label: `${arm} lr: min–max over seeds` },
        { ...edge('max'), label: `${arm} lr: band`, fill: '-1', hideInLegend: true },
      ];
    });
  }

  /** The imported sweep's line on an across-batch-size chart: dashed, hollow diamonds. */
  const importedLine = (label, data) => ({
    label,
    data,
    borderColor: REACHED,
    backgroundColor: 'transparent',
    borderDash: [7, 4],
    pointStyle: 'rectRot',
    pointRadius: 5,
    pointBorderWidth: 2,
    tension: 0,
  });

  /**
   * Gives the four across-batch-size charts one log2 batch-size axis: the sweep's batch sizes
   * (setRuns's `batchSizes`, so that the axis does not move as runs finish), the runs', the
   * imported sweep's and the noise scale's, with room either side for a marker (at least half a
   * power of two); then redraws them.
   */
  function setBatchRange() {
    const across = [epochsChart, stepsChart, timeChart, finalChart];
    const xs = [...batchSizes, ...runs.map((r) => r.batchSize), ...comparison.map((r) => r.batchSize)]
      .filter((b) => b > 0).map(Math.log2);
    if (stepsChart.$vline) xs.push(stepsChart.$vline.x);
    let min;
    let max;
    if (xs.length) {
      const lo = Math.min(...xs);
      const hi = Math.max(...xs);
      // Room for a marker 16 px wide at either end: m·w/(span + 2m) ≥ 16 px on the narrowest plot.
      const width = Math.min(...across.map((c) => c.chartArea?.width ?? c.width - 70));
      const spare = Math.min(2, width > 40 ? Math.max(0.5, (16 * Math.max(hi - lo, 1)) / (width - 32)) : 0.5);
      min = lo - spare;
      max = hi + spare;
    }
    for (const chart of across) {
      chart.options.scales.x.min = min;
      chart.options.scales.x.max = max;
      update(chart);
    }
  }

  let targetText = 'the target';

  function drawRuns() {
    const target = runs.find((r) => r.target != null)?.target;
    targetText = target != null ? percent(target) : 'the target';
    // Where the target is measured (summaries saved before the validation split: the test set).
    const on = runs.find((r) => r.target != null)?.targetOn ?? 'test';
    const measured = `${targetText} ${on} accuracy`;
    epochsChart.$title = `Epochs to reach ${measured}`;
    stepsChart.$title = `Steps to reach ${measured} (log scale)`;
    timeChart.$title = `Training time to reach ${measured} (log scale)`;

    drawToTarget(epochsChart, { value: 'targetEpoch', total: 'epochs', what: 'epochs', unit: 'epochs' });

    const noise = runs.map((r) => r.noiseScale).filter((n) => n != null && n > 0);
    const noiseScale = noise.length ? median(noise) : null;
    const noiseLabel = noiseScale != null ? `gradient noise scale ≈ ${count(noiseScale)}` : null;
    stepsChart.$vline = noiseScale != null ? { x: Math.log2(noiseScale), label: noiseLabel, colour: NOT_REACHED } : null;
    drawToTarget(stepsChart, {
      value: 'targetSteps', total: 'steps', what: 'steps', log: true,
      // An empty dataset only for the legend entry of the dashed line (drawn by verticalLine).
      extra: (reached) => [
        ...scalingLines(reached, noiseScale),
        ...(noiseLabel ? [{ label: noiseLabel, data: [], legendOnly: true, borderColor: NOT_REACHED, backgroundColor: 'transparent', borderDash: [6, 4], pointStyle: 'line', borderWidth: 1.5 }] : []),
      ],
    });

    drawToTarget(timeChart, {
      value: 'targetSeconds', total: 'trainSeconds', what: 's', log: true,
      extra: (reached) => {
        if (!reached.length) return [];
        const fastest = reached.reduce((a, b) => (b.targetSeconds < a.targetSeconds ? b : a));
        return [{
          label: `fastest: batch size ${runName(fastest)}`,
          data: [at(fastest, fastest.targetSeconds, `${fmt(fastest.targetSeconds, 1)} s`)],
          showLine: false,
          borderColor: FASTEST,
          backgroundColor: FASTEST,
          pointStyle: 'star',
          pointRadius: 12,
          pointHoverRadius: 14,
          pointBorderWidth: 3,
          clip: false,
        }];
      },
    });

    const sorted = [...runs].sort((a, b) => a.batchSize - b.batchSize);
    const accuracyLine = (field, label, c, style) => ({
      label,
      data: sorted.filter((r) => r[field] != null).map((r) => at(r, 100 * r[field], `${percent(r[field])}${r.status === 'running' ? ' (running)' : ''}`)),
      borderColor: c,
      backgroundColor: c,
      pointStyle: style,
      pointRadius: 4,
      pointHoverRadius: 6,
      tension: 0,
      // Markers near 100 %, the axis's end, are drawn whole.
      clip: false,
    });
    finalChart.data.datasets = byArmAndSeed(runs) ? finalByArm() : [
      accuracyLine('finalTestAccuracy', 'final test accuracy', REACHED, 'circle'),
      { ...accuracyLine('bestTestAccuracy', 'best test accuracy', BEST, 'rect'), borderDash: [5, 4], backgroundColor: 'transparent', pointBorderWidth: 2 },
    ];
    const theirs = [...comparison].sort((a, b) => a.batchSize - b.batchSize).filter((r) => r.finalTestAccuracy != null);
    if (theirs.length) {
      finalChart.data.datasets.push(importedLine('final test accuracy (imported sweep)',
        theirs.map((r) => at(r, 100 * r.finalTestAccuracy, `${percent(r.finalTestAccuracy)} (imported)`))));
    }
    fitBatchY(finalChart);
    setBatchRange();
  }

  /**
   * The steps chart's reference lines, over the batch sizes that reached the target: perfect
   * scaling (slope −1 on log-log: twice the batch, half the steps) through the smallest of them,
   * and the fit S(B) = S_min (1 + B_crit / B) (McCandlish et al. 2018; src/scaling.rs) with the
   * fitted critical batch size marked on it (where S = 2 S_min), compared with the noise scale.
   */
  function scalingLines(reached, noiseScale) {
    if (reached.length < 2) return [];
    const lo = Math.log2(reached[0].batchSize);
    const hi = Math.log2(reached.at(-1).batchSize);
    const xs = [];
    for (let x = lo; x < hi; x += 0.25) xs.push(x);
    xs.push(hi);
    const first = reached[0];
    const lines = [{
      label: 'perfect scaling (slope −1)',
      data: xs.map((x) => ({ x, y: (first.targetSteps * first.batchSize) / 2 ** x, name: `Batch size ${count(2 ** x)}`, text: `${count((first.targetSteps * first.batchSize) / 2 ** x)} steps if perfect` })),
      borderColor: NOT_REACHED,
      backgroundColor: 'transparent',
      borderDash: [2, 3],
      borderWidth: 1.5,
      pointRadius: 0,
      pointHitRadius: 0,
      tension: 0,
    }];
    const fit = scaling;
    if (fit?.verdict === 'fitted') {
      const steps = (b) => fit.minSteps * (1 + fit.criticalBatch / b);
      const ratio = noiseScale != null ? ` (${fmt(fit.criticalBatch / noiseScale, 2)}× the noise scale)` : '';
      lines.push({
        label: `fit S_min(1 + B_crit/B): B_crit ≈ ${count(fit.criticalBatch)}${ratio}`,
        data: xs.map((x) => ({ x, y: steps(2 ** x), name: `Batch size ${count(2 ** x)}`, text: `${count(steps(2 ** x))} steps (fit)` })),
        borderColor: BEST,
        backgroundColor: 'transparent',
        borderDash: [8, 3],
        borderWidth: 1.5,
        pointRadius: 0,
        pointHitRadius: 0,
        tension: 0,
      });
      const bx = Math.log2(fit.criticalBatch);
      if (bx >= lo - 0.5 && bx <= hi + 0.5) {
        lines.push({
          label: 'fitted critical batch size',
          data: [{ x: bx, y: 2 * fit.minSteps, name: `Batch size ${count(fit.criticalBatch)}`, text: `critical: ${count(2 * fit.minSteps)} steps, twice the fewest (${count(fit.minSteps)})` }],
          showLine: false,
          borderColor: BEST,
          backgroundColor: BEST,
          pointStyle: 'triangle',
          pointRadius: 7,
          pointHoverRadius: 9,
          clip: false,
        });
      }
    }
    return lines;
  }

  const all = () => [epochsChart, stepsChart, timeChart, finalChart];

  return {
    charts: all,
    /** The latest run summaries given to setRuns(). */
    runs: () => runs,
    /** Forgets the run summaries, the imported sweep's and the batch sizes, and empties the charts. */
    reset() {
      runs = [];
      comparison = [];
      batchSizes = [];
      scaling = null;
      for (const chart of all()) {
        chart.data.datasets = [];
        chart.$vline = null;
        update(chart);
      }
    },
    /** Redraws the charts from the run summaries. */
    draw: drawRuns,
    /**
     * `batchSizes`: the sweep's batch sizes (numbers), trained or not yet, so that the charts
     * across batch sizes keep one axis while the sweep runs; left out, the last ones given stay.
     */
    setRuns(summaries, batchSizesOfSweep) {
      runs = summaries.map((r) => ({ ...r }));
      if (Array.isArray(batchSizesOfSweep)) batchSizes = batchSizesOfSweep.filter((b) => Number.isFinite(b) && b > 0);
      drawRuns();
    },
    /** The sweep's batch sizes (see setRuns), e.g. when a sweep starts. */
    setBatchSizes(sizes) {
      batchSizes = (sizes ?? []).filter((b) => Number.isFinite(b) && b > 0);
      drawRuns();
    },
    /** The critical batch size fit (the trainer's `scalingFit` of the runs), or null: drawn on the steps chart. */
    setScaling(fit) {
      scaling = fit ?? null;
      drawRuns();
    },
    /** Draws an imported sweep's run summaries as one more (dashed) line on each across-batch-size chart; [] removes it. */
    setComparison(summaries) {
      comparison = summaries.map((r) => ({ ...r }));
      drawRuns();
    },
  };
}
