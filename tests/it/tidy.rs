//! Tidy: the architecture of ARCHITECTURE.md, checked against the code. A room
//! is a top-level module of the library (`src/domain/`, `src/auth.rs`, …); the
//! binary (`src/main.rs` and the modules it declares) is the room `cli`. A room
//! may use the rooms of lower layers in `LAYERS`, plus the same-layer arrows the
//! table names (`domain -> schedule`); the modules of one directory must not
//! import each other in a cycle; and ARCHITECTURE.md prints `LAYERS` verbatim.
//! To change the layering, edit `LAYERS` and the table in ARCHITECTURE.md in the
//! same commit (`architecture_md_prints_the_table` prints the text to paste).
//! std only: a small lexer finds `crate::…` paths (`sauve::…` in the binary)
//! outside comments and strings, and follows imports such as `domain::Job`.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

/// The table of ARCHITECTURE.md: layer, rooms, what they may use. The rule is
/// "any lower layer"; an arrow `a -> b` in the third column also allows that one
/// same-layer edge, so the text people read is the rule the test applies.
#[rustfmt::skip]
const LAYERS: &[(u8, &str, &str)] = &[
    (0, "domain, schedule, policy, auth", "nothing of ours (except domain -> schedule, domain -> policy)"),
    (1, "store, storage, secrets", "layer 0"),
    (2, "pipeline, restore, notify", "layers 0-1 (and restore -> pipeline)"),
    (3, "runner",                 "layers 0-2"),
    (4, "service",                "layers 0-3"),
    (5, "scheduler, server, cli", "layers 0-4 (and cli -> server, cli -> scheduler)"),
];
/// A module path starts with its crate: the library, or the binary (room `cli`).
const LIB: &str = "sauve";
const BIN: &str = "main";

/// A module path, crate first: `[sauve, domain, job]`.
type Segs = Vec<String>;

/// One use of a path: rooms `from` -> `to`, or (`sibling`) two modules of one
/// directory, shown as `src/domain/job.rs` or `src/pipeline/sources/`.
#[derive(Debug)]
struct Edge {
    sibling: bool,
    from: String,
    to: String,
    file: String,
    line: usize,
    text: String,
}

#[derive(Debug, Default)]
struct Graph {
    rooms: BTreeMap<String, String>, // room -> where it lives
    edges: Vec<Edge>,
}

#[derive(Debug)]
struct Problem(String);

// ---- Lexing: comments and literals blanked out, newlines kept for line numbers.

fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let at = |j: usize| c.get(j).copied().unwrap_or('\0');
    let close = |mut j: usize, quote: char| {
        while j < c.len() && c[j] != quote {
            j += if c[j] == '\\' { 2 } else { 1 };
        }
        j + 1
    };
    let (mut out, mut i) = (String::with_capacity(src.len()), 0);
    while i < c.len() {
        let after_ident = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        let raw = raw_string_end(&c, i).filter(|_| !after_ident);
        let end = match (c[i], at(i + 1), raw) {
            ('/', '/', _) => (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len()),
            ('/', '*', _) => {
                let (mut j, mut depth) = (i + 2, 1); // block comments nest
                while j < c.len() && depth > 0 {
                    match (c[j], at(j + 1)) {
                        ('/', '*') => (depth, j) = (depth + 1, j + 2),
                        ('*', '/') => (depth, j) = (depth - 1, j + 2),
                        _ => j += 1,
                    }
                }
                j
            }
            (_, _, Some(j)) => j,
            ('"', _, _) => close(i + 1, '"'),
            // A char literal; a lifetime or label (`'a`) has no closing quote.
            ('\'', next, _) if next == '\\' || at(i + 2) == '\'' => close(i + 1, '\''),
            _ => {
                out.push(c[i]);
                i += 1;
                continue;
            }
        };
        for &ch in &c[i..end.min(c.len())] {
            out.push(if ch == '\n' { ch } else { ' ' });
        }
        i = end;
    }
    out
}

