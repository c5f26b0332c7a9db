// What every chart shares: its options (no animation, sized by its container, a legend without
// empty series), its title wrapped to its width clear of the PNG button, and how it is made and redrawn.
// Owns: creating and redrawing a chart and its title. Must NOT: fit axes, choose colours, or know
// about runs and records.

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

/** Legend height (px) the figure's CSS height already allows for: about two rows of entries. */
const LEGEND_ALLOWANCE = 44;

/**
 * A legend taller than two rows (16 batch sizes, or a narrow screen) makes the chart's figure
 * taller by the difference, so that the plot keeps its height instead of being squeezed.
 */
function roomForLegend(chart) {
  const figure = chart.canvas.parentElement;
  if (!figure || !chart.legend) return;
  if (!figure.dataset.height) {
    if (!figure.clientHeight) return; // hidden: measured once shown
    figure.dataset.height = String(figure.clientHeight);
  }
  const extra = Math.max(0, Math.ceil(chart.legend.height) - LEGEND_ALLOWANCE);
  const height = extra > 0 ? `${Number(figure.dataset.height) + extra}px` : '';
  if (figure.style.height !== height) figure.style.height = height;
}

/** Redraws a chart, its title wrapped to its width first, its figure as tall as its legend needs. */
export function update(chart) {
  retitle(chart);
  chart.update();
  roomForLegend(chart);
}

/**
 * Options every chart shares: no animation, sized by its container, data given as {x, y}; a
 * title that wraps (see `retitle`); no legend entry for a series without a point unless it
 * says `legendOnly` (a line drawn by a plugin), and none for one that says `hideInLegend` (the
 * second edge of a band).
 */
export const baseOptions = ({ title, legend, tooltip }) => ({
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
  parsing: false,
  onResize: (chart, size) => {
    retitle(chart, chart.$title, size.width);
    // The legend rows change with the width: after this resize's layout, the figure follows.
    requestAnimationFrame(() => roomForLegend(chart));
  },
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
          if (dataset?.hideInLegend) return false;
          return Boolean(dataset?.legendOnly || dataset?.data.length);
        },
      },
    },
    tooltip,
  },
});

/** A new chart with its title wrapped to its width. */
export function chartOn(canvas, config) {
  const title = config.options.plugins.title.text;
  const chart = new Chart(canvas, config);
  chart.$title = title;
  update(chart);
  return chart;
}
