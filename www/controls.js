// The controls: the form where the reader writes the next sweep's settings, and the one table
// that ties each URL parameter to its control and to its field in the trainer's settings.
// Owns the form's values (filled from the trainer's settings, read as URL parameters) and the
// preset's switch to Custom when another setting is edited.
// Must NOT: hold or change the sweep's state, post to the worker, or touch other elements;
// what the reader asks for goes to the callbacks given to `bind`.

/** URL parameter (and control name) → settings field (as `parseSettings` returns them), in the order shown. */
export const FIELDS = {
  preset: 'preset', batch: 'batch', epochs: 'epochs', lr: 'learningRate', optimizer: 'optimizer',
  lrpolicy: 'lrPolicy', baseline: 'baseline', lrref: 'lrReferenceBatch', warmup: 'warmupEpochs', lrgrid: 'lrGrid', lrtrial: 'lrTrialEpochs',
  model: 'model', target: 'target',
  endattarget: 'endAtTarget', budget: 'runBudgetSeconds', evalpoints: 'evalPoints', seed: 'seed', seeds: 'seeds', train: 'trainSize', val: 'valSize',
  test: 'testSize', backend: 'backend', race: 'race',
};
/** URL parameters that describe a sweep, in the order they are shown. */
export const PARAMETERS = Object.keys(FIELDS);

/** The controls of `form`: `{ params(), fill(settings), fillRefused(defaults), focus(name), onChange(fn), changed(), bind(…) }`. */
export function createControls(form) {
  /** Each parameter's control, kept even while it is taken out of the form's names. */
  const inputs = Object.fromEntries(PARAMETERS.map((name) => [name, form.elements[name]]).filter(([, c]) => c));
  /** Parameters the trainer does not know (an older trainer): no control shown, not in the link. */
  const absent = new Set();
  const listeners = [];

  /** Shows or takes out the control of `name` (its label hidden, its name removed from the form). */
  function present(name, known) {
    const control = inputs[name];
    if (!control || known === !absent.has(name)) return;
    if (known) {
      absent.delete(name);
      control.name = name;
    } else {
      absent.add(name);
      control.removeAttribute('name');
    }
    (control.closest('label') ?? control).hidden = !known;
  }

  const shown = () => PARAMETERS.filter((name) => inputs[name] && !absent.has(name));
  const value = (control) => (control.type === 'checkbox' ? (control.checked ? '1' : '0') : control.value.trim());

  /** The controls as URL parameters; an empty control falls back to the default. */
  function params() {
    return Object.fromEntries(shown().map((name) => [name, value(inputs[name])]).filter(([, v]) => v !== ''));
  }

  /** Tells the listeners the controls changed; `edited`: by the reader (or for a sweep), not by filling. */
  function changed(edited = true) {
    const current = params();
    for (const listener of listeners) listener(current, { edited });
  }

  /** Fills every control from `settings` (as the trainer resolves them). */
  function fill(settings) {
    for (const [name, field] of Object.entries(FIELDS)) {
      const control = inputs[name];
      if (!control) continue;
      // A field the trainer does not know: its control is taken out (tolerates older trainers).
      present(name, settings[field] !== undefined);
      if (settings[field] === undefined) continue;
      if (control.type === 'checkbox') control.checked = Boolean(settings[field]);
      // The learning-rate grid is `{ min, max, count }` (null: the optimiser's default) → "min,max,count".
      else if (name === 'lrgrid') control.value = settings[field] ? `${settings[field].min},${settings[field].max},${settings[field].count}` : '';
      // No baseline is `null` in the settings, "none" in the URL.
      else if (name === 'baseline') control.value = settings[field] ?? 'none';
      // `race` left out of the link (`raceAuto`): the backend decides (the empty choice).
      else if (name === 'race') control.value = settings.raceAuto ? '' : settings[field] ? '1' : '0';
      else control.value = settings[field];
    }
    inputs.preset.dataset.value = settings.preset;
    changed(false);
  }

  /**
   * Refused on load: the defaults, then every value the URL gave (as text), so that the reader
   * can correct the refused one and keep the rest.
   */
  function fillRefused(defaults, search = location.search) {
    fill(defaults);
    for (const [name, given] of new URLSearchParams(search)) {
      const control = shown().includes(name) ? inputs[name] : null;
      if (control?.type === 'checkbox') control.checked = given === '1' || given === 'true';
      // A select keeps its default when the URL's value is none of its options.
      else if (control?.tagName === 'SELECT') {
        // `race` is also written `true`/`false`.
        const value = name === 'race' ? ({ true: '1', false: '0' })[given] ?? given : given;
        if ([...control.options].some((o) => o.value === value)) control.value = value;
      }
      else if (control) control.value = given;
    }
    changed(false);
  }

  return {
    params,
    fill,
    fillRefused,
    changed,
    /** The backend chosen in the controls ('auto' when none). */
    get backend() { return inputs.backend.value || 'auto'; },
    focus(name) {
      if (!absent.has(name)) inputs[name]?.focus();
    },
    /** `fn(params, { edited })` after every change of the controls. */
    onChange(fn) {
      listeners.push(fn);
    },
    /**
     * Wires the reader's input: `submit()` (Start), `presetPicked(preset, backend)` (a preset to
     * resolve and estimate), `busy()` (whether a sweep or an estimate runs: the preset stays).
     */
    bind({ submit, presetPicked, busy }) {
      const { preset } = inputs;
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        submit();
      });
      // Picking a preset fills every control with its settings (the worker resolves them) and
      // estimates its duration; changing any other setting makes the sweep a custom one.
      preset.addEventListener('change', () => {
        if (busy()) {
          preset.value = preset.dataset.value ?? 'custom';
          return;
        }
        preset.dataset.value = preset.value;
        // Custom keeps the values in the controls (they become the custom sweep).
        if (preset.value !== 'custom') presetPicked(preset.value, inputs.backend.value);
      });
      form.addEventListener('change', (e) => {
        if (e.target !== preset && e.target !== inputs.backend) {
          preset.value = 'custom';
          preset.dataset.value = 'custom';
        }
      });
      form.addEventListener('input', () => changed());
      form.addEventListener('change', () => changed());
    },
  };
}
