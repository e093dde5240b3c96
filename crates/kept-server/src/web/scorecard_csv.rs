//! The scorecard and the cases behind a metric as CSV for a signed-in
//! browser (the API's CSV endpoints take a bearer token, not the session
//! cookie). Same columns as the API: the writers are the API's own.

use super::scorecard_query::PageQuery;
use super::session::{PageResult, StaffUser};
use crate::api::metrics::{drill_rows_csv, scorecard_rows_csv};
use crate::scorecard;
use crate::state::AppState;
use axum::extract::{RawQuery, State};

pub async fn scorecard_csv(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = q.api().resolve(&state).await?;
    let defs = scorecard::pick(q.metrics.as_deref())?;
    let card =
        scorecard::scorecard(&state.store, &user.principal, r.scope, &r.key, r.period, &defs, r.today, state.now())
            .await?;
    Ok(scorecard_rows_csv(&card))
}

pub async fn cases_csv(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let q = PageQuery::parse(raw.as_deref())?;
    let api = q.api();
    let r = api.resolve(&state).await?;
    let def = api.one_metric()?;
    let drill = state.store.drill(&user.principal, def, r.scope, &r.key, r.period.from, r.period.to).await?;
    Ok(drill_rows_csv(&drill))
}
