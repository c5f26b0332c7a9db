// The page's three live charts, drawn by Chart.js (loaded as the global `Chart`):
// test accuracy vs epoch, training loss vs epoch (log scale), test accuracy vs training time.
// One coloured line per batch size (and one more for a run restarted after a lost GPU device:
// records with a `series` label).

/** Colour of the i-th batch size of a sweep (Okabe–Ito palette, readable by colour-blind readers). */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
const colour = (i) => PALETTE[i % PALETTE.length];

function lineChart(canvas, { title, x, y, yType = 'linear', yMin, yMax, xIntegers = false }) {
  return new Chart(canvas, {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      plugins: {
        title: { display: true, text: title },
        legend: { position: 'bottom' },
        tooltip: { mode: 'nearest', intersect: false },
      },
      scales: {
        // Epochs are whole numbers: no 0.5 ticks, and the axis starts at the first epoch.
        x: { type: 'linear', title: { display: true, text: x }, min: xIntegers ? undefined : 0, ticks: { precision: xIntegers ? 0 : undefined } },
        y: {
          type: yType,
          title: { display: true, text: y },
          min: yMin,
          max: yMax,
          // On the log axis label only 1, 2 and 5 times a power of ten, so labels never crowd.
          ticks: yType === 'logarithmic'
            ? { callback: (v) => ([1, 2, 5].includes(Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9))) ? Number(v.toPrecision(3)) : '') }
            : {},
        },
      },
    },
  });
}

/**
 * Creates the three charts on the given canvases and returns `{ reset(), add(record) }`:
 * `add` plots one per-epoch record (see the README) on every chart.
 */
export function createCharts({ accuracy, loss, time }) {
  const charts = [
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
  /** line key (batch size, or a record's `series`) → index of its line */
  let lines = new Map();

  function datasetFor(chart, record, index) {
    const key = record.series ?? record.batchSize;
    let dataset = chart.data.datasets.find((d) => d.key === key);
    if (!dataset) {
      dataset = {
        label: `batch size ${record.series ?? record.batchSize.toLocaleString('en')}`,
        key,
        batchSize: record.batchSize,
        data: [],
        borderColor: colour(index),
        backgroundColor: colour(index),
        pointRadius: 3,
        tension: 0,
      };
      chart.data.datasets.push(dataset);
    }
    return dataset;
  }

  return {
    reset() {
      lines = new Map();
      for (const { chart } of charts) {
        chart.data.datasets = [];
        chart.update();
      }
    },
    add(record) {
      const key = record.series ?? record.batchSize;
      if (!lines.has(key)) lines.set(key, lines.size);
      const index = lines.get(key);
      for (const { chart, point } of charts) {
        const p = point(record);
        // A log axis cannot show 0 or NaN: a diverged loss is left out of the loss chart.
        if (!Number.isFinite(p.y) || (chart.options.scales.y.type === 'logarithmic' && p.y <= 0)) continue;
        datasetFor(chart, record, index).data.push(p);
        chart.update();
      }
    },
  };
}
