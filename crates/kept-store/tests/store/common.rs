#![allow(dead_code)]

use jiff::Timestamp;
use kept_core::cases::Channel;
use kept_core::ids::CaseId;
use kept_core::permissions::Principal;
use kept_core::values::{MessageBody, Subject};
use kept_store::test_support::{Fixture, TestDb};
use kept_store::{CaseDetail, NewCase, Store, StoreError};
use std::collections::BTreeSet;

/// The rollups kept up to date change by change equal a rebuild from the
/// event log (a change's clock engine and rollups share what they read).
pub async fn assert_rollups_match_a_rebuild(store: &Store) {
    let live = store.rollup_snapshot().await.unwrap();
    assert!(!live.is_empty(), "the history produced rollups");
    store.rebuild_metrics(|_, _| {}).await.unwrap();
    assert_eq!(store.rollup_snapshot().await.unwrap(), live);
}

pub fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_730_000_000 + secs).unwrap()
}

pub struct Env {
    pub store: Store,
    pub fx: Fixture,
    pub admin: Principal,
    pub manager: Principal,
    pub agent: Principal,
    pub it_agent: Principal,
    pub ana: Principal,
    pub bob: Principal,
}

pub async fn env(db: &TestDb) -> Env {
    let store = db.store.clone();
    let fx = Fixture::create(&store, None, t(0)).await;
    Env {
        admin: fx.principal(&store, &fx.admin).await,
        manager: fx.principal(&store, &fx.manager).await,
        agent: fx.principal(&store, &fx.agent).await,
        it_agent: fx.principal(&store, &fx.it_agent).await,
        ana: fx.principal(&store, &fx.ana).await,
        bob: fx.principal(&store, &fx.bob).await,
        store,
        fx,
    }
}

pub fn new_case(subject: &str, body: &str) -> NewCase {
    NewCase {
        subject: Subject::parse("subject", subject).unwrap(),
        body: MessageBody::parse("body", body).unwrap(),
        requester_id: None,
        account_id: None,
        team_id: None,
        assignee_id: None,
        channel: Channel::Web,
        case_type: None,
        priority: None,
        tags: BTreeSet::new(),
    }
}

impl Env {
    /// A case opened by a contact through the portal.
    pub async fn open_as(&self, who: &Principal, subject: &str, at: Timestamp) -> CaseDetail {
        self.store.create_case(who, new_case(subject, "It does not work."), at, None).await.unwrap().0
    }

    pub async fn kinds(&self, id: CaseId) -> Vec<String> {
        let events = self.store.case_events(&self.admin, id).await.unwrap();
        events.iter().map(|e| e.event.kind.as_str().to_owned()).collect()
    }
}

pub fn code(err: StoreError) -> String {
    match err {
        StoreError::Domain(d) => d.code().to_owned(),
        other => format!("not a domain error: {other}"),
    }
}
