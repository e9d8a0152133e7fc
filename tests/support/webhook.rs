//! A webhook receiver on loopback: answers 200 to every POST and keeps the
//! JSON bodies, in the order they came.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// What a receiver was sent.
pub type Bodies = Arc<Mutex<Vec<serde_json::Value>>>;

/// A receiver whose `n`th request (from 0) is answered once `before(n)`
/// returns; its URL and what it was sent.
pub fn receiver(before: impl Fn(usize) + Send + 'static) -> (String, Bodies) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Bodies::default();
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let Ok(read) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(read);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok()
                && let Ok(json) = serde_json::from_slice(&body)
            {
                before(n);
                seen.lock().unwrap().push(json);
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, bodies)
}

/// How many bodies of `bodies` are transitions of `alert` to `to`.
pub fn count(bodies: &Bodies, alert: &str, to: &str) -> usize {
    bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b["alert"] == alert && b["to"] == to)
        .count()
}
