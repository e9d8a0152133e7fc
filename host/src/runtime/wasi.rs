//! The WASI p2 context of a sandbox: nothing from the host leaks in.
//!
//! No files, environment, arguments or sockets; stdout and stderr go to small
//! capped buffers; the wall clock shows the evaluation's "now", and random
//! bytes come from a generator seeded by the evaluation, so a call replays bit
//! for bit.
//!
//! The monotonic clock is virtual too ([`super::virtual_clock`]): a sleep or a
//! poll on it returns at once and moves it by the time asked. Epoch
//! interruption cannot stop a host call, so a real wait would outlast any
//! deadline.

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

/// Builds the context for one call.
pub fn context(
    now_nanos: i64,
    seed: [u8; 32],
    stdout: &CappedPipe,
    stderr: &CappedPipe,
) -> WasiCtx {
    let mut builder = WasiCtxBuilder::new();
    let insecure_seed = u128::from_le_bytes(seed[..16].try_into().unwrap_or([0; 16]));
    builder
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .wall_clock(VirtualWallClock(now_nanos))
        .monotonic_clock(FrozenMonotonicClock)
        .secure_random(StdRng::from_seed(seed))
        .insecure_random(StdRng::from_seed(seed.map(|b| b ^ 0x5a)))
        .insecure_random_seed(insecure_seed)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    builder.build()
}

/// The evaluation's "now", fixed for the whole call.
struct VirtualWallClock(i64);

impl HostWallClock for VirtualWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        // WASI's wall clock cannot show instants before 1970.
        Duration::from_nanos(u64::try_from(self.0).unwrap_or(0))
    }
}

/// What WASI's own monotonic clock would show; unused, since
/// the virtual clock shadows the interface, but no real clock stays in reach.
struct FrozenMonotonicClock;

impl HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

/// A stdout/stderr sink that keeps its first `capacity` bytes and silently
/// drops the rest, so a chatty guest neither grows host memory nor fails.
#[derive(Clone)]
pub struct CappedPipe {
    inner: Arc<Mutex<Captured>>,
}

#[derive(Default)]
struct Captured {
    capacity: usize,
    kept: Vec<u8>,
    dropped: u64,
}

impl CappedPipe {
    pub fn new(capacity: usize) -> Self {
        let captured = Captured {
            capacity,
            ..Captured::default()
        };
        CappedPipe {
            inner: Arc::new(Mutex::new(captured)),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut c = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let room = c.capacity.saturating_sub(c.kept.len()).min(bytes.len());
        c.kept.extend_from_slice(&bytes[..room]);
        c.dropped += (bytes.len() - room) as u64;
    }

    /// What was kept, as text, and how many bytes were dropped.
    pub fn take(&self) -> (String, u64) {
        let mut c = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let text = String::from_utf8_lossy(&c.kept).into_owned();
        c.kept.clear();
        (text, std::mem::take(&mut c.dropped))
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

impl tokio::io::AsyncWrite for CappedPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_pipe_keeps_the_head_and_counts_the_rest() {
        let pipe = CappedPipe::new(4);
        pipe.push(b"abc");
        pipe.push(b"defgh");
        assert_eq!(pipe.take(), ("abcd".to_string(), 4));
    }
}
