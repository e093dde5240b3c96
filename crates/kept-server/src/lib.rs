//! kept-server: the HTTP face of kept — the JSON API under /api/v1 with its
//! OpenAPI document, the server-rendered pages, sessions and API tokens.
//!
//! What does not belong here: SQL (kept-store) and rules (kept-core).
//! Handlers extract, call the store, and shape the answer.

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod error;
mod headers;
pub mod jobs;
pub mod mail;
pub mod scorecard;
pub mod state;
pub mod web;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use state::AppState;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The whole application: pages, API, assets, with the headers every
/// answer carries.
pub fn app(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let (api, _) = api::router();
    Router::new()
        .merge(web::router())
        .merge(api)
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}

async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        api::no_route().await.into_response()
    } else {
        web::session::PageError::Api(error::ApiError::new(StatusCode::NOT_FOUND, "not_found", "There is no such page."))
            .into_response()
    }
}

async fn wrong_method(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        api::wrong_method().await.into_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, "method not allowed").into_response()
    }
}

/// A bound, not yet running server. Binding first lets callers learn the
/// port (tests bind port 0) before serving.
pub struct Server {
    listener: TcpListener,
    app: Router,
    state: AppState,
}

impl Server {
    pub async fn bind(state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(state.config.listen).await?;
        Ok(Self { listener, app: app(state.clone()), state })
    }

    /// Serves on a listener bound already (the caller needed its port first).
    pub fn from_listener(listener: TcpListener, state: AppState) -> Self {
        Self { listener, app: app(state.clone()), state }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves (and runs due jobs) until `shutdown` completes, then lets
    /// in-flight requests and the job in progress finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let runner = self.state.config.run_jobs.then(|| tokio::spawn(jobs::run(self.state.clone(), stopped.clone())));
        let sender =
            self.state.config.run_jobs.then(|| tokio::spawn(mail::sender::run(self.state.clone(), stopped.clone())));
        let poller =
            self.state.config.run_jobs.then(|| tokio::spawn(mail::imap_poll::run(self.state.clone(), stopped)));
        let service = self.app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, service).with_graceful_shutdown(shutdown).await;
        let _ = stop.send(true);
        for task in [runner, sender, poller].into_iter().flatten() {
            let _ = task.await;
        }
        served
    }
}
