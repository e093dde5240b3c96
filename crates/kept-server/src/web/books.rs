//! Pages for the books: business calendars (with a preview of when a
//! promise made now falls due, and holiday import) and promise policies.

use super::form::{WebForm, given};
use super::session::{Layout, PageError, PageResult, StaffUser, WebUser, refusal, render_form, see_other};
use super::views::show_time;
use crate::api::books::parse_calendar;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use kept_core::calendar::{add_business, holidays_from_csv, holidays_from_ics};
use kept_core::promises::PolicySpec;
use kept_core::values::Name;
use serde::Deserialize;

const EXAMPLE_CALENDAR: &str = r#"{
  "time_zone": "America/New_York",
  "weekly": {
    "mon": [["09:00", "12:30"], ["13:30", "17:00"]],
    "tue": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]],
    "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]
  },
  "holidays": ["2026-12-25"],
  "overrides": {"2026-12-24": [["09:00", "13:00"]]}
}"#;

const EXAMPLE_POLICY: &str = r#"{
  "name": "Premium customers",
  "calendar_id": 1,
  "conditions": {"tiers": ["premium", "enterprise"]},
  "targets": [
    {"clock": "first_response", "minutes": 60, "warn_at_percent": 75},
    {"clock": "next_reply", "minutes": 240},
    {"clock": "first_resolution", "minutes": 960, "class": "core"},
    {"clock": "keep_in_loop", "minutes": 1440, "time": "calendar"}
  ],
  "recovery": {"minutes": 120, "raise_priority": true}
}"#;

fn json_value(field: &str, text: &str) -> Result<serde_json::Value, PageError> {
    serde_json::from_str(text)
        .map_err(|e| kept_core::FieldError::new("invalid_json", field, format!("not valid JSON: {e}")).into())
}

#[derive(Template)]
#[template(path = "calendars.html")]
struct CalendarsPage {
    layout: Layout,
    /// (id, name, time zone, version, preview)
    calendars: Vec<(i64, String, String, i64, String)>,
    name: String,
    spec: String,
    error: Option<String>,
}

async fn calendars_page(
    state: &AppState,
    user: &WebUser,
    name: String,
    spec: String,
    error: Option<String>,
) -> PageResult {
    let now = state.now();
    let calendars = state.store.list_calendars(&user.principal).await?;
    let rows = calendars
        .iter()
        .map(|c| {
            let due =
                add_business(&c.calendar, now, 4 * 3600).map_or_else(|| "never (no working time)".into(), show_time);
            (c.id, c.name.clone(), c.calendar.time_zone_name().to_owned(), c.version, due)
        })
        .collect();
    let page = CalendarsPage { layout: user.layout("Calendars"), calendars: rows, name, spec, error };
    render_form(&page, page.error.is_some())
}

pub async fn calendars(State(state): State<AppState>, StaffUser(user): StaffUser) -> PageResult {
    calendars_page(&state, &user, String::new(), EXAMPLE_CALENDAR.to_owned(), None).await
}

#[derive(Deserialize)]
pub struct CalendarForm {
    csrf: String,
    name: String,
    spec: String,
}

