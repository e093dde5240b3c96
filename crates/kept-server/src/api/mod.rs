//! The JSON API under /api/v1. Every route is registered through
//! `utoipa_axum::routes!`, which records it in the OpenAPI document at the
//! same time: a route cannot exist without being described.

pub mod books;
pub mod cases;
pub mod extract;
pub mod import;
pub mod mail;
pub mod metrics;
pub mod org;
pub mod parse;
pub mod people;
pub mod promises;
pub mod surveys;
pub mod types;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi, SecurityRequirement};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The API routes and their OpenAPI description.
pub fn router() -> (axum::Router<AppState>, OpenApi) {
    let (router, mut api) = OpenApiRouter::<AppState>::new()
        .routes(routes!(cases::list_cases, cases::create_case))
        .routes(routes!(metrics::list_metrics))
        .routes(routes!(metrics::get_scorecard))
        .routes(routes!(metrics::scorecard_csv))
        .routes(routes!(metrics::get_chart))
        .routes(routes!(metrics::drill_cases))
        .routes(routes!(metrics::drill_csv))
        .routes(routes!(metrics::case_time))
        .routes(routes!(metrics::list_targets, metrics::create_target))
        .routes(routes!(metrics::delete_target))
        .routes(routes!(metrics::list_objectives, metrics::create_objective))
        .routes(routes!(metrics::delete_objective))
        .routes(routes!(metrics::list_costs, metrics::create_cost))
        .routes(routes!(metrics::delete_cost))
        .routes(routes!(metrics::strategy))
        .routes(routes!(cases::get_case, cases::update_case))
        .routes(routes!(cases::list_messages, cases::add_message))
        .routes(routes!(cases::list_events))
        .routes(routes!(cases::open_internal_request))
        .routes(routes!(cases::search_cases))
        .routes(routes!(org::event_log))
        .routes(routes!(org::list_teams, org::create_team))
        .routes(routes!(org::get_team, org::update_team))
        .routes(routes!(org::list_members))
        .routes(routes!(org::add_member, org::remove_member))
        .routes(routes!(org::list_accounts, org::create_account))
        .routes(routes!(org::get_account, org::update_account))
        .routes(routes!(people::list_users, people::create_user))
        .routes(routes!(people::get_user, people::update_user))
        .routes(routes!(people::list_contacts, people::create_contact))
        .routes(routes!(people::get_contact, people::update_contact))
        .routes(routes!(people::me))
        .routes(routes!(people::my_teams))
        .routes(routes!(people::list_tokens, people::create_token))
        .routes(routes!(people::revoke_token))
        .routes(routes!(people::login_token))
        .routes(routes!(books::list_calendars, books::create_calendar))
        .routes(routes!(books::get_calendar, books::update_calendar))
        .routes(routes!(books::import_holidays))
        .routes(routes!(books::calendar_due))
        .routes(routes!(books::list_policies, books::create_policy))
        .routes(routes!(books::get_policy, books::update_policy))
        .routes(routes!(books::reorder_policies))
        .routes(routes!(promises::case_promises, promises::make_promise))
        .routes(routes!(promises::fulfil_promise))
        .routes(routes!(promises::cancel_promise))
        .routes(routes!(promises::case_recovery))
        .routes(routes!(promises::open_recovery))
        .routes(routes!(promises::record_recovery))
        .routes(routes!(promises::close_recovery))
        .routes(routes!(promises::recovery_limits, promises::set_recovery_limit))
        .routes(routes!(promises::notifications))
        .routes(routes!(promises::read_notification))
        .routes(routes!(import::import_cases))
        .routes(routes!(mail::inbound_email))
        .routes(routes!(mail::outbox))
        .routes(routes!(mail::case_attachments))
        .routes(routes!(mail::download_attachment))
        .routes(routes!(surveys::list_definitions, surveys::create_definition))
        .routes(routes!(surveys::get_definition, surveys::update_definition))
        .routes(routes!(surveys::get_settings, surveys::put_settings))
        .routes(routes!(surveys::case_surveys))
        .routes(routes!(surveys::list_responses))
        .routes(routes!(surveys::responses_csv))
        .routes(routes!(surveys::verbatims))
        .routes(routes!(surveys::give_kudos))
        .routes(routes!(surveys::user_kudos))
        .routes(routes!(surveys::resurvey))
        .routes(routes!(surveys::set_language))
        .routes(routes!(openapi_json))
        .split_for_parts();
    describe(&mut api);
    (router, api)
}

