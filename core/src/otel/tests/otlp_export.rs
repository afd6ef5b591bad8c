//! The standalone exporter against a loopback OTLP/HTTP receiver that decodes the protobuf.

use super::*;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use prost::Message as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

/// A minimal HTTP/1.1 receiver: sends (path, body) of each POST to the channel, answers 200.
/// What the receiver hands the test: base URL, received (path, body), stop flag, thread.
type Receiver = (
    String,
    mpsc::Receiver<(String, Vec<u8>)>,
    Arc<AtomicBool>,
    std::thread::JoinHandle<()>,
);

fn receiver() -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let stop2 = Arc::clone(&stop);
    let h = std::thread::spawn(move || {
        while !stop2.load(Ordering::SeqCst) {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            stream.set_nonblocking(false).ok();
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut r = BufReader::new(stream);
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_err() {
                    break;
                }
                let _ = tx.send((path, body));
                let resp = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                if r.get_mut().write_all(resp.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    (format!("http://{addr}"), rx, stop, h)
}

#[test]
fn otlp_http_export_reaches_a_real_receiver() {
    let (endpoint, rx, stop, server) = receiver();
    let handle = otlp::install(
        &endpoint,
        Duration::from_secs(60),
        Runtime::Process,
        Naming::Semconv,
    )
    .expect("install");
    handle.flush().expect("flush");
    let (path, body) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("no export arrived");
    handle.shutdown().expect("shutdown");
    stop.store(true, Ordering::SeqCst);
    server.join().expect("server thread");

    assert_eq!(path, "/v1/metrics");
    let req = ExportMetricsServiceRequest::decode(body.as_slice()).expect("protobuf");
    let metrics: Vec<_> = req
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .collect();
    for key in PROCESS_KEYS {
        let m = catalog::lookup(key, Runtime::Process, Naming::Semconv).expect("key");
        if let Some(got) = metrics.iter().find(|g| g.name == m.name) {
            assert_eq!(got.unit, m.unit);
            assert_eq!(got.description, m.description);
        }
    }
    let rss = metrics
        .iter()
        .find(|m| m.name == "process.memory.usage")
        .expect("process.memory.usage exported");
    assert_eq!(rss.unit, "By");
    let Some(metric::Data::Sum(sum)) = &rss.data else {
        panic!("rss is not a sum: {:?}", rss.data);
    };
    assert!(!sum.is_monotonic);
    let v = match sum.data_points[0].value {
        Some(number_data_point::Value::AsInt(v)) => v as f64,
        Some(number_data_point::Value::AsDouble(v)) => v,
        None => panic!("no value"),
    };
    assert!(v > 0.0, "rss {v}");
}

#[test]
fn install_rejects_bad_options() {
    for bad in ["", "localhost:4318", "http://", "http://h:bad"] {
        let err = otlp::install(
            bad,
            Duration::from_secs(1),
            Runtime::Process,
            Naming::Semconv,
        )
        .err()
        .expect(bad);
        assert_eq!(err.code(), ErrorCode::InvalidOption, "{bad}: {err}");
    }
    let err = otlp::install(
        "http://127.0.0.1:1",
        Duration::ZERO,
        Runtime::Process,
        Naming::Semconv,
    )
    .err()
    .expect("zero interval");
    assert_eq!(err.code(), ErrorCode::InvalidOption);
}
