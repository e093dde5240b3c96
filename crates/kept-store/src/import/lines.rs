//! One line of an import: a new case (its whole history replayed), or a case
//! imported before (what the file adds since). Both become a history plan
//! for the batch to write; every step goes through the lifecycle rules.

use super::Failure;
use super::entities::Resolver;
use super::registry::{Registered, Registration};
use crate::cases::history::plan::{self, Ids, Plan, Refused, Updated};
use crate::cases::{CaseHistory, HistoryAction, HistoryStep, load_for_update};
use crate::db::{Tx, args};
use crate::error::StoreError;
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::FieldError;
use kept_core::cases::{AuthorRole, CasePatch};
use kept_core::ids::{CaseId, TeamId, UserId};
use kept_core::import::{Author, ImportedAction, ImportedCase, ImportedEvent, TrackedFields};
use kept_core::permissions::Principal;
use kept_core::surveys::PastAnswer;

/// Where a history step came from in the line, for naming it in errors.
struct Source {
    /// `events[3]`, or the field a re-import changed.
    path: String,
    /// The part a rule refuses: `to` for a status change.
    detail: Option<&'static str>,
}

/// What a line became: the rows to write and what to remember of it.
pub(super) struct Planned {
    pub plan: Plan,
    pub registration: Registration,
}

/// (cases, messages) a line may write, to reserve their ids.
pub(super) fn needs(c: &ImportedCase, known: bool) -> (usize, usize) {
    let messages = c.steps().filter(|(_, e)| matches!(e.action, ImportedAction::Message { .. })).count();
    if known { (0, messages) } else { (1, 1 + messages) }
}

/// Plans a case the import has not seen before.
pub(super) async fn plan_new(
    tx: &mut Tx,
    who: &mut Resolver,
    ids: &mut Ids,
    c: &ImportedCase,
    now: Timestamp,
) -> Result<Planned, Failure> {
    let account = who.account(tx, &c.account, now).await?;
    let team = who.team(tx, &c.team, "team", now).await?;
    let requester = who.contact(tx, &c.requester, (account.0, &account.1), "requester", now).await?;
    let assignee = assignee(tx, who, c, team, now).await?;
    let (steps, sources) = steps(tx, who, c.steps(), requester, now).await?;
    let history = CaseHistory {
        subject: c.subject.clone(),
        body: c.body.clone(),
        channel: c.channel,
        priority: c.priority,
        case_type: c.case_type.clone(),
        tags: c.tags.clone(),
        account_id: account.0,
        requester_id: requester,
        team_id: team,
        assignee_id: assignee,
        created_at: c.created_at,
        created_by: None,
        steps,
        surveys: c.surveys.clone(),
    };
    let mut plan = Plan::default();
    let case = plan::plan_new(&mut plan, ids, &history).map_err(|r| refused(r, &sources))?;
    let last = c.events.last().map_or(c.created_at, |e| e.at.max(c.created_at));
    let registration =
        Registration { external_id: c.external_id.as_str().to_owned(), case, last_event_at: last, fields: c.tracked() };
    Ok(Planned { plan, registration })
}

/// Plans what a re-imported line adds to its case: the events after the
/// last one imported, the fields the file now says differently, the survey
/// answers not yet recorded. `None`: the line brings nothing new.
pub(super) async fn plan_update(
    tx: &mut Tx,
    who: &mut Resolver,
    ids: &mut Ids,
    c: &ImportedCase,
    known: &Registered,
    now: Timestamp,
) -> Result<Option<Planned>, Failure> {
    let new_events: Vec<(usize, &ImportedEvent)> = c.steps().filter(|(_, e)| e.at > known.last_event_at).collect();
    let tracked = c.tracked();
    let answers = new_answers(tx, known.case, &c.surveys).await?;
    if new_events.is_empty() && tracked == known.fields && answers.is_empty() {
        return Ok(None);
    }
    let mut case = load_for_update(tx, &Principal::system(), known.case).await?;
    let before = case.clone();
    let (patch, changed) = patch(tx, who, c, &known.fields, now).await?;
    let team = patch.team_id.unwrap_or(case.team_id);
    if let Some(Some(assignee)) = patch.assignee_id {
        who.member(tx, team, assignee, now).await?;
    } else if let (Some(_), None, Some(assignee)) = (patch.team_id, patch.assignee_id, case.assignee_id) {
        who.member(tx, team, assignee, now).await?;
    }
    let (mut steps, mut sources) = (Vec::new(), Vec::new());
    if let Some(field) = changed {
        // Stamped when the file next shows activity, else at the case's
        // last change: never before what the log already holds.
        let at = new_events.first().map_or(case.updated_at, |(_, e)| e.at.max(case.updated_at));
        steps.push(HistoryStep { at, actor: None, action: HistoryAction::Change(patch) });
        sources.push(Source { path: field.to_owned(), detail: None });
    }
    let (more, more_sources) = self::steps(tx, who, new_events.iter().copied(), case.requester_id, now).await?;
    steps.extend(more);
    sources.extend(more_sources);
    let mut plan = Plan::default();
    case = plan::play_steps(&mut plan, ids, case, &steps).map_err(|r| refused(r, &sources))?;
    plan::answers(&mut plan, &case, &answers).map_err(|r| refused(r, &sources))?;
    let last = new_events.last().map_or(known.last_event_at, |(_, e)| e.at.max(known.last_event_at));
    let registration = Registration {
        external_id: c.external_id.as_str().to_owned(),
        case: case.id,
        last_event_at: last,
        fields: tracked,
    };
    let (tags_changed, subject_changed) = (case.tags != before.tags, case.subject != before.subject);
    plan.updated.push(Updated { case, tags_changed, subject_changed });
    Ok(Some(Planned { plan, registration }))
}

