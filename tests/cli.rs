//! The command line (`batchlab`): its flags are the page's URL parameters, read by the same
//! parser; a sweep split into shards and merged back equals the sweep trained whole; merging
//! refuses shards that do not make one sweep.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use batchlab::cli::{Shard, command, merge_exports, params_of, parameters};
use batchlab::export::SweepExport;
use batchlab::settings::Settings;

#[test]
fn every_url_parameter_is_a_flag_read_by_the_pages_parser_with_its_refusals() {
    let names: Vec<String> = parameters().into_iter().map(|p| p.name).collect();
    for wanted in ["preset", "batch", "epochs", "lr", "optimizer", "lrpolicy", "baseline", "seeds", "val", "race"] {
        assert!(names.iter().any(|n| n == wanted), "{wanted} in {names:?}");
    }
    assert!(!names.iter().any(|n| n == "autorun" || n == "embed"), "page-only parameters have no flag");
    for name in &names {
        // The page's parser knows the parameter: a value it cannot take is refused, naming it.
        let params = BTreeMap::from([(name.clone(), "\u{1}bad".to_string())]);
        let page = Settings::from_params(&params).expect_err(name);
        assert_eq!(page.parameter, name.as_str());
        // The flag of the same name gives the same refusal, word for word.
        let matches = command().try_get_matches_from(["batchlab", "sweep", &format!("--{name}"), "\u{1}bad"]).unwrap();
        let (_, sweep) = matches.subcommand().unwrap();
        assert_eq!(params_of(sweep), params);
        assert_eq!(Settings::from_params(&params_of(sweep)).unwrap_err(), page);
        // Its help is docs/url.md's row.
        let help = command().find_subcommand("sweep").unwrap().get_arguments().find(|a| a.get_id() == name.as_str()).unwrap().get_help().unwrap().to_string();
        assert!(help.len() > 10 && !help.contains('`'), "{name}: {help}");
    }
}

