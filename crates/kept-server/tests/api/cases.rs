use super::app::TestApp;
use crate::app_test;
use axum::http::StatusCode;
use serde_json::json;

app_test!(an_agent_works_a_case_from_open_to_solved_through_the_api, async |app: &TestApp| {
    let id = app.case_by("ana", "Printer on fire").await;
    let path = format!("/api/v1/cases/{id}");
    let assign = app
        .patch(&path, "agent", json!({"assignee_id": app.fx.agent.id.0, "priority": "urgent", "tags": ["hardware"]}))
        .await;
    assert_eq!(assign.status, StatusCode::OK, "{}", assign.text);
    assert_eq!(assign.json["assignee"]["name"], "Alex Agent");
    assert_eq!(assign.json["tags"], json!(["hardware"]));
    let reply = app
        .post(&format!("{path}/messages"), "agent", json!({"body": "Unplug it, please.", "status": "pending"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json["case"]["status"], "pending");
    assert_eq!(reply.json["message"]["author_role"], "agent");
    let answer = app.post(&format!("{path}/messages"), "ana", json!({"body": "Done, thanks"})).await;
    assert_eq!(answer.json["case"]["status"], "open");
    assert_eq!(answer.json["case"]["tags"], json!([]), "customers do not see tags");
    let solved = app.patch(&path, "agent", json!({"status": "solved"})).await;
    assert_eq!(solved.json["status"], "solved");
    assert!(solved.json["solved_at"].is_string());
    let events = app.get(&format!("{path}/events"), "agent").await;
    let kinds: Vec<&str> =
        events.json["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"case_created"));
    assert_eq!(kinds.iter().filter(|k| **k == "status_changed").count(), 3);
    let change = events.json["events"].as_array().unwrap().iter().find(|e| e["kind"] == "priority_changed").unwrap();
    assert_eq!((change["before"].as_str(), change["after"].as_str()), (Some("normal"), Some("urgent")));
    assert_eq!(change["actor"]["name"], "Alex Agent");
    let messages = app.get(&format!("{path}/messages"), "ana").await;
    assert_eq!(messages.json["messages"].as_array().unwrap().len(), 3);
});

app_test!(lists_filter_sort_and_page_with_a_cursor, async |app: &TestApp| {
    for i in 0..7 {
        app.clock.advance(jiff::SignedDuration::from_secs(60));
        app.case_by(if i % 2 == 0 { "ana" } else { "bob" }, &format!("Case {i}")).await;
    }
    let first = app.get("/api/v1/cases?limit=3&sort=-created_at", "agent").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let subjects = |a: &crate::api::app::Answer| -> Vec<String> {
        a.json["cases"].as_array().unwrap().iter().map(|c| c["subject"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(subjects(&first), ["Case 6", "Case 5", "Case 4"]);
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/api/v1/cases?limit=3&sort=-created_at&cursor={cursor}"), "agent").await;
    assert_eq!(subjects(&second), ["Case 3", "Case 2", "Case 1"]);
    let acme = app.get(&format!("/api/v1/cases?account_id={}", app.fx.acme.id), "agent").await;
    assert_eq!(acme.json["cases"].as_array().unwrap().len(), 4);
    let mine = app.get("/api/v1/cases?assignee_id=me", "agent").await;
    assert_eq!(mine.json["cases"].as_array().unwrap().len(), 0);
    let window =
        app.get("/api/v1/cases?created_after=2024-06-03T13:02:00Z&created_before=2024-06-03T13:04:00Z", "agent").await;
    assert_eq!(subjects(&window), ["Case 2", "Case 1"]);
    let bad = app.get(&format!("/api/v1/cases?sort=created_at&cursor={cursor}"), "agent").await;
    assert_eq!((bad.status, bad.code()), (StatusCode::BAD_REQUEST, "invalid_cursor"));
    let ana = app.get("/api/v1/cases", "ana").await;
    assert!(ana.json["cases"].as_array().unwrap().iter().all(|c| c["account"]["name"] == "Acme"));
});

app_test!(a_retried_create_returns_the_same_case, async |app: &TestApp| {
    let send = async |body: serde_json::Value| {
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/api/v1/cases")
            .header("authorization", "Bearer tok-ana")
            .header("content-type", "application/json")
            .header("idempotency-key", "order-7781")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        app.send(req).await
    };
    let body = json!({"subject": "Once only", "message": "Please."});
    let first = send(body.clone()).await;
    let again = send(body).await;
    assert_eq!((first.status, again.status), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(first.json["id"], again.json["id"]);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    let other = send(json!({"subject": "Different", "message": "Please."})).await;
    assert_eq!((other.status, other.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    assert_eq!(app.get("/api/v1/cases", "ana").await.json["cases"].as_array().unwrap().len(), 1);
});

app_test!(a_reply_to_a_closed_case_opens_a_linked_follow_up, async |app: &TestApp| {
    let id = app.case_by("ana", "Late order").await;
    let path = format!("/api/v1/cases/{id}");
    app.patch(&path, "agent", json!({"status": "solved"})).await;
    app.patch(&path, "agent", json!({"status": "closed"})).await;
    let illegal = app.patch(&path, "agent", json!({"status": "open"})).await;
    assert_eq!((illegal.status, illegal.code()), (StatusCode::CONFLICT, "case_closed"));
    let out = app.post(&format!("{path}/messages"), "ana", json!({"body": "Late again"})).await;
    assert_eq!(out.status, StatusCode::CREATED);
    assert_eq!(out.json["follow_up"], true);
    assert_eq!(out.json["case"]["follow_up_of"], id);
    assert_ne!(out.json["case"]["id"], id);
});

app_test!(an_illegal_transition_is_a_conflict_naming_both_states, async |app: &TestApp| {
    let id = app.case_by("ana", "x").await;
    let a = app.patch(&format!("/api/v1/cases/{id}"), "agent", json!({"status": "closed"})).await;
    assert_eq!((a.status, a.code()), (StatusCode::CONFLICT, "illegal_transition"));
    assert_eq!(a.json["error"]["field"], "status");
    assert!(a.json["error"]["message"].as_str().unwrap().contains("new to closed"));
});

app_test!(internal_requests_link_two_teams_cases, async |app: &TestApp| {
    let id = app.case_by("ana", "SSO broken").await;
    let body = json!({"team_id": app.fx.it.id.0, "subject": "Reset SSO", "message": "Please reset."});
    let child = app.post(&format!("/api/v1/cases/{id}/internal-requests"), "agent", body).await;
    assert_eq!(child.status, StatusCode::CREATED, "{}", child.text);
    assert_eq!(child.json["parent_case_id"], id);
    assert_eq!(child.json["requesting_team"]["name"], "Support");
    assert_eq!(child.json["channel"], "internal");
    let child_id = child.json["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/api/v1/cases/{child_id}"), "it_agent").await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/v1/cases/{child_id}"), "ana").await.status, StatusCode::NOT_FOUND);
});

app_test!(search_respects_permissions, async |app: &TestApp| {
    app.case_by("ana", "Invoice mismatch").await;
    app.case_by("bob", "Invoice question").await;
    let all = app.get("/api/v1/search/cases?q=invoice", "agent").await;
    assert_eq!(all.json["cases"].as_array().unwrap().len(), 2);
    let bob = app.get("/api/v1/search/cases?q=invoice", "bob").await;
    assert_eq!(bob.json["cases"].as_array().unwrap().len(), 1);
    let empty = app.get("/api/v1/search/cases?q=%22%20", "agent").await;
    assert_eq!((empty.status, empty.code()), (StatusCode::BAD_REQUEST, "required"));
});

app_test!(tokens_are_shown_once_stored_hashed_and_revocable, async |app: &TestApp| {
    let made = app.post("/api/v1/tokens", "agent", json!({"name": "laptop"})).await;
    assert_eq!(made.status, StatusCode::CREATED);
    let secret = made.json["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("kept_") && secret.len() >= 48, "at least 128 bits");
    let listed = app.get("/api/v1/tokens", "agent").await;
    assert!(!listed.text.contains(&secret), "the secret is never shown again");
    let id = made.json["id"].as_i64().unwrap();
    let mut req = axum::http::Request::builder().uri("/api/v1/me").header("authorization", format!("Bearer {secret}"));
    let me = app.send(req.body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(me.json["email"], "agent@kept.test");
    assert_eq!(app.call("DELETE", &format!("/api/v1/tokens/{id}"), "agent", None).await.status, StatusCode::OK);
    req = axum::http::Request::builder().uri("/api/v1/me").header("authorization", format!("Bearer {secret}"));
    let after = app.send(req.body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!((after.status, after.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));
});

app_test!(password_logins_for_tokens_are_rate_limited, async |app: &TestApp| {
    let body = |pw: &str| json!({"email": "agent@kept.test", "password": pw, "name": "script"});
    for _ in 0..5 {
        let a = app.post("/api/v1/auth/tokens", "", body("wrong password!")).await;
        assert_eq!((a.status, a.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    }
    let locked = app.post("/api/v1/auth/tokens", "", body(kept_store::test_support::FIXTURE_PASSWORD)).await;
    assert_eq!((locked.status, locked.code()), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
    assert!(locked.headers.get("retry-after").is_some());
    let other = app
        .post(
            "/api/v1/auth/tokens",
            "",
            json!({"email": "ana@acme.test", "password": kept_store::test_support::FIXTURE_PASSWORD, "name": "x"}),
        )
        .await;
    assert_eq!(other.status, StatusCode::TOO_MANY_REQUESTS, "the client address is locked out too");
});
