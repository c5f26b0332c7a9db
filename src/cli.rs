//! The command line (`batchlab`, native only; `src/bin/batchlab.rs` calls [`run`]): the page's
//! sweep on this machine. Every URL parameter of the page is a flag of the same name, read by
//! the page's own settings parser ([`Settings::from_params`]: the same defaults, presets and
//! refusals); the flags' help is docs/url.md's table. `sweep` trains and writes the page's
//! export format (and its two CSV tables); `--shard i/n` trains every n-th run of the sweep's
//! plan ([`Settings::plan`]), for an array job on a cluster; `merge` checks that shards belong
//! to one sweep and puts them back together; `report` prints an export's runs and findings.
//!
//! Owns the command line, its output and the shards; must not train by itself (it drives
//! [`Sweep`]) nor state findings (it asks [`crate::findings`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use burn::tensor::Device;
use clap::{Arg, ArgMatches, Command};
use serde::{Deserialize, Serialize};

use crate::data::{FILE_NAMES, Mnist};
use crate::experiment::{Sweep, SweepEvent};
use crate::export::{ExportedRecord, ExportedRun, FORMAT, FORMAT_VERSION, SweepExport, VERSION};
use crate::findings::{findings, findings_by_arm};
use crate::settings::{Settings, SettingsError};
use crate::summary::RunStatus;

/// docs/url.md: its table of URL parameters is the flags' help.
const URL_DOC: &str = include_str!("../docs/url.md");
/// URL parameters of the page alone (starting and layout), not of a sweep: no flag.
const PAGE_ONLY: [&str; 2] = ["autorun", "embed"];
/// How long each call of [`Sweep::advance`] may work: a Ctrl-C is honoured within about this.
const CHUNK: Duration = Duration::from_millis(250);

/// One URL parameter as docs/url.md's table gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// Its name, in the URL and as a flag (`--batch`).
    pub name: String,
    /// What it does.
    pub meaning: String,
    /// Its default, as the table writes it.
    pub default: String,
    /// The values allowed, as the table writes it.
    pub allowed: String,
}

/// `code` spans and Markdown links written as plain text: "`lr` ([x](y.md))" → "lr", "a: [x](y.md))"
/// → "a)", "see [x](y.md) here" → "see x here": a link that stands alone in parentheses, or
/// closes one after ": ", points to another document, nowhere in a terminal, and is left out.
fn plain(markdown: &str) -> String {
    let mut out = String::new();
    let mut rest = markdown;
    while let Some(start) = rest.find('[') {
        let Some(mid) = rest[start..].find("](") else { break };
        let Some(end) = rest[start + mid..].find(')') else { break };
        let before = &rest[..start];
        let after = &rest[start + mid + end + 1..];
        if before.ends_with(" (") && after.starts_with(')') {
            out.push_str(&before[..before.len() - 2]);
            rest = &after[1..];
        } else if before.ends_with(": ") && after.starts_with(')') {
            out.push_str(&before[..before.len() - 2]);
            rest = after;
        } else {
            out.push_str(before);
            out.push_str(&rest[start + 1..start + mid]);
            rest = after;
        }
    }
    out.push_str(rest);
    out.replace('`', "").replace('*', "")
}

/// The sweep's URL parameters, in docs/url.md's order (the page-only `autorun` and `embed` left
/// out): the first table whose header is `| parameter | meaning | default | allowed |`.
pub fn parameters() -> Vec<Parameter> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in URL_DOC.lines() {
        if line.starts_with("| parameter | meaning | default | allowed |") {
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let [name, meaning, default, allowed] = cells[..] else { continue };
        let name = name.trim_matches('`');
        if name.starts_with("---") || PAGE_ONLY.contains(&name) {
            continue;
        }
        rows.push(Parameter {
            name: name.to_string(),
            meaning: plain(meaning),
            default: plain(default),
            allowed: plain(allowed),
        });
    }
    rows
}

