//! The layer map at the top of `src/lib.rs` is the rule: each layer's line names the layers its code
//! may use. This reads the map and every source file of each layer, and fails when a file names a
//! layer its line does not allow — so the map and the imports cannot drift apart.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `layer → the layers it may use`, from lines like ``//! - [`kafka`] (uses settings, support) — …``.
fn map() -> BTreeMap<String, BTreeSet<String>> {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("src/lib.rs");
    let mut map = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.strip_prefix("//! - [`") else {
            continue;
        };
        let (layer, rest) = rest.split_once("`]").expect("a layer name in backticks");
        let uses = rest
            .trim_start()
            .strip_prefix("(uses ")
            .and_then(|r| r.split_once(')'))
            .unwrap_or_else(|| panic!("the map line of `{layer}` says what it uses: (uses …)"))
            .0;
        let allowed = uses
            .split(',')
            .map(str::trim)
            .filter(|name| *name != "nothing")
            .map(str::to_owned)
            .collect();
        map.insert(layer.to_owned(), allowed);
    }
    map
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate's top-level modules that `text` names through `crate::` paths, `crate::{a, b::c}`
/// groups included.
fn named_layers(text: &str, layers: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let heads: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            // The group's top-level items, up to its closing brace.
            let (mut depth, mut start, mut heads) = (1usize, 0usize, Vec::new());
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            heads.push(&group[start..i]);
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        heads.push(&group[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            heads
        } else {
            vec![rest]
        };
        for head in heads {
            let name: String = head
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if layers.contains_key(&name) {
                named.insert(name);
            }
        }
    }
    named
}

#[test]
fn every_layer_uses_only_what_the_map_in_lib_rs_allows() {
    let map = map();
    assert!(
        map.len() >= 8,
        "the map in src/lib.rs lists the layers: {map:?}"
    );
    let mut crossings = Vec::new();
    for (layer, allowed) in &map {
        let root = src().join(layer);
        let mut files = Vec::new();
        if root.is_dir() {
            sources(&root, &mut files);
        }
        let single = src().join(format!("{layer}.rs"));
        if single.is_file() {
            files.push(single);
        }
        assert!(!files.is_empty(), "layer `{layer}` has no sources");
        for file in files {
            let text = fs::read_to_string(&file).expect("a source file");
            for named in named_layers(&text, &map) {
                if named != *layer && !allowed.contains(&named) {
                    crossings.push(format!("{} uses `{named}`", file.display()));
                }
            }
        }
    }
    assert!(
        crossings.is_empty(),
        "imports that the layer map in src/lib.rs does not allow:\n{}",
        crossings.join("\n")
    );
}

#[test]
fn the_scanner_sees_single_paths_and_groups() {
    let layers: BTreeMap<String, BTreeSet<String>> = ["app", "kafka", "settings", "support"]
        .iter()
        .map(|l| (l.to_string(), BTreeSet::new()))
        .collect();
    let text = "use crate::{settings::{A, B}, support::x};\nlet c = crate::app::cli::command();";
    let named = named_layers(text, &layers);
    assert_eq!(
        named.into_iter().collect::<Vec<_>>(),
        ["app", "settings", "support"]
    );
}