/// Where `r"…"`, `r#"…"#` or `br#"…"#` ends, if one starts at `i`.
fn raw_string_end(c: &[char], i: usize) -> Option<usize> {
    let r = i + usize::from(matches!(c.get(i), Some('b' | 'c')));
    let hashes = c.get(r + 1..)?.iter().take_while(|&&ch| ch == '#').count();
    if c.get(r) != Some(&'r') || c.get(r + 1 + hashes) != Some(&'"') {
        return None;
    }
    let close = [vec!['"'], vec!['#'; hashes]].concat();
    let end = (r + 2 + hashes..c.len()).find(|&j| c[j..].starts_with(&close));
    Some(end.map_or(c.len(), |j| j + close.len()))
}

/// Identifiers, `::` and single punctuation characters, each with its line.
fn tokens(code: &str) -> Vec<(String, usize)> {
    let (c, mut out, mut line, mut i) = (code.chars().collect::<Vec<_>>(), vec![], 1, 0);
    while i < c.len() {
        let start = i;
        i += 1;
        if c[start] == '\n' {
            line += 1;
        } else if c[start].is_alphanumeric() || c[start] == '_' || c[start] == '$' {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push((c[start..i].iter().collect(), line));
        } else if c[start] == ':' && c.get(i) == Some(&':') {
            i += 1;
            out.push(("::".to_string(), line));
        } else if !c[start].is_whitespace() {
            out.push((c[start].to_string(), line));
        }
    }
    out
}

fn is_ident(t: &str) -> bool {
    t.starts_with(|ch: char| ch.is_alphabetic() || ch == '_' || ch == '$')
}

// ---- Parsing one file: every rooted path, every `use` leaf, the names it defines.

/// A path as written (`self` leaves dropped), the name it brings into scope
/// (`None` for a glob), and the module it is written in (inline `mod`s included).
#[derive(Debug, Clone)]
struct Leaf {
    segs: Segs,
    name: Option<String>,
    line: usize,
    base: Segs,
}

#[derive(Default)]
struct Parsed {
    refs: Vec<Leaf>,
    imports: Vec<Leaf>,
    defines: HashSet<String>,
    mods: Vec<String>,
}

fn parse(code: &str, module: &[String]) -> Parsed {
    let t = tokens(code);
    let tok = |i: usize| t.get(i).map_or("", |x| x.0.as_str());
    let (mut p, mut depth, mut i) = (Parsed::default(), 0, 0);
    let mut inline: Vec<(String, usize)> = vec![]; // `mod tests { … }`: name, depth
    let here = |inline: &[(String, usize)]| {
        let names = inline.iter().map(|m| m.0.clone());
        module.iter().cloned().chain(names).collect::<Segs>()
    };
    while i < t.len() {
        match tok(i) {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if inline.last().is_some_and(|m| m.1 == depth) {
                    inline.pop();
                }
            }
            "mod" if tok(i + 2) == "{" => inline.push((tok(i + 1).to_string(), depth)),
            "mod" if tok(i + 2) == ";" => p.mods.push(tok(i + 1).to_string()),
            "fn" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "union" => {
                p.defines.insert(tok(i + 1).to_string());
            }
            "use" => {
                i += 1;
                let mut leaves = vec![];
                use_tree(&t, &mut i, vec![], &mut leaves);
                leaves.iter_mut().for_each(|l| l.base = here(&inline));
                // A file-level `use` is an item: children (and, if pub, anyone) may
                // name it through this module, as in `crate::domain::Job`.
                if depth == 0 && inline.is_empty() {
                    p.imports.extend(leaves.iter().cloned());
                }
                p.refs.extend(leaves);
                continue;
            }
            "crate" | "$crate" | "super" | "self" | LIB
                if tok(i + 1) == "::" && (i == 0 || tok(i - 1) != "::") =>
            {
                let (mut segs, line) = (vec![tok(i).to_string()], t[i].1);
                while tok(i + 1) == "::" && is_ident(tok(i + 2)) {
                    segs.push(tok(i + 2).to_string());
                    i += 2;
                }
                let (name, base) = (segs.last().cloned(), here(&inline));
                p.refs.push(Leaf {
                    segs,
                    name,
                    line,
                    base,
                });
            }
            _ => {}
        }
        i += 1;
    }
    p
}