/// The command line: `batchlab sweep|report|merge`.
pub fn command() -> Command {
    let mut sweep = Command::new("sweep")
        .about("Train a sweep on this machine (the CPU on every core, or a GPU: --backend) and write the page's export format")
        .long_about(
            "Train a sweep on this machine (the CPU on every core, or a GPU: --backend), with every setting of the page's URL as a flag of \
             the same name (the same defaults, presets and refusals: docs/url.md), and write the \
             page's export format (--out): the page imports it as a sweep trained there.",
        )
        .arg(
            Arg::new("out")
                .long("out")
                .value_name("FILE")
                .help("Write the export (JSON) here, and its two CSV tables beside it (FILE without .json, then .epochs.csv and .runs.csv)"),
        )
        .arg(
            Arg::new("progress")
                .long("progress")
                .value_parser(["bars", "json", "none"])
                .help("bars: a progress bar per run under way (the default on a terminal); json: one JSON line per finished epoch (the trainer's record) and per run summary; none"),
        )
        .arg(
            Arg::new("shard")
                .long("shard")
                .value_name("I/N")
                .help("Train only the runs i, i + n, i + 2n, … (from 0) of the sweep's plan (every seed × arm × batch size, in the page's order): shard i of n, e.g. $SLURM_ARRAY_TASK_ID/4; `merge` puts the shards' exports back together"),
        )
        .arg(
            Arg::new("data")
                .long("data")
                .value_name("DIR")
                .help("The MNIST files (*-ubyte.gz), as in www/data/ [default: www/data of this checkout]"),
        );
    for p in parameters() {
        let mut help = p.meaning.clone();
        if !p.default.is_empty() {
            write!(help, " [default: {}]", p.default).ok();
        }
        if !p.allowed.is_empty() {
            write!(help, " [allowed: {}]", p.allowed).ok();
        }
        // Leaked once per process: clap wants 'static names.
        let name: &'static str = Box::leak(p.name.into_boxed_str());
        sweep = sweep.arg(Arg::new(name).long(name).value_name("VALUE").help(help));
    }
    Command::new("batchlab")
        .version(VERSION)
        .about("How does the batch size change learning? LeNet-5 on MNIST, the page's sweep from the command line")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(sweep)
        .subcommand(
            Command::new("report")
                .about("Print an export's runs and its findings (per arm, with every seed's verdict); with --charts, draw its charts")
                .arg(Arg::new("file").required(true).value_name("FILE"))
                .arg(Arg::new("charts").long("charts").value_name("DIR").help(
                    "Also write the page's main charts into DIR, each as PNG and SVG: accuracy and training loss per epoch, \
                     accuracy against training time, steps to the target and throughput against the batch size",
                )),
        )
        .subcommand(
            Command::new("merge")
                .about("Put the shards of one sweep back together (same settings and version, disjoint, complete) into one export")
                .arg(Arg::new("files").required(true).num_args(1..).value_name("FILE"))
                .arg(Arg::new("out").long("out").required(true).value_name("FILE").help("The merged export (JSON), with its CSV tables beside it")),
        )
}

/// Why the command line stopped, in words (printed after "batchlab: ").
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A setting was refused: the parameter and why, as the page says it.
    #[error("--{}: {}", .0.parameter, .0.message)]
    Settings(SettingsError),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// An export could not be read or written, or shards do not add up.
    #[error("{0}")]
    Export(String),
    /// Training failed.
    #[error("training failed: {0}")]
    Train(String),
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Runs the command line on `args` (the program name first); returns the process's exit code
/// (0: done; 1: a sweep stopped by Ctrl-C, written as far as it got; 2: refused or failed,
/// said on standard error).
pub fn run(args: impl IntoIterator<Item = String>) -> i32 {
    let matches = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            e.print().ok();
            return code;
        }
    };
    let result = match matches.subcommand() {
        Some(("sweep", m)) => sweep(m),
        Some(("report", m)) => report(m),
        Some(("merge", m)) => merge(m),
        _ => unreachable!("a subcommand is required"),
    };
    match result {
        Ok(stopped) => i32::from(stopped),
        Err(e) => {
            eprintln!("batchlab: {e}");
            2
        }
    }
}

