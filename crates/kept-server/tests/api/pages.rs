use super::app::{Answer, TestApp};
use crate::app_test;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use kept_store::test_support::FIXTURE_PASSWORD;

pub(super) struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
}

pub(super) fn cookie_from(a: &Answer, name: &str) -> Option<String> {
    a.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
}

pub(super) fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form with a csrf field");
    html[at + 19..].split('"').next().unwrap().to_owned()
}

pub(super) fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.replace('%', "%25").replace('&', "%26").replace('+', "%2B").replace(' ', "+").replace('=', "%3D")
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl<'a> Browser<'a> {
    pub(super) async fn login(app: &'a TestApp, email: &str, password: &str) -> (Browser<'a>, Answer) {
        let page = app.get("/login", "").await;
        let login_cookie = cookie_from(&page, "kept_login_csrf").unwrap();
        let body = form(&[("csrf", &csrf_in(&page.text)), ("email", email), ("password", password)]);
        let req = Request::builder()
            .method("POST")
            .uri("/login")
            .header("cookie", &login_cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let answer = app.send(req).await;
        let cookie = cookie_from(&answer, "kept_session").unwrap_or_default();
        (Browser { app, cookie }, answer)
    }

    pub(super) async fn get(&self, path: &str) -> Answer {
        self.app.send(Request::builder().uri(path).header("cookie", &self.cookie).body(Body::empty()).unwrap()).await
    }

    pub(super) async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        let req = Request::builder()
            .method("POST")
            .uri(path)
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form(pairs)))
            .unwrap();
        self.app.send(req).await
    }
}

pub(super) fn location(a: &Answer) -> &str {
    a.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
}

app_test!(an_agent_logs_in_replies_and_changes_status_through_pages, async |app: &TestApp| {
    let id = app.case_by("ana", "Scanner jammed").await;
    let (agent, answer) = Browser::login(app, "agent@kept.test", FIXTURE_PASSWORD).await;
    assert_eq!((answer.status, location(&answer)), (StatusCode::SEE_OTHER, "/queue"));
    let session = answer
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("kept_session="))
        .unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    let queue = agent.get("/queue?view=teams").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.text.contains("Scanner jammed"));
    let page = agent.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_in(&page.text);
    let sent = agent
        .post(
            &format!("/cases/{id}/reply"),
            &[("csrf", &csrf), ("body", "Try turning it off & on"), ("visibility", "public"), ("status", "pending")],
        )
        .await;
    assert_eq!((sent.status, location(&sent)), (StatusCode::SEE_OTHER, format!("/cases/{id}").as_str()));
    let page = agent.get(&format!("/cases/{id}")).await;
    assert!(page.text.contains("Try turning it off &#38; on"), "escaped and shown");
    assert!(page.text.contains("Waiting on you") || page.text.contains("s-pending"));
    let solve = agent
        .post(
            &format!("/cases/{id}/update"),
            &[
                ("csrf", &csrf),
                ("status", "solved"),
                ("priority", "high"),
                ("team_id", &app.fx.support.id.to_string()),
                ("assignee_id", &app.fx.agent.id.to_string()),
                ("case_type", "question"),
                ("tags", "printer, vip"),
            ],
        )
        .await;
    assert_eq!(solve.status, StatusCode::SEE_OTHER, "{}", solve.text);
    let api = app.get(&format!("/api/v1/cases/{id}"), "agent").await;
    assert_eq!(api.json["status"], "solved");
    assert_eq!(api.json["tags"], serde_json::json!(["printer", "vip"]));
    let illegal = agent.post(&format!("/cases/{id}/update"), &[("csrf", &csrf), ("status", "pending")]).await;
    assert_eq!(illegal.status, StatusCode::UNPROCESSABLE_ENTITY, "the page is shown again with the reason");
    assert!(illegal.text.contains("cannot go from solved to pending"));
});