/// One use tree from `*i` (`a::b`, `a::{b, c::{self, d as e}}`, `a::*`), into `out`.
fn use_tree(t: &[(String, usize)], i: &mut usize, mut segs: Segs, out: &mut Vec<Leaf>) {
    let tok = |i: usize| t.get(i).map_or("", |x| x.0.as_str());
    while *i < t.len() {
        let (word, line) = (tok(*i), t[*i].1);
        *i += 1;
        let name = match word {
            "::" => continue,
            "{" => loop {
                use_tree(t, i, segs.clone(), out);
                *i += 1; // past the `,` or the `}`
                if tok(*i - 1) != "," {
                    return;
                }
            },
            "*" => None,
            _ if is_ident(word) => {
                segs.push(word.to_string());
                if tok(*i) == "::" {
                    continue;
                }
                if segs.len() > 1 && word == "self" {
                    segs.pop();
                }
                if tok(*i) == "as" {
                    *i += 2;
                    Some(tok(*i - 1).to_string())
                } else {
                    segs.last().cloned()
                }
            }
            _ => {
                *i -= 1; // a `,`, `}` or `;`: the caller's
                return;
            }
        };
        let base = vec![]; // the caller's module, set by `parse`
        out.push(Leaf {
            segs,
            name,
            line,
            base,
        });
        return;
    }
}

// ---- Resolving: a written path -> the module path it names, through imports.

#[derive(Default)]
struct Modules {
    shown: HashMap<Segs, String>, // every file module -> `src/domain/job.rs`, `src/store/`
    imports: HashMap<Segs, Vec<(Option<String>, Segs)>>, // its file-level `use`s: name -> path
    names: HashMap<Segs, HashSet<String>>, // the items it defines or imports
}

impl Modules {
    fn known(&self, m: &[String]) -> bool {
        self.shown.contains_key(m)
    }

    /// `None` for other crates: std, tokio, …
    fn absolute(&self, base: &[String], segs: &[String]) -> Option<Segs> {
        let mut p = base.to_vec();
        for (i, s) in segs.iter().enumerate() {
            match s.as_str() {
                "crate" | "$crate" if i == 0 => p.truncate(1),
                "self" if i == 0 => {}
                "super" if p.len() < 2 => return None,
                "super" => {
                    p.pop();
                }
                LIB if i == 0 && p[0] == BIN => p = vec![LIB.to_string()],
                _ if i == 0 && !self.known(&[base, &segs[..1]].concat()) => return None,
                _ => p.push(s.clone()),
            }
        }
        Some(p)
    }

