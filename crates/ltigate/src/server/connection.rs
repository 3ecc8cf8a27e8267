//! The accept loop and each client connection: HTTP/1 through hyper, with the bounds that
//! `axum::serve` lacks (header read time, idle keep-alive time, request time, open connections).
//!
//! hyper's own `header_read_timeout` also runs while a keep-alive connection waits for its next
//! request, so it cannot be combined with a longer idle timeout. Each connection therefore has
//! a small watchdog that knows which phase the connection is in:
//! - waiting for a request's headers (from the accept, or from the first byte of a following
//!   request): closed after `header_read`;
//! - handling a request (headers parsed until the response is ready): bounded by `request`,
//!   which answers 408 `REQUEST_TIMEOUT`, so a slow body is cut too;
//! - idle between a response and the next request's first byte: closed after `keep_alive_idle`.
//!
//! This module does not route or render: it hands each request to the app it is given.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::{Service, ServiceExt};

use crate::code::Code;
use crate::http::error::ApiError;

/// The bounds every connection gets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub header_read: Duration,
    pub keep_alive_idle: Duration,
    pub request: Duration,
    pub max_connections: u32,
    pub shutdown_grace: Duration,
}

/// How long the accept loop rests after an error such as EMFILE (out of file descriptors), so
/// it neither spins nor stops; connections that close meanwhile free descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(500);

/// Serves `app` on `listener` until `shutdown` completes. Then it stops accepting, lets the open
/// connections finish their in-flight requests for `shutdown_grace`, and drops what is left.
///
/// At most `max_connections` connections are served at once; further clients are not accepted
/// until one closes (they wait in the kernel's listen backlog), so a burst is delayed, not
/// refused, while the timeouts bound how long any one connection holds its slot.
pub(crate) async fn serve<A>(
    listener: TcpListener,
    app: A,
    bounds: Bounds,
    shutdown: impl Future<Output = ()>,
) where
    A: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    A::Future: Send,
{
    let slots = Arc::new(Semaphore::new(bounds.max_connections as usize));
    // `true` asks every connection to finish its request and close; dropping the sender
    // closes them at once.
    let (draining_tx, draining) = watch::channel(false);
    let accept = async {
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                // The client gave up between connect and accept: nothing to do.
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed; retrying");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            };
            tokio::spawn(serve_connection(
                stream,
                peer,
                app.clone(),
                bounds,
                draining.clone(),
                slot,
            ));
        }
    };
    tokio::select! {
        () = accept => {}
        () = shutdown => {}
    }
    drop(listener);
    let _ = draining_tx.send(true);
    // Every connection holds one slot until it ends: all slots back means all drained.
    let drained = slots.acquire_many(bounds.max_connections);
    tokio::select! {
        _ = drained => {}
        () = tokio::time::sleep(bounds.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; dropping open connections");
        }
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// One client connection, from accept to close; `_slot` returns to the cap when it ends.
async fn serve_connection<A>(
    stream: TcpStream,
    peer: SocketAddr,
    app: A,
    bounds: Bounds,
    mut draining: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) where
    A: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    A::Future: Send,
{
    let phase = Arc::new(PhaseClock::new());
    let io = TokioIo::new(Watched {
        stream,
        phase: phase.clone(),
    });
    let service = PerConnection {
        app,
        peer,
        phase: phase.clone(),
        request_timeout: bounds.request,
    };
    let mut builder = http1::Builder::new();
    // The watchdog below keeps time; hyper's header timer would also cut idle connections.
    builder.keep_alive(true).header_read_timeout(None);
    let mut connection = pin!(builder.serve_connection(io, service));
    let mut expired = pin!(phase.expired(bounds));
    let mut draining_seen = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = &mut expired => {
                tracing::debug!("closed a slow or idle connection");
                return;
            }
            changed = draining.changed() => {
                // The sender is gone: the grace period is over.
                if changed.is_err() {
                    return;
                }
                // Idle connections close now; one mid-request closes after its response.
                if !draining_seen {
                    draining_seen = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Where a connection is in its request cycle, and since when.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for (the rest of) a request's headers.
    Head(Instant),
    /// A request is being handled; the request timeout bounds it.
    Busy,
    /// Between a response and the next request's first byte.
    Idle(Instant),
}

#[derive(Debug)]
struct PhaseClock(Mutex<Phase>);

impl PhaseClock {
    fn new() -> Self {
        Self(Mutex::new(Phase::Head(Instant::now())))
    }

    fn set(&self, update: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *phase = update(*phase);
    }

    fn get(&self) -> Phase {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes arrived: on an idle connection they start the next request's header clock.
    fn bytes_arrived(&self) {
        self.set(|phase| match phase {
            Phase::Idle(_) => Phase::Head(Instant::now()),
            other => other,
        });
    }

    fn request_started(&self) {
        self.set(|_| Phase::Busy);
    }

    fn response_ready(&self) {
        self.set(|_| Phase::Idle(Instant::now()));
    }

    /// Completes when the current phase has lasted longer than it may.
    async fn expired(&self, bounds: Bounds) {
        // A phase change can bring the deadline closer (idle -> head), so never sleep longer
        // than the shortest bound: the check is then never late.
        let step = bounds.header_read.min(bounds.keep_alive_idle);
        loop {
            let now = Instant::now();
            let deadline = match self.get() {
                Phase::Head(since) => Some(since + bounds.header_read),
                Phase::Idle(since) => Some(since + bounds.keep_alive_idle),
                Phase::Busy => None,
            };
            match deadline {
                Some(deadline) if deadline <= now => return,
                Some(deadline) => tokio::time::sleep_until(deadline.min(now + step)).await,
                None => tokio::time::sleep(step).await,
            }
        }
    }
}

/// The socket, telling the phase clock when bytes arrive.
#[derive(Debug)]
struct Watched {
    stream: TcpStream,
    phase: Arc<PhaseClock>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.phase.bytes_arrived();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The app as one connection's hyper service: adds the peer address, bounds the request time
/// and moves the phase clock.
#[derive(Debug, Clone)]
struct PerConnection<A> {
    app: A,
    peer: SocketAddr,
    phase: Arc<PhaseClock>,
    request_timeout: Duration,
}

impl<A> hyper::service::Service<hyper::Request<Incoming>> for PerConnection<A>
where
    A: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    A::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        self.phase.request_started();
        let mut request = request.map(Body::new);
        // Handlers (the registration rate limit) read the client address with `ConnectInfo`.
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let app = self.app.clone();
        let phase = self.phase.clone();
        let limit = self.request_timeout;
        Box::pin(async move {
            let response = match tokio::time::timeout(limit, app.oneshot(request)).await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => request_timed_out(),
            };
            phase.response_ready();
            Ok(response)
        })
    }
}

fn request_timed_out() -> Response {
    ApiError::described(
        Code::RequestTimeout,
        "The request took too long to arrive or to answer; send it again.",
    )
    .into_response()
}

#[cfg(test)]
mod tests;
