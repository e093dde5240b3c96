//! The permissions matrix: every API route × every role, including contacts
//! of two different accounts. The matrix must list exactly the routes the
//! OpenAPI document describes, so a new route cannot ship unexamined.

use super::app::TestApp;
use crate::app_test;
use kept_core::permissions::Principal;
use kept_server::auth::secrets::digest;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Who calls, in the order of each row's expectations.
const ROLES: [&str; 7] = ["", "admin", "manager", "agent", "it_agent", "ana", "bob"];

pub(super) struct Row {
    pub(super) method: &'static str,
    pub(super) template: &'static str,
    pub(super) path: String,
    body: Option<Value>,
    /// Expected status for anonymous, admin, manager, agent, it_agent, ana, bob.
    expect: [u16; 7],
}

fn row(method: &'static str, template: &'static str, path: String, body: Option<Value>, expect: [u16; 7]) -> Row {
    Row { method, template, path, body, expect }
}

/// Ids of the promise machinery the matrix exercises.
pub(super) struct Books {
    pub(super) calendar: i64,
    pub(super) policy: i64,
    task: i64,
    notification: i64,
    /// (case, attachment) of a customer's email with a file.
    pub(super) attachment: (i64, i64),
    survey: i64,
    response: i64,
}

/// A calendar, a policy with recovery, and a case whose first response
/// breached (so a recovery task and a notification for the agent exist).
pub(super) async fn books(app: &TestApp) -> Books {
    let sys = Principal::system();
    let store = app.store();
    let cal =
        kept_core::calendar::Calendar::from_json(r#"{"time_zone": "UTC", "weekly": {"mon": [["00:00","24:00"]]}}"#)
            .unwrap();
    let calendar = store
        .create_calendar(&sys, kept_core::values::Name::parse("n", "Office").unwrap(), &cal, super::app::start())
        .await
        .unwrap()
        .id;
    let spec = serde_json::from_value(
        json!({"name": "Everyone", "targets": [{"clock": "first_response", "minutes": 10, "time": "calendar"}],
        "recovery": {"minutes": 60, "time": "calendar"}}),
    )
    .unwrap();
    let policy = store.create_policy(&sys, spec, super::app::start()).await.unwrap().id;
    let late = app.case_by("ana", "breached for the matrix").await;
    let assign = kept_core::cases::CasePatch { assignee_id: Some(Some(app.fx.agent.id)), ..Default::default() };
    store.update_case(&sys, kept_core::ids::CaseId(late), assign, super::app::start()).await.unwrap();
    let later = super::app::start().checked_add(jiff::SignedDuration::from_mins(11)).unwrap();
    for job in store.claim_jobs("matrix", later, jiff::SignedDuration::from_secs(30), 100).await.unwrap() {
        store.run_job(&job, "matrix", later).await.unwrap();
    }
    let agent = Principal::staff(app.fx.agent.id, kept_core::people::Role::Agent, vec![app.fx.support.id]);
    let task = store.case_recovery_tasks(&agent, kept_core::ids::CaseId(late)).await.unwrap()[0].id;
    let notification = store.notifications(&agent, false).await.unwrap()[0].0;
    let mail = kept_store::InboundEmail {
        from_email: "ana@acme.test".into(),
        subject: "Invoice".into(),
        text: "See attached".into(),
        attachments: vec![kept_store::InboundAttachment {
            filename: "invoice.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: b"%PDF-1.4".to_vec(),
        }],
        ..Default::default()
    };
    let mailed = store.ingest_email(mail, super::app::start()).await.unwrap().case().unwrap();
    let attachment = store.case_attachments(&sys, mailed).await.unwrap()[0].id;
    let (survey, response) = surveys(app).await;
    Books { calendar, policy, task, notification, attachment: (mailed.0, attachment), survey, response }
}

/// A CSAT survey and a praising answer attributed to the agent.
async fn surveys(app: &TestApp) -> (i64, i64) {
    let sys = Principal::system();
    let store = app.store();
    let spec = kept_core::surveys::SurveySpec {
        kind: kept_core::surveys::SurveyKind::Csat,
        name: "After solve".into(),
        question: "How did we do?".into(),
        comment_prompt: None,
        reasons: vec![],
        delay_minutes: 0,
        sample_percent: 100,
        every_days: None,
        active: true,
    };
    let survey = store.create_survey_definition(&sys, spec, super::app::start()).await.unwrap().id;
    let case = app.case_by("ana", "surveyed for the matrix").await;
    let solve = kept_core::cases::CasePatch {
        assignee_id: Some(Some(app.fx.agent.id)),
        status: Some(kept_core::cases::Status::Solved),
        ..Default::default()
    };
    store.update_case(&sys, kept_core::ids::CaseId(case), solve, super::app::start()).await.unwrap();
    let tick = store.survey_tick(super::app::start(), "http://k").await.unwrap();
    let answer = kept_store::SurveyAnswer { score: 5, comment: Some("Great".into()), reasons: vec![] };
    let response = store.answer_survey(&tick.sent[0].1, answer, super::app::start()).await.unwrap().response_id;
    (survey, response)
}

pub(super) fn rows(app: &TestApp, case: i64, b: &Books) -> Vec<Row> {
    let fx = &app.fx;
    let (support, it, acme) = (fx.support.id.0, fx.it.id.0, fx.acme.id.0);
    let (agent, ana) = (fx.agent.id.0, fx.ana.id.0);
    let c = format!("/api/v1/cases/{case}");
    vec![
        row("GET", "/api/v1/cases", "/api/v1/cases".into(), None, [401, 200, 200, 200, 200, 200, 200]),
        row(
            "POST",
            "/api/v1/cases",
            "/api/v1/cases".into(),
            Some(json!({"subject": "m", "message": "m", "requester_id": ana})),
            [401, 201, 201, 201, 201, 201, 201],
        ),
        row("GET", "/api/v1/cases/{id}", c.clone(), None, [401, 200, 200, 200, 404, 200, 404]),
        row(
            "PATCH",
            "/api/v1/cases/{id}",
            c.clone(),
            Some(json!({"priority": "high"})),
            [401, 200, 200, 200, 404, 403, 404],
        ),
        row("GET", "/api/v1/cases/{id}/messages", format!("{c}/messages"), None, [401, 200, 200, 200, 404, 200, 404]),
        row(
            "POST",
            "/api/v1/cases/{id}/messages",
            format!("{c}/messages"),
            Some(json!({"body": "hello"})),
            [401, 201, 201, 201, 404, 201, 404],
        ),
        row("GET", "/api/v1/cases/{id}/events", format!("{c}/events"), None, [401, 200, 200, 200, 404, 200, 404]),
        row(
            "POST",
            "/api/v1/cases/{id}/internal-requests",
            format!("{c}/internal-requests"),
            Some(json!({"team_id": it, "subject": "s", "message": "m"})),
            [401, 201, 201, 201, 404, 403, 404],
        ),
        row(
            "GET",
            "/api/v1/search/cases",
            "/api/v1/search/cases?q=matrix".into(),
            None,
            [401, 200, 200, 200, 200, 200, 200],
        ),
        row("GET", "/api/v1/events", "/api/v1/events".into(), None, [401, 200, 403, 403, 403, 404, 404]),
        row("GET", "/api/v1/teams", "/api/v1/teams".into(), None, [401, 200, 200, 200, 200, 404, 404]),
        row(
            "POST",
            "/api/v1/teams",
            "/api/v1/teams".into(),
            Some(json!({"name": "New team"})),
            [401, 201, 403, 403, 403, 404, 404],
        ),
        row("GET", "/api/v1/teams/{id}", format!("/api/v1/teams/{support}"), None, [401, 200, 200, 200, 200, 404, 404]),
        row(
            "PATCH",
            "/api/v1/teams/{id}",
            format!("/api/v1/teams/{support}"),
            Some(json!({"name": "Support"})),
            [401, 200, 200, 403, 403, 404, 404],
        ),
        row(
            "GET",
            "/api/v1/teams/{id}/members",
            format!("/api/v1/teams/{support}/members"),
            None,
            [401, 200, 200, 200, 200, 404, 404],
        ),
        row(
            "PUT",
            "/api/v1/teams/{id}/members/{user_id}",
            format!("/api/v1/teams/{support}/members/{agent}"),
            None,
            [401, 204, 204, 403, 403, 404, 404],
        ),
        row(
            "DELETE",
            "/api/v1/teams/{id}/members/{user_id}",
            format!("/api/v1/teams/{support}/members/{agent}"),
            None,
            [401, 204, 204, 403, 403, 404, 404],
        ),
        row("GET", "/api/v1/accounts", "/api/v1/accounts".into(), None, [401, 200, 200, 200, 200, 404, 404]),
        row(
            "POST",
            "/api/v1/accounts",
            "/api/v1/accounts".into(),
            Some(json!({"name": "New account"})),
            [401, 201, 201, 403, 403, 404, 404],
        ),
        row(
            "GET",
            "/api/v1/accounts/{id}",
            format!("/api/v1/accounts/{acme}"),
            None,
            [401, 200, 200, 200, 200, 200, 404],
        ),
        row(
            "PATCH",
            "/api/v1/accounts/{id}",
            format!("/api/v1/accounts/{acme}"),
            Some(json!({"tier": "premium"})),
            [401, 200, 200, 403, 403, 404, 404],
        ),
        row("GET", "/api/v1/users", "/api/v1/users".into(), None, [401, 200, 200, 200, 200, 404, 404]),
        row(
            "POST",
            "/api/v1/users",
            "/api/v1/users".into(),
            Some(json!({"email": "new@kept.test", "name": "New", "role": "agent"})),
            [401, 201, 403, 403, 403, 404, 404],
        ),
        row("GET", "/api/v1/users/{id}", format!("/api/v1/users/{agent}"), None, [401, 200, 200, 200, 200, 404, 404]),
        row(
            "PATCH",
            "/api/v1/users/{id}",
            format!("/api/v1/users/{agent}"),
            Some(json!({"name": "Alex Agent"})),
            [401, 200, 403, 200, 403, 404, 404],
        ),
        row("GET", "/api/v1/contacts", "/api/v1/contacts".into(), None, [401, 200, 200, 200, 200, 404, 404]),
        row(
            "POST",
            "/api/v1/contacts",
            "/api/v1/contacts".into(),
            Some(json!({"email": "new@acme.test", "name": "New", "account_id": acme})),
            [401, 201, 201, 201, 201, 404, 404],
        ),
        row(
            "GET",
            "/api/v1/contacts/{id}",
            format!("/api/v1/contacts/{ana}"),
            None,
            [401, 200, 200, 200, 200, 200, 404],
        ),
        row(
            "PATCH",
            "/api/v1/contacts/{id}",
            format!("/api/v1/contacts/{ana}"),
            Some(json!({"name": "Ana Acme"})),
            [401, 200, 200, 200, 200, 200, 404],
        ),
        row("GET", "/api/v1/me", "/api/v1/me".into(), None, [401, 200, 200, 200, 200, 200, 200]),
        row("GET", "/api/v1/me/teams", "/api/v1/me/teams".into(), None, [401, 200, 200, 200, 200, 200, 200]),
        row("GET", "/api/v1/tokens", "/api/v1/tokens".into(), None, [401, 200, 200, 200, 200, 200, 200]),
        row(
            "POST",
            "/api/v1/tokens",
            "/api/v1/tokens".into(),
            Some(json!({"name": "matrix"})),
            [401, 201, 201, 201, 201, 201, 201],
        ),
        row("DELETE", "/api/v1/tokens/{id}", String::new(), None, [401, 200, 200, 200, 200, 200, 200]),
        row(
            "POST",
            "/api/v1/auth/tokens",
            "/api/v1/auth/tokens".into(),
            Some(
                json!({"email": "agent@kept.test", "password": kept_store::test_support::FIXTURE_PASSWORD, "name": "m"}),
            ),
            [201; 7],
        ),
        row("GET", "/api/v1/openapi.json", "/api/v1/openapi.json".into(), None, [200; 7]),
        row("GET", "/api/v1/calendars", "/api/v1/calendars".into(), None, [401, 200, 200, 200, 200, 404, 404]),
        row(
            "POST",
            "/api/v1/calendars",
            "/api/v1/calendars".into(),
            Some(json!({"name": "New calendar", "calendar": {"time_zone": "UTC", "weekly": {}}})),
            [401, 201, 403, 403, 403, 404, 404],
        ),
        row(
            "GET",
            "/api/v1/calendars/{id}",
            format!("/api/v1/calendars/{}", b.calendar),
            None,
            [401, 200, 200, 200, 200, 404, 404],
        ),
        row(
            "PATCH",
            "/api/v1/calendars/{id}",
            format!("/api/v1/calendars/{}", b.calendar),
            Some(json!({"name": "Office"})),
            [401, 200, 403, 403, 403, 404, 404],
        ),
        row(
            "POST",
            "/api/v1/calendars/{id}/holidays",
            format!("/api/v1/calendars/{}/holidays", b.calendar),
            Some(Value::String("2024-12-25,Christmas".into())),
            [401, 200, 403, 403, 403, 404, 404],
        ),
        row(
            "GET",
            "/api/v1/calendars/{id}/due",
            format!("/api/v1/calendars/{}/due?business_minutes=60", b.calendar),
            None,
            [401, 200, 200, 200, 200, 404, 404],
        ),
        row("GET", "/api/v1/policies", "/api/v1/policies".into(), None, [401, 200, 200, 200, 200, 404, 404]),
        row(
            "POST",
            "/api/v1/policies",
            "/api/v1/policies".into(),
            Some(
                json!({"name": "New policy", "targets": [{"clock": "next_reply", "minutes": 60, "time": "calendar"}]}),
            ),
            [401, 201, 403, 403, 403, 404, 404],
        ),
        row(
            "GET",
            "/api/v1/policies/{id}",
            format!("/api/v1/policies/{}", b.policy),
            None,
            [401, 200, 200, 200, 200, 404, 404],
        ),
        row(
            "PATCH",
            "/api/v1/policies/{id}",
            format!("/api/v1/policies/{}", b.policy),
            Some(json!({"active": true})),
            [401, 200, 403, 403, 403, 404, 404],
        ),
        row(
            "PUT",
            "/api/v1/policies/order",
            "/api/v1/policies/order".into(),
            Some(json!({"ids": [b.policy]})),
            [401, 200, 403, 403, 403, 404, 404],
        ),
        row("GET", "/api/v1/cases/{id}/promises", format!("{c}/promises"), None, [401, 200, 200, 200, 404, 200, 404]),
        row(
            "POST",
            "/api/v1/cases/{id}/promises",
            format!("{c}/promises"),
            Some(
                json!({"kind": "callback", "due_at": "2030-01-01T00:00:00Z", "description": "Call back", "owner_id": agent}),
            ),
            [401, 201, 201, 201, 404, 403, 404],
        ),
        row(
            "POST",
            "/api/v1/cases/{id}/promises/{promise_id}/fulfil",
            c.clone(),
            None,
            [401, 204, 204, 204, 404, 403, 404],
        ),
        row(
            "POST",
            "/api/v1/cases/{id}/promises/{promise_id}/cancel",
            c.clone(),
            None,
            [401, 204, 204, 204, 404, 403, 404],
        ),
        row(
            "GET",
            "/api/v1/cases/{id}/recovery-tasks",
            format!("{c}/recovery-tasks"),
            None,
            [401, 200, 200, 200, 404, 404, 404],
        ),
        row(
            "GET",
            "/api/v1/recovery-tasks",
            "/api/v1/recovery-tasks".into(),
            None,
            [401, 200, 200, 200, 200, 404, 404],
        ),
        row(
            "POST",
            "/api/v1/recovery-tasks/{id}/actions",
            format!("/api/v1/recovery-tasks/{}/actions", b.task),
            Some(json!({"kind": "apology", "note": "Sorry"})),
            [401, 201, 201, 201, 404, 404, 404],
        ),
        // The first close succeeds; later ones find the task closed (409), which shows they were allowed to try.
        row(
            "POST",
            "/api/v1/recovery-tasks/{id}/close",
            format!("/api/v1/recovery-tasks/{}/close", b.task),
            Some(json!({"outcome": "recovered", "note": "Fine"})),
            [401, 204, 409, 409, 404, 404, 404],
        ),
        row(
            "GET",
            "/api/v1/recovery-limits",
            "/api/v1/recovery-limits".into(),
            None,
            [401, 200, 200, 200, 200, 404, 404],
        ),
        row(
            "PUT",
            "/api/v1/recovery-limits",
            "/api/v1/recovery-limits".into(),
            Some(json!({"role": "agent", "kind": "goodwill_credit", "max_cents": 5000})),
            [401, 204, 403, 403, 403, 404, 404],
        ),
        row("GET", "/api/v1/notifications", "/api/v1/notifications".into(), None, [401, 200, 200, 200, 200, 200, 200]),
        row(
            "POST",
            "/api/v1/notifications/{id}/read",
            format!("/api/v1/notifications/{}/read", b.notification),
            None,
            [401, 404, 404, 204, 404, 404, 404],
        ),
        row("POST", "/api/v1/inbound/email", "/api/v1/inbound/email".into(), None, [401, 422, 403, 403, 403, 404, 404]),
        // The same line each time: the admin's import creates the case once (a second import would find it unchanged).
        row(
            "POST",
            "/api/v1/import",
            "/api/v1/import".into(),
            Some(Value::String(
                json!({"external_id": "M-1", "subject": "Imported", "account": "Acme", "requester": "ana@acme.test",
                    "team": "Support", "created_at": "2024-06-03T09:00:00Z"})
                .to_string(),
            )),
            [401, 200, 403, 403, 403, 404, 404],
        ),
        row("GET", "/api/v1/mail/outbox", "/api/v1/mail/outbox".into(), None, [401, 200, 403, 403, 403, 404, 404]),
        row(
            "GET",
            "/api/v1/cases/{id}/attachments",
            format!("/api/v1/cases/{}/attachments", b.attachment.0),
            None,
            [401, 200, 200, 200, 404, 200, 404],
        ),
        row(
            "GET",
            "/api/v1/cases/{id}/attachments/{attachment_id}",
            format!("/api/v1/cases/{}/attachments/{}", b.attachment.0, b.attachment.1),
            None,
            [401, 200, 200, 200, 404, 200, 404],
        ),
        row("GET", "/api/v1/survey-definitions", "/api/v1/survey-definitions".into(), None, STAFF_READ),
        row(
            "POST",
            "/api/v1/survey-definitions",
            "/api/v1/survey-definitions".into(),
            Some(json!({"kind": "ces", "name": "New survey"})),
            [401, 201, 403, 403, 403, 404, 404],
        ),
        row(
            "GET",
            "/api/v1/survey-definitions/{id}",
            format!("/api/v1/survey-definitions/{}", b.survey),
            None,
            STAFF_READ,
        ),
        row(
            "PUT",
            "/api/v1/survey-definitions/{id}",
            format!("/api/v1/survey-definitions/{}", b.survey),
            Some(json!({"kind": "csat", "name": "After solve"})),
            [401, 200, 403, 403, 403, 404, 404],
        ),
        row("GET", "/api/v1/survey-settings", "/api/v1/survey-settings".into(), None, STAFF_READ),
        row(
            "PUT",
            "/api/v1/survey-settings",
            "/api/v1/survey-settings".into(),
            Some(json!({"fatigue_days": 30, "csat_threshold": 2, "ces_threshold": 3, "nps_threshold": 6,
                "followup_owner": "lead", "followup_minutes": 480, "followup_business": true,
                "change_window_minutes": 60, "expiry_days": 14})),
            [401, 200, 403, 403, 403, 404, 404],
        ),
        row("GET", "/api/v1/cases/{id}/surveys", format!("{c}/surveys"), None, [401, 200, 200, 200, 404, 404, 404]),
        row("GET", "/api/v1/survey-responses", "/api/v1/survey-responses".into(), None, STAFF_READ),
        row("GET", "/api/v1/survey-responses.csv", "/api/v1/survey-responses.csv".into(), None, STAFF_READ),
        row("GET", "/api/v1/verbatims", "/api/v1/verbatims".into(), None, STAFF_READ),
        // The first kudos succeed; the manager then finds them given (409); agents may not give kudos.
        row(
            "POST",
            "/api/v1/survey-responses/{id}/kudos",
            format!("/api/v1/survey-responses/{}/kudos", b.response),
            Some(json!({"note": "Well done"})),
            [401, 201, 409, 403, 403, 404, 404],
        ),
        row("GET", "/api/v1/users/{id}/kudos", format!("/api/v1/users/{agent}/kudos"), None, STAFF_READ),
        // The first re-survey is queued; later ones find it waiting (409); other teams do not see the task.
        row(
            "POST",
            "/api/v1/recovery-tasks/{id}/resurvey",
            format!("/api/v1/recovery-tasks/{}/resurvey", b.task),
            None,
            [401, 201, 409, 409, 404, 404, 404],
        ),
        row(
            "PUT",
            "/api/v1/contacts/{id}/language",
            format!("/api/v1/contacts/{ana}/language"),
            Some(json!({"language": "de"})),
            [401, 204, 204, 204, 204, 404, 404],
        ),
        row("GET", "/api/v1/metrics", "/api/v1/metrics".into(), None, STAFF_READ),
        row(
            "GET",
            "/api/v1/scorecards",
            "/api/v1/scorecards?scope=team&scope_key=1&period=week".into(),
            None,
            STAFF_READ,
        ),
        row("GET", "/api/v1/scorecards.csv", "/api/v1/scorecards.csv".into(), None, STAFF_READ),
        row("GET", "/api/v1/scorecards/chart", "/api/v1/scorecards/chart?metric=csat".into(), None, STAFF_READ),
        row("GET", "/api/v1/scorecards/cases", "/api/v1/scorecards/cases?metric=attainment".into(), None, STAFF_READ),
        row(
            "GET",
            "/api/v1/scorecards/cases.csv",
            "/api/v1/scorecards/cases.csv?metric=frt_median".into(),
            None,
            STAFF_READ,
        ),
        // Staff see where any case's time went; contacts never do.
        row(
            "GET",
            "/api/v1/cases/{id}/time",
            format!("/api/v1/cases/{case}/time"),
            None,
            [401, 200, 200, 200, 404, 404, 404],
        ),
        row("GET", "/api/v1/targets", "/api/v1/targets".into(), None, STAFF_READ),
        row(
            "POST",
            "/api/v1/targets",
            "/api/v1/targets".into(),
            Some(json!({"metric": "csat", "target": "85", "amber": "3", "effective_from": "2024-01-01"})),
            PLANNERS,
        ),
        row("DELETE", "/api/v1/targets/{id}", String::new(), None, PLANNERS_DELETE),
        row("GET", "/api/v1/objectives", "/api/v1/objectives".into(), None, STAFF_READ),
        row(
            "POST",
            "/api/v1/objectives",
            "/api/v1/objectives".into(),
            Some(
                json!({"level": "corporate", "title": "Keep customers", "period_start": "2024-01-01", "period_end": "2024-12-31",
                "metrics": [{"metric": "account_retention"}]}),
            ),
            PLANNERS,
        ),
        row("DELETE", "/api/v1/objectives/{id}", String::new(), None, PLANNERS_DELETE),
        row("GET", "/api/v1/costs", "/api/v1/costs".into(), None, STAFF_READ),
        row(
            "POST",
            "/api/v1/costs",
            "/api/v1/costs".into(),
            Some(json!({"period_start": "2024-01-01", "period_end": "2024-01-31", "amount_cents": 5000000})),
            PLANNERS,
        ),
        row("DELETE", "/api/v1/costs/{id}", String::new(), None, PLANNERS_DELETE),
        row("GET", "/api/v1/strategy", "/api/v1/strategy".into(), None, STAFF_READ),
    ]
}

/// Admins and managers plan (targets, objectives, costs); agents may not.
const PLANNERS: [u16; 7] = [401, 201, 201, 403, 403, 404, 404];
const PLANNERS_DELETE: [u16; 7] = [401, 204, 204, 403, 403, 404, 404];

/// Staff read it; contacts are told it does not exist.
const STAFF_READ: [u16; 7] = [401, 200, 200, 200, 200, 404, 404];

/// Makes bodies that create things unique per caller.
fn personalise(body: &Option<Value>, who: &str) -> Option<Value> {
    let mut body = body.clone()?;
    if let Some(obj) = body.as_object_mut() {
        if let Some(Value::String(email)) = obj.get("email").cloned().filter(|_| !obj.contains_key("password")) {
            obj.insert(
                "email".into(),
                Value::String(email.replacen("new@", &format!("new-{}@", who.replace('_', "-")), 1)),
            );
        }
        if let Some(Value::String(name)) =
            obj.get("name").cloned().filter(|n| n.as_str().is_some_and(|n| n.starts_with("New ")))
        {
            obj.insert("name".into(), Value::String(format!("{name} {who}")));
        }
    }
    Some(body)
}

async fn prepare(app: &TestApp, r: &Row, who: &str) -> String {
    let sys = Principal::system();
    match (r.method, r.template) {
        ("DELETE", "/api/v1/teams/{id}/members/{user_id}") => {
            app.store().add_team_member(&sys, app.fx.support.id, app.fx.agent.id, super::app::start()).await.unwrap();
            r.path.clone()
        }
        (
            "POST",
            "/api/v1/cases/{id}/promises/{promise_id}/fulfil" | "/api/v1/cases/{id}/promises/{promise_id}/cancel",
        ) => {
            let case = kept_core::ids::CaseId(r.path.rsplit('/').next().unwrap().parse().unwrap());
            let due = jiff::Timestamp::from_second(1_900_000_000).unwrap();
            let new = kept_store::NewAgentPromise {
                kind: kept_core::promises::ClockKind::Update,
                due_at: due,
                description: "Update".into(),
                owner: Some(app.fx.agent.id),
            };
            let id = app.store().make_promise(&sys, case, new, super::app::start()).await.unwrap();
            let verb = if r.template.ends_with("fulfil") { "fulfil" } else { "cancel" };
            format!("{}/promises/{id}/{verb}", r.path)
        }
        ("DELETE", "/api/v1/targets/{id}" | "/api/v1/objectives/{id}" | "/api/v1/costs/{id}") => {
            let now = super::app::start();
            let id = match r.template {
                "/api/v1/targets/{id}" => {
                    let draft: kept_core::metrics::TargetDraft = serde_json::from_value(
                        json!({"metric": "fcr", "target": "70", "effective_from": "2024-01-01"}),
                    )
                    .unwrap();
                    app.store().create_target(&sys, draft.validate().unwrap(), now).await.unwrap().id
                }
                "/api/v1/objectives/{id}" => {
                    let draft: kept_core::metrics::ObjectiveDraft = serde_json::from_value(
                        json!({"level": "corporate", "title": "Grow", "period_start": "2024-01-01", "period_end": "2024-12-31"}),
                    )
                    .unwrap();
                    app.store().create_objective(&sys, draft.validate().unwrap(), now).await.unwrap().id
                }
                _ => {
                    let draft: kept_core::metrics::CostDraft = serde_json::from_value(
                        json!({"period_start": "2024-02-01", "period_end": "2024-02-29", "amount_cents": 1}),
                    )
                    .unwrap();
                    app.store().create_cost(&sys, draft.validate().unwrap(), now).await.unwrap().id
                }
            };
            format!("{}/{id}", r.template.trim_end_matches("/{id}"))
        }
        ("DELETE", "/api/v1/tokens/{id}") => {
            let owner = match who {
                "admin" => &app.fx.admin,
                "manager" => &app.fx.manager,
                "it_agent" => &app.fx.it_agent,
                "ana" => &app.fx.ana,
                "bob" => &app.fx.bob,
                _ => &app.fx.agent,
            };
            let secret = format!("extra-{who}");
            let t = app
                .store()
                .create_api_token(&sys, owner.id, "extra", &digest(&secret), "extra", super::app::start())
                .await
                .unwrap();
            format!("/api/v1/tokens/{}", t.id)
        }
        _ => r.path.clone(),
    }
}

app_test!(every_route_answers_every_role_as_the_matrix_says, async |app: &TestApp| {
    let case = app.case_by("ana", "matrix case").await;
    let b = books(app).await;
    let mut failures = Vec::new();
    for r in rows(app, case, &b) {
        for (i, who) in ROLES.iter().enumerate() {
            let path = prepare(app, &r, who).await;
            let body = personalise(&r.body, if who.is_empty() { "anon" } else { who });
            let a = match body {
                // A text body goes as what the route reads: JSON Lines for an import, else CSV (holidays).
                Some(Value::String(text)) => {
                    let kind = if r.template == "/api/v1/import" { "application/x-ndjson" } else { "text/csv" };
                    app.call_text(r.method, &path, who, kind, &text).await
                }
                other => app.call(r.method, &path, who, other).await,
            };
            if a.status.as_u16() != r.expect[i] {
                failures.push(format!(
                    "{} {} as {:?}: expected {}, got {} {}",
                    r.method,
                    path,
                    who,
                    r.expect[i],
                    a.status.as_u16(),
                    a.text
                ));
            }
            if a.status.is_server_error() {
                failures.push(format!("{} {} as {who:?}: server error", r.method, path));
            }
        }
    }
    assert!(failures.is_empty(), "{} cells differ:\n{}", failures.len(), failures.join("\n"));
});

#[test]
fn the_matrix_lists_exactly_the_documented_routes() {
    let (_, doc) = kept_server::api::router();
    let mut documented = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ] {
            if op.is_some() {
                documented.insert(format!("{method} {path}"));
            }
        }
    }
    let listed: BTreeSet<String> = MATRIX_ROUTES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(documented, listed, "add new routes to rows() and MATRIX_ROUTES");
}

