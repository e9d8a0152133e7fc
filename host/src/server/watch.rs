//! What one connection is doing, for its timeouts. The socket, the request
//! body and the response body report to a [`Watch`]: bytes moving, a request
//! handed to the router, its response finished. From that the connection's
//! task knows when it is idle too long, or when a request's headers are late;
//! a late body ends in an error ([`BodyTimedOut`]) the handler answers 408.

use axum::body::{Bytes, HttpBody};
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// Why a connection was closed by its watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expired {
    /// Nothing moved for `idle_timeout` with no request in hand.
    Idle,
    /// A request's headers did not arrive within `header_timeout`.
    Head,
}

#[derive(Debug)]
struct State {
    /// Requests handed to the router whose response has not finished.
    in_flight: usize,
    /// Since when no request has been in flight.
    idle_since: Instant,
    /// When the first byte of the next request arrived, if one did.
    head_since: Option<Instant>,
    /// The last byte read or written.
    last_io: Instant,
}

/// One connection's state, shared by its socket, bodies and task.
#[derive(Debug)]
pub(super) struct Watch {
    state: Mutex<State>,
    /// Wakes the connection's task when its deadline moves.
    changed: Notify,
}

impl Watch {
    pub(super) fn new() -> Self {
        let now = Instant::now();
        Watch {
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: now,
                head_since: None,
                last_io: now,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn moved(&self, read: bool) {
        let now = Instant::now();
        let mut s = self.state();
        s.last_io = now;
        if read && s.in_flight == 0 && s.head_since.is_none() {
            s.head_since = Some(now);
            drop(s);
            self.changed.notify_one();
        }
    }

    /// A request's headers arrived and it goes to the router.
    pub(super) fn request_started(&self) {
        let mut s = self.state();
        s.in_flight += 1;
        s.head_since = None;
    }

    /// A response was sent (or dropped).
    fn response_finished(&self) {
        let now = Instant::now();
        let mut s = self.state();
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0 {
            s.idle_since = now;
        }
        drop(s);
        self.changed.notify_one();
    }

    /// When to look again, or why the connection is over. A request in
    /// flight has no deadline here: its body has its own, and its handler
    /// answers within the policies' and the ledger's bounds.
    pub(super) fn deadline(
        &self,
        now: Instant,
        header_timeout: Duration,
        idle_timeout: Duration,
    ) -> Result<Instant, Expired> {
        let s = self.state();
        let (at, expired) = match (s.in_flight, s.head_since) {
            (0, Some(head)) => (head + header_timeout, Expired::Head),
            (0, None) => (s.idle_since.max(s.last_io) + idle_timeout, Expired::Idle),
            _ => return Ok(now + idle_timeout),
        };
        if now >= at { Err(expired) } else { Ok(at) }
    }

    /// Resolves when the deadline may have moved.
    pub(super) async fn changed(&self) {
        self.changed.notified().await
    }
}

/// A socket that tells its [`Watch`] when bytes move.
pub(super) struct WatchedIo<T> {
    io: T,
    watch: std::sync::Arc<Watch>,
}

impl<T> WatchedIo<T> {
    pub(super) fn new(io: T, watch: std::sync::Arc<Watch>) -> Self {
        WatchedIo { io, watch }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WatchedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.io).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.watch.moved(true);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WatchedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.io).poll_write(cx, buf))?;
        if n > 0 {
            self.watch.moved(false);
        }
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, bufs))?;
        if n > 0 {
            self.watch.moved(false);
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The error of a request body that did not arrive within `body_timeout`.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub(super) struct BodyTimedOut(pub(super) Duration);

/// A request body that must arrive whole by a deadline.
pub(super) struct TimedBody<B> {
    body: B,
    timeout: Duration,
    deadline: Instant,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<B> TimedBody<B> {
    /// `body`, due within `timeout` from now.
    pub(super) fn new(body: B, timeout: Duration) -> Self {
        TimedBody {
            body,
            timeout,
            deadline: Instant::now() + timeout,
            sleep: None,
        }
    }
}

impl<B> HttpBody for TimedBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(BodyTimedOut(self.timeout)))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A response body that tells its [`Watch`] when it is finished or dropped.
pub(super) struct WatchedBody<B> {
    body: B,
    watch: Option<std::sync::Arc<Watch>>,
}

impl<B> WatchedBody<B> {
    pub(super) fn new(body: B, watch: std::sync::Arc<Watch>) -> Self {
        WatchedBody {
            body,
            watch: Some(watch),
        }
    }

    fn finish(&mut self) {
        if let Some(watch) = self.watch.take() {
            watch.response_finished();
        }
    }
}

impl<B> Drop for WatchedBody<B> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<B: HttpBody + Unpin> HttpBody for WatchedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        if frame.is_none() {
            self.finish();
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: Duration = Duration::from_secs(2);
    const IDLE: Duration = Duration::from_secs(5);

    #[test]
    fn a_quiet_connection_expires_after_the_idle_timeout() {
        let watch = Watch::new();
        let start = Instant::now();
        let at = watch.deadline(start, HEAD, IDLE).unwrap();
        assert!(at >= start + IDLE - Duration::from_millis(50));
        assert_eq!(watch.deadline(at, HEAD, IDLE), Err(Expired::Idle));
    }

    #[test]
    fn the_first_byte_of_a_request_starts_the_header_timeout() {
        let watch = Watch::new();
        watch.moved(true);
        let now = Instant::now();
        let at = watch.deadline(now, HEAD, IDLE).unwrap();
        assert!(at <= now + HEAD);
        assert_eq!(watch.deadline(at, HEAD, IDLE), Err(Expired::Head));
    }

    #[test]
    fn a_request_in_flight_never_expires_and_its_end_restarts_the_idle_clock() {
        let watch = Watch::new();
        watch.moved(true);
        watch.request_started();
        let later = Instant::now() + IDLE * 10;
        assert!(watch.deadline(later, HEAD, IDLE).is_ok());
        watch.response_finished();
        let now = Instant::now();
        let at = watch.deadline(now, HEAD, IDLE).unwrap();
        assert!(at > now + IDLE - Duration::from_millis(50), "idle again");
    }
}
