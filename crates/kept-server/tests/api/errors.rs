use super::app::TestApp;
use crate::app_test;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

fn raw(method: &str, path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", "Bearer tok-agent")
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

app_test!(bad_input_gets_a_clear_error_never_a_500, async |app: &TestApp| {
    let cases = [
        (raw("POST", "/api/v1/cases", "application/json", "{not json"), StatusCode::BAD_REQUEST, "invalid_json", None),
        (
            raw("POST", "/api/v1/cases", "text/plain", "{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        ),
        (
            raw("POST", "/api/v1/cases", "application/json", r#"{"subject": "x"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            Some("message"),
        ),
        (
            raw("POST", "/api/v1/cases", "application/json", r#"{"subject": "x", "message": "y", "prio": "high"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("prio"),
        ),
        (
            raw(
                "POST",
                "/api/v1/cases",
                "application/json",
                r#"{"subject": "x", "message": "y", "priority": "asap", "requester_id": 1}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("priority"),
        ),
        (
            raw("POST", "/api/v1/cases", "application/json", r#"{"subject": "", "message": "y"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "required",
            Some("subject"),
        ),
        (
            raw(
                "POST",
                "/api/v1/cases",
                "application/json",
                r#"{"subject": "x", "message": "y", "tags": ["ok", "not ok"]}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_slug",
            Some("tags[1]"),
        ),
        (raw("GET", "/api/v1/cases/abc", "application/json", ""), StatusCode::BAD_REQUEST, "invalid_path", None),
        (
            raw("GET", "/api/v1/cases?limit=lots", "application/json", ""),
            StatusCode::BAD_REQUEST,
            "invalid_query",
            Some("limit"),
        ),
        (
            raw("GET", "/api/v1/cases?status=open,maybe", "application/json", ""),
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("status"),
        ),
        (
            raw("GET", "/api/v1/cases?created_after=yesterday", "application/json", ""),
            StatusCode::BAD_REQUEST,
            "invalid_time",
            Some("created_after"),
        ),
        (raw("GET", "/api/v1/nothing-here", "application/json", ""), StatusCode::NOT_FOUND, "no_route", None),
        (
            raw("DELETE", "/api/v1/cases", "application/json", ""),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            None,
        ),
        (raw("GET", "/api/v1/cases/99999999", "application/json", ""), StatusCode::NOT_FOUND, "not_found", None),
    ];
    for (req, status, code, field) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let a = app.send(req).await;
        assert_eq!((a.status, a.code()), (status, code), "{what}: {}", a.text);
        if let Some(field) = field {
            assert_eq!(a.json["error"]["field"], field, "{what}");
        }
        assert!(a.json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}");
    }
});

app_test!(an_oversized_body_is_refused_with_413, async |app: &TestApp| {
    let big = json!({"subject": "x", "message": "y".repeat(100 * 1024)}).to_string();
    let a = app.send(raw("POST", "/api/v1/cases", "application/json", big)).await;
    assert_eq!((a.status, a.code()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
});

app_test!(missing_or_unknown_tokens_are_401_with_a_challenge, async |app: &TestApp| {
    let none = app.get("/api/v1/cases", "").await;
    assert_eq!((none.status, none.code()), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    assert_eq!(none.headers.get("www-authenticate").unwrap(), "Bearer");
    let bad = app
        .send(
            Request::builder().uri("/api/v1/cases").header("authorization", "Bearer nope").body(Body::empty()).unwrap(),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));
    let basic = app
        .send(
            Request::builder().uri("/api/v1/cases").header("authorization", "Basic YTpi").body(Body::empty()).unwrap(),
        )
        .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
});

app_test!(validation_errors_write_nothing, async |app: &TestApp| {
    let id = app.case_by("ana", "Atomic").await;
    let before = app.get(&format!("/api/v1/cases/{id}/events"), "agent").await.json["events"].as_array().unwrap().len();
    let bad = app
        .patch(
            &format!("/api/v1/cases/{id}"),
            "agent",
            json!({"priority": "high", "assignee_id": app.fx.it_agent.id.0}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_assignee"));
    let after = app.get(&format!("/api/v1/cases/{id}"), "agent").await;
    assert_eq!(after.json["priority"], "normal");
    let events = app.get(&format!("/api/v1/cases/{id}/events"), "agent").await.json["events"].as_array().unwrap().len();
    assert_eq!(before, events);
});

app_test!(every_answer_carries_the_security_headers, async |app: &TestApp| {
    for path in ["/api/v1/cases", "/login", "/assets/kept.css", "/nowhere"] {
        let a = app.get(path, "agent").await;
        let csp = a.headers.get("content-security-policy").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
                && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(a.headers.get("x-content-type-options").unwrap(), "nosniff", "{path}");
        assert_eq!(a.headers.get("referrer-policy").unwrap(), "same-origin", "{path}");
    }
});

// Schemathesis found a JSON array taken for a struct (serde reads a struct
// from its fields in order): `[null, null]` patched a team and answered 200.
app_test!(a_body_that_is_not_a_json_object_is_refused, async |app: &TestApp| {
    let team = app.fx.support.id.0;
    for body in ["[null, null]", "[]", "\"Support\"", "5", "null"] {
        let a = app.send(raw("PATCH", &format!("/api/v1/teams/{team}"), "application/json", body)).await;
        assert_eq!((a.status, a.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{body}: {}", a.text);
    }
    let broken = app.send(raw("PATCH", &format!("/api/v1/teams/{team}"), "application/json", "[nul")).await;
    assert_eq!((broken.status, broken.code()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let ok =
        app.send(raw("PATCH", &format!("/api/v1/teams/{team}"), "application/json", r#" {"name": "Support"}"#)).await;
    assert_eq!(ok.status, StatusCode::FORBIDDEN, "the agent may not rename teams, but the body was read: {}", ok.text);
});
