//! The demo organisation's service strategy: objectives, the targets that
//! make its scorecards red, amber or green, and monthly costs.

use crate::cli::Failure;
use jiff::Timestamp;
use jiff::civil::Date;
use kept_core::metrics::{CostDraft, ObjectiveDraft, TargetDraft};
use kept_core::permissions::Principal;
use kept_store::Store;
use serde_json::json;

fn bad(e: impl std::fmt::Display) -> Failure {
    Failure { code: 1, message: format!("demo plans are invalid ({e}); this is a bug") }
}

/// Targets from `since` on, objectives for the demo's year, and a cost per month.
pub async fn seed(store: &Store, since: Timestamp, now: Timestamp) -> Result<(), Failure> {
    let sys = Principal::system();
    let zone = store.metrics_zone().await?;
    let (first, last) = (zone.to_datetime(since).date(), zone.to_datetime(now).date());
    let from = first.first_of_month().to_string();
    for (metric, target, amber) in [
        ("csat", "85", "3"),
        ("nps", "30", "10"),
        ("attainment", "95", "2"),
        ("attainment_first_response", "95", "2"),
        ("frt_business_median", "3600", "1800"),
        ("fcr", "70", "5"),
        ("reopen_rate", "8", "2"),
        ("backlog", "150", "30"),
        ("cost_per_case", "2500", "500"),
    ] {
        let draft: TargetDraft =
            serde_json::from_value(json!({"metric": metric, "target": target, "amber": amber, "effective_from": from}))
                .map_err(bad)?;
        store.create_target(&sys, draft.validate().map_err(|e| bad(e.message))?, now).await?;
    }
    let (start, end) = (first.first_of_month().to_string(), last.last_of_month().to_string());
    let objective = |level: &str, parent: Option<i64>, title: &str, description: &str, metrics: &[&str]| {
        let metrics: Vec<_> = metrics.iter().map(|m| json!({"metric": m})).collect();
        serde_json::from_value::<ObjectiveDraft>(json!({"level": level, "parent_id": parent, "title": title,
            "description": description, "period_start": start, "period_end": end, "metrics": metrics}))
    };
    let plans = [
        (
            "Keep our customers",
            "Accounts stay because service is reliable.",
            vec!["account_retention", "nps"],
            vec![
                (
                    "Keep every promise",
                    "Answer and resolve within what we promised.",
                    vec!["attainment", "attainment_first_response", "frt_business_median"],
                ),
                (
                    "Solve it the first time",
                    "Fewer repeat contacts, happier customers.",
                    vec!["fcr", "reopen_rate", "csat"],
                ),
            ],
        ),
        (
            "Cost to serve",
            "Serve more customers without more cost per case.",
            vec!["cost_per_case", "contacts_per_case"],
            vec![("Keep the backlog in hand", "No case waits unseen.", vec!["backlog", "backlog_age_median"])],
        ),
    ];
    for (title, description, metrics, children) in plans {
        let draft = objective("corporate", None, title, description, &metrics).map_err(bad)?;
        let parent = store.create_objective(&sys, draft.validate().map_err(|e| bad(e.message))?, now).await?.id;
        for (title, description, metrics) in children {
            let draft = objective("service", Some(parent), title, description, &metrics).map_err(bad)?;
            store.create_objective(&sys, draft.validate().map_err(|e| bad(e.message))?, now).await?;
        }
    }
    let mut month: Date = first.first_of_month();
    while month <= last {
        let draft = CostDraft {
            period_start: month.to_string(),
            period_end: month.last_of_month().to_string(),
            amount_cents: 18_000_000,
            note: Some("Salaries, tools and facilities".into()),
        };
        store.create_cost(&sys, draft.validate().map_err(|e| bad(e.message))?, now).await?;
        month = month.checked_add(jiff::Span::new().months(1)).map_err(bad)?;
    }
    Ok(())
}
