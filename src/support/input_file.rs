//! Every file the tool reads (`--config`, the CA files) is opened here, one way.
//!
//! A path is user input: it may name a FIFO or a pipe (opening one for reading waits for a writer
//! that may never come), a directory, a device that never ends (`/dev/zero`) or a huge file. So only
//! a regular file is read, and only up to a limit the caller states. `/dev/stdin` is a file like any
//! other: accepted when the shell redirected it from a regular file, refused when it is a pipe or a
//! terminal (a config file or CA bundle is not a stream; secrets can come from environment variables).

use std::{fs::File, io::Read, path::Path};

/// Why a file was not read; the caller names the setting and the path.
#[derive(Debug, thiserror::Error)]
pub enum InputFileError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("it is larger than {}", size(*.0))]
    TooLarge(u64),
}

/// The bytes of the regular file at `path`, at most `limit` of them.
pub(crate) fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, InputFileError> {
    // Looked at before opening: opening a FIFO blocks until someone writes to it.
    regular(&std::fs::metadata(path)?)?;
    let file = File::open(path)?;
    regular(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(InputFileError::TooLarge(limit));
    }
    Ok(bytes)
}

fn regular(metadata: &std::fs::Metadata) -> Result<(), InputFileError> {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a pipe (FIFO)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a file"
    };
    Err(InputFileError::NotRegular(what))
}

/// `64 KiB`, `4 MiB`, or bytes.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(path: &Path, limit: u64) -> String {
        read_regular_file(path, limit).unwrap_err().to_string()
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert_eq!(reason(&fifo, 10), "it is a pipe (FIFO), not a regular file");
        assert_eq!(
            reason(dir.path(), 10),
            "it is a directory, not a regular file"
        );
        assert_eq!(
            reason(Path::new("/dev/zero"), 10),
            "it is a device, not a regular file"
        );
        assert!(reason(&dir.path().join("absent"), 10).contains("No such file"));
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(64 * 1024 + 1).unwrap();
        assert_eq!(reason(file.path(), 64 * 1024), "it is larger than 64 KiB");
        std::fs::write(file.path(), b"12345").unwrap();
        assert_eq!(read_regular_file(file.path(), 5).unwrap(), b"12345");
    }
}