/// The URL parameters given as flags (name → value), as the page would send them.
pub fn params_of(m: &ArgMatches) -> BTreeMap<String, String> {
    parameters()
        .into_iter()
        .filter_map(|p| m.get_one::<String>(&p.name).map(|v| (p.name, v.clone())))
        .collect()
}

/// A shard `i/n` (0 ≤ i < n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, from 0.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl Shard {
    /// Reads `i/n`.
    ///
    /// # Errors
    /// A sentence saying what is wrong.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || format!("--shard must be i/n with 0 ≤ i < n, e.g. 0/4, not “{raw}”");
        let (i, n) = raw.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }

    /// The indices of the plan's runs of this shard, of a plan of `runs` runs: `index`,
    /// `index + count`, … (every run in exactly one shard of `count`).
    pub fn runs(self, runs: usize) -> Vec<usize> {
        (self.index..runs).step_by(self.count).collect()
    }
}

fn data_dir(m: &ArgMatches) -> PathBuf {
    match m.get_one::<String>("data") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let here = PathBuf::from("www/data");
            if here.join(format!("{}.gz", FILE_NAMES[0])).exists() {
                here
            } else {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www/data")
            }
        }
    }
}

/// The MNIST files of `dir` (`<name>.gz`), parsed.
fn load_mnist(dir: &Path) -> Result<Mnist, CliError> {
    let read = |name: &str| -> Result<Vec<u8>, CliError> {
        let path = dir.join(format!("{name}.gz"));
        let gz = std::fs::read(&path).map_err(|e| file_error(&path, e))?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut bytes)
            .map_err(|e| file_error(&path, format!("not gzip: {e}")))?;
        Ok(bytes)
    };
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| read(FILE_NAMES[i]));
    Mnist::from_idx(&a?, &b?, &c?, &d?).map_err(|e| CliError::Export(e.to_string()))
}

/// The page's link for `params` (relative: the page's address goes before it).
fn link_of(params: &BTreeMap<String, String>) -> String {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("?{}", query.join("&"))
}

/// Where a progress report goes.
enum Progress {
    Bars(indicatif::MultiProgress, BTreeMap<String, indicatif::ProgressBar>),
    Json,
    None,
}

/// A run's name on a bar: its series, else its batch size.
fn run_name(batch_size: usize, series: Option<&str>) -> String {
    series.map_or_else(|| format!("batch size {batch_size}"), |s| format!("batch size {s}"))
}

