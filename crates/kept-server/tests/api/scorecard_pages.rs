//! The management-by-fact pages: scorecards, a metric's control chart and
//! cases, the strategy, the catalogue and the plans, as staff and
//! contacts see them.

use super::app::TestApp;
use super::pages::{Browser, csrf_in, location};
use crate::app_test;
use axum::http::StatusCode;
use kept_store::test_support::FIXTURE_PASSWORD;

/// The HTML of the scorecard row of `metric`.
fn row<'a>(html: &'a str, metric: &str) -> &'a str {
    let start = html.find(&format!("id=\"row-{metric}\"")).unwrap_or_else(|| panic!("no row {metric}: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

/// Sets a target through the plans page as `who`.
async fn target(who: &Browser<'_>, csrf: &str, pairs: &[(&str, &str)]) {
    let mut all = vec![("csrf", csrf), ("effective_from", "2024-06-01")];
    all.extend_from_slice(pairs);
    let made = who.post("/admin/plans/targets", &all).await;
    assert_eq!((made.status, location(&made)), (StatusCode::SEE_OTHER, "/admin/plans#targets"), "{}", made.text);
}

app_test!(staff_read_every_scorecard_page_and_contacts_are_sent_to_their_portal, async |app: &TestApp| {
    for subject in ["Printer <i>jammed</i>", "VPN down", "Invoice copy"] {
        app.case_by("ana", subject).await;
    }
    let (agent, _) = Browser::login(app, "agent@kept.test", FIXTURE_PASSWORD).await;
    let card = agent.get("/scorecards").await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.text);
    assert!(card.text.contains("href=\"/scorecards\">Scorecards</a>"), "the staff nav links it");
    assert!(card.text.contains("2024-06-01 – 2024-06-30"), "this month by default");
    assert!(row(&card.text, "created").contains(">3</a>"), "{}", row(&card.text, "created"));
    assert!(row(&card.text, "csat").contains("href=\"/metrics#csat\""), "a ? beside the number");
    assert!(card.text.contains("id=\"where-time-goes\"") && card.text.contains("<svg"), "where time goes");
    assert!(card.text.contains("metrics=all"), "a link to every metric");
    let all = agent.get("/scorecards?metrics=all").await;
    assert!(all.text.contains("id=\"row-wait_third_business\""));

    let metric = agent.get("/scorecards/metric?metric=created&scope=org&period=month").await;
    assert_eq!(metric.status, StatusCode::OK, "{}", metric.text);
    assert!(metric.text.contains("id=\"control-chart\"") && metric.text.contains("chart-control"));
    assert!(metric.text.contains("3 cases, worst first"), "{}", metric.text);
    assert!(metric.text.contains("Printer &#60;i&#62;jammed&#60;/i&#62;") && !metric.text.contains("<i>jammed"));
    assert!(metric.text.contains("rules=all"), "the toggle to every Western Electric rule");
    let all_rules = agent.get("/scorecards/metric?metric=created&rules=all").await;
    assert!(all_rules.text.contains("Showing all four Western Electric rules"));

    let csv = agent.get("/scorecards/cases.csv?metric=created").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(csv.text.starts_with("case_id,subject,status,date,value,good\r\n"), "{}", csv.text);
    assert_eq!(csv.text.lines().count(), 4);
    let csv = agent.get("/scorecards.csv?metrics=created,csat").await;
    assert!(csv.text.starts_with("metric,name,unit,value,n,"), "{}", csv.text);
    assert!(csv.text.contains("\r\ncreated,Cases created,count,3,3,"), "{}", csv.text);

    let strategy = agent.get("/strategy").await;
    assert_eq!(strategy.status, StatusCode::OK);
    assert!(strategy.text.contains("id=\"strategy-empty\"") && strategy.text.contains("An admin or a manager"));
    let catalogue = agent.get("/metrics").await;
    assert!(catalogue.text.contains("id=\"attainment_first_response\"") && catalogue.text.contains("lower is better"));
    let plans = agent.get("/admin/plans").await;
    assert_eq!(plans.status, StatusCode::OK);
    assert!(!plans.text.contains("id=\"target-form\""), "agents read plans but do not change them");

    let case = app.case_by("ana", "Where did the time go").await;
    app.clock.advance(jiff::SignedDuration::from_hours(2));
    let page = agent.get(&format!("/cases/{case}")).await;
    assert!(page.text.contains("id=\"case-time\"") && page.text.contains("Waiting on us"), "{}", page.text);

    let (ana, _) = Browser::login(app, "ana@acme.test", FIXTURE_PASSWORD).await;
    for path in [
        "/scorecards",
        "/scorecards/metric?metric=created",
        "/scorecards.csv",
        "/scorecards/cases.csv?metric=created",
        "/strategy",
        "/metrics",
        "/admin/plans",
    ] {
        let a = ana.get(path).await;
        assert_eq!((a.status, location(&a)), (StatusCode::SEE_OTHER, "/portal"), "{path}");
        let a = app.get(path, "").await;
        assert_eq!((a.status, location(&a)), (StatusCode::SEE_OTHER, "/login"), "{path}");
    }
    let csrf = csrf_in(&ana.get("/portal").await.text);
    let a = ana.post("/admin/plans/targets", &[("csrf", &csrf), ("metric", "csat"), ("target", "1")]).await;
    assert_eq!(location(&a), "/portal");
});

app_test!(rag_follows_the_target_and_a_small_sample_is_never_red, async |app: &TestApp| {
    for subject in ["One", "Two", "Three"] {
        app.case_by("ana", subject).await;
    }
    let (manager, _) = Browser::login(app, "manager@kept.test", FIXTURE_PASSWORD).await;
    let csrf = csrf_in(&manager.get("/admin/plans").await.text);
    let card = "/scorecards?metrics=created,contacts_per_case";
    for (goal, amber, class, words) in [
        ("10", "0", "rag-red", "off target"),
        ("5", "3", "rag-amber", "near target"),
        ("2", "0", "rag-green", "on target"),
    ] {
        target(&manager, &csrf, &[("metric", "created"), ("scope", "org"), ("target", goal), ("amber", amber)]).await;
        let page = manager.get(card).await;
        let r = row(&page.text, "created");
        assert!(r.contains(&format!("class=\"rag {class}\"")) && r.contains(words), "{goal}: {r}");
    }
    // Contacts per case rests on 3 cases: a target it misses is grey for
    // the API and the page alike, even with a minimum sample of 0 (D-8).
    target(&manager, &csrf, &[("metric", "contacts_per_case"), ("target", "0"), ("min_sample", "0")]).await;
    let api = app.get("/api/v1/scorecards?metrics=contacts_per_case", "manager").await;
    assert_eq!(api.json["rows"][0]["status"], "grey", "{}", api.text);
    let page = manager.get(card).await;
    let r = row(&page.text, "contacts_per_case");
    assert!(r.contains("class=\"rag rag-grey\"") && !r.contains("rag-red"), "{r}");
    assert!(r.contains("n=3, small sample") && r.contains("too few to judge"), "{r}");
    // A team without a target of its own is held to the organisation's.
    let team = manager.get(&format!("/scorecards?scope=team&team={}&metrics=created", app.fx.support.id)).await;
    assert!(team.text.contains("team Support") && row(&team.text, "created").contains("class=\"rag "), "{}", team.text);
});

app_test!(bad_selectors_render_a_clear_error_never_a_500, async |app: &TestApp| {
    let (agent, _) = Browser::login(app, "agent@kept.test", FIXTURE_PASSWORD).await;
    for (path, needle) in [
        ("/scorecards?scope=galaxy", "scope"),
        ("/scorecards?period=fortnight", "period"),
        ("/scorecards?scope=team&team=", "scope_key"),
        ("/scorecards?scope=team&scope_key=support", "numeric id"),
        ("/scorecards?scope=tier", "scope_key"),
        ("/scorecards?period=custom&from=2024-01-01", "to"),
        ("/scorecards?period=day&date=yesterday", "date"),
        ("/scorecards?metrics=happiness", "happiness"),
        ("/scorecards?colour=red", "colour"),
        ("/scorecards/metric", "metric"),
        ("/scorecards/metric?metric=nope", "nope"),
        ("/scorecards/metric?metric=csat&rules=some", "rules"),
        ("/scorecards.csv?scope=galaxy", "scope"),
        ("/scorecards/cases.csv?metric=%3Cscript%3E", "&#60;script&#62;"),
    ] {
        let a = agent.get(path).await;
        assert!(a.status.is_client_error(), "{path}: {}", a.status);
        assert!(a.text.contains(needle), "{path}: {}", a.text);
        assert!(!a.text.contains("<script>"), "{path}");
    }
    let a = agent.get("/scorecards?scope=galaxy").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.text.contains("id=\"selectors\""), "the selectors stay, to fix the choice");
});