/// The (method, template) pairs of `rows`, kept in sync by the test above and
/// by `rows_match_matrix_routes`.
const MATRIX_ROUTES: &[&str] = &[
    "GET /api/v1/metrics",
    "GET /api/v1/scorecards",
    "GET /api/v1/scorecards.csv",
    "GET /api/v1/scorecards/chart",
    "GET /api/v1/scorecards/cases",
    "GET /api/v1/scorecards/cases.csv",
    "GET /api/v1/cases/{id}/time",
    "GET /api/v1/targets",
    "POST /api/v1/targets",
    "DELETE /api/v1/targets/{id}",
    "GET /api/v1/objectives",
    "POST /api/v1/objectives",
    "DELETE /api/v1/objectives/{id}",
    "GET /api/v1/costs",
    "POST /api/v1/costs",
    "DELETE /api/v1/costs/{id}",
    "GET /api/v1/strategy",
    "GET /api/v1/cases",
    "POST /api/v1/cases",
    "GET /api/v1/cases/{id}",
    "PATCH /api/v1/cases/{id}",
    "GET /api/v1/cases/{id}/messages",
    "POST /api/v1/cases/{id}/messages",
    "GET /api/v1/cases/{id}/events",
    "POST /api/v1/cases/{id}/internal-requests",
    "GET /api/v1/search/cases",
    "GET /api/v1/events",
    "GET /api/v1/teams",
    "POST /api/v1/teams",
    "GET /api/v1/teams/{id}",
    "PATCH /api/v1/teams/{id}",
    "GET /api/v1/teams/{id}/members",
    "PUT /api/v1/teams/{id}/members/{user_id}",
    "DELETE /api/v1/teams/{id}/members/{user_id}",
    "GET /api/v1/accounts",
    "POST /api/v1/accounts",
    "GET /api/v1/accounts/{id}",
    "PATCH /api/v1/accounts/{id}",
    "GET /api/v1/users",
    "POST /api/v1/users",
    "GET /api/v1/users/{id}",
    "PATCH /api/v1/users/{id}",
    "GET /api/v1/contacts",
    "POST /api/v1/contacts",
    "GET /api/v1/contacts/{id}",
    "PATCH /api/v1/contacts/{id}",
    "GET /api/v1/me",
    "GET /api/v1/me/teams",
    "GET /api/v1/tokens",
    "POST /api/v1/tokens",
    "DELETE /api/v1/tokens/{id}",
    "POST /api/v1/auth/tokens",
    "GET /api/v1/openapi.json",
    "GET /api/v1/calendars",
    "POST /api/v1/calendars",
    "GET /api/v1/calendars/{id}",
    "PATCH /api/v1/calendars/{id}",
    "POST /api/v1/calendars/{id}/holidays",
    "GET /api/v1/calendars/{id}/due",
    "GET /api/v1/policies",
    "POST /api/v1/policies",
    "GET /api/v1/policies/{id}",
    "PATCH /api/v1/policies/{id}",
    "PUT /api/v1/policies/order",
    "GET /api/v1/cases/{id}/promises",
    "POST /api/v1/cases/{id}/promises",
    "POST /api/v1/cases/{id}/promises/{promise_id}/fulfil",
    "POST /api/v1/cases/{id}/promises/{promise_id}/cancel",
    "GET /api/v1/cases/{id}/recovery-tasks",
    "GET /api/v1/recovery-tasks",
    "POST /api/v1/recovery-tasks/{id}/actions",
    "POST /api/v1/recovery-tasks/{id}/close",
    "GET /api/v1/recovery-limits",
    "PUT /api/v1/recovery-limits",
    "GET /api/v1/notifications",
    "POST /api/v1/notifications/{id}/read",
    "POST /api/v1/inbound/email",
    "POST /api/v1/import",
    "GET /api/v1/mail/outbox",
    "GET /api/v1/cases/{id}/attachments",
    "GET /api/v1/cases/{id}/attachments/{attachment_id}",
    "GET /api/v1/survey-definitions",
    "POST /api/v1/survey-definitions",
    "GET /api/v1/survey-definitions/{id}",
    "PUT /api/v1/survey-definitions/{id}",
    "GET /api/v1/survey-settings",
    "PUT /api/v1/survey-settings",
    "GET /api/v1/cases/{id}/surveys",
    "GET /api/v1/survey-responses",
    "GET /api/v1/survey-responses.csv",
    "GET /api/v1/verbatims",
    "POST /api/v1/survey-responses/{id}/kudos",
    "GET /api/v1/users/{id}/kudos",
    "POST /api/v1/recovery-tasks/{id}/resurvey",
    "PUT /api/v1/contacts/{id}/language",
];

app_test!(rows_match_matrix_routes, async |app: &TestApp| {
    let b = Books { calendar: 1, policy: 1, task: 1, notification: 1, attachment: (1, 1), survey: 1, response: 1 };
    let in_rows: BTreeSet<String> = rows(app, 1, &b).iter().map(|r| format!("{} {}", r.method, r.template)).collect();
    let listed: BTreeSet<String> = MATRIX_ROUTES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(in_rows, listed);
});
