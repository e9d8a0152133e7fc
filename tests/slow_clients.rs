//! Slow and idle clients cannot wedge `serve`: a request's headers must
//! arrive within `header_timeout`, its body within `body_timeout` (else 408),
//! a connection with nothing moving is closed after `idle_timeout`, and at
//! most `max_connections` are served at once while the rest wait their turn.
//! The wall-clock bounds are wide: they catch a hang, not a slow machine.

use crate::server::{OBS, start_config, tenant};
use dataslo::config::{Config, TenantLimits};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// `acme` behind a server with small limits.
fn start() -> crate::server::TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        tenants: vec![tenant(dir.path(), "acme", TenantLimits::default())],
        ..Config::default()
    };
    config.server.max_connections = 4;
    config.server.header_timeout = Duration::from_millis(500);
    config.server.body_timeout = Duration::from_millis(500);
    config.server.idle_timeout = Duration::from_secs(1);
    start_config(dir, config)
}

fn connect(url: &str) -> TcpStream {
    let stream = TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Everything the server sends until it closes the connection.
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn half_sent_requests_beyond_the_connection_limit_do_not_stop_a_normal_client() {
    let server = start();
    // Three times the limit, each stopping in the middle of its headers.
    let stalled: Vec<TcpStream> = (0..12)
        .map(|_| {
            let mut s = connect(&server.url);
            s.write_all(b"POST /v1/observations HTTP/1.1\r\nHost: x\r\nContent-Ty")
                .unwrap();
            s
        })
        .collect();
    let start = Instant::now();
    let mut answer = crate::server::agent()
        .post(&format!("{}/v1/observations", server.url))
        .header("Authorization", "Bearer acme-secret")
        .header("Content-Type", "application/json")
        .send(OBS.as_bytes())
        .unwrap();
    let waited = start.elapsed();
    assert_eq!(
        answer.status(),
        200,
        "{}",
        answer.body_mut().read_to_string().unwrap()
    );
    assert!(waited < Duration::from_secs(5), "served after {waited:?}");
    // The stalled connections were closed, without an answer.
    for mut s in stalled {
        assert_eq!(read_to_close(&mut s), "");
    }
}

#[test]
fn a_body_shorter_than_its_content_length_is_answered_408_after_the_body_timeout() {
    let server = start();
    let mut s = connect(&server.url);
    let start = Instant::now();
    s.write_all(
        b"POST /v1/observations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer acme-secret\r\n\
          Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"dataset\":",
    )
    .unwrap();
    let answer = read_to_close(&mut s);
    let waited = start.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""error":"request_timeout""#), "{answer}");
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(5),
        "answered after {waited:?}"
    );
}

#[test]
fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
    let server = start();
    let mut s = connect(&server.url);
    let start = Instant::now();
    assert_eq!(read_to_close(&mut s), "");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
}

#[test]
fn a_kept_alive_connection_serves_one_request_after_another() {
    let server = start();
    let mut s = connect(&server.url);
    for _ in 0..3 {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap();
        let head = String::from_utf8_lossy(&buf[..n]);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
}

#[test]
fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let server = start();
    // Four silent connections take every slot until their idle timeout.
    let silent: Vec<TcpStream> = (0..4).map(|_| connect(&server.url)).collect();
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    let answer = crate::server::agent()
        .get(&format!("{}/healthz", server.url))
        .call()
        .unwrap();
    let waited = start.elapsed();
    assert_eq!(answer.status(), 200);
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(5),
        "served after {waited:?}"
    );
    drop(silent);
}
