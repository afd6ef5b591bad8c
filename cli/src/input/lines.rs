//! Lines of a text input, read without trusting it: a line longer than the cap is an error as
//! soon as the cap is passed (nothing more of it is buffered), a line that is not UTF-8 is an
//! error naming its line and column unless it is a `#` comment (skipped whatever its bytes),
//! and a UTF-8 byte-order mark at the start is dropped.

use std::io::BufRead;

use crate::input::MAX_LINE;

/// Reads lines from a `BufRead` with a length cap.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    line: usize,
    max: usize,
}

impl<R: BufRead> LineReader<R> {
    /// Lines of at most [`MAX_LINE`] bytes.
    pub fn new(inner: R) -> Self {
        Self::with_max(inner, MAX_LINE)
    }

    /// Lines of at most `max` bytes.
    pub fn with_max(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            line: 0,
            max,
        }
    }

    /// The next line (1-based number, text without its line ending), `None` at the end. A
    /// comment that is not UTF-8 comes back as `#`. Errors carry the line number.
    pub fn next_line(&mut self) -> Result<Option<(usize, &str)>, (usize, String)> {
        self.buf.clear();
        let mut any = false;
        loop {
            let line = self.line + 1;
            let avail = self
                .inner
                .fill_buf()
                .map_err(|e| (line, format!("read error: {e}")))?;
            if avail.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            if self.buf.len() + take > self.max {
                return Err((
                    line,
                    format!(
                        "line is longer than {} KiB (is this a text file in the right format?)",
                        self.max >> 10
                    ),
                ));
            }
            self.buf.extend_from_slice(&avail[..take]);
            self.inner.consume(take + usize::from(done));
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line += 1;
        let mut bytes = &self.buf[..];
        if self.line == 1 {
            bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        }
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Some((self.line, text))),
            Err(_) if bytes.trim_ascii_start().starts_with(b"#") => Ok(Some((self.line, "#"))),
            Err(e) => {
                let at = e.valid_up_to();
                Err((
                    self.line,
                    format!(
                        "not UTF-8 text: byte 0x{:02x} at column {}",
                        bytes[at],
                        at + 1
                    ),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8], max: usize) -> Vec<Result<(usize, String), (usize, String)>> {
        let mut r = LineReader::with_max(text, max);
        let mut out = Vec::new();
        loop {
            match r.next_line() {
                Ok(Some((n, l))) => out.push(Ok((n, l.to_string()))),
                Ok(None) => return out,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
    }

    #[test]
    fn lines_come_with_their_numbers_without_endings() {
        let got = all(b"\xef\xbb\xbfa\r\n\nb", 10);
        let want: Vec<Result<(usize, String), (usize, String)>> =
            vec![Ok((1, "a".into())), Ok((2, "".into())), Ok((3, "b".into()))];
        assert_eq!(got, want);
        assert!(all(b"", 10).is_empty());
    }

    #[test]
    fn hostile_lines_are_errors_with_their_line() {
        // A comment may hold any bytes; data may not.
        let got = all(b"1,2\n# caf\xe9\n3,\xff4\n", 100);
        assert_eq!(got[1], Ok((2, "#".into())));
        assert_eq!(
            got[2],
            Err((3, "not UTF-8 text: byte 0xff at column 3".into()))
        );
        // The cap is checked as bytes arrive: a line longer than it is never held whole.
        let long = [b"ok\n".as_slice(), &[b'x'; 5000]].concat();
        let got = all(&long, 1024);
        assert_eq!(got[0], Ok((1, "ok".into())));
        let Err((line, msg)) = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!(*line, 2);
        assert!(msg.contains("longer than 1 KiB"), "{msg}");
    }
}
