// The page's charts, drawn by Chart.js (loaded as the global `Chart`).
// Per epoch: test accuracy vs epoch, training loss vs epoch (log scale), test accuracy vs training
// time, and test accuracy vs normalised training time. One coloured line per batch size (and one more
// for a run restarted after a lost GPU device: records with a `series` label).
// Across batch sizes (from the run summaries): epochs, steps and time to the target accuracy, and
// final and best test accuracy, each against the batch size on a log2 axis.
// An imported sweep to compare against is drawn dashed: its records as lines of their own, its
// runs as one more line on each across-batch-size chart. Text and grid colours follow the
// page's light or dark colour scheme. Every marker is drawn whole, inside its plot; a title wraps
// to its chart's width, clear of the PNG button; numbers of 10,000 and more that are not counts
// are written as `3.9·10¹⁹` (format.js).

import { number, count, tick, countTick } from './format.js';

/** Colour of the i-th batch size of a sweep (Okabe–Ito palette, readable by colour-blind readers;
 * its black is grey here, to show on a dark background too). */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];
const colour = (i) => PALETTE[i % PALETTE.length];
/** Okabe–Ito colours with a fixed meaning on the across-batch-size charts. */
const REACHED = '#0072B2';
const NOT_REACHED = '#777777';
const DIVERGED = '#D55E00';
const FASTEST = '#E69F00';
const BEST = '#009E73';

/** Accuracy of a classifier that guesses one of MNIST's ten digits, in %. */
const CHANCE = 10;

// On a log axis label only 1, 2 and 5 times a power of ten, so labels never crowd; `label`
// writes them (format.js's `tick` for measured values, `countTick` for counts).
const mantissa = (v) => v / 10 ** Math.floor(Math.log10(v) + 1e-9);
const logTicks = (label = tick) => ({ callback: (v) => ([1, 2, 5].some((m) => Math.abs(mantissa(v) - m) < 1e-6) ? label(v) : '') });
/** A log axis's grid: 1, 2, …, 9 times a power of ten only (not 21, 22, … between 20 and 30). */
const tidyLogTicks = (scale) => {
  scale.ticks = scale.ticks.filter((t) => Math.abs(mantissa(t.value) - Math.round(mantissa(t.value))) < 1e-6);
};
/** The smallest 1, 2 or 5 times a power of ten that is at least v (v > 0). */
const niceAbove = (v) => {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= v * (1 - 1e-9));
};
/** The largest 1, 2 or 5 times a power of ten that is at most v (v > 0). */
const niceBelow = (v) => {
  const p = 10 ** Math.floor(Math.log10(v));
  return [10, 5, 2, 1].map((m) => m * p).find((x) => x <= v * (1 + 1e-9));
};

/** 0.98 → "98 %", 0.985 → "98.5 %". */
const percent = (fraction) => `${(100 * fraction).toLocaleString('en', { maximumFractionDigits: 2 })} %`;
/** A measured value with at most `digits` decimals ("13.2", "3.9·10¹⁹"). */
const fmt = (x, digits = 0) => (Math.abs(x) >= 1e4 || !Number.isFinite(x) ? number(x) : x.toLocaleString('en', { maximumFractionDigits: digits }));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Chart.js's text and grid colours for the page's colour scheme (style.css's `--muted`). */
function applyTheme() {
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  Chart.defaults.color = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || (dark ? '#aaa' : '#666');
  Chart.defaults.borderColor = dark ? 'rgba(255, 255, 255, 0.16)' : 'rgba(0, 0, 0, 0.1)';
}

/** Lines of `text` no wider than `width` px in `font`, broken between words ("96 %" kept whole). */
function wrapText(ctx, text, width, font) {
  ctx.save();
  ctx.font = font;
  const lines = [];
  let line = '';
  for (const word of text.replace(/ %/g, '\u00a0%').split(' ')) {
    const longer = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(longer).width > width) {
      lines.push(line);
      line = word;
    } else line = longer;
  }
  if (line) lines.push(line);
  ctx.restore();
  return lines;
}

