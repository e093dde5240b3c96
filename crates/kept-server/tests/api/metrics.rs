//! Scorecards over the API: values from live changes, targets and RAG,
//! small samples, comparisons, CSV, strategy, and refusals that name the field.

use super::app::TestApp;
use crate::app_test;
use axum::http::StatusCode;
use serde_json::{Value, json};

const DAY: &str = "period=day&date=2024-06-03";

fn row<'a>(card: &'a Value, id: &str) -> &'a Value {
    card["rows"].as_array().unwrap().iter().find(|r| r["metric"] == id).unwrap_or_else(|| panic!("no row {id}"))
}

app_test!(a_scorecard_counts_live_cases_and_judges_them_against_targets, async |app: &TestApp| {
    for i in 0..12 {
        app.case_by("ana", &format!("Case {i}")).await;
    }
    let a = app
        .post(
            "/api/v1/targets",
            "manager",
            json!({"metric": "backlog", "target": "10", "amber": "1", "effective_from": "2024-01-01"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.json["target_micros"], 10_000_000);
    let a = app
        .post("/api/v1/targets", "admin", json!({"metric": "created", "target": "5", "effective_from": "2024-01-01"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    // A proportion with a target but only 12 observations: grey, never red.
    let a = app
        .post(
            "/api/v1/targets",
            "admin",
            json!({"metric": "contacts_per_case", "target": "0.5", "effective_from": "2024-01-01"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);

    let card =
        app.get(&format!("/api/v1/scorecards?{DAY}&metrics=created,backlog,contacts_per_case,fcr"), "agent").await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.text);
    assert_eq!(row(&card.json, "created")["current"]["value"], 12.0);
    assert_eq!(row(&card.json, "created")["status"], "green");
    assert_eq!(row(&card.json, "backlog")["current"]["value"], 12.0);
    assert_eq!(row(&card.json, "backlog")["status"], "red", "12 > 10 + 1");
    let contacts = row(&card.json, "contacts_per_case");
    assert_eq!((contacts["status"].as_str(), contacts["small_sample"].as_bool()), (Some("grey"), Some(true)));
    assert_eq!(row(&card.json, "fcr")["current"]["value"], Value::Null, "nothing resolved: no data, not 0 %");
    assert_eq!(row(&card.json, "created")["previous"]["value"], 0.0);
    // The team's scorecard is held to the organisation's target when it has none.
    let team = app.fx.support.id.0;
    let card = app.get(&format!("/api/v1/scorecards?scope=team&scope_key={team}&{DAY}&metrics=backlog"), "agent").await;
    assert_eq!(row(&card.json, "backlog")["status"], "red");

    let csv = app.get(&format!("/api/v1/scorecards.csv?{DAY}&metrics=created,backlog"), "manager").await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut lines = csv.text.lines();
    assert!(lines.next().unwrap().starts_with("metric,name,unit,value,n,ci_lower"));
    assert!(csv.text.contains("\r\nbacklog,Backlog,count,12,"), "{}", csv.text);

    let drill = app.get(&format!("/api/v1/scorecards/cases?{DAY}&metric=created"), "agent").await;
    assert_eq!(drill.json["total"], 12, "{}", drill.text);
    let chart = app.get(&format!("/api/v1/scorecards/chart?{DAY}&metric=backlog"), "agent").await;
    assert_eq!(chart.json["control"]["points"].as_array().unwrap().len(), 1);

    let a = app
        .post(
            "/api/v1/objectives",
            "manager",
            json!({"level": "corporate", "title": "Clear the backlog", "period_start": "2024-06-01", "period_end": "2024-06-30",
                   "metrics": [{"metric": "backlog"}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let parent = a.json["id"].as_i64().unwrap();
    let a = app
        .post(
            "/api/v1/objectives",
            "manager",
            json!({"level": "service", "parent_id": parent, "title": "Answer fast", "period_start": "2024-06-01",
                   "period_end": "2024-06-30", "metrics": [{"metric": "created", "scope": "team", "scope_key": team.to_string()}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let tree = app.get("/api/v1/strategy", "agent").await;
    assert_eq!(tree.json[0]["metrics"][0]["status"], "red", "{}", tree.text);
    assert_eq!(tree.json[0]["children"][0]["objective"]["title"], "Answer fast");
});

app_test!(scorecard_queries_are_refused_with_the_field_named, async |app: &TestApp| {
    for (query, field) in [
        ("/api/v1/scorecards?scope=galaxy", "scope"),
        ("/api/v1/scorecards?scope=team", "scope_key"),
        ("/api/v1/scorecards?scope=team&scope_key=support", "scope_key"),
        ("/api/v1/scorecards?scope_key=3", "scope_key"),
        ("/api/v1/scorecards?period=custom&to=2024-01-01", "from"),
        ("/api/v1/scorecards?period=fortnight", "period"),
        ("/api/v1/scorecards?date=yesterday", "date"),
        ("/api/v1/scorecards?metrics=csat,joy", "metrics"),
        ("/api/v1/scorecards/chart", "metric"),
        ("/api/v1/scorecards/chart?metric=csat&rules=some", "rules"),
        ("/api/v1/scorecards/cases?metric=nope", "metric"),
    ] {
        let a = app.get(query, "admin").await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", a.text);
        assert_eq!(a.json["error"]["field"], field, "{query}: {}", a.text);
    }
    let a = app.get("/api/v1/scorecards?colour=red", "admin").await;
    assert!(a.status.is_client_error(), "unknown parameters are refused: {}", a.text);
    for (body, field) in [
        (json!({"metric": "csat", "target": "185", "effective_from": "2024-01-01"}), "target"),
        (json!({"metric": "csat", "target": "85", "effective_from": "June"}), "effective_from"),
        (json!({"metric": "mood", "target": "85", "effective_from": "2024-01-01"}), "metric"),
    ] {
        let a = app.post("/api/v1/targets", "admin", body).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.json["error"]["field"], field);
    }
    let a = app
        .post(
            "/api/v1/costs",
            "admin",
            json!({"period_start": "2024-01-01", "period_end": "2024-01-31", "amount_cents": -5}),
        )
        .await;
    assert_eq!(a.json["error"]["field"], "amount_cents");
});

app_test!(where_a_case_s_time_went, async |app: &TestApp| {
    let case = app.case_by("ana", "Slow").await;
    app.clock.advance(jiff::SignedDuration::from_mins(90));
    let a = app.get(&format!("/api/v1/cases/{case}/time"), "agent").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["us"]["calendar"], 5400);
    assert_eq!(a.json["customer"]["calendar"], 0);
});
