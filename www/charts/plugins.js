// Chart.js plugins drawn on the charts: a dashed vertical line with its label placed clear of the
// markers (the gradient noise scale on the steps chart), and the marker boxes it avoids.
// Owns: drawing what Chart.js's datasets cannot. Must NOT: make charts, fit axes, or read runs.

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
export const verticalLine = {
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
