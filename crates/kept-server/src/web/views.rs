//! Small view models shared by pages: how a case row, a time and a message
//! are shown. Times are rendered in UTC inside `<time datetime>`, which
//! kept.js turns into the reader's local time when scripts run.

use jiff::Timestamp;
use kept_store::{CaseDetail, MessageView};

pub fn show_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

pub struct CaseRow {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub status_label: String,
    pub priority: String,
    pub account: String,
    pub requester: String,
    pub team: String,
    pub assignee: String,
    pub internal: bool,
    pub updated: String,
    pub updated_iso: String,
    /// The nearest promise deadline: "in 1 h 20 min" / "overdue by 5 min".
    pub deadline: String,
    pub deadline_iso: Option<String>,
    pub overdue: bool,
}

impl From<&CaseDetail> for CaseRow {
    fn from(d: &CaseDetail) -> Self {
        let c = &d.case;
        Self {
            id: c.id.0,
            subject: c.subject.to_string(),
            status: c.status.to_string(),
            status_label: c.status.label().to_owned(),
            priority: c.priority.to_string(),
            account: d.account_name.clone(),
            requester: d.requester_name.clone(),
            team: d.team_name.clone(),
            assignee: d.assignee_name.clone().unwrap_or_else(|| "—".into()),
            internal: c.is_internal(),
            updated: show_time(c.updated_at),
            updated_iso: c.updated_at.to_string(),
            deadline: String::new(),
            deadline_iso: d.next_breach_at.filter(|_| c.status.is_unsolved()).map(|t| t.to_string()),
            overdue: false,
        }
    }
}

pub struct MessageLine {
    pub author: String,
    pub role: String,
    pub public: bool,
    pub body: String,
    pub at: String,
    pub at_iso: String,
}

impl From<&MessageView> for MessageLine {
    fn from(m: &MessageView) -> Self {
        Self {
            author: m.author_name.clone(),
            role: m.author_role.to_string(),
            public: m.public,
            body: m.body.clone(),
            at: show_time(m.created_at),
            at_iso: m.created_at.to_string(),
        }
    }
}

/// One option of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Options from (value, label) pairs, with `current` selected.
pub fn choices<V: ToString, L: ToString>(items: impl IntoIterator<Item = (V, L)>, current: &str) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(v, l)| {
            let value = v.to_string();
            Choice { selected: value == current, value, label: l.to_string() }
        })
        .collect()
}

impl CaseRow {
    /// Fills the countdown to the case's nearest deadline as of `now`.
    pub fn with_deadline(mut self, next: Option<Timestamp>, now: Timestamp) -> Self {
        if let Some(due) = next.filter(|_| self.deadline_iso.is_some()) {
            self.overdue = due <= now;
            let d = super::promise_views::duration(due.duration_since(now));
            self.deadline = if self.overdue { format!("overdue by {d}") } else { format!("in {d}") };
        }
        self
    }
}

/// Attachments as (link, name, size) for pages.
pub fn attachment_lines(list: &[kept_store::AttachmentInfo]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|a| {
            let size = if a.size >= 1024 * 1024 {
                format!("{:.1} MB", a.size as f64 / (1024.0 * 1024.0))
            } else {
                format!("{} KB", (a.size + 1023) / 1024)
            };
            (format!("/cases/{}/attachments/{}", a.case_id, a.id), a.filename.clone(), size)
        })
        .collect()
}
