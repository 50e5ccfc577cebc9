//! Colour in text logs, seen from outside the real binary with stderr on a pseudo-terminal: coloured
//! by default, not with `NO_COLOR` set and not empty (no-color.org), and as `--color always|never`
//! says whatever the terminal and `NO_COLOR`. No network: `sample` with a properties file whose
//! unsupported key makes one WARN line.

use crate::support;

use std::{
    ffi::CStr,
    fs::File,
    io::Read,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    process::Stdio,
};

use support::bare_command;

/// The start of a coloured level, as the text logger writes it (SGR, "ESC [").
const ESCAPE: &str = "\x1b[";

/// A new pseudo-terminal: (controller, the terminal a child writes to).
fn pseudo_terminal() -> (File, File) {
    // SAFETY: plain libc calls on descriptors this function owns; every result is checked.
    unsafe {
        let controller = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(controller >= 0, "posix_openpt failed");
        let controller = OwnedFd::from_raw_fd(controller);
        assert_eq!(libc::grantpt(controller.as_raw_fd()), 0, "grantpt");
        assert_eq!(libc::unlockpt(controller.as_raw_fd()), 0, "unlockpt");
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(
            libc::ptsname_r(controller.as_raw_fd(), name.as_mut_ptr(), name.len()),
            0,
            "ptsname_r"
        );
        let path = CStr::from_ptr(name.as_ptr())
            .to_str()
            .expect("a UTF-8 path");
        let terminal = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        (File::from(controller), terminal)
    }
}

/// Runs `sample` with a warning to log, stderr on a terminal (or a pipe when `on_terminal` is false),
/// `no_color` as NO_COLOR and `args`; returns what reached stderr.
fn warning_output(on_terminal: bool, no_color: Option<&str>, args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = dir.path().join("client.properties");
    std::fs::write(&config, "session.timeout.ms=45000\n").expect("write client.properties");
    let mut command = bare_command();
    command
        .args(["sample", "--count", "1", "--config"])
        .arg(&config)
        .args(args)
        .stdout(Stdio::null());
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let stderr = if on_terminal {
        let (mut controller, terminal) = pseudo_terminal();
        let status = command
            .stderr(Stdio::from(terminal))
            .status()
            .expect("run the binary");
        // The command holds the only other copy of the terminal, dropped with it: what it wrote
        // is read, then the read ends (EIO on Linux once no one holds the terminal open).
        drop(command);
        assert!(status.success(), "exit status {status}");
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = controller.read(&mut chunk) {
            bytes.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        let output = command
            .stderr(Stdio::piped())
            .output()
            .expect("run the binary");
        assert!(output.status.success(), "exit status {}", output.status);
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(
        stderr.contains("session.timeout.ms"),
        "no warning about the unsupported key in {stderr:?}"
    );
    stderr
}

#[test]
fn a_terminal_gets_colour_unless_no_color_is_set_and_not_empty() {
    assert!(warning_output(true, None, &[]).contains(ESCAPE));
    assert!(warning_output(true, Some(""), &[]).contains(ESCAPE));
    for value in ["1", "0", "false"] {
        let stderr = warning_output(true, Some(value), &[]);
        assert!(!stderr.contains(ESCAPE), "NO_COLOR={value}: {stderr:?}");
    }
}

#[test]
fn a_pipe_gets_no_colour_by_default() {
    assert!(!warning_output(false, None, &[]).contains(ESCAPE));
}

#[test]
fn the_color_flag_overrides_the_terminal_and_no_color() {
    assert!(warning_output(false, Some("1"), &["--color", "always"]).contains(ESCAPE));
    assert!(!warning_output(true, None, &["--color", "never"]).contains(ESCAPE));
    assert!(
        !warning_output(true, None, &["--color=auto", "--log-format", "json"]).contains(ESCAPE)
    );
}