    /// Follows imports until the path names a module, or an item no import renames:
    /// `[sauve, domain, ValidationErrors]` -> `[sauve, domain, validation, ValidationErrors]`.
    fn canonical(&self, mut p: Segs) -> Segs {
        'again: for _ in 0..16 {
            for k in 1..p.len() {
                if self.known(&p[..=k]) {
                    continue;
                }
                if let Some(to) = self.lookup(&p[..k], &p[k]) {
                    p = [to, p[k + 1..].to_vec()].concat();
                    continue 'again;
                }
                break;
            }
            break;
        }
        p
    }

    fn lookup(&self, m: &[String], name: &str) -> Option<Segs> {
        let imports = self.imports.get(m)?;
        if let Some((_, to)) = imports.iter().find(|(n, _)| n.as_deref() == Some(name)) {
            return Some(to.clone());
        }
        // `pub use job::*`: the glob whose module has the name.
        let has = |g: &Segs| self.names.get(g).is_some_and(|n| n.contains(name));
        let (_, g) = imports.iter().find(|(n, g)| n.is_none() && has(g))?;
        Some([g.clone(), vec![name.to_string()]].concat())
    }

    fn room(&self, m: &[String]) -> Option<String> {
        match m {
            [k, ..] if k == BIN => Some("cli".to_string()),
            [_, room, ..] if self.known(&m[..2]) => Some(room.clone()),
            _ => None,
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for path in entries.map(|e| e.unwrap().path()) {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `domain/job.rs` -> `[sauve, domain, job]`; `main.rs` -> `[main]`; `cli.rs` -> `[main, cli]`.
fn module_of(rel: &str, bin_mods: &[String]) -> Segs {
    let mut segs: Segs = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if segs.last().is_some_and(|s| s == "mod") || rel == "lib.rs" || rel == "main.rs" {
        segs.pop();
    }
    let bin = rel == "main.rs" || segs.first().is_some_and(|s| bin_mods.contains(s));
    [vec![if bin { BIN } else { LIB }.to_string()], segs].concat()
}

/// Every room and every edge (room -> room, sibling -> sibling) under `root/src`.
fn scan(root: &Path) -> Graph {
    let src = root.join("src");
    let mut paths = vec![];
    rust_files(&src, &mut paths);
    paths.sort();
    let relative = |f: &PathBuf| {
        f.strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/")
    };
    let rel: Vec<String> = paths.iter().map(relative).collect();
    let read = |f: &PathBuf| strip(&fs::read_to_string(f).unwrap());
    let code: Vec<String> = paths.iter().map(read).collect();
    // The binary's own modules are the ones main.rs declares (`mod cli;`).
    let main = rel.iter().position(|r| r == "main.rs");
    let bin_mods = main.map_or(vec![], |k| parse(&code[k], &[]).mods);
    let modules: Vec<Segs> = rel.iter().map(|r| module_of(r, &bin_mods)).collect();
    let mut m = Modules::default();
    for (module, rel) in modules.iter().zip(&rel) {
        let shown = format!("src/{}", rel.strip_suffix("mod.rs").unwrap_or(rel));
        m.shown.insert(module.clone(), shown);
    }
    let parsed: Vec<Parsed> = modules
        .iter()
        .zip(&code)
        .map(|(m, c)| parse(c, m))
        .collect();
    for (module, p) in modules.iter().zip(&parsed) {
        let imports: Vec<(Option<String>, Segs)> = p
            .imports
            .iter()
            .filter_map(|l| Some((l.name.clone(), m.absolute(&l.base, &l.segs)?)))
            .collect();
        let mut names = p.defines.clone();
        names.extend(imports.iter().filter_map(|i| i.0.clone()));
        m.names.insert(module.clone(), names);
        m.imports.insert(module.clone(), imports);
    }
    let mut g = Graph::default();
    for ((rel, module), p) in rel.iter().zip(&modules).zip(&parsed) {
        if let Some(room) = m.room(module) {
            let home = m.shown[&module[..module.len().min(2)]].clone();
            g.rooms.entry(room).or_insert(home);
        }
        for leaf in &p.refs {
            let Some(target) = m.absolute(&leaf.base, &leaf.segs) else {
                continue;
            };
            let target = m.canonical(target);
            let text = leaf.segs.join("::") + if leaf.name.is_none() { "::*" } else { "" };
            let (file, line) = (format!("src/{rel}"), leaf.line);
            let edge = |sibling, from, to| Edge {
                sibling,
                from,
                to,
                file: file.clone(),
                line,
                text: text.clone(),
            };
            if let (Some(a), Some(b)) = (m.room(module), m.room(&target))
                && a != b
            {
                g.edges.push(edge(false, a, b));
            }
            // In the directory where the two paths part: one child uses another.
            for d in 2..module.len() {
                let (from, to) = (&module[..=d], target.get(..=d).unwrap_or(&[]));
                if to.len() > d
                    && to[..d] == from[..d]
                    && to[d] != from[d]
                    && m.known(to)
                    && m.known(from)
                {
                    g.edges
                        .push(edge(true, m.shown[from].clone(), m.shown[to].clone()));
                }
            }
        }
    }
    g
}

// ---- The checks.

fn layer_of(room: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|l| l.1.split(", ").any(|r| r == room))
        .map(|l| l.0)
}

/// The same-layer arrows written in the table's third column.
fn same_layer_arrows() -> Vec<(String, String)> {
    let word = |w: &str| w.trim_matches(['(', ')', ',']).to_string();
    let mut arrows = vec![];
    for (_, _, may_use) in LAYERS {
        let words: Vec<&str> = may_use.split_whitespace().collect();
        for w in words.windows(3).filter(|w| w[1] == "->") {
            arrows.push((word(w[0]), word(w[2])));
        }
    }
    arrows
}

fn check_layers(g: &Graph) -> Vec<Problem> {
    let unknown = g.rooms.iter().filter(|(r, _)| layer_of(r).is_none());
    let mut out: Vec<Problem> = unknown
        .map(|(r, at)| {
            Problem(format!(
                "{at}: room `{r}` is not in the table of ARCHITECTURE.md: add it to the table \
                 (LAYERS in tests/it/tidy.rs and ARCHITECTURE.md, in one commit)"
            ))
        })
        .collect();
    let arrows = same_layer_arrows();
    // One line per file and room it must not use: the first use, and how many more.
    let mut bad: BTreeMap<(&str, &str), Vec<&Edge>> = BTreeMap::new();
    for e in g.edges.iter().filter(|e| !e.sibling) {
        // An edge to or from a room not in the table is reported above, as that room.
        let (Some(a), Some(b)) = (layer_of(&e.from), layer_of(&e.to)) else {
            continue;
        };
        if b >= a && !arrows.iter().any(|(x, y)| *x == e.from && *y == e.to) {
            bad.entry((&e.file, &e.to)).or_default().push(e);
        }
    }
    for uses in bad.values() {
        let e = uses[0];
        let (a, b) = (layer_of(&e.from).unwrap(), layer_of(&e.to).unwrap());
        let more = match uses.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more in this file)"),
        };
        out.push(Problem(format!(
            "{}:{} uses {} ({} is layer {a}, {} is layer {b}): \
             not in the table of ARCHITECTURE.md{more}",
            e.file, e.line, e.text, e.from, e.to
        )));
    }
    out
}

