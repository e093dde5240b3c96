//! Server-rendered pages: the agent's queue and case page, the customer
//! portal, organisation settings. Plain HTML forms that work without
//! JavaScript; htmx (vendored) makes them quicker where scripts run.

mod admin;
mod assets;
mod books;
mod case_page;
mod charts;
mod figures;
mod form;
mod login;
mod metric_page;
mod plans;
mod portal;
mod promise_views;
mod queue;
mod recovery;
mod scorecard_csv;
mod scorecard_query;
mod scorecards;
mod selectors;
pub mod session;
mod strategy;
mod survey;
mod surveys;
mod time_bars;
mod timeline;
mod tokens;
mod views;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(login::home))
        .route("/login", get(login::show_login).post(login::do_login))
        .route("/logout", post(login::logout))
        .route("/queue", get(queue::queue))
        .route("/recovery", get(recovery::recovery))
        .route("/cases/new", get(queue::show_new_case))
        .route("/cases", post(queue::create_case))
        .route("/cases/{id}", get(case_page::show_case))
        .route("/cases/{id}/reply", post(case_page::reply))
        .route("/cases/{id}/attachments/{attachment}", get(case_page::attachment))
        .route("/cases/{id}/update", post(case_page::update))
        .route("/cases/{id}/internal-request", post(case_page::internal_request))
        .route("/cases/{id}/promises", post(case_page::make_promise))
        .route("/cases/{id}/promises/{promise}/fulfil", post(case_page::fulfil_promise))
        .route("/cases/{id}/promises/{promise}/cancel", post(case_page::cancel_promise))
        .route("/cases/{id}/recovery/{task}/actions", post(case_page::record_recovery))
        .route("/cases/{id}/recovery/{task}/close", post(case_page::close_recovery))
        .route("/portal", get(portal::portal))
        .route("/portal/new", get(portal::show_new))
        .route("/portal/cases", post(portal::create))
        .route("/portal/cases/{id}", get(portal::show_case))
        .route("/portal/cases/{id}/reply", post(portal::reply))
        .route("/admin/accounts", get(admin::accounts).post(admin::create_account))
        .route("/admin/accounts/{id}", get(admin::account).post(admin::update_account))
        .route("/admin/accounts/{id}/contacts", post(admin::add_contact))
        .route("/admin/teams", get(admin::teams).post(admin::create_team))
        .route("/admin/teams/{id}", get(admin::team).post(admin::update_team))
        .route("/admin/teams/{id}/members", post(admin::add_member))
        .route("/admin/teams/{id}/members/{user_id}/remove", post(admin::remove_member))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}", post(admin::update_user))
        .route("/admin/calendars", get(books::calendars).post(books::create_calendar))
        .route("/admin/calendars/{id}", get(books::calendar).post(books::update_calendar))
        .route("/admin/calendars/{id}/holidays", post(books::import_holidays))
        .route("/admin/policies", get(books::policies).post(books::create_policy))
        .route("/admin/policies/{id}", get(books::policy).post(books::update_policy))
        .route("/admin/policies/{id}/up", post(books::move_up))
        .route("/settings/tokens", get(tokens::tokens).post(tokens::create_token))
        .route("/settings/tokens/{id}/revoke", post(tokens::revoke_token))
        .route("/cases/{id}/recovery/{task}/resurvey", post(surveys::resurvey))
        .route("/verbatims", get(surveys::verbatims))
        .route("/verbatims/{id}/kudos", post(surveys::give_kudos))
        .route("/kudos", get(surveys::my_kudos))
        .route("/kudos/{id}", get(surveys::user_kudos))
        .route("/admin/surveys", get(surveys::admin))
        .route("/admin/surveys/settings", post(surveys::save_settings))
        .route("/admin/surveys/definitions", post(surveys::create_definition))
        .route("/admin/surveys/definitions/{id}/toggle", post(surveys::toggle_definition))
        .route("/scorecards", get(scorecards::scorecards))
        .route("/scorecards/metric", get(metric_page::metric_page))
        .route("/strategy", get(strategy::strategy))
        .route("/metrics", get(strategy::metrics))
        .route("/admin/plans", get(plans::plans))
        .route("/admin/plans/targets", post(plans::create_target))
        .route("/admin/plans/targets/{id}/delete", post(plans::delete_target))
        .route("/admin/plans/objectives", post(plans::create_objective))
        .route("/admin/plans/objectives/{id}/delete", post(plans::delete_objective))
        .route("/admin/plans/costs", post(plans::create_cost))
        .route("/admin/plans/costs/{id}/delete", post(plans::delete_cost))
        .route("/scorecards.csv", get(scorecard_csv::scorecard_csv))
        .route("/scorecards/cases.csv", get(scorecard_csv::cases_csv))
        .route("/s/{token}", get(survey::show).post(survey::answer))
        .route("/assets/{name}", get(assets::asset))
}
