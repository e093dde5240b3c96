use super::app::{Answer, TestApp, start};
use crate::app_test;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use jiff::SignedDuration;
use kept_core::cases::{CasePatch, Status};
use kept_core::ids::CaseId;
use kept_core::permissions::Principal;
use serde_json::json;

/// A CSAT survey (comment and two reasons), a case Ana opened, solved by
/// the agent, and the token of the invitation the survey job sent.
async fn invited(app: &TestApp) -> (i64, String) {
    let a = app
        .post(
            "/api/v1/survey-definitions",
            "admin",
            json!({"kind": "csat", "name": "After solve", "comment_prompt": "Tell us more",
                   "reasons": ["Too slow", "Not solved"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let case = app.case_by("ana", "Printer on fire").await;
    let solve =
        CasePatch { status: Some(Status::Solved), assignee_id: Some(Some(app.fx.agent.id)), ..Default::default() };
    app.store().update_case(&Principal::system(), CaseId(case), solve, app.state.now()).await.unwrap();
    let tick = app.store().survey_tick(app.state.now(), &app.state.config.public_url).await.unwrap();
    assert_eq!(tick.sent.len(), 1);
    (case, tick.sent[0].1.clone())
}

async fn post_form(app: &TestApp, path: &str, body: &str) -> Answer {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(req).await
}

async fn responses(app: &TestApp) -> usize {
    let a = app.get("/api/v1/survey-responses", "admin").await;
    a.json["responses"].as_array().unwrap().len()
}

app_test!(a_get_of_the_link_records_nothing_and_the_post_records, async |app: &TestApp| {
    let (case, token) = invited(app).await;
    // The mail links each score to the page.
    let mail = app.store().outbox(Some(case), 5).await.unwrap();
    assert!(mail[0].mail.text.contains(&format!("/s/{token}?score=4")));

    // A scanner (or the customer) follows the link: the page, nothing recorded.
    for _ in 0..3 {
        let a = app.get(&format!("/s/{token}?score=4"), "").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert!(a.text.contains(r#"id="score-4" name="score" value="4" checked"#), "{}", a.text);
        assert!(a.text.contains(r#"id="survey-form""#) && a.text.contains(r#"id="survey-submit""#));
        assert!(!a.text.contains("<script"), "works without JavaScript");
        assert_eq!(a.headers["cache-control"], "no-store");
        assert_eq!(a.headers["referrer-policy"], "no-referrer");
    }
    assert_eq!(responses(app).await, 0);
    let invitations = app.get(&format!("/api/v1/cases/{case}/surveys"), "agent").await;
    assert_eq!(invitations.json["invitations"][0]["status"], "sent");

    // Confirming records it.
    let a = post_form(app, &format!("/s/{token}"), "score=4&comment=Quick+and+kind").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.text.contains(r#"id="survey-thanks""#), "{}", a.text);
    assert_eq!(a.headers["referrer-policy"], "no-referrer");
    assert_eq!(responses(app).await, 1);
    let invitations = app.get(&format!("/api/v1/cases/{case}/surveys"), "agent").await;
    let i = &invitations.json["invitations"][0];
    assert_eq!((i["status"].as_str(), i["response"]["score"].as_i64()), (Some("answered"), Some(4)));
    assert_eq!(i["response"]["agent_id"].as_i64(), Some(app.fx.agent.id.0));

    // Changed within the window: still one answer, the new score.
    let a = post_form(app, &format!("/s/{token}"), "score=2&reasons=Too+slow&reasons=Not+solved").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let list = app.get("/api/v1/survey-responses", "admin").await;
    let r = &list.json["responses"][0];
    assert_eq!((r["score"].as_i64(), r["reasons"].as_array().map(Vec::len)), (Some(2), Some(2)));
    assert_eq!(responses(app).await, 1);
    // The dissatisfied answer opened the follow-up on the case.
    let tasks = app.get(&format!("/api/v1/cases/{case}/recovery-tasks"), "agent").await;
    assert_eq!(tasks.json["tasks"][0]["response_id"], r["id"]);

    // After the window: 410, "already answered".
    app.clock.advance(SignedDuration::from_mins(61));
    let a = post_form(app, &format!("/s/{token}"), "score=5").await;
    assert_eq!(a.status, StatusCode::GONE);
    assert!(a.text.contains("already been answered"), "{}", a.text);
    assert_eq!(app.get(&format!("/s/{token}"), "").await.status, StatusCode::GONE);
});

app_test!(unknown_expired_and_out_of_range_get_clear_pages, async |app: &TestApp| {
    let (_, token) = invited(app).await;
    let forged = "ab".repeat(32);
    for path in [format!("/s/{forged}"), "/s/not-a-token".to_owned(), format!("/s/{forged}?score=5")] {
        let a = app.get(&path, "").await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert!(a.text.contains("not valid"), "{}", a.text);
    }
    assert_eq!(post_form(app, &format!("/s/{forged}"), "score=5").await.status, StatusCode::NOT_FOUND);

    // Off the scale: the page asks again (422) and records nothing; a GET simply preselects nothing.
    let a = post_form(app, &format!("/s/{token}"), "score=9").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(a.text.contains(r#"id="survey-form""#) && a.text.contains("between 1 and 5"), "{}", a.text);
    let a = post_form(app, &format!("/s/{token}"), "score=many").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let a = post_form(app, &format!("/s/{token}"), "comment=no+score").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let a = post_form(app, &format!("/s/{token}"), "score=3&reasons=Rude").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let a = app.get(&format!("/s/{token}?score=9"), "").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.text.contains("checked"));
    assert_eq!(responses(app).await, 0);

    // Expired after 14 days (the default): 410 with its own words.
    app.clock.advance(SignedDuration::from_hours(24 * 14));
    let a = app.get(&format!("/s/{token}?score=5"), "").await;
    assert_eq!(a.status, StatusCode::GONE);
    assert!(a.text.contains("expired"), "{}", a.text);
    assert_eq!(post_form(app, &format!("/s/{token}"), "score=5").await.status, StatusCode::GONE);
    assert_eq!(responses(app).await, 0);
});

app_test!(the_page_speaks_the_contacts_language, async |app: &TestApp| {
    let a = app
        .call(
            "PUT",
            &format!("/api/v1/contacts/{}/language", app.fx.ana.id.0),
            "agent",
            Some(json!({"language": "de"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    let a = app
        .call(
            "PUT",
            &format!("/api/v1/contacts/{}/language", app.fx.ana.id.0),
            "agent",
            Some(json!({"language": "xx"})),
        )
        .await;
    assert_eq!((a.status, a.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("language")));
    let (_, token) = invited(app).await;
    let a = app.get(&format!("/s/{token}?score=5"), "").await;
    assert!(a.text.contains(r#"<html lang="de">"#) && a.text.contains("Antwort senden"), "{}", a.text);
});

app_test!(a_flood_of_answers_from_one_address_is_refused, async |app: &TestApp| {
    let forged = "cd".repeat(32);
    let limit = app.state.config.survey_posts;
    for _ in 0..limit {
        assert_eq!(post_form(app, &format!("/s/{forged}"), "score=5").await.status, StatusCode::NOT_FOUND);
    }
    let a = post_form(app, &format!("/s/{forged}"), "score=5").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(a.headers.contains_key("retry-after"));
});

app_test!(responses_export_as_csv_and_agents_see_their_own, async |app: &TestApp| {
    let (case, token) = invited(app).await;
    post_form(app, &format!("/s/{token}"), "score=5&comment=%3DSUM(A1)%2C+thanks").await;
    let a = app.get("/api/v1/survey-responses.csv?kind=csat", "manager").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = a.text.lines().collect();
    assert!(lines[0].starts_with("id,kind,score,dissatisfied,comment"), "{}", lines[0]);
    assert_eq!(lines.len(), 2);
    assert!(lines[1].contains(",csat,5,false,\"'=SUM(A1), thanks\","), "{}", lines[1]);
    assert!(lines[1].contains(&format!(",{case},")));
    let it = app.get("/api/v1/survey-responses.csv", "it_agent").await;
    assert_eq!(it.text.lines().count(), 1, "another agent sees none");
    let v = app.get(&format!("/api/v1/verbatims?agent={}&score=5", app.fx.agent.id.0), "agent").await;
    assert_eq!(v.json["responses"].as_array().unwrap().len(), 1);
    let v = app.get(&format!("/api/v1/verbatims?agent={}", app.fx.manager.id.0), "agent").await;
    assert_eq!(v.status, StatusCode::FORBIDDEN);
    let v = app.get("/api/v1/verbatims?from=yesterday", "admin").await;
    assert_eq!((v.status, v.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("from")));
    // Praise to kudos, visible on the agent.
    let id = app.get("/api/v1/verbatims", "admin").await.json["responses"][0]["id"].as_i64().unwrap();
    let k = app.post(&format!("/api/v1/survey-responses/{id}/kudos"), "manager", json!({})).await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.text);
    let mine = app.get(&format!("/api/v1/users/{}/kudos", app.fx.agent.id.0), "agent").await;
    assert_eq!(mine.json["kudos"][0]["comment"], "=SUM(A1), thanks");
    let _ = start();
});

app_test!(definitions_refuse_bad_input_naming_the_field, async |app: &TestApp| {
    for (body, field) in [
        (json!({"kind": "stars", "name": "x"}), "kind"),
        (json!({"kind": "csat", "name": "x", "sample_percent": 150}), "sample_percent"),
        (json!({"kind": "nps", "name": "x"}), "every_days"),
        (json!({"kind": "csat", "name": " "}), "name"),
    ] {
        let a = app.post("/api/v1/survey-definitions", "admin", body).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.json["error"]["field"], field);
    }
    let mut settings = app.get("/api/v1/survey-settings", "admin").await.json;
    settings["csat_threshold"] = json!(5);
    let a = app.call("PUT", "/api/v1/survey-settings", "admin", Some(settings)).await;
    assert_eq!(
        (a.status, a.json["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("csat_threshold"))
    );
});
