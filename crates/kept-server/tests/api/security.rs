//! Issue 6's security requirements, checked on every page: the security
//! headers on every GET route of the router (pages from the web router, API
//! routes from the permissions matrix), cookies marked Secure exactly when the
//! configuration says kept is reached over TLS, and password logins
//! rate-limited on the web form as on the token endpoint.

use super::app::{Answer, TestApp, send_to};
use super::matrix;
use super::pages::{Browser, cookie_from, csrf_in, form};
use crate::app_test;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use kept_store::test_support::FIXTURE_PASSWORD;
use serde_json::json;
use std::collections::BTreeSet;

/// What every answer must carry; `what` names it in failures.
fn assert_security_headers(a: &Answer, what: &str) {
    let header = |name: &str| a.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let csp = header("content-security-policy");
    let directive = |name: &str| {
        csp.split(';').map(str::trim).find(|d| d.split_whitespace().next() == Some(name)).unwrap_or("").to_owned()
    };
    // Scripts only from kept itself and never inline; a downloaded file
    // (attachments) gets a sandbox that allows nothing at all.
    let nothing = directive("default-src") == "default-src 'none'" && directive("script-src").is_empty();
    assert!(nothing || directive("script-src") == "script-src 'self'", "{what}: {csp:?}");
    assert!(nothing || directive("object-src") == "object-src 'none'", "{what}: {csp:?}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: {csp:?}");
    assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'", "{what}: {csp:?}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    // Survey pages carry their token in the URL and send no referrer at all.
    let referrer = header("referrer-policy");
    assert!(referrer == "same-origin" || referrer == "no-referrer", "{what}: {referrer:?}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
}

/// The GET routes of the web router, read from its source so that a new page
/// cannot be added without this test seeing it.
fn web_get_routes() -> BTreeSet<String> {
    let source = include_str!("../../src/web/mod.rs");
    let mut routes = BTreeSet::new();
    for part in source.split(".route(\"").skip(1) {
        let Some((path, rest)) = part.split_once('"') else { continue };
        let handlers = rest.split(".route(").next().unwrap_or("");
        if handlers.trim_start_matches([',', ' ', '\n']).starts_with("get(") {
            routes.insert(path.to_owned());
        }
    }
    routes
}

/// (route template, concrete path, who: "admin" for staff pages or "ana" for
/// the customer portal, the status the page answers).
fn pages(app: &TestApp, case: i64, b: &matrix::Books) -> Vec<(&'static str, String, &'static str, u16)> {
    let fx = &app.fx;
    let (acme, support, agent) = (fx.acme.id.0, fx.support.id.0, fx.agent.id.0);
    vec![
        ("/", "/".into(), "admin", 303),
        ("/login", "/login".into(), "admin", 303),
        ("/queue", "/queue".into(), "admin", 200),
        ("/recovery", "/recovery".into(), "admin", 200),
        ("/cases/new", "/cases/new".into(), "admin", 200),
        ("/cases/{id}", format!("/cases/{case}"), "admin", 200),
        (
            "/cases/{id}/attachments/{attachment}",
            format!("/cases/{}/attachments/{}", b.attachment.0, b.attachment.1),
            "admin",
            200,
        ),
        ("/portal", "/portal".into(), "ana", 200),
        ("/portal/new", "/portal/new".into(), "ana", 200),
        ("/portal/cases/{id}", format!("/portal/cases/{case}"), "ana", 200),
        ("/admin/accounts", "/admin/accounts".into(), "admin", 200),
        ("/admin/accounts/{id}", format!("/admin/accounts/{acme}"), "admin", 200),
        ("/admin/teams", "/admin/teams".into(), "admin", 200),
        ("/admin/teams/{id}", format!("/admin/teams/{support}"), "admin", 200),
        ("/admin/users", "/admin/users".into(), "admin", 200),
        ("/admin/calendars", "/admin/calendars".into(), "admin", 200),
        ("/admin/calendars/{id}", format!("/admin/calendars/{}", b.calendar), "admin", 200),
        ("/admin/policies", "/admin/policies".into(), "admin", 200),
        ("/admin/policies/{id}", format!("/admin/policies/{}", b.policy), "admin", 200),
        ("/settings/tokens", "/settings/tokens".into(), "admin", 200),
        ("/verbatims", "/verbatims".into(), "admin", 200),
        ("/kudos", "/kudos".into(), "admin", 200),
        ("/kudos/{id}", format!("/kudos/{agent}"), "admin", 200),
        ("/admin/surveys", "/admin/surveys".into(), "admin", 200),
        ("/scorecards", "/scorecards".into(), "admin", 200),
        ("/scorecards/metric", "/scorecards/metric?metric=csat".into(), "admin", 200),
        ("/strategy", "/strategy".into(), "admin", 200),
        ("/metrics", "/metrics".into(), "admin", 200),
        ("/admin/plans", "/admin/plans".into(), "admin", 200),
        ("/scorecards.csv", "/scorecards.csv".into(), "admin", 200),
        ("/scorecards/cases.csv", "/scorecards/cases.csv?metric=frt_median".into(), "admin", 200),
        // A survey link nobody was sent: the page that says so.
        ("/s/{token}", "/s/not-a-survey-token".into(), "admin", 404),
        ("/assets/{name}", "/assets/kept.css".into(), "admin", 200),
    ]
}

app_test!(every_page_and_api_route_carries_the_security_headers, async |app: &TestApp| {
    let case = app.case_by("ana", "headers everywhere").await;
    let b = matrix::books(app).await;
    let (admin, _) = Browser::login(app, "admin@kept.test", FIXTURE_PASSWORD).await;
    let (ana, _) = Browser::login(app, "ana@acme.test", FIXTURE_PASSWORD).await;

    let listed = pages(app, case, &b);
    let templates: BTreeSet<String> = listed.iter().map(|(t, ..)| (*t).to_owned()).collect();
    assert_eq!(templates, web_get_routes(), "every GET page of web::router() is listed in pages()");
    let mut wrong = Vec::new();
    for (template, path, who, status) in &listed {
        let a = if *who == "ana" { ana.get(path).await } else { admin.get(path).await };
        if a.status.as_u16() != *status {
            wrong.push(format!("{template} ({path}) as {who}: {} not {status}", a.status));
        }
        assert_security_headers(&a, path);
        // The policy forbids inline scripts, so the pages must not need any.
        let html = a.headers.get("content-type").is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/html"));
        if html {
            for tag in a.text.split("<script").skip(1) {
                let open = tag.split('>').next().unwrap_or("");
                assert!(open.contains("src="), "{path}: an inline <script> the policy would block");
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Every GET route of the API, as the matrix enumerates them (it checks
    // that it lists exactly the documented routes), as the admin.
    let mut api = 0;
    for r in matrix::rows(app, case, &b).iter().filter(|r| r.method == "GET") {
        let a = app.get(&r.path, "admin").await;
        assert!(!a.status.is_server_error(), "{}: {}", r.path, a.text);
        assert_security_headers(&a, &r.path);
        api += 1;
    }
    assert!(api > 40, "the matrix's GET routes were all visited ({api})");

    // And answers that are no page at all: unknown paths, wrong methods, signed out.
    for path in ["/nowhere", "/api/v1/nothing-here", "/queue"] {
        assert_security_headers(&app.get(path, "").await, path);
    }
    let wrong_method = app.call("DELETE", "/queue", "", None).await;
    assert_security_headers(&wrong_method, "DELETE /queue");
});

/// Logs in through the login form of `router`, returning the login page and
/// the answer to the form.
async fn form_login(router: &axum::Router, email: &str, password: &str) -> (Answer, Answer) {
    let page = send_to(router, Request::builder().uri("/login").body(Body::empty()).unwrap()).await;
    let cookie = cookie_from(&page, "kept_login_csrf").unwrap();
    let body = form(&[("csrf", &csrf_in(&page.text)), ("email", email), ("password", password)]);
    let req = Request::builder()
        .method("POST")
        .uri("/login")
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    (page, send_to(router, req).await)
}

fn set_cookies(a: &Answer) -> Vec<String> {
    a.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

fn is_secure(cookie: &str) -> bool {
    cookie.split(';').any(|attr| attr.trim().eq_ignore_ascii_case("secure"))
}

app_test!(cookies_are_secure_exactly_when_kept_is_served_over_tls, async |app: &TestApp| {
    for tls in [true, false] {
        let router = app.router_with(|c| c.secure_cookies = tls);
        let (page, answer) = form_login(&router, "agent@kept.test", FIXTURE_PASSWORD).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "logged in");
        let session = cookie_from(&answer, "kept_session").unwrap();
        let mut cookies = set_cookies(&page);
        cookies.extend(set_cookies(&answer));
        // Signing out clears the session with a cookie of its own.
        let queue =
            send_to(&router, Request::builder().uri("/queue").header("cookie", &session).body(Body::empty()).unwrap())
                .await;
        let logout = Request::builder()
            .method("POST")
            .uri("/logout")
            .header("cookie", &session)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form(&[("csrf", &csrf_in(&queue.text))])))
            .unwrap();
        let out = send_to(&router, logout).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        cookies.extend(set_cookies(&out));
        let names: BTreeSet<&str> = cookies.iter().filter_map(|c| c.split('=').next()).collect();
        assert_eq!(names, BTreeSet::from(["kept_login_csrf", "kept_session"]), "{cookies:?}");
        for cookie in &cookies {
            assert_eq!(is_secure(cookie), tls, "TLS {tls}: {cookie}");
            assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        }
    }
});

app_test!(the_web_login_form_is_rate_limited_like_the_token_endpoint, async |app: &TestApp| {
    // The form and the token endpoint count failures together (TestApp allows 5).
    for _ in 0..3 {
        let (_, a) = Browser::login(app, "agent@kept.test", "not the password").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    for _ in 0..2 {
        let body = json!({"email": "agent@kept.test", "password": "not the password", "name": "x"});
        let a = app.post("/api/v1/auth/tokens", "", body).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let (_, locked) = Browser::login(app, "agent@kept.test", FIXTURE_PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "the right password waits out the lock: {}", locked.text);
    assert!(locked.text.contains("Too many failed attempts"));
    assert!(cookie_from(&locked, "kept_session").is_none(), "no session while locked");
    assert_security_headers(&locked, "the locked login page");
    let token = json!({"email": "agent@kept.test", "password": FIXTURE_PASSWORD, "name": "x"});
    let api = app.post("/api/v1/auth/tokens", "", token).await;
    assert_eq!((api.status, api.code()), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
});
