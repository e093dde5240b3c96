//! Polls an IMAP mailbox for customer mail. Messages are fetched without
//! being marked, taken in (each in its own transaction), and only then
//! marked seen: a crash in between fetches them again, and the store knows
//! them by Message-ID. A message that is not mail at all is marked seen
//! too (it would fail the same way for ever) and logged.

use crate::state::AppState;
use kept_mail::imap::{ImapConfig, fetch_unseen, mark_seen};
use std::time::Duration;
use tokio::sync::watch;

const BATCH: usize = 50;

/// What one poll did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Polled {
    pub fetched: usize,
    pub taken_in: usize,
    pub refused: usize,
}

/// Fetches, takes in and marks one batch.
pub async fn poll_once(state: &AppState, imap: &ImapConfig) -> Result<Polled, kept_mail::imap::ImapError> {
    let messages = fetch_unseen(imap, BATCH).await?;
    let mut done = Vec::new();
    let mut polled = Polled { fetched: messages.len(), ..Polled::default() };
    for m in messages {
        match crate::mail::inbound::convert(&m.raw, &state.config.mail.limits) {
            Ok(mail) => match state.store.ingest_email(mail, state.now()).await {
                Ok(_) => {
                    polled.taken_in += 1;
                    done.push(m.uid);
                }
                // Left unseen: tried again at the next poll.
                Err(e) => tracing::error!(uid = m.uid, error = %e, "cannot store a polled message"),
            },
            Err(e) => {
                tracing::warn!(uid = m.uid, code = e.code(), "polled message is not mail; marking it seen");
                polled.refused += 1;
                done.push(m.uid);
            }
        }
    }
    mark_seen(imap, &done).await?;
    Ok(polled)
}

/// Polls every `interval` until `stop` turns true.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let Some(imap) = state.config.mail.imap.clone() else { return };
    let interval = state.config.mail.imap_interval;
    loop {
        if *stop.borrow() {
            break;
        }
        let nap = match poll_once(&state, &imap).await {
            Ok(p) if p.fetched == BATCH => Duration::ZERO,
            Ok(_) => interval,
            Err(e) => {
                tracing::warn!(permanent = e.is_permanent(), error = %e, "cannot poll the IMAP mailbox");
                interval
            }
        };
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            _ = stop.changed() => {}
        }
    }
}
