//! `POST /api/v1/import`: the summary with each refused line, who may
//! import, and the answers to bodies that cannot be imported.

use super::app::TestApp;
use crate::app_test;
use axum::http::StatusCode;
use serde_json::json;

const NDJSON: &str = "application/x-ndjson";

fn file() -> String {
    let good = json!({"external_id": "API-1", "subject": "Printer on fire", "account": "Acme", "requester": "ana@acme.test",
        "team": "Support", "assignee": "agent@kept.test", "created_at": "2024-06-03T09:00:00Z",
        "events": [{"at": "2024-06-03T09:30:00Z", "kind": "message", "author": "agent", "agent": "agent@kept.test", "body": "On it"}],
        "surveys": [{"kind": "csat", "score": 4, "answered_at": "2024-06-03T12:00:00Z"}]});
    let bad = json!({"external_id": "API-2", "subject": "x", "account": "Acme", "requester": "ana@acme.test",
        "team": "Support", "created_at": "2024-06-03T09:00:00Z", "surveys": [{"kind": "ces", "score": 9, "answered_at": "2024-06-03T12:00:00Z"}]});
    format!("{good}\r\n{bad}\n\n")
}

app_test!(an_admin_imports_and_gets_the_summary_with_each_refused_line, async |app: &TestApp| {
    let a = app.call_text("POST", "/api/v1/import", "admin", NDJSON, &file()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        a.json,
        json!({"lines": 2, "created": 1, "updated": 0, "unchanged": 0, "rejected": 1, "errors_omitted": 0,
            "errors": [{"line": 2, "field": "surveys[0].score", "code": "out_of_range", "message": "a CES score is between 1 and 7"}]})
    );
    let again = app.call_text("POST", "/api/v1/import", "admin", "text/plain; charset=utf-8", &file()).await;
    assert_eq!((again.json["created"].as_u64(), again.json["unchanged"].as_u64()), (Some(0), Some(1)), "no duplicate");
    let cases = app.get("/api/v1/cases?limit=10", "admin").await;
    let subjects: Vec<&str> =
        cases.json["cases"].as_array().unwrap().iter().filter_map(|c| c["subject"].as_str()).collect();
    assert_eq!(subjects, ["Printer on fire"]);
});

app_test!(only_admins_import, async |app: &TestApp| {
    for (who, status) in [("", 401), ("manager", 403), ("agent", 403), ("ana", 404)] {
        let a = app.call_text("POST", "/api/v1/import", who, NDJSON, &file()).await;
        assert_eq!(a.status.as_u16(), status, "{who}: {}", a.text);
    }
});

app_test!(bodies_that_cannot_be_imported_are_refused_with_a_code, async |app: &TestApp| {
    let json = app.call_text("POST", "/api/v1/import", "admin", "application/json", &file()).await;
    assert_eq!((json.status, json.code()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    let empty = app.call_text("POST", "/api/v1/import", "admin", NDJSON, "\n \n").await;
    assert_eq!((empty.status, empty.code()), (StatusCode::UNPROCESSABLE_ENTITY, "empty"));
    assert_eq!(empty.json["error"]["field"], "body");
    let huge = "x".repeat(65 * 1024);
    let big = app.call_text("POST", "/api/v1/import", "admin", NDJSON, &huge).await;
    assert_eq!((big.status, big.code()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    let garbage = app.call_text("POST", "/api/v1/import", "admin", NDJSON, "\u{1}\u{0}{[\"").await;
    assert_eq!(garbage.status, StatusCode::OK, "a bad line is reported, not a failed request");
    assert_eq!(garbage.json["errors"][0]["code"], "invalid_json");
    assert_eq!(garbage.json["errors"][0]["field"], serde_json::Value::Null);
});