impl Progress {
    fn bar(&mut self, name: &str, total: usize) -> Option<&indicatif::ProgressBar> {
        let Progress::Bars(multi, bars) = self else { return None };
        let bar = bars.entry(name.to_string()).or_insert_with(|| {
            let bar = multi.add(indicatif::ProgressBar::new(total as u64));
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix:>28} {bar:24} {pos:>6}/{len:6} {msg}",
                )
                .expect("a valid template"),
            );
            bar.set_prefix(name.to_string());
            bar
        });
        Some(bar)
    }

    fn event(&mut self, event: &SweepEvent, epochs: usize) {
        if let Progress::Json = self {
            if let SweepEvent::Epoch { record, .. } = event
                && let Ok(line) = serde_json::to_string(&serde_json::json!({ "kind": "epoch", "record": record }))
            {
                println!("{line}");
            }
            return;
        }
        match event {
            SweepEvent::Progress { progress } => {
                let p = &progress.progress;
                let name = run_name(p.batch_size, p.series.as_deref());
                let eta = progress.eta_seconds;
                if let Some(bar) = self.bar(&name, p.total) {
                    bar.set_length(p.total as u64);
                    bar.set_position(p.done.min(p.total) as u64);
                    let trial = p
                        .trial
                        .map(|t| format!("trial {}/{} at lr {:.3e}, ", t.number, t.count, t.learning_rate))
                        .unwrap_or_default();
                    let loss = p.running_loss.map(|l| format!(", loss {l:.4}")).unwrap_or_default();
                    let left = eta.map(|s| format!(", sweep {:.0} s left", s)).unwrap_or_default();
                    bar.set_message(format!("{trial}epoch {}/{epochs} {}{loss}{left}", p.epoch, p.phase));
                }
            }
            SweepEvent::Epoch { summary, .. } | SweepEvent::Diverged { summary, .. } => {
                let name = run_name(summary.batch_size, summary.series.as_deref());
                let done = summary.status != RunStatus::Running;
                let text = format!(
                    "{} epoch{} — {}; {:.0} samples/s{}",
                    summary.epochs,
                    if summary.epochs == 1 { "" } else { "s" },
                    match summary.status {
                        RunStatus::Diverged => "diverged".to_string(),
                        _ => summary.final_val_accuracy.or(summary.final_test_accuracy).map_or("—".into(), |a| format!("accuracy {:.2} %", 100.0 * a)),
                    },
                    summary.samples_per_second,
                    summary.target_steps.map(|s| format!("; target at step {s}")).unwrap_or_default()
                );
                if let Some(bar) = self.bar(&name, 1) {
                    if done {
                        bar.finish_with_message(text);
                    } else {
                        bar.set_message(text);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `batchlab sweep`: returns whether Ctrl-C stopped it.
fn sweep(m: &ArgMatches) -> Result<bool, CliError> {
    let params = params_of(m);
    let mut settings = Settings::from_params(&params).map_err(CliError::Settings)?;
    let shard = m
        .get_one::<String>("shard")
        .map(|raw| Shard::parse(raw))
        .transpose()
        .map_err(CliError::Export)?;
    let plan = settings.plan();
    let chosen: Option<Vec<usize>> = shard.map(|s| s.runs(plan.len()));
    let out = m.get_one::<String>("out").map(PathBuf::from);
    let mode = m
        .get_one::<String>("progress")
        .map(String::as_str)
        .unwrap_or(if std::io::stderr().is_terminal() { "bars" } else { "none" });
    let data = load_mnist(&data_dir(m))?;
    // The page's backend setting, chosen natively (the choice and its reason printed first, as
    // the page's banner does).
    let started = start_backend(settings.backend);
    let choice = crate::backend::choose_native(
        settings.backend,
        &started.wgpu,
        cfg!(feature = "cuda"),
        rayon_threads(),
    )
    .map_err(|message| CliError::Settings(SettingsError { parameter: "backend", message }))?;
    let backend = choice.backend.name();
    eprintln!("batchlab {VERSION}: {}", choice.reason);
    // Side by side or one after another, when --race was left out: by the backend, as on the page.
    settings.resolve_race(choice.backend);
    let (device, limits, adapter) = match choice.backend {
        crate::backend::Backend::Cpu => (Device::flex(), None, None),
        crate::backend::Backend::Webgpu => {
            let (device, limits) = started.wgpu_device.expect("wgpu is chosen only once started");
            (device, Some(limits), started.adapter)
        }
        crate::backend::Backend::Cuda => (cuda_device(), None, None),
    };
    let micro_batch = crate::backend::micro_batch(limits.as_ref(), settings.model);
    let on_device = crate::backend::training_set_on_device(limits.as_ref(), settings.train_size);
    let runs_text = match &chosen {
        Some(runs) => format!(
            "shard {}/{}: runs {:?} of the plan's {}",
            shard.map_or(0, |s| s.index),
            shard.map_or(1, |s| s.count),
            runs,
            plan.len()
        ),
        None if plan.len() == 1 => "1 run".to_string(),
        None => format!("{} runs", plan.len()),
    };
    eprintln!("{runs_text}; settings {}", link_of(&params));
    let mut sweep = Sweep::new(settings.clone(), &data, device)
        .map_err(CliError::Settings)?
        .with_micro_batch(micro_batch);
    if let Some(runs) = &chosen {
        sweep = sweep.with_runs(runs);
    }
    if on_device {
        sweep = sweep.with_training_set_on_device();
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second Ctrl-C kills the process as usual (the handler is then gone).
        ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\nbatchlab: stopping at the next chunk; what finished is written.");
        })
        .ok();
    }
    let mut progress = match mode {
        "bars" => Progress::Bars(indicatif::MultiProgress::new(), BTreeMap::new()),
        "json" => Progress::Json,
        _ => Progress::None,
    };
    let (mut results, mut runs): (Vec<ExportedRecord>, Vec<ExportedRun>) = (Vec::new(), Vec::new());
    let mut stopped = false;
    loop {
        if stop.load(Ordering::SeqCst) {
            stopped = true;
            for run in &mut runs {
                if run.summary.status == RunStatus::Running {
                    run.summary.status = RunStatus::Stopped;
                }
            }
            break;
        }
        let event = futures_lite::future::block_on(sweep.advance(CHUNK))
            .map_err(|e| CliError::Train(e.to_string()))?;
        progress.event(&event, settings.epochs);
        let key = |s: &crate::summary::RunSummary| (s.batch_size, s.series.clone(), s.lr_policy);
        let mut upsert = |summary: crate::summary::RunSummary| match runs.iter_mut().find(|r| key(&r.summary) == key(&summary)) {
            Some(run) => run.summary = summary,
            None => runs.push(ExportedRun { summary }),
        };
        match event {
            SweepEvent::RunStarted { summary } | SweepEvent::RunResumed { summary, .. } => upsert(summary),
            SweepEvent::Epoch { record, summary } => {
                results.push(ExportedRecord { record, backend: Some(backend.into()) });
                upsert(summary);
            }
            SweepEvent::Diverged { summary, .. } => upsert(summary),
            SweepEvent::Done => break,
            SweepEvent::Progress { .. } | SweepEvent::TrialStarted { .. } | SweepEvent::Trial { .. } => {}
        }
    }
    if let Progress::Json = progress {
        for run in &runs {
            if let Ok(line) = serde_json::to_string(&serde_json::json!({ "kind": "run", "summary": run.summary })) {
                println!("{line}");
            }
        }
    }
    let mut export = export_of(settings, &params, results, runs, chosen, shard)?;
    export.backend = Some(backend.into());
    export.adapter = adapter;
    if mode != "json" {
        print_report(&export, &mut std::io::stdout()).ok();
    }
    if let Some(out) = out {
        write_export(&export, &out)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(stopped)
}

/// What starting the GPU backends gave, before the choice.
struct Started {
    /// burn's wgpu backend: not tried (`--backend cpu`/`cuda`, or a build without `wgpu`),
    /// failed (why), or started on an adapter.
    wgpu: crate::backend::WebGpuOutcome,
    /// The wgpu device and its limits, when started.
    wgpu_device: Option<(Device, crate::backend::DeviceLimits)>,
    /// The adapter for exports (`adapter`): name, graphics API and device type.
    adapter: Option<String>,
}

/// Starts burn's wgpu backend when `preference` may use it (`auto`, `webgpu`), in a build with
/// the `wgpu` feature. A panic while starting (a broken driver) counts as a failure.
fn start_backend(preference: crate::backend::BackendPreference) -> Started {
    use crate::backend::{BackendPreference, WebGpuOutcome};
    let not_tried = Started { wgpu: WebGpuOutcome::NotTried, wgpu_device: None, adapter: None };
    if !matches!(preference, BackendPreference::Auto | BackendPreference::Webgpu) {
        return not_tried;
    }
    #[cfg(feature = "wgpu")]
    {
        let started = std::panic::catch_unwind(|| Device::wgpu_options().init_with_setup());
        match started {
            Ok(Ok((device, setup))) => {
                let info = setup.adapter.get_info();
                let limits = setup.device.limits();
                let device_type = format!("{:?}", info.device_type);
                let adapter = format!("{} — {:?}, {device_type}", info.name, info.backend);
                let limits = crate::backend::DeviceLimits {
                    max_storage_buffer_binding_size: u64::from(limits.max_storage_buffer_binding_size),
                    max_buffer_size: limits.max_buffer_size,
                    max_compute_workgroups_per_dimension: u64::from(limits.max_compute_workgroups_per_dimension),
                };
                Started {
                    wgpu: WebGpuOutcome::Started { adapter: adapter.clone(), software: device_type == "Cpu" },
                    wgpu_device: Some((device, limits)),
                    adapter: Some(adapter),
                }
            }
            Ok(Err(e)) => Started { wgpu: WebGpuOutcome::Failed(format!("{e}.")), ..not_tried },
            Err(_) => Started {
                wgpu: WebGpuOutcome::Failed("the GPU driver failed while starting (see the message above).".into()),
                ..not_tried
            },
        }
    }
    #[cfg(not(feature = "wgpu"))]
    not_tried
}

/// CUDA device 0 (a build with the `cuda` feature; [`crate::backend::choose_native`] refuses
/// CUDA otherwise).
fn cuda_device() -> Device {
    #[cfg(feature = "cuda")]
    return Device::cuda(0usize);
    #[cfg(not(feature = "cuda"))]
    unreachable!("CUDA is chosen only in a build with the cuda feature")
}

/// The CPU backend's threads: rayon's global pool, which burn-flex uses (every core unless
/// `RAYON_NUM_THREADS`).
fn rayon_threads() -> usize {
    rayon::current_num_threads()
}

/// The export of a sweep (or a shard of one) trained here.
fn export_of(
    settings: Settings,
    params: &BTreeMap<String, String>,
    results: Vec<ExportedRecord>,
    runs: Vec<ExportedRun>,
    plan_runs: Option<Vec<usize>>,
    shard: Option<Shard>,
) -> Result<SweepExport, CliError> {
    let summaries: Vec<_> = runs.iter().map(|r| r.summary.clone()).collect();
    let arms = findings_by_arm(&summaries, settings.test_size);
    let main = main_findings(&arms, &settings);
    Ok(SweepExport {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        batchlab_version: VERSION.into(),
        exported_at: now_iso8601(),
        link: link_of(params),
        user_agent: format!("batchlab {VERSION} (command line; {} {})", std::env::consts::OS, std::env::consts::ARCH),
        backend: Some("cpu".into()),
        adapter: None,
        findings: main,
        arms,
        settings,
        results,
        runs,
        shard: shard.zip(plan_runs).map(|(s, runs)| crate::export::ShardOf {
            index: s.index,
            count: s.count,
            runs,
        }),
    })
}

/// The time now as ISO 8601 (UTC, to the millisecond), as the page writes `exportedAt`.
fn now_iso8601() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// The findings of the `lrpolicy` arm (the sweep's own; a baseline's are in `arms`).
fn main_findings(arms: &[crate::findings::ArmFindings], settings: &Settings) -> Vec<crate::findings::Finding> {
    arms.iter()
        .find(|a| a.lr_policy == settings.lr_policy)
        .map_or_else(|| findings(&[], settings.test_size), |a| a.findings.clone())
}

/// Writes `export` as JSON to `out`, and its CSV tables beside it.
fn write_export(export: &SweepExport, out: &Path) -> Result<(), CliError> {
    let json = export.to_json().map_err(|e| CliError::Export(e.to_string()))?;
    std::fs::write(out, json).map_err(|e| file_error(out, e))?;
    let stem = out.with_extension("");
    for (suffix, text) in [
        ("epochs.csv", export.epochs_csv()),
        ("runs.csv", export.runs_csv()),
    ] {
        let path = PathBuf::from(format!("{}.{suffix}", stem.display()));
        let text = text.map_err(|e| CliError::Export(e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| file_error(&path, e))?;
    }
    Ok(())
}

fn read_export(path: &Path) -> Result<SweepExport, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| file_error(path, e))?;
    SweepExport::from_json(&text).map_err(|e| file_error(path, e))
}

/// Prints the runs table and the findings of `export` (per arm with a baseline).
pub fn print_report(export: &SweepExport, out: &mut impl Write) -> std::io::Result<()> {
    let pct = |x: Option<f64>| x.map_or("—".to_string(), |a| format!("{:.2} %", 100.0 * a));
    let opt = |x: Option<usize>| x.map_or("not reached".to_string(), |v| v.to_string());
    writeln!(out, "{:<30} {:>10} {:>10} {:>8} {:>12} {:>12} {:>12} {:>12}", "run", "lr", "status", "epochs", "target step", "final val", "final test", "samples/s")?;
    for r in &export.runs {
        let s = &r.summary;
        let name = s.series.clone().unwrap_or_else(|| s.batch_size.to_string());
        let status = match s.status {
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Diverged => "diverged",
            RunStatus::Stopped => "stopped",
        };
        writeln!(
            out,
            "{name:<30} {:>10.4} {status:>10} {:>8} {:>12} {:>12} {:>12} {:>12.0}",
            s.learning_rate,
            s.epochs,
            opt(s.target_steps),
            pct(s.final_val_accuracy),
            pct(s.final_test_accuracy),
            s.samples_per_second
        )?;
    }
    let arms = if export.arms.is_empty() {
        let summaries: Vec<_> = export.runs.iter().map(|r| r.summary.clone()).collect();
        findings_by_arm(&summaries, export.settings.test_size)
    } else {
        export.arms.clone()
    };
    for arm in &arms {
        writeln!(out, "\nFindings, {} learning rate{}:", crate::settings::policy_name(arm.lr_policy),
            if arm.seeds.len() > 1 { format!(" (seeds {:?})", arm.seeds) } else { String::new() })?;
        for f in &arm.findings {
            let verdict = match f.shown {
                Some(true) => "holds",
                Some(false) => "does not hold",
                None => "cannot tell",
            };
            writeln!(out, "{}. [{verdict}] {} {}", f.number, f.title, f.text)?;
        }
    }
    Ok(())
}

/// `batchlab report FILE [--charts DIR]`.
fn report(m: &ArgMatches) -> Result<bool, CliError> {
    let path = PathBuf::from(m.get_one::<String>("file").expect("required"));
    let export = read_export(&path)?;
    print_report(&export, &mut std::io::stdout()).map_err(|e| file_error(Path::new("standard output"), e))?;
    if let Some(dir) = m.get_one::<String>("charts") {
        let written = crate::report::write_charts(&export, Path::new(dir)).map_err(|e| CliError::File {
            path: e.path.display().to_string(),
            message: e.message,
        })?;
        if written.is_empty() {
            eprintln!("no chart has a point to draw (no run finished an epoch, or every run diverged): nothing written into {dir}");
        } else {
            eprintln!("wrote {} charts into {dir} (PNG and SVG)", written.len() / 2);
            if !written.iter().any(|p| p.to_string_lossy().contains("steps-to-target")) {
                eprintln!("(no steps-to-target chart: no run reached the target)");
            }
        }
    }
    Ok(false)
}

/// Puts shards back together: the same settings and version, each run of the plan in exactly one
/// shard, every run there; records and runs in the order of the plan.
///
/// # Errors
/// A sentence naming the file at fault and why.
pub fn merge_exports(parts: Vec<(String, SweepExport)>) -> Result<SweepExport, String> {
    let Some((first_name, first)) = parts.first() else {
        return Err("nothing to merge".into());
    };
    let plan = first.settings.plan();
    let mut owner: Vec<Option<&str>> = vec![None; plan.len()];
    for (name, part) in &parts {
        if part.settings != first.settings {
            return Err(format!("{name} is a shard of another sweep: its settings differ from {first_name}'s"));
        }
        if part.batchlab_version != first.batchlab_version {
            return Err(format!(
                "{name} was trained by batchlab {}, {first_name} by {}: shards must come from one version",
                part.batchlab_version, first.batchlab_version
            ));
        }
        let Some(shard) = &part.shard else {
            return Err(format!("{name} is a whole sweep, not a shard (it was trained without --shard)"));
        };
        for &run in &shard.runs {
            match owner.get(run) {
                None => return Err(format!("{name} holds run {run}, but the sweep's plan has {} runs", plan.len())),
                Some(Some(other)) => return Err(format!("run {run} of the plan is in both {other} and {name}")),
                Some(None) => owner[run] = Some(name.as_str()),
            }
        }
    }
    let missing: Vec<usize> = owner.iter().enumerate().filter(|(_, o)| o.is_none()).map(|(i, _)| i).collect();
    if !missing.is_empty() {
        return Err(format!("the shards do not hold every run of the plan: runs {missing:?} of {} are missing", plan.len()));
    }
    // Every run of the plan ended (done or diverged) in its shard: a shard stopped by Ctrl-C
    // holds stopped runs or none, and findings on a partial sweep would say what it did not test.
    for (name, part) in &parts {
        for &i in &part.shard.as_ref().expect("checked above").runs {
            let p = &plan[i];
            let ended = part.runs.iter().any(|r| {
                let s = &r.summary;
                s.batch_size == p.batch_size
                    && s.lr_policy == p.lr_policy
                    && s.seed == Some(p.seed)
                    && matches!(s.status, RunStatus::Done | RunStatus::Diverged)
            });
            if !ended {
                return Err(format!(
                    "{name} did not finish run {i} of the plan (batch size {}, {} learning rate, seed {}): train that shard again",
                    p.batch_size,
                    crate::settings::policy_name(p.lr_policy),
                    p.seed
                ));
            }
        }
    }
    // Records and runs in the order of the plan (a run is known by its batch size, arm and seed).
    let index_of = |batch_size: usize, lr_policy, seed: Option<u64>| {
        plan.iter().position(|p| p.batch_size == batch_size && p.lr_policy == lr_policy && Some(p.seed) == seed)
    };
    let mut runs: Vec<ExportedRun> = parts.iter().flat_map(|(_, p)| p.runs.iter().cloned()).collect();
    runs.sort_by_key(|r| index_of(r.summary.batch_size, r.summary.lr_policy, r.summary.seed));
    let series_index = |r: &ExportedRecord| {
        plan.iter().position(|p| p.batch_size == r.record.batch_size && p.series == r.record.series && Some(p.seed) == r.record.seed)
    };
    let mut results: Vec<ExportedRecord> = parts.iter().flat_map(|(_, p)| p.results.iter().cloned()).collect();
    results.sort_by_key(|r| (series_index(r), r.record.epoch));
    let summaries: Vec<_> = runs.iter().map(|r| r.summary.clone()).collect();
    let arms = findings_by_arm(&summaries, first.settings.test_size);
    let main = main_findings(&arms, &first.settings);
    Ok(SweepExport {
        exported_at: now_iso8601(),
        findings: main,
        arms,
        results,
        runs,
        shard: None,
        ..first.clone()
    })
}

/// `batchlab merge A B … --out FILE`.
fn merge(m: &ArgMatches) -> Result<bool, CliError> {
    let out = PathBuf::from(m.get_one::<String>("out").expect("required"));
    let mut parts = Vec::new();
    for file in m.get_many::<String>("files").expect("required") {
        parts.push((file.clone(), read_export(Path::new(file))?));
    }
    let merged = merge_exports(parts).map_err(CliError::Export)?;
    print_report(&merged, &mut std::io::stdout()).ok();
    write_export(&merged, &out)?;
    eprintln!("wrote {}", out.display());
    Ok(false)
}
