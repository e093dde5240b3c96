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

struct Row {
    method: &'static str,
    template: &'static str,
    path: String,
    body: Option<Value>,
    /// Expected status for anonymous, admin, manager, agent, it_agent, ana, bob.
    expect: [u16; 7],
}

fn row(method: &'static str, template: &'static str, path: String, body: Option<Value>, expect: [u16; 7]) -> Row {
    Row { method, template, path, body, expect }
}

fn rows(app: &TestApp, case: i64) -> Vec<Row> {
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
    ]
}

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
    let mut failures = Vec::new();
    for r in rows(app, case) {
        for (i, who) in ROLES.iter().enumerate() {
            let path = prepare(app, &r, who).await;
            let a =
                app.call(r.method, &path, who, personalise(&r.body, if who.is_empty() { "anon" } else { who })).await;
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
];

app_test!(rows_match_matrix_routes, async |app: &TestApp| {
    let in_rows: BTreeSet<String> = rows(app, 1).iter().map(|r| format!("{} {}", r.method, r.template)).collect();
    let listed: BTreeSet<String> = MATRIX_ROUTES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(in_rows, listed);
});