/** Space the PNG button (files.js, style.css: top right of the figure) takes from a title's either side. */
function buttonSpace(chart) {
  const button = chart.canvas.parentElement?.querySelector(':scope > button.png');
  if (!button) return document.documentElement.classList.contains('embed') ? 0 : 44; // not added yet
  return button.offsetWidth ? button.offsetWidth + 6 : 0; // hidden in an embed
}

/** Sets the chart's title (`chart.$title`, or `text`) as lines that fit its width between the PNG button's space either side. */
function retitle(chart, text = chart.$title, width = chart.width) {
  const title = chart.options.plugins.title;
  // While the chart is being made (its first resize), its title is still the one it was given.
  chart.$title = text ?? [title.text].flat().join(' ');
  const font = { ...Chart.defaults.font, ...title.font };
  const lines = wrapText(chart.ctx, chart.$title, Math.max(80, width - 2 * buttonSpace(chart) - 8),
    `${font.weight ?? 'bold'} ${font.size}px ${font.family}`);
  title.text = lines.length === 1 ? lines[0] : lines;
}

/** Redraws a chart, its title wrapped to its width first. */
function update(chart) {
  retitle(chart);
  chart.update();
}

/**
 * Options every chart shares: no animation, sized by its container, data given as {x, y}; a
 * title that wraps (see `retitle`); no legend entry for a series without a point unless it
 * says `legendOnly` (a line drawn by a plugin).
 */
const baseOptions = ({ title, legend, tooltip }) => ({
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
  parsing: false,
  onResize: (chart, size) => retitle(chart, chart.$title, size.width),
  layout: { padding: { top: 2, right: 6 } },
  plugins: {
    title: { display: true, text: title, font: { size: 12, weight: 'bold' } },
    legend: {
      position: 'bottom',
      ...legend,
      labels: {
        ...legend?.labels,
        filter: (item, data) => {
          const dataset = data.datasets[item.datasetIndex];
          return Boolean(dataset?.legendOnly || dataset?.data.length);
        },
      },
    },
    tooltip,
  },
});

/** A new chart with its title wrapped to its width. */
function chartOn(canvas, config) {
  const title = config.options.plugins.title.text;
  const chart = new Chart(canvas, config);
  chart.$title = title;
  update(chart);
  return chart;
}

/**
 * A log axis's range over `values` (those > 0), with `fraction` of it to spare either side (so a
 * marker at either end is drawn whole), widened to 1, 2 or 5 times a power of ten.
 */
function logRange(values, fraction = 0.125) {
  const ys = values.filter((v) => Number.isFinite(v) && v > 0);
  if (!ys.length) return { min: undefined, max: undefined };
  const lo = Math.log10(Math.min(...ys));
  const hi = Math.log10(Math.max(...ys));
  const spare = fraction * Math.max(hi - lo, 0.5);
  return { min: niceBelow(10 ** (lo - spare)), max: niceAbove(10 ** (hi + spare)) };
}

/** Fits a per-epoch chart's axes to its points: epochs with room either side; a log axis as `logRange`. */
function fitPerEpoch(chart) {
  const points = chart.data.datasets.flatMap((d) => d.data);
  const { x, y } = chart.options.scales;
  if (chart.$xIntegers) {
    const xs = points.map((p) => p.x).filter(Number.isFinite);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const spare = Math.max(0.3, 0.04 * (hi - lo));
    x.min = xs.length ? Math.max(0, lo - spare) : undefined;
    x.max = xs.length ? hi + spare : undefined;
  }
  // Small markers: a sixteenth of the range to spare either side.
  if (y.type === 'logarithmic') Object.assign(y, logRange(points.map((p) => p.y), 1 / 16));
}

/** An axis's ticks: its whole numbers in range, at most about one per 40 px (1, 2, 5 × 10ⁿ apart). */
function wholeTicks(scale) {
  const lo = Math.ceil(scale.min);
  const hi = Math.floor(scale.max);
  if (!(hi >= lo)) return;
  const room = Math.max(1, Math.floor((scale.isHorizontal() ? scale.width : scale.height) / 40));
  let step = 1;
  while ((hi - lo) / step + 1 > room) step = niceAbove(step * 1.01);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) ticks.push({ value: v });
  scale.ticks = ticks;
}

