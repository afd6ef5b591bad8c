//! What the CLI prints is safe to print: no secret (a URL's password, a bearer token), no
//! terminal control sequence (from labels, routes, files or a server's error text), and no
//! unbounded echo of hostile input. `main` passes every output through [`for_terminal`] or
//! [`for_json`] after [`scrub`]; messages clip what they quote with [`clip`].

use std::borrow::Cow;
use std::sync::Mutex;

/// Most bytes of input (a line, a server's error text, a label) quoted in a message.
pub const QUOTE_MAX: usize = 200;

/// The longest input a message quotes whole; longer ones are cut at a character boundary and
/// say how long they were.
pub fn clip(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}… ({} bytes)", &s[..end], s.len()))
}

/// Whether a terminal could act on `c` rather than show it: C0 controls but tab and newline,
/// DEL, C1 controls (0x9b is CSI on some terminals) and the bidirectional overrides and
/// isolates that reorder what is shown ("Trojan Source").
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `text` with every character a terminal could act on shown as `\u{..}`.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    escape_with(text, |c, out| {
        use std::fmt::Write;
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    })
}

/// A JSON document with the same characters written as `\uXXXX` escapes: serde_json escapes
/// C0 controls but writes DEL, C1 and bidi controls raw. They can only occur inside strings,
/// where the escape means the same character, so the document's data is unchanged.
pub fn for_json(json: &str) -> Cow<'_, str> {
    escape_with(json, |c, out| {
        use std::fmt::Write;
        let _ = write!(out, "\\u{:04x}", c as u32);
    })
}

fn escape_with(text: &str, escape: impl Fn(char, &mut String)) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Secrets seen this run (a URL's password, a bearer token), never to be printed.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Secrets shorter than this are not scrubbed from output: a one-letter password would
/// garble every report. They are still never put into a message by the CLI itself.
const SCRUB_MIN: usize = 4;

/// Records a secret so that [`scrub`] removes it (and its escaped forms) from all output.
pub fn register_secret(secret: &str) {
    if secret.len() < SCRUB_MIN {
        return;
    }
    let mut forms = vec![secret.to_string()];
    // As JSON and HTML would write it.
    let json = serde_json::to_string(secret).unwrap_or_default();
    forms.push(json.trim_matches('"').to_string());
    forms.push(crate::html::escape(secret));
    let mut secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    for f in forms {
        if !secrets.contains(&f) {
            secrets.push(f);
        }
    }
}

/// `text` with every registered secret replaced by `***`: the last line of defence behind
/// the redacted URL (a server could echo a credential in its error text).
pub fn scrub(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), "***"));
        }
    }
    out
}

/// A base URL split for use and display: the URL to request (as given), and the same with
/// its user information shown as `***` (the form every message and report uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUrl {
    /// The URL as given, credentials included (only for the HTTP client).
    pub full: String,
    /// The URL without credentials, for messages and reports.
    pub shown: String,
}

impl SecretUrl {
    /// Parses `url` (`scheme://[user[:password]@]host[:port][/path]`), registers its password
    /// as a secret, and refuses a query string or fragment (they would be mangled by the API
    /// paths appended to a base URL, and may carry tokens that must not be echoed).
    pub fn parse(url: &str) -> Result<SecretUrl, String> {
        let url = url.trim().trim_end_matches('/');
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| "expected an http:// or https:// URL".to_string())?;
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if let Some(u) = userinfo {
            let password = u.split_once(':').map_or("", |(_, p)| p);
            register_secret(password);
            register_secret(&percent_decode(password));
        }
        let shown = format!(
            "{}://{}{}{}",
            clip(scheme, 16),
            if userinfo.is_some() { "***@" } else { "" },
            clip(host, QUOTE_MAX),
            clip(path.split(['?', '#']).next().unwrap_or(""), QUOTE_MAX)
        );
        if !matches!(scheme, "http" | "https") {
            return Err(format!("{shown}: expected an http:// or https:// URL"));
        }
        if host.is_empty() {
            return Err(format!("{shown}: the URL names no host"));
        }
        if path.contains(['?', '#']) {
            return Err(format!(
                "{shown}: the base URL must not carry a query or fragment (the API path is \
                 appended to it); pass credentials with --bearer-token-file or as user:password@"
            ));
        }
        Ok(SecretUrl {
            full: url.to_string(),
            shown,
        })
    }
}

/// `%XX` decoded (invalid escapes kept as written), as an HTTP client sends userinfo.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_short_text_and_cuts_long_text_at_a_char_boundary() {
        assert_eq!(clip("abc", 5), "abc");
        let long = "é".repeat(100);
        let c = clip(&long, 11);
        assert!(c.starts_with("ééééé…"), "{c}");
        assert!(c.ends_with("(200 bytes)"), "{c}");
    }

    #[test]
    fn terminal_controls_are_shown_not_sent() {
        let hostile = "a\u{1b}[31mred\u{7}\r\u{9b}2J\u{202e}txt.exe\tb\nc";
        let safe = for_terminal(hostile);
        assert_eq!(
            safe,
            "a\\u{1b}[31mred\\u{7}\\u{d}\\u{9b}2J\\u{202e}txt.exe\tb\nc"
        );
        assert!(matches!(for_terminal("plain ✓\n"), Cow::Borrowed(_)));
        let doc = serde_json::json!({ "route": "x\u{9b}\u{7f}\u{202e}" }).to_string();
        let safe = for_json(&doc);
        assert!(safe.is_ascii(), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["route"], "x\u{9b}\u{7f}\u{202e}");
    }

    #[test]
    fn urls_hide_their_credentials_and_refuse_queries() {
        let u = SecretUrl::parse("http://alice:pa%40ss-w0rd@prom:9090/prefix/").unwrap();
        assert_eq!(u.shown, "http://***@prom:9090/prefix");
        assert_eq!(u.full, "http://alice:pa%40ss-w0rd@prom:9090/prefix");
        assert_eq!(
            scrub("x pa%40ss-w0rd y pa@ss-w0rd z"),
            "x *** y *** z",
            "the password as typed and as sent"
        );
        let plain = SecretUrl::parse("https://prom").unwrap();
        assert_eq!(plain.shown, plain.full);
        let e = SecretUrl::parse("http://prom/?token=abcd1234").unwrap_err();
        assert!(!e.contains("abcd1234") && e.contains("query"), "{e}");
        assert!(SecretUrl::parse("prom:9090").is_err());
        assert!(
            SecretUrl::parse("ftp://u:hunter22@h")
                .unwrap_err()
                .contains("***@")
        );
        assert!(SecretUrl::parse("http://").is_err());
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
