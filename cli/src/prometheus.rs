//! A Prometheus HTTP API client (also Thanos, Mimir, VictoriaMetrics): exact raw samples from
//! instant queries of range vectors, range queries for request counts. Hostile or broken
//! servers are expected: queries go as form-encoded POST bodies (a selector with a 64 KiB label
//! value makes no URL too long), answers are parsed as they stream in under a size cap, a
//! server that accepts and then says nothing fails after `--timeout` without retries, and
//! credentials (a bearer token, a URL's user:password) are never printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use leaksense_core::Sample;
use serde::Deserialize;

use crate::capped::{Capped, bytes_text};
use crate::error::CliError;
use crate::safe::{QUOTE_MAX, SecretUrl, clip};

/// Labels of one series, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// How long connecting may take (capped by the request timeout): a host that does not
/// answer a SYN is down, and waiting longer only delays the message.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Base URL (`http://prometheus:9090`, or a path prefix such as `https://mimir/prometheus`),
    /// optionally with `user:password@`.
    pub url: SecretUrl,
    /// Time one request may take from connecting to the last byte of its answer.
    pub timeout: Duration,
    /// Further attempts after a failure that may pass (connection errors, HTTP 5xx and 429);
    /// never after a timeout, which a hanging server would only repeat.
    pub retries: u32,
    /// Where the bearer token comes from, if any.
    pub token: Option<TokenSource>,
    /// A PEM file of CA certificates to trust instead of the bundled web roots.
    pub ca_file: Option<PathBuf>,
    /// Most bytes one answer may have (after decompression); memory stays bounded by it.
    pub max_response: u64,
}

/// Where a bearer token is read from. The token itself never appears in output or errors.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// An environment variable's name.
    Env(String),
    /// A file holding the token (surrounding whitespace is ignored).
    File(PathBuf),
}

/// A connected client.
pub struct Client {
    agent: ureq::Agent,
    // The URL as given (credentials included) is only ever handed to the HTTP client.
    base: String,
    shown: String,
    retries: u32,
    timeout: Duration,
    max_response: u64,
    // Never printed: the Debug impl below leaves it out.
    authorization: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.shown).finish()
    }
}

#[derive(Deserialize)]
struct Response<T> {
    status: String,
    data: Option<T>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct QueryData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    metric: Labels,
    #[serde(default)]
    values: Vec<Point>,
    #[serde(default)]
    value: Option<Point>,
}

/// One `[unix_seconds, "value"]` pair, parsed as it streams in: no string is kept per sample.
/// `value` is `None` for NaN, infinities and anything that is not a number.
struct Point {
    ts_ms: i64,
    value: Option<f64>,
}

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PointVisitor;
        impl<'de> serde::de::Visitor<'de> for PointVisitor {
            type Value = Point;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a [timestamp, \"value\"] pair")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Point, A::Error> {
                use serde::de::Error;
                let ts: f64 = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let ValueText(value) = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(3, &self));
                }
                // `as` saturates (and maps NaN to 0): a hostile timestamp cannot overflow here;
                // the detector refuses what is out of range or out of order.
                Ok(Point {
                    ts_ms: (ts * 1000.0).round() as i64,
                    value,
                })
            }
        }
        d.deserialize_seq(PointVisitor)
    }
}

/// A sample value string, parsed in place.
struct ValueText(Option<f64>);

impl<'de> Deserialize<'de> for ValueText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl serde::de::Visitor<'_> for TextVisitor {
            type Value = ValueText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sample value string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ValueText, E> {
                Ok(ValueText(parse_value(v)))
            }
        }
        d.deserialize_str(TextVisitor)
    }
}

/// Why one request failed; `retry` when another attempt may pass.
struct Failure {
    message: String,
    retry: bool,
}