/// For every node on a cycle, a shortest cycle through it (each printed once).
fn cycles(edges: &[&Edge]) -> BTreeSet<Vec<String>> {
    let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in edges {
        next.entry(&e.from).or_default().insert(&e.to);
    }
    let mut found = BTreeSet::new();
    for &start in next.keys() {
        let (mut prev, mut queue) = (HashMap::new(), VecDeque::from([start]));
        'bfs: while let Some(n) = queue.pop_front() {
            for &s in next.get(n).into_iter().flatten() {
                if s == start {
                    let mut path = vec![n];
                    while *path.last().unwrap() != start {
                        path.push(prev[path.last().unwrap()]);
                    }
                    path.reverse();
                    let low = (0..path.len()).min_by_key(|&k| path[k]).unwrap();
                    path.rotate_left(low);
                    path.push(path[0]);
                    found.insert(path.iter().map(|s| s.to_string()).collect());
                    break 'bfs;
                }
                if let Entry::Vacant(v) = prev.entry(s) {
                    v.insert(n);
                    queue.push_back(s);
                }
            }
        }
    }
    found
}

fn check_cycles(g: &Graph) -> Vec<Problem> {
    let mut out = vec![];
    for (sibling, kind) in [(false, "rooms"), (true, "sibling modules")] {
        let edges: Vec<&Edge> = g.edges.iter().filter(|e| e.sibling == sibling).collect();
        for cycle in cycles(&edges) {
            let mut msg = format!("cycle between {kind}: {}", cycle.join(" -> "));
            for w in cycle.windows(2) {
                let e = edges
                    .iter()
                    .find(|e| e.from == w[0] && e.to == w[1])
                    .unwrap();
                msg += &format!("\n    {}:{} uses {}", e.file, e.line, e.text);
            }
            out.push(Problem(msg));
        }
    }
    out
}

