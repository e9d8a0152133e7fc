//! The listener: accepts at most `max_connections` connections at a time
//! (more wait in the listen queue), serves each with hyper's HTTP/1 under
//! its [`Watch`], and on shutdown lets requests in flight finish within
//! `shutdown_grace` before closing what is left. `axum::serve` has none of
//! these knobs.

use super::ServerSettings;
use super::watch::{Expired, TimedBody, Watch, WatchedBody, WatchedIo};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// Pause after an accept error that is not the peer's (e.g. out of files).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` completes, then drains.
pub(super) async fn serve_connections(
    listener: TcpListener,
    app: Router,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let (closing, closing_rx) = tokio::sync::watch::channel(());
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    if !is_peer_error(&error) {
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        connections.spawn(connection(
            stream,
            app.clone(),
            settings,
            closing_rx.clone(),
            permit,
        ));
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    drop(closing);
    let drained = tokio::time::timeout(settings.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            grace = ?settings.shutdown_grace,
            "requests still in flight after the shutdown grace: closing their connections"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Errors of one connection attempt, not of the listener.
fn is_peer_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// One connection, until it ends, its watch expires, or the server stops.
async fn connection(
    stream: TcpStream,
    app: Router,
    settings: ServerSettings,
    mut closing: tokio::sync::watch::Receiver<()>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let watch = Arc::new(Watch::new());
    let io = TokioIo::new(WatchedIo::new(stream, watch.clone()));
    let router = TowerToHyperService::new(app);
    let requests = watch.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        requests.request_started();
        let request = request.map(|body| TimedBody::new(body, settings.body_timeout));
        let answer = hyper::service::Service::call(&router, request);
        let watch = requests.clone();
        async move {
            let response = answer.await?;
            Ok::<_, Infallible>(response.map(|body| WatchedBody::new(body, watch)))
        }
    });
    // No hyper timer: the watch keeps the header and idle timeouts.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.header_read_timeout(None);
    let mut conn = std::pin::pin!(builder.serve_connection(io, service));
    let mut stopping = false;
    loop {
        let wake = match watch.deadline(
            Instant::now(),
            settings.header_timeout,
            settings.idle_timeout,
        ) {
            Ok(at) => tokio::time::Instant::from_std(at),
            Err(expired) => {
                let timeout = match expired {
                    Expired::Idle => "idle_timeout",
                    Expired::Head => "header_timeout",
                };
                tracing::debug!(timeout, "connection closed");
                return;
            }
        };
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(error) = done {
                    tracing::debug!(%error, "connection ended");
                }
                return;
            }
            () = tokio::time::sleep_until(wake) => {}
            () = watch.changed() => {}
            _ = closing.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}