pub async fn create_calendar(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    WebForm(form): WebForm<CalendarForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let result: Result<i64, PageError> = async {
        let calendar = parse_calendar(&json_value("spec", &form.spec)?, "spec")?;
        let made = state
            .store
            .create_calendar(&user.principal, Name::parse("name", &form.name)?, &calendar, state.now())
            .await?;
        Ok(made.id)
    }
    .await;
    match result {
        Ok(id) => Ok(see_other(&format!("/admin/calendars/{id}"))),
        Err(e) => calendars_page(&state, &user, form.name, form.spec, Some(refusal(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    layout: Layout,
    id: i64,
    name: String,
    version: i64,
    since: String,
    since_iso: String,
    spec: String,
    preview: String,
    preview_iso: String,
    error: Option<String>,
}

async fn calendar_page(
    state: &AppState,
    user: &WebUser,
    id: i64,
    spec: Option<String>,
    error: Option<String>,
) -> PageResult {
    let c = state.store.get_calendar(&user.principal, id).await?;
    let due = add_business(&c.calendar, state.now(), 4 * 3600);
    let page = CalendarPage {
        layout: user.layout(c.name.clone()),
        id,
        name: c.name.clone(),
        version: c.version,
        since: show_time(c.effective_from),
        since_iso: c.effective_from.to_string(),
        spec: spec.unwrap_or_else(|| serde_json::to_string_pretty(&c.calendar.to_spec()).unwrap_or_default()),
        preview: due.map_or_else(|| "never (no working time ahead)".into(), show_time),
        preview_iso: due.map(|t| t.to_string()).unwrap_or_default(),
        error,
    };
    render_form(&page, page.error.is_some())
}

pub async fn calendar(State(state): State<AppState>, StaffUser(user): StaffUser, Path(id): Path<i64>) -> PageResult {
    calendar_page(&state, &user, id, None, None).await
}

pub async fn update_calendar(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<CalendarForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let result: Result<(), PageError> = async {
        let calendar = parse_calendar(&json_value("spec", &form.spec)?, "spec")?;
        let name = Name::parse("name", &form.name)?;
        state.store.update_calendar(&user.principal, id, Some(name), Some(&calendar), state.now()).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/calendars/{id}"))),
        Err(e) => calendar_page(&state, &user, id, Some(form.spec), Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct HolidayForm {
    csrf: String,
    format: String,
    text: String,
}

pub async fn import_holidays(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<HolidayForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let result: Result<(), PageError> = async {
        let current = state.store.get_calendar(&user.principal, id).await?;
        let year = state.now().to_zoned_datetime(jiff::tz::TimeZone::UTC).year();
        let dates = if form.format == "ics" {
            holidays_from_ics(&form.text, year - 1..=year + 2)
        } else {
            holidays_from_csv(&form.text)
        }
        .map_err(|e| kept_core::FieldError::new(e.code(), "text", e.to_string()))?;
        let calendar = current.calendar.with_holidays(dates.into_iter().map(|(d, _)| d));
        state.store.update_calendar(&user.principal, id, None, Some(&calendar), state.now()).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/calendars/{id}"))),
        Err(e) => calendar_page(&state, &user, id, None, Some(refusal(e)?)).await,
    }
}

pub struct PolicyRow {
    id: i64,
    position: i64,
    name: String,
    version: i64,
    active: bool,
    applies: String,
    targets: String,
}

#[derive(Template)]
#[template(path = "policies.html")]
struct PoliciesPage {
    layout: Layout,
    policies: Vec<PolicyRow>,
    spec: String,
    error: Option<String>,
}

fn describe(spec: &PolicySpec) -> (String, String) {
    let c = &spec.conditions;
    let mut parts = Vec::new();
    for (what, list) in
        [("priority", &c.priorities), ("tier", &c.tiers), ("channel", &c.channels), ("type", &c.case_types)]
    {
        if !list.is_empty() {
            parts.push(format!("{what} {}", list.join("/")));
        }
    }
    if !c.team_ids.is_empty() {
        parts.push(format!("teams {:?}", c.team_ids));
    }
    let applies = if parts.is_empty() { "every case".to_owned() } else { parts.join(", ") };
    let targets = spec
        .targets
        .iter()
        .map(|t| format!("{} {} min", t.clock.replace('_', " "), t.minutes))
        .collect::<Vec<_>>()
        .join("; ");
    (applies, targets)
}

async fn policies_page(state: &AppState, user: &WebUser, spec: String, error: Option<String>) -> PageResult {
    let policies = state.store.list_policies(&user.principal).await?;
    let rows = policies
        .iter()
        .map(|p| {
            let (applies, targets) = describe(&p.spec);
            PolicyRow {
                id: p.id,
                position: p.position,
                name: p.spec.name.clone(),
                version: p.version,
                active: p.active,
                applies,
                targets,
            }
        })
        .collect();
    let page = PoliciesPage { layout: user.layout("Policies"), policies: rows, spec, error };
    render_form(&page, page.error.is_some())
}

pub async fn policies(State(state): State<AppState>, StaffUser(user): StaffUser) -> PageResult {
    policies_page(&state, &user, EXAMPLE_POLICY.to_owned(), None).await
}

#[derive(Deserialize)]
pub struct PolicyForm {
    csrf: String,
    spec: String,
    active: Option<String>,
}

fn policy_from(text: &str) -> Result<PolicySpec, PageError> {
    crate::api::extract::parse_json::<PolicySpec>(text.as_bytes()).map_err(PageError::Api)
}

pub async fn create_policy(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    WebForm(form): WebForm<PolicyForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let result: Result<i64, PageError> =
        async { Ok(state.store.create_policy(&user.principal, policy_from(&form.spec)?, state.now()).await?.id) }.await;
    match result {
        Ok(id) => Ok(see_other(&format!("/admin/policies/{id}"))),
        Err(e) => policies_page(&state, &user, form.spec, Some(refusal(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    layout: Layout,
    id: i64,
    name: String,
    version: i64,
    active: bool,
    spec: String,
    error: Option<String>,
}

async fn policy_page(
    state: &AppState,
    user: &WebUser,
    id: i64,
    spec: Option<String>,
    error: Option<String>,
) -> PageResult {
    let p = state.store.get_policy(&user.principal, id).await?;
    let page = PolicyPage {
        layout: user.layout(p.spec.name.clone()),
        id,
        name: p.spec.name.clone(),
        version: p.version,
        active: p.active,
        spec: spec.unwrap_or_else(|| serde_json::to_string_pretty(&p.spec).unwrap_or_default()),
        error,
    };
    render_form(&page, page.error.is_some())
}

pub async fn policy(State(state): State<AppState>, StaffUser(user): StaffUser, Path(id): Path<i64>) -> PageResult {
    policy_page(&state, &user, id, None, None).await
}

pub async fn update_policy(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<PolicyForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let result: Result<(), PageError> = async {
        let spec = policy_from(&form.spec)?;
        state
            .store
            .update_policy(&user.principal, id, Some(spec), Some(given(&form.active).is_some()), state.now())
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/policies/{id}"))),
        Err(e) => policy_page(&state, &user, id, Some(form.spec), Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// Moves a policy one place up (it is tried earlier).
pub async fn move_up(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let mut ids: Vec<i64> = state.store.list_policies(&user.principal).await?.iter().map(|p| p.id).collect();
    if let Some(i) = ids.iter().position(|p| *p == id).filter(|i| *i > 0) {
        ids.swap(i, i - 1);
        state.store.reorder_policies(&user.principal, &ids, state.now()).await?;
    }
    Ok(see_other("/admin/policies"))
}