fn read_token(source: &TokenSource) -> Result<String, CliError> {
    let (token, what) = match source {
        TokenSource::Env(name) => (
            std::env::var(name).map_err(|_| {
                CliError::Usage(format!(
                    "--bearer-token-env: environment variable {} is not set",
                    clip(name, QUOTE_MAX)
                ))
            })?,
            format!("environment variable {}", clip(name, QUOTE_MAX)),
        ),
        TokenSource::File(path) => (
            std::fs::read_to_string(path).map_err(|e| CliError::Io {
                file: path.display().to_string(),
                source: e,
            })?,
            path.display().to_string(),
        ),
    };
    let token = token.trim().to_string();
    if token.is_empty() || token.chars().any(|c| c.is_control() || c == ' ') {
        return Err(CliError::Usage(format!(
            "the bearer token in {what} is empty or holds spaces or control characters"
        )));
    }
    crate::safe::register_secret(&token);
    Ok(token)
}

fn tls_config(ca_file: Option<&Path>) -> Result<ureq::tls::TlsConfig, CliError> {
    use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, parse_pem};
    let Some(path) = ca_file else {
        return Ok(TlsConfig::builder().build());
    };
    let pem = std::fs::read(path).map_err(|e| CliError::Io {
        file: path.display().to_string(),
        source: e,
    })?;
    let mut certs: Vec<Certificate<'static>> = Vec::new();
    for item in parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(CliError::Usage(format!(
                    "--ca-file {}: not a PEM file ({e})",
                    path.display()
                )));
            }
        }
    }
    if certs.is_empty() {
        return Err(CliError::Usage(format!(
            "--ca-file {}: holds no PEM certificate",
            path.display()
        )));
    }
    Ok(TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&certs))
        .build())
}

