//! The real server on port 0, reached over TCP: what the in-process tests
//! cannot show (listening, connection info, graceful shutdown).

use super::app::fixture_hash;
use kept_core::permissions::Principal;
use kept_server::auth::secrets::digest;
use kept_server::clock::SystemClock;
use kept_server::config::ServerConfig;
use kept_server::state::AppState;
use kept_store::test_support::{Fixture, TestDb};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_server_on_port_0_serves_the_api_and_stops_gracefully() {
    let db = TestDb::sqlite().await;
    let fx = Fixture::create(&db.store, Some(fixture_hash()), jiff::Timestamp::UNIX_EPOCH).await;
    db.store
        .create_api_token(&Principal::system(), fx.ana.id, "t", &digest("tok-real"), "tok", jiff::Timestamp::UNIX_EPOCH)
        .await
        .unwrap();
    let config = ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), ..ServerConfig::default() };
    let server =
        kept_server::Server::bind(AppState::new(db.store.clone(), Arc::new(SystemClock), config)).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    let answer = tokio::task::spawn_blocking(move || {
        let agent = ureq::Agent::new_with_defaults();
        let created = agent
            .post(&format!("{base}/api/v1/cases"))
            .header("authorization", "Bearer tok-real")
            .send_json(serde_json::json!({"subject": "Over TCP", "message": "hello"}))
            .unwrap();
        assert_eq!(created.status(), 201);
        let mut listed =
            agent.get(&format!("{base}/api/v1/cases")).header("authorization", "Bearer tok-real").call().unwrap();
        listed.body_mut().read_json::<serde_json::Value>().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(answer["cases"][0]["subject"], "Over TCP");
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}
