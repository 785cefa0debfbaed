//! The code's shape, checked on every test run: no import cycle between the
//! modules of `src/` (a module's edges are its `crate::` and `super::`
//! references), no function longer than 150 lines, and deploy's driver
//! (`deploy::run`) short enough to read as the graph it runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LONGEST_FN: usize = 150;
const LONGEST_DRIVER: usize = 100;

fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out.sort();
    out
}

/// `resources::keypair` for src/resources/keypair.rs (`mod.rs`, `lib.rs`:
/// their directory's module).
fn module_of(path: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rel = path.strip_prefix(&src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    if parts.first().map(String::as_str) == Some("bin") {
        return format!("bin::{}", parts[1..].join("::"));
    }
    if parts.is_empty() {
        "crate".into()
    } else {
        parts.join("::")
    }
}

/// The text with comments, strings and char literals blanked (line breaks
/// kept), so braces and paths are counted in code only.
fn blank(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep_lines = |s: &[char], out: &mut String| {
        for c in s {
            out.push(if *c == '\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(&['/', '/']) {
            let end = rest.iter().position(|c| *c == '\n').unwrap_or(rest.len());
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with(&['/', '*']) {
            let end = (2..rest.len())
                .find(|j| rest[*j - 1] == '*' && rest[*j] == '/')
                .map_or(rest.len(), |j| j + 1);
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == 'r'
            && (rest.get(1) == Some(&'"') || rest.get(1) == Some(&'#'))
            && (i == 0 || !(b[i - 1].is_alphanumeric() || b[i - 1] == '_'))
        {
            let hashes = rest[1..].iter().take_while(|c| **c == '#').count();
            if rest.get(1 + hashes) != Some(&'"') {
                out.push(rest[0]);
                i += 1;
                continue;
            }
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let start = 2 + hashes;
            let end = (start..rest.len())
                .find(|j| rest[*j..].starts_with(&close))
                .map_or(rest.len(), |j| j + close.len());
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == '"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != '"' {
                j += if rest[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == '\''
            && (rest.get(2) == Some(&'\'')
                || (rest.get(1) == Some(&'\\') && rest.get(3) == Some(&'\'')))
        {
            let end = if rest[1] == '\\' { 4 } else { 3 };
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    out
}

/// The text without `#[cfg(test)] mod ... { ... }` blocks.
fn without_tests(code: &str) -> String {
    let mut out = code.to_string();
    while let Some(at) = out.find("#[cfg(test)]") {
        let Some(open) = out[at..].find('{').map(|o| at + o) else {
            break;
        };
        let mut depth = 0;
        let mut end = out.len();
        for (k, c) in out[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let blanked: String = out[at..end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(at..end, &blanked);
    }
    out
}

fn ident_at(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The modules each module refers to.
fn edges(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<&str> = files.iter().map(|(m, _)| m.as_str()).collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, code) in files {
        let mut targets = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            // The longest known module the path names.
            let mut path = Vec::new();
            let mut rest = &code[at + "crate::".len()..];
            loop {
                let id = ident_at(rest);
                if id.is_empty() {
                    break;
                }
                path.push(id.clone());
                rest = &rest[id.len()..];
                match rest.strip_prefix("::") {
                    Some(r) => rest = r,
                    None => break,
                }
            }
            while !path.is_empty() && !known.contains(path.join("::").as_str()) {
                path.pop();
            }
            if !path.is_empty() {
                targets.insert(path.join("::"));
            }
        }
        for (at, _) in code.match_indices("super::") {
            let parent = module
                .rsplit_once("::")
                .map(|(p, _)| p.to_string())
                .unwrap_or_else(|| "crate".into());
            let id = ident_at(&code[at + "super::".len()..]);
            let child = if parent == "crate" {
                id.clone()
            } else {
                format!("{parent}::{id}")
            };
            targets.insert(if known.contains(child.as_str()) {
                child
            } else {
                parent
            });
        }
        targets.remove(module);
        targets.remove("crate");
        out.insert(module.clone(), targets);
    }
    out
}

/// Strongly connected components of more than one module (Tarjan).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.g.contains_key(w) {
                continue;
            }
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// Every `fn` of the code and its length in lines, from `fn` to its closing
/// brace.
fn functions(code: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    for (at, _) in code.match_indices("fn ") {
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue;
        }
        let name = ident_at(&code[at + 3..]);
        if name.is_empty() {
            continue;
        }
        // The body: the first `{` before any `;` (a declaration has none).
        let rest = &code[at..];
        let Some(open) = rest
            .find(['{', ';'])
            .filter(|o| rest.as_bytes()[*o] == b'{')
        else {
            continue;
        };
        let mut depth = 0;
        let mut end = None;
        for (k, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(open + k);
                        break;
                    }
                }
                _ => {}
            }
        }
        if let Some(end) = end {
            out.push((name, rest[..end].lines().count()));
        }
    }
    out
}

fn files() -> Vec<(String, String)> {
    sources()
        .iter()
        .map(|p| {
            (
                module_of(p),
                without_tests(&blank(&std::fs::read_to_string(p).unwrap())),
            )
        })
        .collect()
}

#[test]
fn no_module_imports_its_importers() {
    let found = cycles(&edges(&files()));
    assert!(found.is_empty(), "import cycles between modules: {found:?}");
}

#[test]
fn the_checker_sees_a_cycle_and_a_long_function() {
    // The checks themselves, on made-up code: a cycle through super:: and
    // crate::, and a function of 151 lines.
    let made = vec![
        ("a".to_string(), "use crate::b::x; fn f() {}".to_string()),
        ("b".to_string(), "use crate::c::y;".to_string()),
        ("c".to_string(), "fn g() { crate::a::f() }".to_string()),
        ("d::e".to_string(), "use super::f;".to_string()),
        ("d::f".to_string(), "use crate::d::e::z;".to_string()),
        (
            "g".to_string(),
            blank("// crate::a in a comment\nlet s = \"crate::a\";"),
        ),
    ];
    let found = cycles(&edges(&made));
    assert_eq!(found, vec![vec!["a", "b", "c"], vec!["d::e", "d::f"]]);
    let long = format!("fn long() {{\n{}}}", "x();\n".repeat(150));
    assert_eq!(functions(&long), vec![("long".to_string(), 151)]);
    assert!(functions(&blank("// fn nope() {}\nfn yes() {}\n"))
        .iter()
        .all(|(n, _)| n == "yes"));
}

#[test]
fn no_function_is_longer_than_150_lines_and_the_driver_reads_in_100() {
    let mut too_long = Vec::new();
    for (module, code) in files() {
        for (name, lines) in functions(&code) {
            if lines > LONGEST_FN {
                too_long.push(format!("{module}::{name} ({lines} lines)"));
            }
            if module == "deploy" && name == "run" {
                assert!(lines <= LONGEST_DRIVER, "deploy::run is {lines} lines");
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "longer than {LONGEST_FN} lines: {too_long:?}"
    );
}