impl Client {
    /// A client for `opts`; reads the token and the CA file now, so that their errors come
    /// before any request.
    pub fn new(opts: &ServerOptions) -> Result<Client, CliError> {
        let authorization = opts
            .token
            .as_ref()
            .map(read_token)
            .transpose()?
            .map(|t| format!("Bearer {t}"));
        if authorization.is_some() && opts.url.shown.contains("***@") {
            return Err(CliError::Usage(format!(
                "--prometheus {}: the URL carries credentials and a bearer token is given too; \
                 use one",
                opts.url.shown
            )));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_per_call(Some(opts.timeout))
            .timeout_connect(Some(CONNECT_TIMEOUT.min(opts.timeout)))
            .http_status_as_error(false)
            .tls_config(tls_config(opts.ca_file.as_deref())?)
            .user_agent(concat!("leaksense/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            agent,
            base: opts.url.full.clone(),
            shown: opts.url.shown.clone(),
            retries: opts.retries,
            timeout: opts.timeout,
            max_response: opts.max_response,
            authorization,
        })
    }

    /// POSTs `params` (form-encoded) to `path`, retrying failures that may pass, and decodes
    /// the API envelope.
    fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, CliError> {
        let mut attempt = 0;
        loop {
            match self.post_once(path, params) {
                Ok(v) => return Ok(v),
                Err(f) if f.retry && attempt < self.retries => {
                    attempt += 1;
                    // Exponential backoff: 250 ms, 500 ms, 1 s, ... capped at 8 s.
                    let wait = 250u64.saturating_mul(1 << (attempt - 1).min(5)).min(8_000);
                    std::thread::sleep(Duration::from_millis(wait));
                }
                Err(f) => {
                    let tries = if attempt > 0 {
                        format!(" (after {} attempts)", attempt + 1)
                    } else {
                        String::new()
                    };
                    return Err(CliError::Prometheus(format!("{}{tries}", f.message)));
                }
            }
        }
    }

    /// What a transport error means for the user, and whether to try again.
    fn transport_failure(&self, e: &ureq::Error) -> Failure {
        use ureq::Timeout;
        match e {
            ureq::Error::Timeout(Timeout::Connect | Timeout::Resolve) => Failure {
                message: format!(
                    "cannot reach Prometheus at {}: no connection within {}s (timeout)",
                    self.shown,
                    CONNECT_TIMEOUT.min(self.timeout).as_secs_f64()
                ),
                retry: true,
            },
            ureq::Error::Timeout(_) => Failure {
                message: format!(
                    "Prometheus at {} did not answer within {}s (timeout; raise --timeout for a \
                     slow query, or check that the URL is a Prometheus API)",
                    self.shown,
                    self.timeout.as_secs_f64()
                ),
                // A server that hangs once hangs again: fail now rather than in minutes.
                retry: false,
            },
            e => Failure {
                message: format!(
                    "cannot reach Prometheus at {}: {}",
                    self.shown,
                    clip(&e.to_string(), QUOTE_MAX)
                ),
                retry: true,
            },
        }
    }

    fn post_once<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, Failure> {
        let url = format!("{}{path}", self.base);
        let shown_url = format!("{}{path}", self.shown);
        let mut req = self.agent.post(&url);
        if let Some(auth) = &self.authorization {
            req = req.header("Authorization", auth);
        }
        let mut resp = req
            .send_form(params.iter().map(|(k, v)| (*k, v.as_str())))
            .map_err(|e| self.transport_failure(&e))?;
        let status = resp.status().as_u16();
        let mut capped = Capped::new(resp.body_mut().with_config().reader(), self.max_response);
        if !(200..300).contains(&status) {
            // An API error object, if that is what came (its text is clipped when shown).
            let error: Option<Response<serde::de::IgnoredAny>> =
                serde_json::from_reader(std::io::BufReader::new(&mut capped)).ok();
            return Err(self.status_failure(status, &shown_url, error));
        }
        let parsed: Result<Response<T>, _> =
            serde_json::from_reader(std::io::BufReader::new(&mut capped));
        if capped.exceeded() {
            return Err(Failure {
                message: format!(
                    "Prometheus at {} answered more than {} for one query (the \
                     --max-response-size cap): narrow the query or the --range, or raise the cap",
                    self.shown,
                    bytes_text(self.max_response)
                ),
                retry: false,
            });
        }
        let parsed = parsed.map_err(|e| Failure {
            message: if e.is_io() {
                format!(
                    "reading the answer of {}: {}",
                    self.shown,
                    clip(&e.to_string(), QUOTE_MAX)
                )
            } else {
                format!(
                    "{} did not answer like a Prometheus API (HTTP {status}): {}",
                    self.shown,
                    clip(&e.to_string(), QUOTE_MAX)
                )
            },
            retry: e.is_io(),
        })?;
        if parsed.status != "success" {
            return Err(api_failure(parsed.error_type, parsed.error));
        }
        parsed.data.ok_or_else(|| Failure {
            message: format!("{} answered success without data", self.shown),
            retry: false,
        })
    }

    /// A non-2xx answer: an API error object when there is one, else the status.
    fn status_failure(
        &self,
        status: u16,
        shown_url: &str,
        error: Option<Response<serde::de::IgnoredAny>>,
    ) -> Failure {
        match status {
            401 | 403 => Failure {
                message: format!(
                    "Prometheus at {} refused the request (HTTP {status}): check the {}",
                    self.shown,
                    match (&self.authorization, self.shown.contains("***@")) {
                        (Some(_), _) => "bearer token",
                        (None, true) => "user and password in the URL",
                        (None, false) => "credentials (none were given)",
                    }
                ),
                retry: false,
            },
            404 => Failure {
                message: format!(
                    "{shown_url} not found (HTTP 404): is {} the base URL of a Prometheus API?",
                    self.shown
                ),
                retry: false,
            },
            _ => match error {
                Some(r) if r.status == "error" => api_failure(r.error_type, r.error),
                _ => Failure {
                    message: format!("Prometheus at {} answered HTTP {status}", self.shown),
                    retry: status == 429 || status >= 500,
                },
            },
        }
    }

    /// The label sets of every series `selector` matches with samples in `[start, end]`.
    pub fn series(
        &self,
        selector: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Labels>, CliError> {
        let mut out: Vec<Labels> = self
            .post(
                "/api/v1/series",
                &[
                    ("match[]", selector.to_string()),
                    ("start", secs(start_ms)),
                    ("end", secs(end_ms)),
                ],
            )
            .map_err(|e| match e {
                CliError::Prometheus(m) if m.contains("(bad_data)") => {
                    CliError::Prometheus(format!(
                        "--query must be a series selector such as heap_bytes{{job=\"api\"}} \
                         (the raw samples are read with `<selector>[range]`): {m}"
                    ))
                }
                other => other,
            })?;
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The exact raw samples of `expr` (a range-vector expression) at `time_ms`, by series.
    pub fn raw(&self, expr: &str, time_ms: i64) -> Result<Vec<(Labels, Vec<Sample>)>, CliError> {
        let data: QueryData = self.post(
            "/api/v1/query",
            &[("query", expr.to_string()), ("time", secs(time_ms))],
        )?;
        matrix(data, expr)
    }

    /// An instant query: the finite value of each series `expr` returns at `time_ms`.
    pub fn instant(&self, expr: &str, time_ms: i64) -> Result<Vec<(Labels, f64)>, CliError> {
        let data: QueryData = self.post(
            "/api/v1/query",
            &[("query", expr.to_string()), ("time", secs(time_ms))],
        )?;
        if data.result_type != "vector" {
            return Err(CliError::Prometheus(format!(
                "`{}` gave a {} result, not an instant vector",
                clip(expr, QUOTE_MAX),
                clip(&data.result_type, QUOTE_MAX)
            )));
        }
        Ok(data
            .result
            .into_iter()
            .filter_map(|e| Some((e.metric, e.value?.value?)))
            .collect())
    }

    /// A range query: `expr` evaluated every `step_ms` over `[start, end]`, by series.
    pub fn range(
        &self,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Vec<(Labels, Vec<Sample>)>, CliError> {
        let data: QueryData = self.post(
            "/api/v1/query_range",
            &[
                ("query", expr.to_string()),
                ("start", secs(start_ms)),
                ("end", secs(end_ms)),
                ("step", secs(step_ms)),
            ],
        )?;
        matrix(data, expr)
    }
}

/// An API error object: its text is the server's, so it is clipped (and sanitised on output).
fn api_failure(kind: Option<String>, error: Option<String>) -> Failure {
    let kind = kind.unwrap_or_default();
    Failure {
        message: format!(
            "Prometheus rejected the request ({}): {}",
            clip(&kind, 40),
            clip(&error.unwrap_or_default(), QUOTE_MAX)
        ),
        // Timeouts and unavailability may pass; bad queries will not.
        retry: matches!(kind.as_str(), "timeout" | "unavailable"),
    }
}

fn matrix(data: QueryData, expr: &str) -> Result<Vec<(Labels, Vec<Sample>)>, CliError> {
    if data.result_type != "matrix" {
        return Err(CliError::Prometheus(format!(
            "`{}` gave a {} result, not a range vector (matrix)",
            clip(expr, QUOTE_MAX),
            clip(&data.result_type, QUOTE_MAX)
        )));
    }
    Ok(data
        .result
        .into_iter()
        .map(|e| {
            let samples = e
                .values
                .iter()
                .filter_map(|p| {
                    Some(Sample {
                        ts_ms: p.ts_ms,
                        value: p.value?,
                    })
                })
                .collect();
            (e.metric, samples)
        })
        .collect())
}

/// A sample value string; `None` for NaN and infinities (the detector takes finite values).
fn parse_value(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Unix ms as the seconds string the API reads back to the same millisecond.
pub fn secs(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
}

/// A selector matching exactly the series with `labels` (PromQL string quoting).
pub fn exact_selector(labels: &Labels) -> String {
    let matchers: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::rules::quoted(v)))
        .collect();
    format!("{{{}}}", matchers.join(","))
}

/// Whether two series may describe the same thing: every label both carry (apart from
/// `__name__` and `skip`) has the same value. A series without shared labels (a fleet-wide sum)
/// is compatible with every series.
pub fn compatible(a: &Labels, b: &Labels, skip: &str) -> bool {
    a.iter()
        .filter(|(k, _)| k.as_str() != "__name__" && k.as_str() != skip)
        .all(|(k, v)| b.get(k).is_none_or(|w| w == v))
}

/// `name{k="v",...}` for display (the name is `__name__`).
pub fn display_name(labels: &Labels) -> String {
    let name = labels.get("__name__").map(String::as_str).unwrap_or("");
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={}", crate::rules::quoted(v)))
        .collect();
    format!("{name}{{{}}}", rest.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_quote_label_values() {
        let labels: Labels = [
            ("__name__".to_string(), "heap".to_string()),
            ("route".to_string(), "a\"b\\c\n".to_string()),
        ]
        .into();
        assert_eq!(
            exact_selector(&labels),
            r#"{__name__="heap",route="a\"b\\c\n"}"#
        );
        assert_eq!(display_name(&labels), r#"heap{route="a\"b\\c\n"}"#);
        assert_eq!(secs(1_700_000_000_123), "1700000000.123");
        assert_eq!(secs(-1), "-0.001");
        assert_eq!(secs(-1_500), "-1.500");
        assert_eq!(secs(i64::MIN), "-9223372036854775.808");
    }

    #[test]
    fn values_that_are_not_finite_are_dropped() {
        assert_eq!(parse_value("1.5e3"), Some(1500.0));
        assert_eq!(parse_value("NaN"), None);
        assert_eq!(parse_value("+Inf"), None);
        assert_eq!(parse_value("x"), None);
    }

    #[test]
    fn points_parse_in_place_and_hostile_ones_are_refused_or_dropped() {
        let p: Vec<Point> =
            serde_json::from_str(r#"[[1.5, "2"], [1e300, "NaN"], [-1, "x"]]"#).unwrap();
        assert_eq!((p[0].ts_ms, p[0].value), (1500, Some(2.0)));
        assert_eq!((p[1].ts_ms, p[1].value), (i64::MAX, None));
        assert_eq!(p[2].value, None);
        for bad in [
            r#"[[1]]"#,
            r#"[[1, "2", 3]]"#,
            r#"[["1", "2"]]"#,
            r#"[[1, 2]]"#,
        ] {
            assert!(serde_json::from_str::<Vec<Point>>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_urls_tokens_and_ca_files_are_refused() {
        let opts = |url: &str| ServerOptions {
            url: SecretUrl::parse(url).unwrap(),
            timeout: Duration::from_secs(1),
            retries: 0,
            token: None,
            ca_file: None,
            max_response: 1 << 20,
        };
        let mut o = opts("http://u:sekrit-pw@127.0.0.1:9");
        o.token = Some(TokenSource::Env("PATH".into()));
        let e = Client::new(&o).unwrap_err().to_string();
        assert!(e.contains("use one") && !e.contains("sekrit-pw"), "{e}");
        let mut o = opts("http://127.0.0.1:9");
        o.token = Some(TokenSource::Env("LEAKSENSE_TEST_SURELY_UNSET_VAR".into()));
        assert!(matches!(Client::new(&o), Err(CliError::Usage(_))));
        let dir = std::env::temp_dir().join(format!("leaksense-ca-{}", std::process::id()));
        std::fs::write(&dir, "not pem").unwrap();
        let mut o = opts("https://127.0.0.1:9");
        o.ca_file = Some(dir.clone());
        assert!(matches!(Client::new(&o), Err(CliError::Usage(_))));
        std::fs::write(&dir, "   \n").unwrap();
        let mut o = opts("http://127.0.0.1:9");
        o.token = Some(TokenSource::File(dir.clone()));
        assert!(matches!(Client::new(&o), Err(CliError::Usage(_))));
        std::fs::remove_file(&dir).unwrap();
    }
}