fn table_markdown() -> String {
    let rows = LAYERS
        .iter()
        .map(|(n, rooms, may)| format!("| {n} | {rooms} | {may} |\n"));
    rows.fold(
        "| layer | rooms | may use |\n|---|---|---|\n".to_string(),
        |t, r| t + &r,
    )
}

/// A table row with the whitespace of its cells normalised; `None` if not a row.
fn table_row(line: &str) -> Option<String> {
    let cells = line
        .trim()
        .strip_prefix('|')?
        .strip_suffix('|')?
        .split('|')
        .map(|c| {
            let c = c.split_whitespace().collect::<Vec<_>>().join(" ");
            let rule = !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':');
            if rule { "---".to_string() } else { c }
        });
    Some(cells.collect::<Vec<_>>().join("|"))
}

/// True if `doc` has the table of `LAYERS` as a whole table: no row more or less.
fn doc_has_table(doc: &str) -> bool {
    let want: Vec<Option<String>> = table_markdown().lines().map(table_row).collect();
    let have: Vec<Option<String>> = doc.lines().map(table_row).collect();
    (0..(have.len() + 1).saturating_sub(want.len())).any(|k| {
        let after = have.get(k + want.len());
        have[k..k + want.len()] == want[..]
            && (k == 0 || have[k - 1].is_none())
            && after.is_none_or(|row| row.is_none())
    })
}

fn repo() -> PathBuf {
    PathBuf::from(option_env!("CARGO_MANIFEST_DIR").unwrap_or("."))
}

fn report(problems: &[Problem], what: &str) -> String {
    let list: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
    format!("{} {what}:\n\n{}\n", problems.len(), list.join("\n"))
}

#[test]
fn layering_follows_the_table() {
    let problems = check_layers(&scan(&repo()));
    let what = "layering problem(s), against the table in ARCHITECTURE.md";
    assert!(problems.is_empty(), "{}", report(&problems, what));
}

#[test]
fn no_cycles_between_siblings() {
    let problems = check_cycles(&scan(&repo()));
    let what = "import cycle(s): break one edge of each";
    assert!(problems.is_empty(), "{}", report(&problems, what));
}

#[test]
fn architecture_md_prints_the_table() {
    let path = repo().join("ARCHITECTURE.md");
    let doc = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table = table_markdown();
    let hint = "ARCHITECTURE.md does not print LAYERS of tests/it/tidy.rs; paste this table";
    assert!(doc_has_table(&doc), "{hint}:\n\n{table}");
}

/// A parser that finds nothing would pass every check above.
#[test]
fn the_scan_sees_the_real_tree() {
    let g = scan(&repo());
    let rooms: Vec<&String> = g.rooms.keys().collect();
    assert!(rooms.len() >= 10, "only {} rooms: {rooms:?}", rooms.len());
    assert!(g.edges.len() >= 100, "only {} edges", g.edges.len());
}

