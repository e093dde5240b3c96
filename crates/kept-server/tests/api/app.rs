#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use jiff::Timestamp;
use kept_core::permissions::Principal;
use kept_server::auth::secrets::{digest, hash_password};
use kept_server::clock::ManualClock;
use kept_server::config::ServerConfig;
use kept_server::state::AppState;
use kept_store::Store;
use kept_store::test_support::{FIXTURE_PASSWORD, Fixture, TestDb};
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

pub fn start() -> Timestamp {
    "2024-06-03T13:00:00Z".parse().unwrap()
}

/// One argon2 hash for every fixture person: hashing is slow on purpose.
pub fn fixture_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(FIXTURE_PASSWORD).unwrap()).clone()
}

pub struct TestApp {
    pub db: TestDb,
    pub app: Router,
    pub clock: ManualClock,
    pub fx: Fixture,
    pub state: AppState,
}

/// A response: status, headers and the body as JSON (or Null) and text.
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

/// The API token of each fixture person is "tok-<name>".
pub const PEOPLE: &[&str] = &["admin", "manager", "agent", "it_agent", "ana", "bob"];

impl TestApp {
    pub async fn new(db: TestDb) -> TestApp {
        let store = db.store.clone();
        let fx = Fixture::create(&store, Some(fixture_hash()), start()).await;
        for (name, user) in [
            ("admin", &fx.admin),
            ("manager", &fx.manager),
            ("agent", &fx.agent),
            ("it_agent", &fx.it_agent),
            ("ana", &fx.ana),
            ("bob", &fx.bob),
        ] {
            let secret = format!("tok-{name}");
            store
                .create_api_token(&Principal::system(), user.id, "test", &digest(&secret), "tok", start())
                .await
                .unwrap();
        }
        let clock = ManualClock::new(start());
        let config = ServerConfig {
            login_attempts: 5,
            max_body_bytes: 64 * 1024,
            max_import_bytes: 64 * 1024,
            ..ServerConfig::default()
        };
        let state = AppState::new(store, Arc::new(clock.clone()), config);
        TestApp { app: kept_server::app(state.clone()), db, clock, fx, state }
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    pub async fn send(&self, req: Request<Body>) -> Answer {
        send_to(&self.app, req).await
    }

    /// The same application over the same database and clock, with another
    /// server configuration (say, cookies marked Secure).
    pub fn router_with(&self, adjust: impl FnOnce(&mut ServerConfig)) -> Router {
        let mut config = (*self.state.config).clone();
        adjust(&mut config);
        kept_server::app(AppState::new(self.db.store.clone(), Arc::new(self.clock.clone()), config))
    }

    /// An API call as `who` (a name from PEOPLE, or "" for anonymous).
    pub async fn call(&self, method: &str, path: &str, who: &str, body: Option<Value>) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if !who.is_empty() {
            req = req.header("authorization", format!("Bearer tok-{who}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    /// A call with a non-JSON body.
    pub async fn call_text(&self, method: &str, path: &str, who: &str, content_type: &str, body: &str) -> Answer {
        let mut req = Request::builder().method(method).uri(path).header("content-type", content_type);
        if !who.is_empty() {
            req = req.header("authorization", format!("Bearer tok-{who}"));
        }
        self.send(req.body(Body::from(body.to_owned())).unwrap()).await
    }

    pub async fn get(&self, path: &str, who: &str) -> Answer {
        self.call("GET", path, who, None).await
    }

    pub async fn post(&self, path: &str, who: &str, body: Value) -> Answer {
        self.call("POST", path, who, Some(body)).await
    }

    pub async fn patch(&self, path: &str, who: &str, body: Value) -> Answer {
        self.call("PATCH", path, who, Some(body)).await
    }

    /// Opens a case as a contact and returns its id.
    pub async fn case_by(&self, who: &str, subject: &str) -> i64 {
        let a =
            self.post("/api/v1/cases", who, serde_json::json!({"subject": subject, "message": "Please help."})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.json["id"].as_i64().unwrap()
    }
}

/// Sends a request to a router and reads the whole answer.
pub async fn send_to(app: &Router, req: Request<Body>) -> Answer {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, headers, json, text }
}

/// Runs a test body on SQLite and on PostgreSQL (when switched on).
#[macro_export]
macro_rules! app_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::api::app::TestApp::new(kept_store::test_support::TestDb::sqlite().await).await;
                ($body)(&app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = kept_store::test_support::TestDb::postgres().await else {
                    eprintln!("skipped: set {} to run on PostgreSQL", kept_store::test_support::POSTGRES_ENV);
                    return;
                };
                let app = $crate::api::app::TestApp::new(db).await;
                ($body)(&app).await;
            }
        }
    };
}
