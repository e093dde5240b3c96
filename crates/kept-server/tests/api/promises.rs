use super::app::TestApp;
use crate::app_test;
use axum::http::StatusCode;
use serde_json::json;

const NY: &str = r#"{"time_zone": "America/New_York", "weekly": {"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]],
    "wed": [["09:00","17:00"]], "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]]}}"#;

async fn calendar(app: &TestApp) -> i64 {
    let body = json!({"name": "New York", "calendar": serde_json::from_str::<serde_json::Value>(NY).unwrap()});
    let made = app.post("/api/v1/calendars", "admin", body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    made.json["id"].as_i64().unwrap()
}

app_test!(calendars_validate_preview_and_import_holidays, async |app: &TestApp| {
    let bad = app
        .post(
            "/api/v1/calendars",
            "admin",
            json!({"name": "Bad", "calendar": {"time_zone": "UTC", "weekly": {"mon": [["10:00", "09:00"]]}}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json["error"]["field"], "calendar.weekly.mon[0]");
    let zone = app
        .post(
            "/api/v1/calendars",
            "admin",
            json!({"name": "Bad", "calendar": {"time_zone": "Mars/Base", "weekly": {}}}),
        )
        .await;
    assert_eq!(zone.json["error"]["field"], "calendar.time_zone");
    let id = calendar(app).await;
    // METRICS T7: 7.5 business hours from Tue 2024-06-04 11:00 EDT.
    let due = app
        .get(&format!("/api/v1/calendars/{id}/due?from=2024-06-04T11:00:00-04:00&business_minutes=450"), "agent")
        .await;
    assert_eq!(due.json["due_at"], "2024-06-05T14:30:00Z", "{}", due.text);
    let import = app
        .call_text(
            "POST",
            &format!("/api/v1/calendars/{id}/holidays"),
            "admin",
            "text/csv",
            "date,name\n2024-06-05,Closed for training\n",
        )
        .await;
    assert_eq!(import.status, StatusCode::OK, "{}", import.text);
    assert_eq!(import.json["version"], 2);
    assert_eq!(import.json["calendar"]["holidays"], json!(["2024-06-05"]));
    let due = app
        .get(&format!("/api/v1/calendars/{id}/due?from=2024-06-04T11:00:00-04:00&business_minutes=450"), "agent")
        .await;
    assert_eq!(due.json["due_at"], "2024-06-06T14:30:00Z", "the holiday moves the deadline a day");
    let broken = app
        .call_text("POST", &format!("/api/v1/calendars/{id}/holidays"), "admin", "text/csv", "2024-06-05\nnot a date\n")
        .await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(broken.json["error"]["message"].as_str().unwrap().contains("line 2"), "{}", broken.text);
    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20240607\r\nSUMMARY:Team day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let imported =
        app.call_text("POST", &format!("/api/v1/calendars/{id}/holidays"), "admin", "text/calendar", ics).await;
    assert_eq!(imported.json["calendar"]["holidays"], json!(["2024-06-05", "2024-06-07"]), "{}", imported.text);
});

app_test!(policies_refuse_bad_specs_by_field_and_drive_the_clocks_of_cases, async |app: &TestApp| {
    let cal = calendar(app).await;
    let bad = app
        .post(
            "/api/v1/policies",
            "admin",
            json!({"name": "x", "targets": [{"clock": "first_response", "minutes": 60}]}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.json["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("targets[0].time"))
    );
    let typo = app.post("/api/v1/policies", "admin", json!({"name": "x", "targetz": []})).await;
    assert_eq!(typo.code(), "unknown_field");
    let policy = json!({"name": "Everyone", "calendar_id": cal, "targets": [
        {"clock": "first_response", "minutes": 120, "warn_at_percent": 50},
        {"clock": "first_resolution", "minutes": 480}]});
    let made = app.post("/api/v1/policies", "admin", policy).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    // The app's clock reads Mon 2024-06-03 13:00 UTC = 09:00 New York.
    let case = app.case_by("ana", "Printer on fire").await;
    let promises = app.get(&format!("/api/v1/cases/{case}/promises"), "agent").await;
    let list = promises.json["promises"].as_array().unwrap();
    let fr = list.iter().find(|p| p["clock"] == "first_response").unwrap();
    assert_eq!((fr["status"].as_str(), fr["risk"].as_str()), (Some("running"), Some("on_track")));
    assert_eq!(fr["breach_at"], "2024-06-03T15:00:00Z");
    assert_eq!(fr["warn_at"], "2024-06-03T14:00:00Z");
    assert!(fr["explanation"][0].as_str().unwrap().starts_with("started Mon 03 Jun 09:00"), "{}", fr["explanation"]);
    let list_sorted = app.get("/api/v1/cases?sort=next_breach_at", "agent").await;
    assert_eq!(list_sorted.json["cases"][0]["next_breach_at"], "2024-06-03T15:00:00Z");
    // Customers see no internal targets.
    let theirs = app.get(&format!("/api/v1/cases/{case}/promises"), "ana").await;
    assert_eq!(theirs.json["promises"], json!([]));
    let off = app.patch(&format!("/api/v1/policies/{}", made.json["id"]), "admin", json!({"active": false})).await;
    assert_eq!((off.json["version"].as_i64(), off.json["active"].as_bool()), (Some(2), Some(false)));
});

app_test!(agents_promise_callbacks_that_customers_see, async |app: &TestApp| {
    let case = app.case_by("ana", "Call me").await;
    let path = format!("/api/v1/cases/{case}/promises");
    let past = app
        .post(&path, "agent", json!({"kind": "callback", "due_at": "2024-06-03T12:00:00Z", "description": "x"}))
        .await;
    assert_eq!((past.status, past.code()), (StatusCode::UNPROCESSABLE_ENTITY, "in_the_past"));
    let kind = app
        .post(&path, "agent", json!({"kind": "first_response", "due_at": "2024-06-03T15:00:00Z", "description": "x"}))
        .await;
    assert_eq!(kind.json["error"]["field"], "kind");
    let made = app
        .post(
            &path,
            "agent",
            json!({"kind": "callback", "due_at": "2024-06-03T15:00:00Z", "description": "Call Ana about the printer"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let theirs = app.get(&path, "ana").await;
    let p = &theirs.json["promises"][0];
    assert_eq!(
        (p["clock"].as_str(), p["description"].as_str(), p["owner"].as_str()),
        (Some("callback"), Some("Call Ana about the printer"), Some("Alex Agent"))
    );
    let id = made.json["id"].as_i64().unwrap();
    let done = app.call("POST", &format!("{path}/{id}/fulfil"), "agent", None).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT);
    let again = app.call("POST", &format!("{path}/{id}/fulfil"), "agent", None).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "already_settled"));
    assert_eq!(app.get(&path, "ana").await.json["promises"][0]["status"], "met");
});
