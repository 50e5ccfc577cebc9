//! `completions SHELL` and the hidden `man`: a shell completion script and the roff man page, both
//! generated from the same command definition as `--help`, so they know every command's own flags
//! and the possible values of each.
//!
//! Both are rendered into memory first: the generators treat a failed write as a bug and panic,
//! while a closed stdout (`| head`) is normal here and ends the command quietly, as `sample` does.

use std::io::{self, Write};

use clap_complete::Shell;

use crate::{app::cli, settings::exit::Failure};

/// Prints the completion script for `shell` on stdout.
pub(super) fn completions(shell: Shell) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cli::command(), "shoe-producer", &mut script);
    print(&script, "the completion script")
}

/// Prints the man page (roff) on stdout; the release ships it as `shoe-producer.1`.
pub(super) fn man() -> Result<(), Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cli::command())
        .render(&mut page)
        .map_err(|e| Failure::runtime(format!("cannot render the man page: {e}")))?;
    print(&page, "the man page")
}

fn print(bytes: &[u8], what: &str) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => Err(Failure::runtime(format!(
            "cannot write {what} to stdout: {error}"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: Shell) -> String {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cli::command(), "shoe-producer", &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn completion_scripts_know_commands_flags_and_values() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let text = script(shell);
            for word in ["sample", "bootstrap-servers", "round-robin"] {
                assert!(text.contains(word), "{shell}: {word} missing");
            }
        }
    }

    #[test]
    fn the_man_page_is_roff_with_every_command() {
        let mut page = Vec::new();
        clap_mangen::Man::new(cli::command())
            .render(&mut page)
            .unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.starts_with(".ie"), "{}", &page[..page.len().min(200)]);
        assert!(page.contains(".TH shoe-producer 1"), "{page}");
        for word in [
            "produce",
            "check",
            "register",
            "sample",
            "completions",
            "bootstrap\\-servers",
        ] {
            assert!(page.contains(word), "{word} missing");
        }
    }
}