/// Children get a scrubbed environment (ARCHITECTURE.md, pipeline): every
/// one is made by `process::clean_command`, the only `Command::new` outside
/// tests. A second one would inherit every secret of Sauve's environment.
#[test]
fn every_child_process_has_a_clean_environment() {
    let mut files = Vec::new();
    rust_files(&repo().join("src"), &mut files);
    let mut found = Vec::new();
    for f in &files {
        let code = fs::read_to_string(f).unwrap();
        // Test modules sit at the end of a file: only what precedes them ships.
        let shipped = code.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in strip(shipped).lines().enumerate() {
            if line.contains("Command::new(") {
                found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    let allowed =
        |p: &String| p.contains("pipeline/process.rs") && p.contains("Command::new(program)");
    let bad: Vec<&String> = found.iter().filter(|p| !allowed(p)).collect();
    assert!(
        bad.is_empty(),
        "use process::clean_command instead:\n{bad:#?}"
    );
    assert_eq!(
        found.len(),
        1,
        "the one Command::new is in clean_command: {found:#?}"
    );
}

/// The checker's own tests, on small trees written to a temporary directory.
mod the_checker {
    use super::*;

    /// A tree written from `--- path` headers, each followed by that file's text.
    struct Tree(PathBuf);

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn tree(name: &str, spec: &str) -> Tree {
        let root = std::env::temp_dir().join(format!("sauve-tidy-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for file in spec.split("\n--- ").skip(1) {
            let (path, text) = file.split_once('\n').unwrap();
            let path = root.join(path.trim());
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        Tree(root)
    }

    fn edges(g: &Graph) -> Vec<String> {
        let show = |e: &Edge| format!("{} -> {} {}:{} {}", e.from, e.to, e.file, e.line, e.text);
        g.edges.iter().map(show).collect()
    }

    fn messages(problems: Vec<Problem>) -> String {
        problems.into_iter().map(|p| p.0 + "\n").collect()
    }

    #[test]
    fn reports_an_upward_edge_with_file_and_line() {
        let t = tree(
            "upward",
            "
--- src/lib.rs
pub mod domain; pub mod service; pub mod store; pub mod worker;
--- src/domain/mod.rs
pub struct Job;
--- src/store/mod.rs
//! The store.

use crate::domain::Job;
use crate::service::Sauve;
--- src/service/mod.rs
pub struct Sauve;
fn f() { crate::store::open(); crate::store::close() }
--- src/worker.rs
",
        );
        let g = scan(&t.0);
        let layers = messages(check_layers(&g));
        let want =
            "src/store/mod.rs:4 uses crate::service::Sauve (store is layer 1, service is layer 4)";
        assert!(layers.contains(want), "{layers}");
        assert!(
            layers.contains("src/worker.rs: room `worker` is not in the table"),
            "{layers}"
        );
        assert_eq!(layers.lines().count(), 2, "{layers}");
        let cycles = messages(check_cycles(&g));
        let want = "cycle between rooms: service -> store -> service\n    \
                    src/service/mod.rs:2 uses crate::store::open\n    \
                    src/store/mod.rs:4 uses crate::service::Sauve\n";
        assert_eq!(cycles, want);
    }

    #[test]
    fn reports_a_sibling_cycle_through_a_re_export() {
        let t = tree(
            "reexport",
            "
--- src/lib.rs
pub mod domain;
--- src/domain/mod.rs
pub mod destination;
pub mod job;
pub use job::{Job, JobSpec as Spec};
pub fn parse() {}
--- src/domain/job.rs
use super::destination::Destination;
pub struct Job;
pub struct JobSpec;
--- src/domain/destination.rs
pub struct Destination;
fn check(_: crate::domain::Spec) { super::parse() }
",
        );
        let cycles = messages(check_cycles(&scan(&t.0)));
        let want = "cycle between sibling modules: src/domain/destination.rs -> src/domain/job.rs \
                    -> src/domain/destination.rs\n    \
                    src/domain/destination.rs:2 uses crate::domain::Spec\n    \
                    src/domain/job.rs:1 uses super::destination::Destination\n";
        assert_eq!(cycles, want); // and mod.rs <-> its children is no cycle
    }

    #[test]
    fn parses_a_grouped_multi_line_use() {
        let t = tree(
            "grouped",
            "
--- src/lib.rs
pub mod domain; pub mod server; pub mod store;
--- src/domain/mod.rs
pub struct Job; pub struct Run;
--- src/store/mod.rs
pub struct Store;
--- src/server/mod.rs
use crate::{
    domain::{Job, Run as R},
    store::{self, Store},
};
",
        );
        let g = scan(&t.0);
        let want = [
            "server -> domain src/server/mod.rs:2 crate::domain::Job",
            "server -> domain src/server/mod.rs:2 crate::domain::Run",
            "server -> store src/server/mod.rs:3 crate::store",
            "server -> store src/server/mod.rs:3 crate::store::Store",
        ];
        assert_eq!(edges(&g), want);
        assert!(check_layers(&g).is_empty() && check_cycles(&g).is_empty());
    }

    #[test]
    fn ignores_paths_in_comments_and_strings() {
        let t = tree(
            "comments",
            r##"
--- src/lib.rs
pub mod domain; pub mod service; pub mod store;
--- src/domain/mod.rs
pub struct Job;
--- src/store/mod.rs
//! Never `crate::service::Sauve`.
/// Unlike crate::service, …
// crate::service::x
/* crate::service /* nested */ crate::service */
const A: &str = "crate::service::Sauve \" crate::service";
const B: &str = r#"use crate::service;"#;
const C: char = '"';
fn f<'a>(x: &'a str) -> &'a str { x }
use crate::domain::Job;
--- src/service/mod.rs
"##,
        );
        assert_eq!(
            edges(&scan(&t.0)),
            ["store -> domain src/store/mod.rs:9 crate::domain::Job"]
        );
    }

    #[test]
    fn passes_a_clean_tree() {
        let t = tree(
            "clean",
            "
--- src/lib.rs
pub mod domain; pub mod pipeline; pub mod schedule; pub mod service;
--- src/main.rs
mod cli;
use sauve::service::Sauve;
fn main() { cli::run(sauve::domain::Job) }
--- src/cli.rs
pub fn run(_: sauve::domain::Job) { crate::main() }
--- src/domain/mod.rs
mod job;
pub use job::*;
pub fn every() -> crate::schedule::Every { crate::schedule::Every }
--- src/domain/job.rs
pub struct Job;
#[cfg(test)]
mod tests {
    use super::*;
    use super::super::every;
}
--- src/schedule/mod.rs
pub struct Every;
--- src/pipeline/mod.rs
pub mod process;
pub mod sources;
--- src/pipeline/process.rs
pub fn copy_large() {}
--- src/pipeline/sources/mod.rs
mod files;
--- src/pipeline/sources/files.rs
use super::super::process::copy_large;
use crate::domain::Job;
--- src/service/mod.rs
pub struct Sauve;
fn f() { crate::pipeline::process::copy_large(); let _ = crate::domain::Job; }
",
        );
        let g = scan(&t.0);
        let rooms = ["cli", "domain", "pipeline", "schedule", "service"];
        assert_eq!(g.rooms.keys().collect::<Vec<_>>(), rooms);
        let edges = edges(&g);
        let has = |e: &str| edges.iter().any(|x| x.starts_with(e));
        assert!(has(
            "src/pipeline/sources/ -> src/pipeline/process.rs src/pipeline/sources/files.rs:1"
        ));
        assert!(has("domain -> schedule") && has("cli -> service") && has("cli -> domain"));
        let problems = messages(check_layers(&g)) + &messages(check_cycles(&g));
        assert!(problems.is_empty(), "{problems}");
    }

    #[test]
    fn finds_the_table_in_markdown() {
        let spaced = table_markdown()
            .replace("| 3 | runner |", "|  3  |   runner|")
            .replace("|---|---|---|", "| --- | :-- | --- |");
        assert!(doc_has_table(&format!(
            "# Architecture\n\n{spaced}\nText.\n"
        )));
        assert!(!doc_has_table(
            &table_markdown().replace("runner", "runners")
        ));
        assert!(!doc_has_table(&format!(
            "{}| 6 | more | layers 0-5 |\n",
            table_markdown()
        )));
    }
}