/// The assignee of a new case, made a member of its team.
async fn assignee(
    tx: &mut Tx,
    who: &mut Resolver,
    c: &ImportedCase,
    team: TeamId,
    now: Timestamp,
) -> Result<Option<UserId>, Failure> {
    let Some(p) = &c.assignee else { return Ok(None) };
    let id = who.staff(tx, p, "assignee", now).await?;
    who.member(tx, team, id, now).await?;
    Ok(Some(id))
}

/// The change of the fields the file says differently from last time, and
/// the first such field (to name in an error).
async fn patch(
    tx: &mut Tx,
    who: &mut Resolver,
    c: &ImportedCase,
    was: &TrackedFields,
    now: Timestamp,
) -> Result<(CasePatch, Option<&'static str>), Failure> {
    let now_says = c.tracked();
    let mut p = CasePatch::default();
    let mut first = None;
    let mut mark = |field: &'static str| first = first.or(Some(field));
    if now_says.subject != was.subject {
        p.subject = Some(c.subject.clone());
        mark("subject");
    }
    if now_says.priority != was.priority {
        p.priority = Some(c.priority);
        mark("priority");
    }
    if now_says.team != was.team {
        p.team_id = Some(who.team(tx, &c.team, "team", now).await?);
        mark("team");
    }
    if now_says.assignee != was.assignee {
        p.assignee_id = Some(match &c.assignee {
            Some(a) => Some(who.staff(tx, a, "assignee", now).await?),
            None => None,
        });
        mark("assignee");
    }
    if now_says.case_type != was.case_type {
        p.case_type = Some(c.case_type.clone());
        mark("case_type");
    }
    Ok((p, first))
}

/// The line's answers the case does not have yet (same kind and time).
async fn new_answers(tx: &mut Tx, case: CaseId, answers: &[PastAnswer]) -> Result<Vec<PastAnswer>, StoreError> {
    if answers.is_empty() {
        return Ok(Vec::new());
    }
    let rows = tx.fetch_all("SELECT kind, answered_at FROM survey_responses WHERE case_id = $1", args![case.0]).await?;
    let mut have = Vec::with_capacity(rows.len());
    for r in rows {
        have.push((r.text("kind")?, r.time("answered_at")?));
    }
    Ok(answers
        .iter()
        .filter(|a| !have.iter().any(|(k, at)| k == a.kind.as_str() && *at == a.answered_at))
        .cloned()
        .collect())
}

/// History steps for the line's events, with the people they name resolved.
async fn steps<'a>(
    tx: &mut Tx,
    who: &mut Resolver,
    events: impl Iterator<Item = (usize, &'a ImportedEvent)>,
    requester: UserId,
    now: Timestamp,
) -> Result<(Vec<HistoryStep>, Vec<Source>), Failure> {
    let (mut steps, mut sources) = (Vec::new(), Vec::new());
    for (i, e) in events {
        let path = format!("events[{i}]");
        let (actor, action, detail) = match &e.action {
            ImportedAction::Message { author, public, body } => {
                let (actor, role) = match author {
                    Author::Customer => (requester, AuthorRole::Customer),
                    Author::Agent(p) => (who.staff(tx, p, &format!("{path}.agent"), now).await?, AuthorRole::Agent),
                };
                let action = HistoryAction::Message { role, public: *public, body: body.clone(), status: None };
                (Some(actor), action, None)
            }
            ImportedAction::Status { to, agent } => {
                let actor = match agent {
                    Some(p) => Some(who.staff(tx, p, &format!("{path}.agent"), now).await?),
                    None => None,
                };
                (actor, HistoryAction::Change(CasePatch { status: Some(*to), ..CasePatch::default() }), Some("to"))
            }
        };
        steps.push(HistoryStep { at: e.at, actor, action });
        sources.push(Source { path, detail });
    }
    Ok((steps, sources))
}

/// A rule's refusal, named after the line's field.
fn refused(r: Refused, sources: &[Source]) -> Failure {
    let StoreError::Domain(d) = r.error else { return Failure::Store(r.error) };
    let field = match r.step.and_then(|k| sources.get(k)) {
        Some(s) if d.code() == "out_of_order" => format!("{}.at", s.path),
        Some(s) => match s.detail {
            Some(detail) => format!("{}.{detail}", s.path),
            None => s.path.clone(),
        },
        None => d.field().unwrap_or_default().to_owned(),
    };
    let message = match &d {
        DomainError::Invalid(e) => e.message.clone(),
        other => other.to_string(),
    };
    Failure::Line(FieldError { code: d.code(), field, message })
}
