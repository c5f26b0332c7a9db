//! The documentation (README.md and docs/*.md): every relative link leads to a file that exists,
//! and to a heading of it when it names one; every example URL of the page is accepted by the
//! settings parser, except those in a table whose first column is headed "refused …", which must
//! be refused naming the parameter in the row's second column.
//!
//! An example URL is code (between backticks, or in a fenced block) holding either a query string
//! after `?` (`http://127.0.0.1:8000/?batch=16,128&…`, `?preset=quick&…`, `…/index.html?…`) or
//! only `name=value` pairs joined by `&` whose names are all URL parameters of docs/url.md
//! (`preset=quick&backend=cpu`, `endattarget=1`). Its parameters go to
//! `Settings::from_params` as the page sends them: all of them, unknown ones included (the parser
//! ignores those), `&amp;` read as `&`, values percent-decoded as `URLSearchParams` does.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use batchlab::settings::Settings;

/// A Markdown file, split into what the checks need.
struct Doc {
    path: PathBuf,
    /// The file with fenced blocks and inline code blanked (newlines kept): links are read here.
    prose: String,
    /// Code: (line number, text, the refused table row's parameter when in such a row).
    code: Vec<(usize, String, Option<String>)>,
    /// The anchors its headings produce.
    anchors: BTreeSet<String>,
    /// Rows of "refused" tables: (line number, expected parameter).
    refused_rows: Vec<(usize, String)>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown files checked: README.md and every docs/*.md.
fn doc_paths() -> Vec<PathBuf> {
    let mut paths = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    assert!(!docs.is_empty(), "docs/ holds no .md file");
    paths.extend(docs);
    paths
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// GitHub's anchor for a heading's text: the rendered text lowercased, punctuation other than
/// `-` and `_` dropped, each space a `-`.
fn slug(heading: &str) -> String {
    // Rendered text: `[text](url)` → text; code ticks and emphasis stars dropped.
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        let (before, after) = rest.split_at(open);
        text.push_str(before);
        match after
            .find("](")
            .and_then(|mid| after[mid..].find(')').map(|close| (mid, mid + close)))
        {
            Some((mid, close)) => {
                text.push_str(&after[1..mid]);
                rest = &after[close + 1..];
            }
            None => {
                text.push('[');
                rest = &after[1..];
            }
        }
    }
    text.push_str(rest);
    text.to_lowercase()
        .chars()
        .filter(|&c| c.is_alphanumeric() || c == '-' || c == '_' || c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The cells of a table row `| a | b |`.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('|') && t.contains("---") && t.chars().all(|c| "|-: ".contains(c))
}

fn read_doc(path: &Path) -> Doc {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", rel(path)));
    let lines: Vec<&str> = text.lines().collect();

    // Fenced blocks: their lines are code; blank them in the prose.
    let mut code = Vec::new();
    let mut prose_lines: Vec<String> = Vec::new();
    let mut fence: Option<String> = None;
    let mut anchors = BTreeSet::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if let Some(marker) = &fence {
            if t.starts_with(marker.as_str()) {
                fence = None;
            } else {
                code.push((i + 1, line.to_string(), None));
            }
            prose_lines.push(String::new());
            continue;
        }
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = Some(t[..3].to_string());
            prose_lines.push(String::new());
            continue;
        }
        if t.starts_with('#') {
            let level = t.chars().take_while(|&c| c == '#').count();
            let title = &t[level..];
            if level <= 6 && (title.is_empty() || title.starts_with(' ')) {
                let base = slug(title.trim().trim_end_matches('#').trim());
                let n = seen.entry(base.clone()).or_insert(0);
                anchors.insert(if *n == 0 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                });
                *n += 1;
            }
        }
        prose_lines.push(line.to_string());
    }

    // Tables headed "refused …": which line expects which parameter refused.
    let mut refused_rows = Vec::new();
    let mut row_param: BTreeMap<usize, String> = BTreeMap::new();
    let mut in_refused = false;
    for (i, line) in prose_lines.iter().enumerate() {
        if !line.trim_start().starts_with('|') {
            in_refused = false;
            continue;
        }
        if is_separator(line) {
            in_refused = i > 0
                && cells(&prose_lines[i - 1])
                    .first()
                    .is_some_and(|c| c.to_lowercase().starts_with("refused"));
            continue;
        }
        if in_refused {
            let parameter = cells(line)
                .get(1)
                .map(|c| c.trim_matches('`').to_string())
                .unwrap_or_default();
            row_param.insert(i + 1, parameter.clone());
            refused_rows.push((i + 1, parameter));
        }
    }

    // Inline code spans (they may cross lines): taken out of the prose.
    let joined = prose_lines.join("\n");
    let bytes = joined.as_bytes();
    let mut prose = String::with_capacity(joined.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            let next = joined[i..].find('`').map_or(joined.len(), |k| i + k);
            prose.push_str(&joined[i..next]);
            i = next;
            continue;
        }
        let ticks = joined[i..].bytes().take_while(|&b| b == b'`').count();
        let open = "`".repeat(ticks);
        let start = i + ticks;
        // The closing run: exactly as many backticks.
        let mut search = start;
        let mut close = None;
        while let Some(k) = joined[search..].find(&open) {
            let at = search + k;
            let run = joined[at..].bytes().take_while(|&b| b == b'`').count();
            if run == ticks {
                close = Some(at);
                break;
            }
            search = at + run;
        }
        match close {
            Some(end) => {
                let line = joined[..i].matches('\n').count() + 1;
                let span = &joined[start..end];
                code.push((line, span.to_string(), row_param.get(&line).cloned()));
                prose.extend(
                    joined[i..end + ticks]
                        .chars()
                        .map(|c| if c == '\n' { '\n' } else { ' ' }),
                );
                i = end + ticks;
            }
            None => {
                prose.push_str(&open);
                i = start;
            }
        }
    }

    Doc {
        path: path.to_path_buf(),
        prose,
        code,
        anchors,
        refused_rows,
    }
}

/// Relative links `[text](target)` and `![alt](target)` of a prose text: (line, target).
fn links(prose: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in prose.lines().enumerate() {
        let mut rest = line;
        while let Some(k) = rest.find("](") {
            let after = &rest[k + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
                found.push((n + 1, target));
            }
            rest = &after[end.min(after.len())..];
        }
    }
    found
}

fn percent_decode(raw: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A query string's parameters, as `new URLSearchParams(…)` then `Object.fromEntries` give them
/// (the last of a repeated name wins).
fn parse_query(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// The example URLs' query strings in a piece of code.
fn examples(code: &str, parameters: &BTreeSet<String>) -> Vec<String> {
    let code = code.replace("&amp;", "&");
    code.split(|c: char| c.is_whitespace() || "\"'`<>".contains(c))
        .filter_map(|token| {
            if let Some((before, after)) = token.split_once('?') {
                let page = before.is_empty() || before.ends_with('/') || before.ends_with(".html");
                return (page && after.contains('=')).then(|| after.to_string());
            }
            let pairs = token.trim_start_matches('&');
            let all_parameters = !pairs.is_empty()
                && pairs.split('&').all(|p| {
                    p.split_once('=')
                        .is_some_and(|(k, v)| parameters.contains(k) && !v.is_empty())
                });
            all_parameters.then(|| pairs.to_string())
        })
        .collect()
}

/// The URL parameters named in docs/url.md's table (the one headed "parameter").
fn url_parameters() -> BTreeSet<String> {
    let text = fs::read_to_string(root().join("docs/url.md")).expect("docs/url.md");
    let lines: Vec<&str> = text.lines().collect();
    let mut names = BTreeSet::new();
    let mut in_table = false;
    for (i, line) in lines.iter().enumerate() {
        if !line.trim_start().starts_with('|') {
            in_table = false;
        } else if is_separator(line) {
            in_table = i > 0
                && cells(lines[i - 1])
                    .first()
                    .is_some_and(|c| c == "parameter");
        } else if in_table {
            let first = &cells(line)[0];
            if let Some(name) = first.split('`').nth(1) {
                names.insert(name.to_string());
            }
        }
    }
    names
}

#[test]
fn links_lead_to_files_and_headings() {
    let docs: Vec<Doc> = doc_paths().iter().map(|p| read_doc(p)).collect();
    let mut problems = Vec::new();
    let mut checked = 0;
    for doc in &docs {
        for (line, target) in links(&doc.prose) {
            checked += 1;
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                doc.path.clone()
            } else {
                doc.path.parent().unwrap().join(file)
            };
            let at = format!("{}:{line}: ({target})", rel(&doc.path));
            if !path.exists() {
                problems.push(format!("{at}: no file {}", path.display()));
                continue;
            }
            if anchor.is_empty() || !file.is_empty() && !file.ends_with(".md") {
                continue;
            }
            let anchors = match docs.iter().find(|d| d.path == path) {
                Some(d) => d.anchors.clone(),
                None => read_doc(&path).anchors,
            };
            if !anchors.contains(anchor) {
                problems.push(format!(
                    "{at}: no heading gives #{anchor} (there: {})",
                    anchors.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    eprintln!("{checked} relative links checked");
    assert!(
        checked >= 20,
        "only {checked} links found: is the link reader broken?"
    );
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn example_urls_are_accepted_and_refused_ones_refused() {
    let parameters = url_parameters();
    for name in ["preset", "batch", "epochs", "backend", "autorun", "embed"] {
        assert!(
            parameters.contains(name),
            "docs/url.md's table lacks `{name}`"
        );
    }
    let mut problems = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for path in doc_paths() {
        let doc = read_doc(&path);
        let mut refused_lines = BTreeSet::new();
        for (line, code, refused_parameter) in &doc.code {
            for query in examples(code, &parameters) {
                let at = format!("{}:{line}: `{query}`", rel(&doc.path));
                let result = Settings::from_params(&parse_query(&query));
                match (refused_parameter, result) {
                    (None, Ok(_)) => accepted += 1,
                    (None, Err(e)) => problems.push(format!("{at}: refused: {e}")),
                    (Some(expected), Ok(_)) => problems.push(format!(
                        "{at}: accepted, but the docs say `{expected}` refuses it"
                    )),
                    (Some(expected), Err(e)) => {
                        refused_lines.insert(*line);
                        refused += 1;
                        if e.parameter != expected {
                            problems.push(format!(
                                "{at}: refused for `{}` ({e}), but the docs say `{expected}`",
                                e.parameter
                            ));
                        }
                    }
                }
            }
        }
        for (line, _) in &doc.refused_rows {
            if !refused_lines.contains(line) {
                problems.push(format!(
                    "{}:{line}: a row of a refused table without an example URL refused",
                    rel(&doc.path)
                ));
            }
        }
    }
    eprintln!("{accepted} example URLs accepted, {refused} refused as the docs say");
    assert!(
        accepted >= 5,
        "only {accepted} accepted examples found: is the reader broken?"
    );
    assert!(
        refused >= 1,
        "no refused example found: is the reader broken?"
    );
    assert!(problems.is_empty(), "examples:\n{}", problems.join("\n"));
}

#[test]
fn slugs_follow_githubs_rules() {
    assert_eq!(slug("Share, embed, keep"), "share-embed-keep");
    assert_eq!(
        slug("Scripting interface: `window.batchlab`"),
        "scripting-interface-windowbatchlab"
    );
    assert_eq!(
        slug("The latest full run, 2026-12-01"),
        "the-latest-full-run-2026-12-01"
    );
    assert_eq!(
        slug("Runs, epochs and micro-batches"),
        "runs-epochs-and-micro-batches"
    );
    assert_eq!(slug("a — b"), "a--b");
    assert_eq!(slug("[Link](x.md) and *more*"), "link-and-more");
}

#[test]
fn the_query_reader_decodes_as_the_page_does() {
    let q = parse_query("batch=16%2C64&lr=0.1&x=a+b&lr=0.2&flag");
    assert_eq!(q["batch"], "16,64");
    assert_eq!(q["lr"], "0.2");
    assert_eq!(q["x"], "a b");
    assert_eq!(q["flag"], "");
    let names: BTreeSet<String> = ["preset", "backend"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        examples(
            "node x.mjs 'preset=quick&backend=cpu' budget= `?a=1` opt = 2",
            &names
        ),
        vec!["preset=quick&backend=cpu", "a=1"]
    );
    assert_eq!(
        examples(
            r#"<iframe src="https://e.org/b/?preset=quick&amp;embed=1">"#,
            &names
        ),
        vec!["preset=quick&embed=1"]
    );
}
