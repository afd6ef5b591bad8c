//! Size caps on what the CLI reads whole: a reader that stops one byte past its cap and says
//! so, and the caps' text. Used by the Prometheus client (one answer) and `leaksense report`
//! (a saved report), so that no input, however large, is held beyond its cap.

use std::io::Read;
use std::path::Path;

use crate::error::CliError;

/// A reader that fails once more than `max` bytes came through, and says so.
pub struct Capped<R> {
    inner: R,
    left: u64,
    exceeded: bool,
}

impl<R> Capped<R> {
    /// `inner`, read up to `max` bytes.
    pub fn new(inner: R, max: u64) -> Self {
        Capped {
            inner,
            left: max,
            exceeded: false,
        }
    }

    /// Whether the input had more than the cap (the read that found it failed).
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // One byte beyond the cap is read to tell "exactly the cap" from "more".
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.exceeded = true;
            return Err(std::io::Error::other("input exceeds the size cap"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The file at `path` (`-`: standard input) as text, refused with an error naming the file and
/// the cap when it holds more than `max` bytes; `what` says whose cap it is ("a saved report").
pub fn read_to_string(path: &Path, max: u64, what: &str) -> Result<String, CliError> {
    let file = crate::input::file_label(path);
    let io = |source| CliError::Io {
        file: file.clone(),
        source,
    };
    let inner: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(io)?)
    };
    let mut capped = Capped::new(inner, max);
    let mut text = String::new();
    let read = capped.read_to_string(&mut text);
    if capped.exceeded() {
        return Err(CliError::Input {
            file,
            line: None,
            message: format!("larger than {}, the cap on {what}", bytes_text(max)),
        });
    }
    read.map_err(io)?;
    Ok(text)
}

/// `n` bytes as the CLI's size flags write them (`64MiB`).
pub fn bytes_text(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{}GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{}MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{}KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_tells_exactly_the_cap_from_more() {
        let read = |len: usize, cap: u64| {
            let data = vec![b'x'; len];
            let mut c = Capped::new(&data[..], cap);
            let mut out = Vec::new();
            let r = std::io::copy(&mut c, &mut out);
            (r.is_ok(), c.exceeded(), out.len())
        };
        assert_eq!(read(10, 10), (true, false, 10));
        assert_eq!(read(11, 10), (false, true, 0));
        assert_eq!(bytes_text(128 << 20), "128MiB");
        assert_eq!(bytes_text(1000), "1000 bytes");
    }

    #[test]
    fn a_file_past_the_cap_is_refused_naming_the_file_and_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        std::fs::write(&path, vec![b'x'; 2049]).unwrap();
        let e = read_to_string(&path, 2048, "a saved report").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: larger than 2KiB, the cap on a saved report",
                path.display()
            )
        );
        std::fs::write(&path, vec![b'x'; 2048]).unwrap();
        assert_eq!(read_to_string(&path, 2048, "x").unwrap().len(), 2048);
        let missing = dir.path().join("missing.json");
        let e = read_to_string(&missing, 2048, "x").unwrap_err();
        assert!(matches!(e, CliError::Io { .. }), "{e}");
    }
}
