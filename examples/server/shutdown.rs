//! Serving until told to stop, as a service manager expects: the first
//! SIGTERM or Ctrl-C (SIGINT) stops accepting connections and lets the
//! requests in flight finish, for at most `--shutdown-timeout`; a second
//! signal, or the end of that wait, ends them at once. The process then
//! exits 0.

use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::Error;

/// Serves `router` on `listener` until a signal, then drains for at most `timeout`.
pub async fn serve(listener: TcpListener, router: Router, timeout: Duration) -> Result<(), Error> {
    let (signalled, drain) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        signal().await;
        let _ = signalled.send(());
    });
    let server = std::future::IntoFuture::into_future(server);
    tokio::pin!(server);
    tokio::select! {
        served = &mut server => return Ok(served?),
        _ = drain => {}
    }
    tracing::info!(
        timeout_seconds = timeout.as_secs(),
        "shutting down: no new connections, waiting for the requests in flight"
    );
    tokio::select! {
        served = &mut server => served?,
        () = tokio::time::sleep(timeout) => {
            tracing::warn!("requests still in flight after --shutdown-timeout: ending them");
        }
        () = signal() => tracing::warn!("a second signal: ending the requests in flight"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate() => {}
    }
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            terminate.recv().await;
        }
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM: only Ctrl-C stops the server");
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await;
}