fn describe(api: &mut OpenApi) {
    api.info.title = "kept".into();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some(
        "The kept service desk API. Authenticate with `Authorization: Bearer <token>`. \
         Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`; times are RFC 3339 UTC. See docs/API.md."
            .into(),
    );
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
    for item in api.paths.paths.values_mut() {
        for op in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            // Routes that declared `security(())` are public; all others need a token.
            if op.security.is_none() {
                op.security = Some(vec![bearer.clone()]);
            }
            add_common_errors(op);
        }
    }
}

/// The error answers any route can give besides the ones its handler
/// declares, because they come from the shared extractors (extract.rs): a
/// missing or bad token (401), a malformed path or query (400), and for
/// bodies unreadable or malformed JSON (400), the wrong media type (415), a
/// body of the wrong shape (422) or too large (413). Listing them here keeps
/// the document honest for every route at once (Schemathesis checks that
/// every status a route answers is documented), and a declared answer wins.
fn add_common_errors(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{Content, Ref, RefOr, Response};
    let secured = op.security.as_ref().is_some_and(|s| !s.iter().all(|r| *r == SecurityRequirement::default()));
    let params = op.parameters.iter().flatten().filter_map(|p| match p {
        RefOr::T(p) => Some(&p.parameter_in),
        RefOr::Ref(_) => None,
    });
    let (mut in_path, mut in_query) = (false, false);
    for at in params {
        in_path |= matches!(at, ParameterIn::Path);
        in_query |= matches!(at, ParameterIn::Query);
    }
    let body = op.request_body.as_ref().map(|b| match b {
        RefOr::T(b) => b.content.keys().any(|k| k == "application/json"),
        RefOr::Ref(_) => true,
    });
    let mut add = |status: &str, description: &str| {
        let error = Content::new(Some(Ref::from_schema_name("ErrorBody")));
        let mut response = Response::new(description);
        response.content.insert("application/json".into(), RefOr::T(error));
        op.responses.responses.entry(status.into()).or_insert(RefOr::T(response));
    };
    if secured {
        add("401", "No token, or an unknown or revoked one (`unauthenticated`, `invalid_token`).");
    }
    if in_path || in_query || body.is_some() {
        add("400", "A malformed path, query or body (`invalid_path`, `invalid_query`, `invalid_json`, …).");
    }
    if in_path {
        add("404", "No such resource, or not one the caller may see (`not_found`).");
    }
    if let Some(json) = body {
        add("413", "The body is too large (`payload_too_large`).");
        if json {
            add("415", "The body is not `application/json` (`unsupported_media_type`).");
            add("422", "The body is well-formed but not acceptable (`invalid_body`, `unknown_field`, …).");
        }
    }
    // Every answer needs a description (OpenAPI requires one).
    for (status, answer) in op.responses.responses.iter_mut() {
        if let RefOr::T(answer) = answer
            && answer.description.is_empty()
        {
            answer.description = status
                .parse::<u16>()
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Answer")
                .to_owned();
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()), responses((status = 200, description = "The OpenAPI 3.1 document")))]
pub async fn openapi_json() -> impl IntoResponse {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    Json(DOC.get_or_init(|| serde_json::to_value(router().1).unwrap_or_default()).clone())
}

pub(crate) async fn no_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_route", "there is no such API route; see /api/v1/openapi.json")
}

pub(crate) async fn wrong_method() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not accept that method")
}