#[test]
fn shards_split_the_plan_so_that_every_run_is_in_exactly_one() {
    for runs in 0..40 {
        for count in 1..=8 {
            let mut seen = vec![0; runs];
            for index in 0..count {
                for r in (Shard { index, count }).runs(runs) {
                    seen[r] += 1;
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{runs} runs in {count} shards: {seen:?}");
        }
    }
    assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
    for bad in ["4/4", "1", "a/4", "0/0", "-1/4"] {
        assert!(Shard::parse(bad).unwrap_err().contains("0 ≤ i < n"), "{bad}");
    }
}

/// Runs the `batchlab` binary with `args`; returns its standard output (panics unless it succeeded).
fn batchlab(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_batchlab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "batchlab {args:?}: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

fn read(path: &Path) -> SweepExport {
    SweepExport::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A sweep's records without times (which differ between runs of the same arithmetic), by line and epoch.
fn numbers(export: &SweepExport) -> Vec<String> {
    let mut rows: Vec<String> = export
        .results
        .iter()
        .map(|r| {
            let mut rec = r.record.clone();
            rec.train_seconds = 0.0;
            rec.samples_per_second = 0.0;
            serde_json::to_string(&rec).unwrap()
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_sweep_trained_in_shards_and_merged_equals_the_sweep_trained_whole() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-shards");
    std::fs::create_dir_all(&dir).unwrap();
    let at = |name: &str| dir.join(name).display().to_string();
    let sweep = ["sweep", "--batch", "50,100", "--seeds", "2", "--train", "500", "--val", "100", "--test", "100", "--epochs", "1", "--optimizer", "sgd", "--lr", "0.05", "--progress", "none"];
    let whole = batchlab(&[&sweep[..], &["--out", &at("whole.json")]].concat());
    assert!(whole.contains("Findings"), "{whole}");
    for i in 0..3 {
        batchlab(&[&sweep[..], &["--shard", &format!("{i}/3"), "--out", &at(&format!("part{i}.json"))]].concat());
    }
    let report = batchlab(&["merge", &at("part0.json"), &at("part1.json"), &at("part2.json"), "--out", &at("merged.json")]);
    assert!(report.contains("50 (seed 43)"), "{report}");
    let (whole, merged) = (read(&dir.join("whole.json")), read(&dir.join("merged.json")));
    assert_eq!(merged.runs.len(), 4);
    assert!(merged.shard.is_none());
    assert_eq!(merged.settings, whole.settings);
    // The same records to the bit: each run's weights and orders come from its own seed.
    assert_eq!(numbers(&merged), numbers(&whole));
    // The CSV tables are written beside the export.
    assert!(dir.join("merged.epochs.csv").exists() && dir.join("merged.runs.csv").exists());
    // `report` reads an export back.
    let printed = batchlab(&["report", &at("merged.json")]);
    assert!(printed.contains("Findings, fixed learning rate (seeds [42, 43])"), "{printed}");

    // Shards that do not make one sweep are refused, saying why.
    let part = |i: usize| (format!("part{i}.json"), read(&dir.join(format!("part{i}.json"))));
    let missing = merge_exports(vec![part(0), part(2)]).unwrap_err();
    assert!(missing.contains("runs [1] of 4 are missing"), "{missing}");
    let twice = merge_exports(vec![part(0), part(1), part(1), part(2)]).unwrap_err();
    assert!(twice.contains("run 1 of the plan is in both part1.json and part1.json"), "{twice}");
    let mut other = part(2);
    other.1.settings.epochs = 2;
    let other = merge_exports(vec![part(0), part(1), other]).unwrap_err();
    assert!(other.contains("part2.json is a shard of another sweep"), "{other}");
    let whole = merge_exports(vec![part(0), ("whole.json".into(), read(&dir.join("whole.json")))]).unwrap_err();
    assert!(whole.contains("whole.json is a whole sweep, not a shard"), "{whole}");
}

#[test]
fn a_refused_flag_is_said_in_the_pages_words_and_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_batchlab"))
        .args(["sweep", "--epochs", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("batchlab: --epochs: the number of epochs must be from 1 to 1000"), "{stderr}");
    let help = Command::new(env!("CARGO_BIN_EXE_batchlab")).args(["sweep", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--lrpolicy") && help.contains("--baseline") && help.contains("[default: 16,64,256]"), "{help}");
}

/// The pixels of a PNG file drawn in `colour` (within 10 per channel).
fn pixels_of(path: &Path, colour: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    buffer[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| p[..3].iter().zip(colour).all(|(&a, b)| a.abs_diff(b) <= 10))
        .count()
}

#[test]
fn report_draws_the_pages_charts_as_png_and_svg_files() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-charts");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let at = |name: &str| dir.join(name).display().to_string();
    batchlab(&["sweep", "--batch", "25,100", "--train", "400", "--val", "200", "--test", "100", "--epochs", "2", "--optimizer", "sgd", "--lr", "0.1", "--target", "0.2", "--progress", "none", "--out", &at("sweep.json")]);
    let out = Command::new(env!("CARGO_BIN_EXE_batchlab"))
        .args(["report", &at("sweep.json"), "--charts", &at("charts")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrote 5 charts"), "{}", String::from_utf8_lossy(&out.stderr));
    for chart in ["accuracy-epoch", "loss-epoch", "accuracy-time", "steps-to-target", "throughput"] {
        let png = dir.join("charts").join(format!("{chart}.png"));
        // Each run's line in the page's colours: batch size 25 blue (#0072B2), 100 orange (#E69F00).
        let blue = pixels_of(&png, [0x00, 0x72, 0xb2]);
        assert!(blue > 100, "{chart}: {blue} blue pixels");
        if !["steps-to-target", "throughput"].contains(&chart) {
            // (Across batch sizes there is one line, in the first colour.)
            let orange = pixels_of(&png, [0xe6, 0x9f, 0x00]);
            assert!(orange > 100, "{chart}: {orange} orange pixels");
        }
        // Text is drawn (dark pixels of the title, ticks and legend).
        assert!(pixels_of(&png, [0, 0, 0]) > 500, "{chart}: no text");
        let svg = std::fs::read_to_string(dir.join("charts").join(format!("{chart}.svg"))).unwrap();
        assert!(svg.matches("<polyline").count() >= 1 && svg.contains("<text"), "{chart}: {}", &svg[..svg.len().min(300)]);
    }
    let svg = std::fs::read_to_string(dir.join("charts/accuracy-epoch.svg")).unwrap();
    assert!(svg.contains("batch size 25") && svg.contains("batch size 100"), "the legend names every run");
}

/// The command line on burn's wgpu backend natively (Vulkan; on a machine without a GPU, Mesa's
/// software Vulkan driver lavapipe: scripts/test-wgpu.sh installs it and runs this test in a
/// build with the `wgpu` feature): `--backend wgpu` trains the same sweep as the CPU backend —
/// the same batches, steps and samples per epoch — and learns as well, and says so first. Not
/// to the bit: each backend draws the initial weights from its own generator, and sums
/// float32s in another order.
#[cfg(feature = "wgpu")]
#[test]
fn the_wgpu_backend_trains_the_sweep_the_cpu_backend_trains() {
    if std::env::var("BATCHLAB_SKIP_WGPU").is_ok_and(|v| v == "1") {
        eprintln!("skipped: BATCHLAB_SKIP_WGPU=1");
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-wgpu");
    std::fs::create_dir_all(&dir).unwrap();
    let at = |name: &str| dir.join(name).display().to_string();
    let sweep = ["sweep", "--batch", "16,64", "--train", "1024", "--val", "200", "--test", "200", "--epochs", "2", "--optimizer", "adam", "--lr", "0.003", "--progress", "none"];
    let run = |backend: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_batchlab"))
            .args([&sweep[..], &["--backend", backend, "--out", &at(&format!("{backend}.json"))]].concat())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.success(),
            "--backend {backend} failed (no Vulkan driver? `apt-get install mesa-vulkan-drivers`, as scripts/test.sh does): {stderr}"
        );
        (stderr, read(&dir.join(format!("{backend}.json"))))
    };
    let (said, gpu) = run("wgpu");
    assert!(said.contains("Training on the GPU through wgpu ("), "{said}");
    assert!(said.contains("as chosen (--backend webgpu)"), "{said}");
    let (_, cpu) = run("cpu");
    assert_eq!(gpu.backend.as_deref(), Some("webgpu"));
    assert!(gpu.adapter.as_deref().is_some_and(|a| a.contains("Vulkan")), "{:?}", gpu.adapter);
    assert_eq!(cpu.backend.as_deref(), Some("cpu"));
    assert_eq!(gpu.results.len(), 4);
    assert!(gpu.results.iter().all(|r| r.backend.as_deref() == Some("webgpu")));
    // Side by side, chunks are timed, so records may come in another order: compare by line.
    let sorted = |e: &SweepExport| {
        let mut r: Vec<_> = e.results.iter().map(|r| r.record.clone()).collect();
        r.sort_by_key(|r| (r.batch_size, r.epoch));
        r
    };
    for (g, c) in sorted(&gpu).iter().zip(&sorted(&cpu)) {
        eprintln!(
            "batch {} epoch {}: loss {:.4} vs {:.4} (cpu), test accuracy {:.4} vs {:.4}",
            g.batch_size, g.epoch, g.train_loss, c.train_loss, g.test_accuracy, c.test_accuracy
        );
        assert_eq!((g.batch_size, g.epoch, g.steps, g.samples), (c.batch_size, c.epoch, c.steps, c.samples));
        // Both learn alike: at the end (32 or 128 steps of Adam) well above chance (10 %), within
        // a few points of each other (measured on lavapipe: 0.895 against 0.925 at batch size 16,
        // 0.855 against 0.785 at 64).
        if g.epoch == 2 {
            assert!(g.test_accuracy > 0.5 && c.test_accuracy > 0.5, "{g:?} {c:?}");
            assert!((g.test_accuracy - c.test_accuracy).abs() <= 0.15, "accuracy {} vs {}", g.test_accuracy, c.test_accuracy);
        }
    }
    // The second epoch lowers the loss on both backends.
    for e in [&gpu, &cpu] {
        let r = sorted(e);
        assert!(r[1].train_loss < r[0].train_loss && r[3].train_loss < r[2].train_loss, "{r:?}");
    }
}
