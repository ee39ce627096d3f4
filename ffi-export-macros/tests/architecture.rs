//! The macro crate's architecture, checked on its source: the modules form
//! a line (`lib → parse → validate → expand → tokens`, with `model` and
//! `errors` shared below them) with no cycle and no submodule importing
//! its parent; only `validate` rejects; the primitives are listed once.
//!
//! `cargo test -p ffi-export-macros --test architecture -- --nocapture`
//! prints the module graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The top-level modules in dependency order: each may use only those
/// after it (`crate` is lib.rs).
const LAYERS: [&str; 7] = [
    "crate",
    "crate::parse",
    "crate::validate",
    "crate::expand",
    "crate::tokens",
    "crate::model",
    "crate::errors",
];

/// Every source file of the crate by module path (`crate::parse::data`).
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&src).unwrap_or(&file).with_extension("");
            let mut path = vec!["crate".to_owned()];
            for part in relative.iter().map(|p| p.to_string_lossy().into_owned()) {
                if part != "lib" && part != "mod" {
                    path.push(part);
                }
            }
            let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
            (path.join("::"), without_comments(&text))
        })
        .collect()
}

/// `text` without `//` comments (doc comments mention other modules).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            // Not inside a string literal: good enough for this crate.
            Some(at) if line[..at].matches('"').count() % 2 == 0 => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path starting with `crate::`, `super::` or `self::` in `code`,
/// `use` groups (`crate::{a, b::c}`) expanded.
fn paths(code: &str) -> Vec<String> {
    fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
        let tree = tree.trim();
        if let Some(open) = tree.find('{') {
            let head = format!("{prefix}{}", &tree[..open]);
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&inner[start..i], &head, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            expand(&inner[start..], &head, out);
        } else if !tree.is_empty() {
            out.push(format!("{prefix}{tree}"));
        }
    }
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let statement = &rest[at + 4..];
        let end = statement.find(';').unwrap_or(statement.len());
        // `a as b` names `a`.
        let words: Vec<&str> = statement[..end].split_whitespace().collect();
        let mut tree = String::new();
        let mut i = 0;
        while i < words.len() {
            if words[i] == "as" {
                i += 2;
                if let Some(rest) = words.get(i - 1).and_then(|w| w.find([',', '}'])) {
                    tree.push_str(&words[i - 1][rest..]);
                }
                continue;
            }
            tree.push_str(words[i]);
            i += 1;
        }
        expand(&tree, "", &mut out);
        rest = &statement[end..];
    }
    // Paths written inline (`crate::model::Item`).
    for (at, _) in code.match_indices("::") {
        let start = code[..at]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |i| i + 1);
        let end = code[at..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(code.len(), |i| at + i);
        out.push(code[start..end].trim_end_matches(':').to_owned());
    }
    out.retain(|path| {
        ["crate::", "super::", "self::"]
            .iter()
            .any(|root| path.starts_with(root))
    });
    out
}

/// The module `path` (written in `module`) names: its longest prefix
/// that is a module.
fn target(module: &str, path: &str, known: &BTreeMap<String, String>) -> Option<String> {
    let mut absolute: Vec<&str> = module.split("::").collect();
    let mut parts = path.split("::").peekable();
    match parts.peek() {
        Some(&"crate") => absolute = Vec::new(),
        Some(&"self") => {
            parts.next();
        }
        _ => {}
    }
    while parts.peek() == Some(&"super") {
        parts.next();
        absolute.pop();
    }
    absolute.extend(parts);
    (1..=absolute.len())
        .rev()
        .map(|n| absolute[..n].join("::"))
        .find(|candidate| known.contains_key(candidate))
}

