// The page's charts, drawn by Chart.js (loaded as the global `Chart`): the entry main.js imports.
// Per epoch (charts/per-epoch.js): validation accuracy vs epoch, training loss vs epoch (log
// scale), validation accuracy vs training time and vs normalised training time, and vs the steps
// (the checks within the epochs). Under lrpolicy=tuned (charts/tuning.js): each trial's outcome
// vs its learning rate, and the rates chosen vs the batch size. One coloured line per
// batch size (and one more for a run restarted after a lost GPU device: records with a `series` label).
// Across batch sizes (charts/across.js, from the run summaries): epochs, steps and time to the
// target accuracy, and final and best test accuracy, each against the batch size on a log2 axis.
// An imported sweep to compare against is drawn dashed: its records as lines of their own, its
// runs as one more line on each across-batch-size chart. Text and grid colours follow the
// page's light or dark colour scheme (charts/palette.js). Every marker is drawn whole, inside its
// plot (charts/axes.js, charts/plugins.js); a title wraps to its chart's width, clear of the PNG
// button (charts/frame.js); numbers of 10,000 and more that are not counts are written as
// `3.9·10¹⁹` (format.js, charts/text.js).
// Owns: the public API (`createCharts`) and the wiring of the three groups of charts, and following
// the colour scheme. Must NOT: draw, fit axes or keep records itself (the modules under charts/ do).

import { applyTheme } from './charts/palette.js';
import { update } from './charts/frame.js';
import { createPerEpochCharts } from './charts/per-epoch.js';
import { createAcrossCharts } from './charts/across.js';
import { createTuningCharts } from './charts/tuning.js';

/**
 * Creates the charts on the given canvases and returns `{ reset(), add(record),
 * diverged(batchSize, epoch, series), check(batchSize, series, point), orderLines(runs), draw(), setRuns(runs),
 * setComparison(runs), setScaling(fit), setTuning(map) }`: `add` plots one
 * per-epoch record (see the README; `imported: true` draws it dashed, in its batch size's colour) on every per-epoch chart,
 * `diverged` marks a run that diverged, `setRuns` redraws the charts that depend on the run
 * summaries, and `setComparison` adds an imported sweep's runs to those.
 */
export function createCharts({ accuracy, loss, time, normalised, checks, epochsToTarget, stepsToTarget, timeToTarget, finalAccuracy, tuningOutcome, tuningChosen }) {
  applyTheme();
  // The per-epoch charts are made first; the normalised one reads the run summaries the across charts keep.
  let across = null;
  const perEpoch = createPerEpochCharts({ accuracy, loss, time, normalised, checks }, () => across.runs());
  across = createAcrossCharts({ epochsToTarget, stepsToTarget, timeToTarget, finalAccuracy });
  const tuning = tuningOutcome && tuningChosen ? createTuningCharts({ outcome: tuningOutcome, chosen: tuningChosen }) : null;

  const all = () => [...perEpoch.charts(), ...across.charts(), ...(tuning?.charts() ?? [])];
  // Follow the reader's colour scheme as it changes.
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    applyTheme();
    for (const chart of all()) update(chart);
  });

  return {
    reset() {
      perEpoch.reset();
      across.reset();
      tuning?.reset();
      across.draw();
      perEpoch.drawNormalised();
    },
    /** `draw: false` only collects the point (many records at once): call `draw()` after. */
    add: perEpoch.add,
    /** Draws the per-epoch charts (after records added with `draw: false`). */
    draw: perEpoch.draw,
    diverged: perEpoch.diverged,
    /** `check(batchSize, series, { steps, valAccuracy }, { imported, draw })`: a validation check within an epoch. */
    check: perEpoch.check,
    /** `orderLines(runs)`: the runs' lines (`{ batchSize, series }`, in the order they started) take their legend places and colours before any point. */
    orderLines: perEpoch.orderLines,
    /** The learning-rate tunings (batch size → tuning, lrpolicy=tuned) drawn on the two tuning charts. */
    setTuning: (map) => tuning?.setTuning(map),
    /** The critical batch size fit (scalingFit's result) drawn on the steps chart; null removes it. */
    setScaling: across.setScaling,
    /**
     * Places the runs' lines (orderLines) and redraws the charts that read the run summaries.
     * `batchSizesOfSweep`: the sweep's batch sizes (numbers), trained or not yet, so that the
     * charts across batch sizes keep one axis while the sweep runs; left out, the last ones given stay.
     */
    setRuns(summaries, batchSizesOfSweep) {
      perEpoch.orderLines(summaries);
      across.setRuns(summaries, batchSizesOfSweep);
      perEpoch.drawNormalised();
    },
    /** The sweep's batch sizes (see setRuns), e.g. when a sweep starts. */
    setBatchSizes: across.setBatchSizes,
    /** Draws an imported sweep's run summaries as one more (dashed) line on each across-batch-size chart; [] removes it. */
    setComparison: across.setComparison,
  };
}
