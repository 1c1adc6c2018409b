//! The public docs stand alone (issue 15): no rustdoc comment under `src/` — and no line of
//! the README — cites a behaviour ID such as `BSEM-1` or `EXE-12`. Those IDs name the tests'
//! behaviours and live in the tests (`tests/`, `loom_tests/`, `#[cfg(test)]` modules); a
//! reader of the docs gets the behaviour in words. Plain `//` comments may keep them.

use std::fs;
use std::path::{Path, PathBuf};

/// The behaviour families the tests cite (`LOCK-1`, `QS-3`, …).
const FAMILIES: &[&str] = &[
    "ASC", "BAR", "BSEM", "COND", "DQ", "EVT", "EXE", "FUT", "LOCK", "Q", "QS", "RLOCK", "SEM",
    "SET", "SQ", "THR", "TMR", "WAIT",
];

/// The behaviour IDs cited in `text`: a family name standing alone (no letter, digit or `_`
/// before it), a `-`, then digits.
fn cited_ids(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for family in FAMILIES {
        let pattern = format!("{family}-");
        let mut from = 0;
        while let Some(at) = text[from..].find(&pattern).map(|i| from + i) {
            from = at + 1;
            let standalone = at == 0 || !is_word(bytes[at - 1]);
            let digits = bytes[at + pattern.len()..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let end = at + pattern.len() + digits;
            let ends_word = end == bytes.len() || !is_word(bytes[end]);
            if standalone && digits > 0 && ends_word {
                found.push(text[at..end].to_owned());
            }
        }
    }
    found
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether `line` is a rustdoc comment (`///` or `//!`; `////` is a plain comment).
fn is_doc_comment(line: &str) -> bool {
    let t = line.trim_start();
    (t.starts_with("///") && !t.starts_with("////")) || t.starts_with("//!")
}

/// Whether `line` opens a module with a body: `mod name {`, possibly `pub` or `pub(crate)`.
fn opens_module(line: &str) -> bool {
    let t = line.trim_start();
    let t = t.strip_prefix("pub").map_or(t, |rest| {
        let rest = rest.trim_start();
        match rest.strip_prefix('(') {
            Some(vis) => vis.split_once(')').map_or(rest, |(_, after)| after),
            None => rest,
        }
    });
    t.trim_start().starts_with("mod ") && t.trim_end().ends_with('{')
}

/// The `(line number, line)` pairs of `source`'s rustdoc comments, leaving out the bodies of
/// `#[cfg(test)]` modules (they are tests, and keep their IDs). A module's body ends at the
/// first `}` line indented as its `mod` line, as rustfmt lays it out.
fn doc_lines(source: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut test_attr = false;
    let mut skip_until: Option<String> = None;
    for (i, line) in source.lines().enumerate() {
        if let Some(close) = &skip_until {
            if line == close {
                skip_until = None;
            }
            continue;
        }
        let t = line.trim_start();
        if t.starts_with("#[cfg(") && t.contains("test") && !t.contains("not(test") {
            test_attr = true;
        } else if test_attr && opens_module(line) {
            let indent = &line[..line.len() - t.len()];
            skip_until = Some(format!("{indent}}}"));
            test_attr = false;
        } else if !t.starts_with("#[") {
            test_attr = false;
        }
        if is_doc_comment(line) {
            out.push((i + 1, line));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn rustdoc_comments_cite_no_behaviour_ids() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    assert!(
        files.len() > 10,
        "src/ should hold the crate's sources: {files:?}"
    );
    let mut offenders = Vec::new();
    let mut scanned = 0;
    for file in &files {
        let source = fs::read_to_string(file).unwrap();
        for (n, line) in doc_lines(&source) {
            scanned += 1;
            let ids = cited_ids(line);
            if !ids.is_empty() {
                let rel = file.strip_prefix(root).unwrap_or(file).display();
                offenders.push(format!("{rel}:{n}: {} — {}", ids.join(", "), line.trim()));
            }
        }
    }
    assert!(
        scanned > 1000,
        "too few doc lines found ({scanned}): is the scan broken?"
    );
    assert!(
        offenders.is_empty(),
        "rustdoc comments cite behaviour IDs a reader cannot follow; say the behaviour in \
         words and keep the ID in the test:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn readme_cites_no_behaviour_ids() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let offenders: Vec<String> = readme
        .lines()
        .enumerate()
        .filter(|(_, line)| !cited_ids(line).is_empty())
        .map(|(i, line)| format!("README.md:{}: {}", i + 1, line.trim()))
        .collect();
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

/// The scanner itself: it finds the IDs, and only those.
#[test]
fn the_scanner_finds_ids_and_nothing_else() {
    assert_eq!(cited_ids("returns None (DQ-2)."), ["DQ-2"]);
    assert_eq!(cited_ids("(BSEM-1, BSEM-2)"), ["BSEM-1", "BSEM-2"]);
    assert_eq!(cited_ids("// EXE-12"), ["EXE-12"]);
    assert_eq!(cited_ids("Q-1 and SQ-4"), ["Q-1", "SQ-4"]);
    for clean in [
        "UTF-8 text, SHA-1, RFC-9110, E0658, 0x1F-2",
        "N-1 waiters; `Thread-1` and `Dummy-3`",
        "CPython's gh-57711; `ThreadPoolExecutor-{k}`",
        "LOCK-less, QSX-1, MY_SEM-2, SEM-x",
    ] {
        assert_eq!(cited_ids(clean), Vec::<String>::new(), "{clean}");
    }

    let source = "/// A (LOCK-1)\n// plain LOCK-2\n//// banner LOCK-3\n#[cfg(test)]\nmod tests {\n    /// LOCK-4\n    fn t() {}\n}\n//! after (LOCK-5)\n";
    let lines: Vec<usize> = doc_lines(source).into_iter().map(|(n, _)| n).collect();
    assert_eq!(lines, [1, 9], "doc lines outside the test module only");
}
