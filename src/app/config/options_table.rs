//! The README's options tables, generated from the declarations, so the documentation cannot drift
//! from the flags. A test compares README.md's copy (between `<!-- options:start -->` and
//! `<!-- options:end -->`) with what the declarations give; `UPDATE_README=1 cargo test --lib
//! options_table` rewrites it.

use super::{
    declarations::ALL,
    setting::{Heading, Kind, Property, Spec},
};
use crate::app::command::Command;

/// Markdown: one table per heading, every setting with its flag, environment variable,
/// `client.properties` keys, default, commands and meaning.
pub(super) fn options_table() -> String {
    let mut out = String::new();
    for heading in Heading::ALL {
        out.push_str(&format!("\n#### {}\n\n", heading.title()));
        out.push_str(
            "| flag | environment variable | `client.properties` | default | commands | meaning |\n",
        );
        out.push_str("|---|---|---|---|---|---|\n");
        for setting in ALL.iter().filter(|s| s.spec().heading == heading) {
            let spec = setting.spec();
            let row = [
                flag_cell(spec),
                spec.env.map(code).unwrap_or_default(),
                properties_cell(spec),
                default_cell(spec),
                commands_cell(spec),
                meaning_cell(spec),
            ];
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
    }
    out
}

fn code(text: &str) -> String {
    format!("`{text}`")
}

/// Text made safe for a table cell that is not code.
fn escaped(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn flag_cell(spec: &Spec) -> String {
    let mut flag = format!("--{}", spec.long);
    if spec.kind == Kind::Value {
        flag.push(' ');
        flag.push_str(spec.value_name);
    }
    let mut cell = match spec.short {
        Some(short) => format!("`-{short}`, {}", code(&flag)),
        None => code(&flag),
    };
    for alias in spec.aliases {
        cell.push_str(&format!(" (also `--{alias}`)"));
    }
    cell.replace('|', "\\|")
}

fn properties_cell(spec: &Spec) -> String {
    spec.properties
        .iter()
        .map(|property| match property {
            Property::Millis(key) => format!("`{key}` (ms)"),
            Property::Negated(key) => format!("`{key}` (negated)"),
            other => code(other.key()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn default_cell(spec: &Spec) -> String {
    match (spec.default, spec.required_by) {
        (Some(default), _) => code(default),
        (None, []) if spec.kind == Kind::Switch => "off".to_owned(),
        (None, []) => "—".to_owned(),
        (None, required_by) => format!("required for {}", names(required_by)),
    }
}

fn commands_cell(spec: &Spec) -> String {
    if Command::WITH_SETTINGS.iter().all(|c| spec.takes(*c)) {
        "all".to_owned()
    } else {
        names(spec.commands)
    }
}

fn names(commands: &[Command]) -> String {
    commands
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn meaning_cell(spec: &Spec) -> String {
    let mut meaning = escaped(&spec.help_text());
    let possible = (spec.possible)();
    if !possible.is_empty() {
        let values: Vec<String> = possible.iter().map(|v| code(v)).collect();
        meaning.push_str(&format!(" One of {}.", values.join(", ")));
    }
    meaning
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "<!-- options:start -->\n";
    const END: &str = "<!-- options:end -->";

    #[test]
    fn readme_options_table_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let start = readme
            .find(START)
            .expect("README.md has the options:start marker")
            + START.len();
        let end = readme
            .find(END)
            .expect("README.md has the options:end marker");
        let expected = format!("{}\n", options_table());
        if readme[start..end] == expected {
            return;
        }
        if std::env::var_os("UPDATE_README").is_some() {
            let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
            std::fs::write(path, updated).unwrap();
            return;
        }
        panic!(
            "README.md's options table differs from the setting declarations; regenerate it with \
             `UPDATE_README=1 cargo test --lib options_table`"
        );
    }

    #[test]
    fn every_setting_has_a_row_and_cells_stay_in_their_columns() {
        let table = options_table();
        for setting in ALL {
            let spec = setting.spec();
            let flag = format!("--{}", spec.long);
            let rows = table
                .lines()
                .filter_map(|line| line.strip_prefix("| ")?.split(" | ").next())
                .filter(|cell| {
                    cell.contains(&format!("`{flag} ")) || cell.contains(&format!("`{flag}`"))
                })
                .count();
            assert_eq!(rows, 1, "{flag}");
        }
        for line in table.lines().filter(|l| l.starts_with("| `")) {
            let cells = line.replace("\\|", "").matches('|').count();
            assert_eq!(cells, 7, "{line}");
        }
    }
}