app_test!(plan_forms_check_csrf_and_show_each_reason_beside_its_field, async |app: &TestApp| {
    let (manager, _) = Browser::login(app, "manager@kept.test", FIXTURE_PASSWORD).await;
    let page = manager.get("/admin/plans").await;
    assert!(page.text.contains("id=\"target-form\"") && !page.text.contains("id=\"strategy-empty\""));
    let csrf = csrf_in(&page.text);
    let forged = manager
        .post(
            "/admin/plans/targets",
            &[("csrf", "guess"), ("metric", "csat"), ("target", "85"), ("effective_from", "2024-06-01")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(app.get("/api/v1/targets", "manager").await.json["targets"].as_array().unwrap().is_empty());
    for (form, pairs, id, words) in [
        (
            "targets",
            vec![("metric", "csat"), ("target", "eighty"), ("effective_from", "2024-06-01")],
            "t-target-error",
            "decimal",
        ),
        (
            "targets",
            vec![("metric", "csat"), ("target", "85"), ("amber", "x"), ("effective_from", "2024-06-01")],
            "t-amber-error",
            "decimal",
        ),
        (
            "targets",
            vec![
                ("metric", "csat"),
                ("scope", "team"),
                ("scope_key", "support"),
                ("target", "85"),
                ("effective_from", "2024-06-01"),
            ],
            "t-key-error",
            "numeric id",
        ),
        (
            "targets",
            vec![("metric", "csat"), ("target", "85"), ("min_sample", "-1"), ("effective_from", "2024-06-01")],
            "t-min-error",
            "whole number",
        ),
        (
            "targets",
            vec![
                ("metric", "csat"),
                ("target", "85"),
                ("effective_from", "2024-06-01"),
                ("effective_to", "2024-01-01"),
            ],
            "t-to-error",
            "after",
        ),
        (
            "objectives",
            vec![
                ("level", "service"),
                ("title", "Answer fast"),
                ("period_start", "2024-01-01"),
                ("period_end", "2024-12-31"),
            ],
            "o-parent-error",
            "corporate objective",
        ),
        (
            "objectives",
            vec![("level", "corporate"), ("title", ""), ("period_start", "2024-01-01"), ("period_end", "2024-12-31")],
            "o-title-error",
            "1 to 200",
        ),
        (
            "objectives",
            vec![
                ("level", "corporate"),
                ("title", "Keep"),
                ("period_start", "2024-01-01"),
                ("period_end", "2023-12-31"),
            ],
            "o-end-error",
            "must not be before",
        ),
        (
            "objectives",
            vec![
                ("level", "corporate"),
                ("title", "Keep"),
                ("period_start", "2024-01-01"),
                ("period_end", "2024-12-31"),
                ("metrics", "csat"),
                ("scope", "agent"),
                ("scope_key", ""),
            ],
            "o-key-error",
            "required",
        ),
        (
            "costs",
            vec![("period_start", "2024-06-01"), ("period_end", "2024-06-30"), ("amount", "12,50")],
            "c-amount-error",
            "amount such as",
        ),
        (
            "costs",
            vec![("period_start", "2024-06-01"), ("period_end", "2024-05-30"), ("amount", "100")],
            "c-end-error",
            "must not be before",
        ),
    ] {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(pairs);
        let a = manager.post(&format!("/admin/plans/{form}"), &all).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{id}: {}", a.text);
        let at = a.text.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("{id}: {}", a.text));
        assert!(a.text[at..at + 200].contains(words), "{id}: {}", &a.text[at..at + 200]);
    }
    let a = manager
        .post(
            "/admin/plans/targets",
            &[
                ("csrf", &csrf),
                ("metric", "csat"),
                ("target", "eighty"),
                ("amber", "3"),
                ("effective_from", "2024-06-01"),
            ],
        )
        .await;
    assert!(a.text.contains("id=\"t-amber\" name=\"amber\" value=\"3\""), "the form keeps what was sent");

    let corp = manager
        .post(
            "/admin/plans/objectives",
            &[
                ("csrf", &csrf),
                ("level", "corporate"),
                ("title", "Keep <b>customers</b>"),
                ("period_start", "2024-01-01"),
                ("period_end", "2024-12-31"),
                ("metrics", "account_retention"),
                ("metrics", "created"),
            ],
        )
        .await;
    assert_eq!(corp.status, StatusCode::SEE_OTHER, "{}", corp.text);
    let parent =
        app.get("/api/v1/objectives", "manager").await.json["objectives"][0]["id"].as_i64().unwrap().to_string();
    let manager_id = app.fx.manager.id.to_string();
    let service = manager
        .post(
            "/admin/plans/objectives",
            &[
                ("csrf", &csrf),
                ("level", "service"),
                ("parent_id", &parent),
                ("title", "Answer within the hour"),
                ("owner_id", &manager_id),
                ("period_start", "2024-01-01"),
                ("period_end", "2024-12-31"),
                ("metrics", "attainment_first_response"),
            ],
        )
        .await;
    assert_eq!(service.status, StatusCode::SEE_OTHER, "{}", service.text);
    let cost = manager
        .post(
            "/admin/plans/costs",
            &[("csrf", &csrf), ("period_start", "2024-06-01"), ("period_end", "2024-06-30"), ("amount", "1250.5")],
        )
        .await;
    assert_eq!(cost.status, StatusCode::SEE_OTHER, "{}", cost.text);
    assert_eq!(app.get("/api/v1/costs", "manager").await.json["costs"][0]["amount_cents"], 125_050);

    let strategy = manager.get("/strategy").await;
    assert!(strategy.text.contains("Keep &#60;b&#62;customers&#60;/b&#62;") && !strategy.text.contains("<b>customers"));
    assert!(
        strategy.text.contains("Answer within the hour") && strategy.text.contains("Owner: Max Manager"),
        "{}",
        strategy.text
    );
    assert!(strategy.text.contains("href=\"/metrics#attainment_first_response\""), "a ? beside each metric");
    let refused = manager.post(&format!("/admin/plans/objectives/{parent}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    assert!(refused.text.contains("service objectives under it"));
    let forged = manager.post(&format!("/admin/plans/objectives/{parent}/delete"), &[("csrf", "x")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let (agent, _) = Browser::login(app, "agent@kept.test", FIXTURE_PASSWORD).await;
    let acsrf = csrf_in(&agent.get("/queue").await.text);
    let a = agent
        .post(
            "/admin/plans/targets",
            &[("csrf", &acsrf), ("metric", "csat"), ("target", "85"), ("effective_from", "2024-06-01")],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.text.contains("only an admin or a manager"), "{}", a.text);
});