app_test!(forms_without_the_session_csrf_token_are_refused, async |app: &TestApp| {
    let id = app.case_by("ana", "CSRF target").await;
    let (agent, _) = Browser::login(app, "agent@kept.test", FIXTURE_PASSWORD).await;
    let forged = agent.post(&format!("/cases/{id}/reply"), &[("csrf", "guess"), ("body", "pwned")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let missing = agent.post(&format!("/cases/{id}/reply"), &[("body", "pwned")]).await;
    assert!(missing.status.is_client_error());
    assert_eq!(
        app.get(&format!("/api/v1/cases/{id}/messages"), "agent").await.json["messages"].as_array().unwrap().len(),
        1
    );
    // A login form posted without its cookie (from another site) is refused too.
    let req = Request::builder()
        .method("POST")
        .uri("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form(&[("csrf", "x"), ("email", "agent@kept.test"), ("password", FIXTURE_PASSWORD)])))
        .unwrap();
    let a = app.send(req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(cookie_from(&a, "kept_session").is_none());
});

app_test!(a_contact_opens_a_case_in_the_portal_and_sees_only_their_accounts_cases, async |app: &TestApp| {
    let bobs = app.case_by("bob", "Globex secret").await;
    let (ana, answer) = Browser::login(app, "ana@acme.test", FIXTURE_PASSWORD).await;
    assert_eq!(location(&answer), "/portal");
    let new = ana.get("/portal/new").await;
    let csrf = csrf_in(&new.text);
    let made = ana
        .post(
            "/portal/cases",
            &[("csrf", &csrf), ("subject", "Cannot print <b>invoices</b>"), ("message", "Since Monday.")],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let page = ana.get(location(&made)).await;
    assert!(
        page.text.contains("Cannot print &#60;b&#62;invoices&#60;/b&#62;") && !page.text.contains("<b>invoices"),
        "HTML is escaped"
    );
    let list = ana.get("/portal").await;
    assert!(list.text.contains("Cannot print"));
    assert!(!list.text.contains("Globex secret"));
    assert_eq!(ana.get(&format!("/portal/cases/{bobs}")).await.status, StatusCode::NOT_FOUND);
    let staff_page = ana.get("/queue").await;
    assert_eq!((staff_page.status, location(&staff_page)), (StatusCode::SEE_OTHER, "/portal"));
    let reply =
        ana.post(format!("{}/reply", location(&made)).as_str(), &[("csrf", &csrf), ("body", "Any news?")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
});

app_test!(wrong_passwords_lock_the_login_after_the_limit, async |app: &TestApp| {
    for _ in 0..5 {
        let (_, a) = Browser::login(app, "agent@kept.test", "not the password").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(a.text.contains("wrong"));
    }
    let (_, locked) = Browser::login(app, "agent@kept.test", FIXTURE_PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
});

app_test!(pages_need_a_session_and_logout_ends_it, async |app: &TestApp| {
    for path in ["/queue", "/cases/1", "/portal", "/admin/accounts", "/settings/tokens"] {
        let a = app.get(path, "").await;
        assert_eq!((a.status, location(&a)), (StatusCode::SEE_OTHER, "/login"), "{path}");
    }
    let (agent, _) = Browser::login(app, "agent@kept.test", FIXTURE_PASSWORD).await;
    let csrf = csrf_in(&agent.get("/queue").await.text);
    let out = agent.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(location(&out), "/login");
    assert_eq!(location(&agent.get("/queue").await), "/login", "the old cookie no longer works");
});

app_test!(admins_manage_accounts_teams_and_users_from_pages, async |app: &TestApp| {
    let (admin, _) = Browser::login(app, "admin@kept.test", FIXTURE_PASSWORD).await;
    let csrf = csrf_in(&admin.get("/admin/accounts").await.text);
    let made = admin
        .post(
            "/admin/accounts",
            &[
                ("csrf", &csrf),
                ("name", "Initech"),
                ("tier", "enterprise"),
                ("domains", "initech.test, initech.example"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
    let page = admin.get(location(&made)).await;
    assert!(page.text.contains("initech.example, initech.test"));
    let dup = admin.post("/admin/accounts", &[("csrf", &csrf), ("name", "initech"), ("tier", "standard")]).await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(dup.text.contains("already exists"));
    let contact = admin
        .post(
            &format!("{}/contacts", location(&made)),
            &[("csrf", &csrf), ("name", "Peter Gibbons"), ("email", "peter@initech.test")],
        )
        .await;
    assert_eq!(contact.status, StatusCode::SEE_OTHER);
    let team = admin.post("/admin/teams", &[("csrf", &csrf), ("name", "Onboarding")]).await;
    assert_eq!(team.status, StatusCode::SEE_OTHER);
    let joined = admin
        .post(&format!("{}/members", location(&team)), &[("csrf", &csrf), ("user_id", &app.fx.agent.id.to_string())])
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER);
    assert!(admin.get(location(&team)).await.text.contains("Alex Agent"));
    let user = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", "Nina New"),
                ("email", "nina@kept.test"),
                ("role", "agent"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(user.status, StatusCode::SEE_OTHER, "{}", user.text);
    let (nina, ok) = Browser::login(app, "nina@kept.test", "a long enough password").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(nina.get("/admin/users").await.status, StatusCode::FORBIDDEN, "agents do not manage users");
});

app_test!(emailed_attachments_are_listed_and_downloaded_with_permission, async |app: &TestApp| {
    let mail = kept_store::InboundEmail {
        from_email: "ana@acme.test".into(),
        subject: "Scan".into(),
        text: "Attached".into(),
        attachments: vec![kept_store::InboundAttachment {
            filename: "scan <1>.png".into(),
            content_type: "image/png".into(),
            bytes: vec![0x89, b'P', b'N', b'G'],
        }],
        ..Default::default()
    };
    let case = app.store().ingest_email(mail, crate::api::app::start()).await.unwrap().case().unwrap().0;
    let (agent, _) = Browser::login(app, "agent@kept.test", FIXTURE_PASSWORD).await;
    let page = agent.get(&format!("/cases/{case}")).await;
    assert!(page.text.contains("scan &#60;1&#62;.png"), "names are escaped: {}", page.text);
    let link = format!("/cases/{case}/attachments/");
    let start = page.text.find(&link).unwrap();
    let href: String = page.text[start..].chars().take_while(|c| *c != '"').collect();
    let file = agent.get(&href).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.headers["content-type"], "application/octet-stream");
    assert!(file.headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
    let (ana, _) = Browser::login(app, "ana@acme.test", FIXTURE_PASSWORD).await;
    assert!(ana.get(&format!("/portal/cases/{case}")).await.text.contains(&href));
    assert_eq!(ana.get(&href).await.status, StatusCode::OK);
    let (bob, _) = Browser::login(app, "bob@globex.test", FIXTURE_PASSWORD).await;
    assert_eq!(bob.get(&href).await.status, StatusCode::NOT_FOUND);
});

app_test!(staff_survey_pages_show_verbatims_kudos_settings_and_the_case_survey, async |app: &TestApp| {
    let (admin, _) = Browser::login(app, "admin@kept.test", FIXTURE_PASSWORD).await;
    let page = admin.get("/admin/surveys").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = csrf_in(&page.text);
    let made = admin
        .post(
            "/admin/surveys/definitions",
            &[("csrf", &csrf), ("kind", "csat"), ("name", "After solve"), ("reasons", "Too slow\nNot solved")],
        )
        .await;
    assert_eq!((made.status, location(&made)), (StatusCode::SEE_OTHER, "/admin/surveys"));
    let bad = admin
        .post(
            "/admin/surveys/definitions",
            &[("csrf", &csrf), ("kind", "csat"), ("name", "x"), ("sample_percent", "150")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("sample_percent"), "{}", bad.text);
    let saved = admin
        .post(
            "/admin/surveys/settings",
            &[
                ("csrf", &csrf),
                ("fatigue_days", "0"),
                ("csat_threshold", "2"),
                ("ces_threshold", "3"),
                ("nps_threshold", "6"),
                ("followup_owner", "agent"),
                ("followup_minutes", "60"),
                ("change_window_minutes", "30"),
                ("expiry_days", "7"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let page = admin.get("/admin/surveys").await;
    assert!(page.text.contains(r#"name="expiry_days" inputmode="numeric" value="7""#), "{}", page.text);

    let case = app.case_by("ana", "Printer").await;
    let (agent, _) = Browser::login(app, "agent@kept.test", FIXTURE_PASSWORD).await;
    let page = agent.get(&format!("/cases/{case}")).await;
    let csrf = csrf_in(&page.text);
    let me = app.fx.agent.id.0.to_string();
    let solved = agent
        .post(
            &format!("/cases/{case}/update"),
            &[
                ("csrf", &csrf),
                ("status", "solved"),
                ("priority", "normal"),
                ("team_id", &app.fx.support.id.0.to_string()),
                ("assignee_id", &me),
            ],
        )
        .await;
    assert!(solved.status.is_redirection(), "{}", solved.text);
    let tick = app.store().survey_tick(app.state.now(), "http://k").await.unwrap();
    let token = &tick.sent[0].1;
    let req = Request::builder()
        .method("POST")
        .uri(format!("/s/{token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("score=1&comment=Nobody+called&reasons=Too+slow"))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::OK);
    let page = agent.get(&format!("/cases/{case}")).await;
    assert!(
        page.text.contains(r#"id="case-surveys""#) && page.text.contains("scored 1 (dissatisfied)"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Dissatisfied survey answer: CSAT 1"), "the follow-up task is on the case");
    let task = app
        .store()
        .case_recovery_tasks(&kept_core::permissions::Principal::system(), kept_core::ids::CaseId(case))
        .await
        .unwrap()[0]
        .id;
    let again = agent.post(&format!("/cases/{case}/recovery/{task}/resurvey"), &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text);

    let (manager, _) = Browser::login(app, "manager@kept.test", FIXTURE_PASSWORD).await;
    let v = manager.get("/verbatims?reason=Too+slow&from=2020-01-01").await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    assert!(v.text.contains("Nobody called") && v.text.contains(&format!("/cases/{case}")));
    let v = manager.get("/verbatims?score=5").await;
    assert!(!v.text.contains("Nobody called"));
    let v = manager.get("/verbatims?from=someday").await;
    assert_eq!(v.status, StatusCode::UNPROCESSABLE_ENTITY);
    let v = manager.get("/verbatims").await;
    let response = app.get("/api/v1/verbatims", "admin").await.json["responses"][0]["id"].as_i64().unwrap();
    let k =
        manager.post(&format!("/verbatims/{response}/kudos"), &[("csrf", &csrf_in(&v.text)), ("note", "Thanks")]).await;
    assert_eq!(k.status, StatusCode::SEE_OTHER, "{}", k.text);
    let mine = agent.get("/kudos").await;
    assert!(mine.text.contains("Nobody called") && mine.text.contains("Thanks"), "{}", mine.text);
    // Agents see the verbatims page but give no kudos.
    let v = agent.get("/verbatims").await;
    assert!(!v.text.contains("Give kudos"));
});
