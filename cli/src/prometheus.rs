//! A Prometheus HTTP API client (also Thanos, Mimir, VictoriaMetrics): exact raw samples from
//! instant queries of range vectors, range queries for request counts, with timeouts, retries,
//! a bearer token that is never printed, and TLS (rustls) with an optional private CA.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use leaksense_core::Sample;
use serde::Deserialize;

use crate::error::CliError;

/// Labels of one series, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Base URL (`http://prometheus:9090`, or a path prefix such as `https://mimir/prometheus`).
    pub url: String,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Further attempts after a failure that may pass (connection errors, HTTP 5xx and 429).
    pub retries: u32,
    /// Where the bearer token comes from, if any.
    pub token: Option<TokenSource>,
    /// A PEM file of CA certificates to trust instead of the bundled web roots.
    pub ca_file: Option<PathBuf>,
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
    base: String,
    retries: u32,
    // Never printed: the Debug impl below leaves it out.
    authorization: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish()
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
    values: Vec<(f64, String)>,
    #[serde(default)]
    value: Option<(f64, String)>,
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
                    "--bearer-token-env: environment variable {name} is not set"
                ))
            })?,
            format!("environment variable {name}"),
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
        let base = opts.url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(CliError::Usage(format!(
                "--prometheus {base:?}: expected an http:// or https:// URL"
            )));
        }
        let authorization = opts
            .token
            .as_ref()
            .map(read_token)
            .transpose()?
            .map(|t| format!("Bearer {t}"));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            .tls_config(tls_config(opts.ca_file.as_deref())?)
            .user_agent(concat!("leaksense/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            agent,
            base,
            retries: opts.retries,
            authorization,
        })
    }

    /// GET `path` with `params`, retrying failures that may pass, and decodes the API envelope.
    fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, CliError> {
        let mut attempt = 0;
        loop {
            match self.get_once(path, params) {
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

    fn get_once<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, Failure> {
        let url = format!("{}{path}", self.base);
        let mut req = self.agent.get(&url);
        for (k, v) in params {
            req = req.query(*k, v);
        }
        if let Some(auth) = &self.authorization {
            req = req.header("Authorization", auth);
        }
        let mut resp = req.call().map_err(|e| Failure {
            message: format!("cannot reach Prometheus at {}: {e}", self.base),
            retry: true,
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(4 << 30)
            .read_to_vec()
            .map_err(|e| Failure {
                message: format!("reading the answer of {}: {e}", self.base),
                retry: true,
            })?;
        match status {
            401 | 403 => {
                return Err(Failure {
                    message: format!(
                        "Prometheus at {} refused the request (HTTP {status}): check the bearer \
                         token",
                        self.base
                    ),
                    retry: false,
                });
            }
            404 => {
                return Err(Failure {
                    message: format!(
                        "{url} not found (HTTP 404): is {} the base URL of a Prometheus API?",
                        self.base
                    ),
                    retry: false,
                });
            }
            429 | 500..=599 if !is_api_error(&body) => {
                return Err(Failure {
                    message: format!("Prometheus at {} answered HTTP {status}", self.base),
                    retry: true,
                });
            }
            _ => {}
        }
        let parsed: Response<T> = serde_json::from_slice(&body).map_err(|e| Failure {
            message: format!(
                "{} did not answer like a Prometheus API (HTTP {status}): {e}",
                self.base
            ),
            retry: false,
        })?;
        if parsed.status != "success" {
            let kind = parsed.error_type.unwrap_or_default();
            let error = parsed.error.unwrap_or_default();
            return Err(Failure {
                message: format!("Prometheus rejected the request ({kind}): {error}"),
                // Timeouts and unavailability may pass; bad queries will not.
                retry: matches!(kind.as_str(), "timeout" | "unavailable"),
            });
        }
        parsed.data.ok_or_else(|| Failure {
            message: format!("{} answered success without data", self.base),
            retry: false,
        })
    }

    /// The label sets of every series `selector` matches with samples in `[start, end]`.
    pub fn series(
        &self,
        selector: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Labels>, CliError> {
        let mut out: Vec<Labels> = self
            .get(
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
        let data: QueryData = self.get(
            "/api/v1/query",
            &[("query", expr.to_string()), ("time", secs(time_ms))],
        )?;
        matrix(data, expr)
    }

    /// An instant query: the finite value of each series `expr` returns at `time_ms`.
    pub fn instant(&self, expr: &str, time_ms: i64) -> Result<Vec<(Labels, f64)>, CliError> {
        let data: QueryData = self.get(
            "/api/v1/query",
            &[("query", expr.to_string()), ("time", secs(time_ms))],
        )?;
        if data.result_type != "vector" {
            return Err(CliError::Prometheus(format!(
                "`{expr}` gave a {} result, not an instant vector",
                data.result_type
            )));
        }
        Ok(data
            .result
            .into_iter()
            .filter_map(|e| Some((e.metric, parse_value(&e.value?.1)?)))
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
        let data: QueryData = self.get(
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

fn is_api_error(body: &[u8]) -> bool {
    serde_json::from_slice::<Response<serde::de::IgnoredAny>>(body)
        .is_ok_and(|r| r.status == "error")
}

fn matrix(data: QueryData, expr: &str) -> Result<Vec<(Labels, Vec<Sample>)>, CliError> {
    if data.result_type != "matrix" {
        return Err(CliError::Prometheus(format!(
            "`{expr}` gave a {} result, not a range vector (matrix)",
            data.result_type
        )));
    }
    Ok(data
        .result
        .into_iter()
        .map(|e| {
            let samples = e
                .values
                .iter()
                .filter_map(|(t, v)| {
                    let value = parse_value(v)?;
                    Some(Sample {
                        ts_ms: (t * 1000.0).round() as i64,
                        value,
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
    fn bad_urls_tokens_and_ca_files_are_refused() {
        let opts = |url: &str| ServerOptions {
            url: url.into(),
            timeout: Duration::from_secs(1),
            retries: 0,
            token: None,
            ca_file: None,
        };
        assert!(Client::new(&opts("prometheus:9090")).is_err());
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
