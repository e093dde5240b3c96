//! The staff page of open recovery tasks: what to put right first.

use super::promise_views::TaskLine;
use super::session::{Layout, PageResult, StaffUser, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;

#[derive(Template)]
#[template(path = "recovery.html")]
struct RecoveryPage {
    layout: Layout,
    /// (case id, task)
    tasks: Vec<(i64, TaskLine)>,
}

pub async fn recovery(State(state): State<AppState>, StaffUser(user): StaffUser) -> PageResult {
    let tasks = state.store.open_recovery_tasks(&user.principal).await?;
    let page = RecoveryPage {
        layout: user.layout("Recovery"),
        tasks: tasks.iter().map(|t| (t.case_id, TaskLine::from(t))).collect(),
    };
    render(&page)
}
