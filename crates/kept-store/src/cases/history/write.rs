//! Storing a plan: new cases in their final state, their tags, every
//! message (and its search entry), every event — each table in multi-row
//! statements. Changed cases (a re-import) are saved one by one, as a live
//! change saves them.

use super::plan::Plan;
use crate::cases::create::index_subject;
use crate::cases::events::event_values;
use crate::cases::save_case;
use crate::db::{Arg, Tx, args};
use crate::error::Result;
use crate::search_index;

pub(crate) async fn write(tx: &mut Tx, plan: &Plan) -> Result<()> {
    let cases: Vec<Vec<Arg>> = plan
        .inserted
        .iter()
        .map(|c| {
            args![
                c.id.0,
                c.subject.as_str(),
                c.status.as_str(),
                c.priority.rank(),
                c.channel.as_str(),
                c.case_type.as_str(),
                c.account_id.0,
                c.requester_id.0,
                c.team_id.0,
                c.assignee_id.map(|u| u.0),
                c.parent_case_id.map(|p| p.0),
                c.requesting_team_id.map(|t| t.0),
                c.follow_up_of.map(|f| f.0),
                c.created_by.map(|u| u.0),
                c.created_at,
                c.updated_at,
                c.solved_at,
                c.closed_at
            ]
        })
        .collect();
    tx.insert_rows(
        "INSERT INTO cases (id, subject, status, priority, channel, case_type, account_id, requester_id, team_id, assignee_id, \
         parent_case_id, requesting_team_id, follow_up_of, created_by, created_at, updated_at, solved_at, closed_at) VALUES ",
        "",
        &cases,
    )
    .await?;
    let tags: Vec<Vec<Arg>> =
        plan.inserted.iter().flat_map(|c| c.tags.iter().map(move |t| args![c.id.0, t.as_str()])).collect();
    tx.insert_rows("INSERT INTO case_tags (case_id, tag) VALUES ", "", &tags).await?;
    for u in &plan.updated {
        save_case(tx, &u.case, None, u.tags_changed).await?;
        if u.subject_changed {
            index_subject(tx, u.case.id, u.case.subject.as_str());
        }
    }
    let messages: Vec<Vec<Arg>> = plan
        .messages
        .iter()
        .map(|m| args![m.id.0, m.case.0, m.author.0, m.role.as_str(), m.public, m.body.as_str(), m.at])
        .collect();
    tx.insert_rows(
        "INSERT INTO messages (id, case_id, author_id, author_role, public, body, created_at) VALUES ",
        "",
        &messages,
    )
    .await?;
    // SQLite's full-text index (PostgreSQL indexes generated columns);
    // subjects live at -case id.
    for m in &plan.messages {
        search_index::index(tx, m.id.0, m.body.as_str(), m.case.0, m.public);
    }
    for c in &plan.inserted {
        search_index::index(tx, -c.id.0, c.subject.as_str(), c.id.0, true);
    }
    let events: Vec<Vec<Arg>> = plan.events.iter().map(|(case, e)| event_values(*case, e)).collect();
    tx.insert_rows(
        "INSERT INTO events (case_id, kind, actor_id, at, before_value, after_value, data) VALUES ",
        "",
        &events,
    )
    .await
}