/// Module → the modules it uses (`mod child;` counts as using the child).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let known = modules();
    let mut graph = BTreeMap::new();
    for (module, code) in &known {
        let mut uses = BTreeSet::new();
        for path in paths(code) {
            if let Some(target) = target(module, &path, &known) {
                if &target != module {
                    uses.insert(target);
                }
            }
        }
        for line in code.lines().map(str::trim) {
            let declaration = line.strip_prefix("pub ").unwrap_or(line);
            if let Some(child) = declaration
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'))
            {
                uses.insert(format!("{module}::{child}"));
            }
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

fn top_level(module: &str) -> String {
    module.split("::").take(2).collect::<Vec<_>>().join("::")
}

#[test]
fn modules_form_a_line() {
    let graph = graph();
    for (module, uses) in &graph {
        println!(
            "{module} -> {}",
            Vec::from_iter(uses.iter().cloned()).join(", ")
        );
    }
    let mut problems = Vec::new();
    for (module, uses) in &graph {
        for used in uses {
            // No submodule imports its parent (or any ancestor).
            if module.starts_with(&format!("{used}::")) {
                problems.push(format!("{module} uses its ancestor {used}"));
            }
            // Top-level modules only use the layers below them.
            let (from, to) = (top_level(module), top_level(used));
            if from != to {
                let rank = |m: &str| LAYERS.iter().position(|layer| *layer == m);
                match (rank(&from), rank(&to)) {
                    (Some(a), Some(b)) if a < b => {}
                    (Some(_), Some(_)) => problems.push(format!("{module} uses {used}, above it")),
                    _ => problems.push(format!("{from} or {to} is not in LAYERS")),
                }
            }
        }
    }
    // No cycle (submodules of one layer may use their siblings).
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        problems: &mut Vec<String>,
    ) {
        if let Some(at) = path.iter().position(|m| m == module) {
            problems.push(format!("cycle: {} -> {module}", path[at..].join(" -> ")));
            return;
        }
        if !done.insert(module.to_owned()) {
            return;
        }
        path.push(module.to_owned());
        for used in graph.get(module).into_iter().flatten() {
            visit(used, graph, path, done, problems);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new(), &mut done, &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn only_validate_rejects() {
    // Errors are built by `validate` (through the `errors` accumulator);
    // `expand` only emits the ones it is handed.
    for (module, code) in modules() {
        if module == "crate::errors"
            || module == "crate::validate"
            || module.starts_with("crate::validate::")
        {
            continue;
        }
        for needle in ["Error::new", ".error(", "compile_error!"] {
            assert!(!code.contains(needle), "{module} contains `{needle}`");
        }
    }
}

#[test]
fn primitives_are_listed_once() {
    let listing: Vec<String> = modules()
        .into_iter()
        .filter(|(_, code)| code.contains("\"isize\""))
        .map(|(module, _)| module)
        .collect();
    assert_eq!(listing, ["crate::model"]);
}

/// The macro's primitive list is the runtime's table (`primitives.rs`,
/// which drives every per-primitive impl) plus `bool`, in the same order.
#[test]
fn primitives_match_the_runtime_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let runtime = read(&root.join("../ffi-export-runtime/src/primitives.rs"));
    // Rows look like `i8: signed, 1, b"b";`.
    let mut expected: Vec<String> = runtime
        .lines()
        .filter_map(|line| line.trim().split_once(": "))
        .filter(|(_, rest)| {
            ["signed,", "unsigned,", "float,"]
                .iter()
                .any(|class| rest.starts_with(class))
        })
        .map(|(name, _)| name.to_owned())
        .collect();
    assert!(
        expected.len() >= 12,
        "could not read the runtime's table: {expected:?}"
    );
    expected.push("bool".to_owned());
    let model = read(&root.join("src/model.rs"));
    let listed = model
        .split("pub const PRIMITIVES")
        .nth(1)
        .and_then(|rest| rest.split('[').nth(2))
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_default();
    let listed: Vec<String> = listed
        .split(',')
        .map(|name| name.trim().trim_matches('"').to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    let mut sorted_expected = expected.clone();
    sorted_expected.sort();
    let mut sorted_listed = listed.clone();
    sorted_listed.sort();
    assert_eq!(
        sorted_listed, sorted_expected,
        "the macro's PRIMITIVES and the runtime's table differ"
    );
}