function lineChart(canvas, { title, x, y, yType = 'linear', yMin, yMax, xIntegers = false }) {
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
        x: xIntegers
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

/** The boxes (left, top, right, bottom, in px) of the markers drawn on a chart. */
function markerBoxes(chart) {
  const boxes = [];
  chart.data.datasets.forEach((_, i) => {
    if (!chart.isDatasetVisible(i)) return;
    for (const point of chart.getDatasetMeta(i).data) {
      const r = (point.options?.radius ?? 3) + (point.options?.borderWidth ?? 1) / 2 + 2;
      if (Number.isFinite(point.x) && Number.isFinite(point.y)) boxes.push({ left: point.x - r, top: point.y - r, right: point.x + r, bottom: point.y + r });
    }
  });
  return boxes;
}

const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/**
 * Where the label of a vertical line at `px` goes: right or left of the line, on one line, else on
 * two, else only its last line's words (the legend says the rest), at the plot's top, its bottom,
 * or as near the top as it can: the first place inside the plot clear of every marker, else the
 * first inside the plot. Returns `{ lines, left, top, width, height }` (left and top of its box).
 */
function placeLabel(ctx, area, px, label, markers) {
  const LINE = 14;
  const words = label.split(' ');
  const widthOf = (lines) => Math.max(...lines.map((l) => ctx.measureText(l).width));
  // The two-line split whose longer line is shortest.
  const splits = words.slice(1).map((_, i) => [words.slice(0, i + 1).join(' '), words.slice(i + 1).join(' ')]);
  const two = splits.reduce((a, b) => (widthOf(b) < widthOf(a) ? b : a), splits[0] ?? [label]);
  const variants = [[label], two, [two.at(-1)]];
  const places = [];
  for (const lines of variants) {
    const width = widthOf(lines);
    const height = LINE * lines.length;
    const tops = [area.top + 4, area.bottom - 4 - height];
    for (let top = area.top + 10; top < area.bottom - 4 - height; top += 6) tops.push(top);
    for (const top of tops) {
      for (const left of [px + 5, px - 5 - width]) places.push({ lines, left, top, width, height });
    }
  }
  const inside = (p) => p.left >= area.left + 2 && p.left + p.width <= area.right - 2 && p.top >= area.top && p.top + p.height <= area.bottom;
  const clear = (p) => !markers.some((m) => overlaps(m, { left: p.left - 2, top: p.top - 1, right: p.left + p.width + 2, bottom: p.top + p.height + 1 }));
  const best = places.find((p) => inside(p) && clear(p)) ?? places.find(inside);
  if (best) return best;
  // Wider than the plot either side of the line: its last words, kept inside the plot.
  const p = places.at(-1);
  return { ...p, left: Math.min(Math.max(p.left, area.left + 2), area.right - 2 - p.width) };
}

/** Draws `chart.$vline = { x, label, colour }` as a dashed vertical line across the plot, labelled clear of the markers. */
const verticalLine = {
  id: 'batchlabVerticalLine',
  afterDatasetsDraw(chart) {
    const line = chart.$vline;
    if (!line) return;
    const { ctx, chartArea: area, scales } = chart;
    const px = scales.x.getPixelForValue(line.x);
    if (!(px >= area.left && px <= area.right)) return;
    ctx.save();
    ctx.strokeStyle = line.colour;
    ctx.fillStyle = line.colour;
    ctx.lineWidth = 1.5;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(px, area.top);
    ctx.lineTo(px, area.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.font = `12px ${Chart.defaults.font.family}`;
    const place = placeLabel(ctx, area, px, line.label, markerBoxes(chart));
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    place.lines.forEach((text, i) => ctx.fillText(text, place.left, place.top + 1 + 14 * i));
    ctx.restore();
  },
};

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
        x: {
          type: 'linear',
          title: { display: true, text: 'Batch size (log scale)' },
          // Every `step`-th power of two labelled (1, 8, 64, 512, … on a narrow chart), so labels never crowd.
          ticks: {
            autoSkip: false,
            maxRotation: 0,
            callback(v) {
              return Number.isInteger(v) && v >= 0 && v % (this.$labelStep ?? 1) === 0 ? count(2 ** v) : '';
            },
          },
          // A tick (and grid line) at every power of two in range (the range has room either side).
          afterBuildTicks: (scale) => {
            const ticks = [];
            for (let v = Math.ceil(scale.min); v <= Math.floor(scale.max); v++) ticks.push({ value: v });
            scale.ticks = ticks;
            // About 7 px a character, and 10 px between labels.
            const half = (v) => 3.5 * count(2 ** v).length;
            const px = (scale.width || 300) / (scale.max - scale.min);
            const fits = (step) => {
              const vs = ticks.map((t) => t.value).filter((v) => v >= 0 && v % step === 0);
              return vs.every((v, i) => i === 0 || half(vs[i - 1]) + half(v) + 10 <= step * px);
            };
            scale.$labelStep = [1, 2, 3, 4, 5, 6, 8, 10].find(fits) ?? 12;
          },
        },
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

/**
 * Fits an across-batch-size chart's y axis to its points (and `extra` values), markers whole: a log axis as
 * `logRange`; a count from 0 with room above; an accuracy up to 100 % (markers there unclipped)
 * with room below, from a multiple of 5 %.
 */
function fitBatchY(chart, extra = []) {
  const y = chart.options.scales.y;
  const ys = [...chart.data.datasets.flatMap((d) => d.data.map((p) => p.y)), ...extra].filter(Number.isFinite);
  if (y.type === 'logarithmic') {
    Object.assign(y, logRange(ys));
    return;
  }
  if (!ys.length) {
    if (chart.$yIntegers) y.max = undefined;
    else y.min = undefined;
    return;
  }
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  if (chart.$yIntegers) {
    y.max = hi + Math.max(0.5, 0.1 * hi);
  } else {
    y.min = Math.max(0, Math.floor((lo - 0.12 * Math.max(hi - lo, 10)) / 5) * 5);
  }
}

/** Name of a run or record: "64", or "64 (restarted on the CPU)" for a `series`. */
const runName = (r) => (r.series ? `${count(r.batchSize)} ${r.series.slice(String(r.batchSize).length + 1)}` : count(r.batchSize));
const lineLabel = (r) => `batch size ${r.series ?? count(r.batchSize)}`;

/**
 * Creates the charts on the given canvases and returns `{ reset(), add(record),
 * diverged(batchSize, epoch, series), draw(), setRuns(runs), setComparison(runs) }`: `add` plots one
 * per-epoch record (see the README; `imported: true` draws it dashed, in its batch size's colour) on every per-epoch chart,
 * `diverged` marks a run that diverged, `setRuns` redraws the charts that depend on the run
 * summaries, and `setComparison` adds an imported sweep's runs to those.
 */
export function createCharts({ accuracy, loss, time, normalised, epochsToTarget, stepsToTarget, timeToTarget, finalAccuracy }) {
  applyTheme();
  const perEpoch = [
    {
      chart: lineChart(accuracy, { title: 'Test accuracy per epoch', x: 'Epoch', y: 'Test accuracy (%)', yMax: 100, xIntegers: true }),
      point: (r) => ({ x: r.epoch, y: 100 * r.testAccuracy }),
    },
    {
      chart: lineChart(loss, { title: 'Training loss per epoch (log scale)', x: 'Epoch', y: 'Mean cross-entropy (nats)', yType: 'logarithmic', xIntegers: true }),
      point: (r) => ({ x: r.epoch, y: r.trainLoss }),
    },
    {
      chart: lineChart(time, { title: 'Test accuracy against training time', x: 'Training time (s)', y: 'Test accuracy (%)', yMax: 100 }),
      point: (r) => ({ x: r.trainSeconds, y: 100 * r.testAccuracy }),
    },
  ];
  const accuracyChart = perEpoch[0].chart;
  const normalisedChart = lineChart(normalised, { title: 'Test accuracy against normalised training time', x: 'Training time (normalised)', y: 'Test accuracy (%)', yMax: 100 });
  const epochsChart = batchChart(epochsToTarget, { title: 'Epochs to reach the target', y: 'Epochs', yMin: 0, yIntegers: true });
  const stepsChart = batchChart(stepsToTarget, { title: 'Steps to reach the target (log scale)', y: 'Training steps', yType: 'logarithmic', yIntegers: true });
  const timeChart = batchChart(timeToTarget, { title: 'Training time to reach the target (log scale)', y: 'Training time (s)', yType: 'logarithmic' });
  const finalChart = batchChart(finalAccuracy, { title: 'Final and best test accuracy', y: 'Test accuracy (%)', yMax: 100 });

  /** line key (batch size, or a record's `series`) → index of its line (the legend's order) */
  let lines = new Map();
  /** colour key (a live line's key; an imported line's batch size) → palette slot */
  let slots = new Map();
  /** line key → `{ epoch, run }`: the epoch in which that run diverged, and its batch size and series */
  let divergedIn = new Map();
  /** every record given to add(), in order (the normalised chart is redrawn from them) */
  let records = [];
  /** the latest run summaries given to setRuns() */
  let runs = [];
  /** the imported sweep's run summaries (setComparison), drawn dashed */
  let comparison = [];
  /** the sweep's batch sizes (setRuns, setBatchSizes), for the across-batch-size axis */
  let batchSizes = [];
  /** Redraws a per-epoch chart, its axes fitted to its points. */
  const redraw = (chart) => {
    fitPerEpoch(chart);
    update(chart);
  };

  const keyOf = (r) => r.series ?? r.batchSize;
  function indexOf(key) {
    if (!lines.has(key)) lines.set(key, lines.size);
    return lines.get(key);
  }
  /** An imported line takes its batch size's colour (dashed), so live lines keep theirs. */
  function colourOf(record) {
    const key = record.imported ? record.batchSize : keyOf(record);
    if (!slots.has(key)) slots.set(key, slots.size);
    return colour(slots.get(key));
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
        data: [],
        borderColor: c,
        backgroundColor: c,
        // The divergence cross (a point with `diverged: true`) is large; the line to it is dashed.
        pointStyle: (ctx) => (ctx.raw?.diverged ? 'crossRot' : 'circle'),
        pointRadius: (ctx) => (ctx.raw?.diverged ? 8 : 3),
        pointHoverRadius: (ctx) => (ctx.raw?.diverged ? 10 : 4),
        pointBorderWidth: (ctx) => (ctx.raw?.diverged ? 3 : 1),
        segment: { borderDash: (ctx) => (dataset.data[ctx.p1DataIndex]?.diverged ? [4, 4] : undefined) },
        // An imported sweep's lines are dashed.
        borderDash: record.imported ? [7, 4] : undefined,
        tension: 0,
        // Markers at an axis's end (100 %, say) are drawn whole.
        clip: false,
      };
      // Keep the lines in the order their runs started, whichever chart saw them first.
      chart.data.datasets.push(dataset);
      chart.data.datasets.sort((a, b) => lines.get(a.key) - lines.get(b.key));
    }
    return dataset;
  }

  /** The time every run's training time is divided by on the normalised chart, and how to say it. */
  function normaliser() {
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
        const p = { x: r.trainSeconds / norm.seconds, y: 100 * r.testAccuracy };
        if (Number.isFinite(p.x) && Number.isFinite(p.y)) datasetFor(normalisedChart, r).data.push(p);
      }
    }
    // Diverged runs keep their "(diverged)" entry in the legend even without a finished epoch.
    for (const { run } of divergedIn.values()) datasetFor(normalisedChart, run).label = labelFor(run);
    fitPerEpoch(normalisedChart);
    update(normalisedChart);
  }

  /** A point of an across-batch-size chart for `run` at height y. */
  /** Epochs and steps are counts; seconds a measurement. */
  const amount = (x, what) => (what === 's' ? fmt(x, 1) : count(x));
  const at = (run, y, text) => ({ x: Math.log2(run.batchSize), y, name: `Batch size ${runName(run)}`, text });

  /**
   * Redraws one across-batch-size chart: the runs that reached the target as a line, the runs that
   * did not (finished or stopped) as hollow circles and the diverged ones as red crosses, both at the
   * top of the plotted range.
   */
  function drawToTarget(chart, { value, total, what, unit, log, extra }) {
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
    epochsChart.$title = `Epochs to reach ${targetText} test accuracy`;
    stepsChart.$title = `Steps to reach ${targetText} test accuracy (log scale)`;
    timeChart.$title = `Training time to reach ${targetText} test accuracy (log scale)`;

    drawToTarget(epochsChart, { value: 'targetEpoch', total: 'epochs', what: 'epochs', unit: 'epochs' });

    const noise = runs.map((r) => r.noiseScale).filter((n) => n != null && n > 0);
    const noiseScale = noise.length ? median(noise) : null;
    const noiseLabel = noiseScale != null ? `gradient noise scale ≈ ${count(noiseScale)}` : null;
    stepsChart.$vline = noiseScale != null ? { x: Math.log2(noiseScale), label: noiseLabel, colour: NOT_REACHED } : null;
    drawToTarget(stepsChart, {
      value: 'targetSteps', total: 'steps', what: 'steps', log: true,
      // An empty dataset only for the legend entry of the dashed line (drawn by verticalLine).
      extra: () => (noiseLabel ? [{ label: noiseLabel, data: [], legendOnly: true, borderColor: NOT_REACHED, backgroundColor: 'transparent', borderDash: [6, 4], pointStyle: 'line', borderWidth: 1.5 }] : []),
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
    finalChart.data.datasets = [
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

  const all = () => [...perEpoch.map((c) => c.chart), normalisedChart, epochsChart, stepsChart, timeChart, finalChart];
  // Follow the reader's colour scheme as it changes.
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    applyTheme();
    for (const chart of all()) update(chart);
  });

  return {
    reset() {
      lines = new Map();
      slots = new Map();
      divergedIn = new Map();
      records = [];
      runs = [];
      comparison = [];
      batchSizes = [];
      for (const chart of all()) {
        chart.data.datasets = [];
        chart.$vline = null;
        if (perEpoch.some((c) => c.chart === chart)) fitPerEpoch(chart);
        update(chart);
      }
      drawRuns();
      drawNormalised();
    },
    /** `draw: false` only collects the point (many records at once): call `draw()` after. */
    add(record, { draw = true } = {}) {
      records.push(record);
      indexOf(keyOf(record));
      for (const { chart, point } of perEpoch) {
        const p = point(record);
        // A log axis cannot show 0 or NaN: a diverged loss is left out of the loss chart.
        if (!Number.isFinite(p.y) || (chart.options.scales.y.type === 'logarithmic' && p.y <= 0)) continue;
        datasetFor(chart, record).data.push(p);
        if (draw) redraw(chart);
      }
      if (draw) drawNormalised();
    },
    /** Draws the per-epoch charts (after records added with `draw: false`). */
    draw() {
      for (const { chart } of perEpoch) redraw(chart);
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
    /**
     * `batchSizes`: the sweep's batch sizes (numbers), trained or not yet, so that the charts
     * across batch sizes keep one axis while the sweep runs; left out, the last ones given stay.
     */
    setRuns(summaries, batchSizesOfSweep) {
      runs = summaries.map((r) => ({ ...r }));
      if (Array.isArray(batchSizesOfSweep)) batchSizes = batchSizesOfSweep.filter((b) => Number.isFinite(b) && b > 0);
      drawRuns();
      drawNormalised();
    },
    /** The sweep's batch sizes (see setRuns), e.g. when a sweep starts. */
    setBatchSizes(sizes) {
      batchSizes = (sizes ?? []).filter((b) => Number.isFinite(b) && b > 0);
      drawRuns();
    },
    /** Draws an imported sweep's run summaries as one more (dashed) line on each across-batch-size chart; [] removes it. */
    setComparison(summaries) {
      comparison = summaries.map((r) => ({ ...r }));
      drawRuns();
    },
  };
}
