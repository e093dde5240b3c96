//! Sends queued mail. Every `kept serve` with SMTP configured runs this
//! loop; claims are leased like jobs, so replicas share the outbox and a
//! message is sent by one of them. SMTP failures never reach a request: a
//! transient one is retried with backoff, a permanent one is recorded.

use crate::state::AppState;
use jiff::SignedDuration;
use kept_mail::Mailbox;
use kept_mail::outbound::{OutgoingMail, SmtpSender};
use kept_store::OutboxItem;
use std::time::Duration;
use tokio::sync::watch;

/// Long enough for a slow SMTP exchange of a whole batch.
const LEASE: SignedDuration = SignedDuration::from_secs(120);
const BATCH: u32 = 50;
const MAX_NAP: Duration = Duration::from_secs(1);

/// The email for a queued item, as it leaves.
pub fn outgoing(item: &OutboxItem, from: &Mailbox, date_ms: i64) -> OutgoingMail {
    let mail = &item.mail;
    OutgoingMail {
        from: from.clone(),
        to: vec![Mailbox { email: mail.to_email.clone(), name: mail.to_name.clone() }],
        reply_to: None,
        subject: mail.subject.clone(),
        text: mail.text.clone(),
        html: mail.html.clone(),
        message_id: item.message_id.clone(),
        in_reply_to: mail.in_reply_to.clone(),
        references: mail.references.clone(),
        auto_submitted: mail.auto_submitted,
        date_ms,
        list_unsubscribe: None,
    }
}

/// Sends what is due, once. Returns how many messages were attempted.
pub async fn send_due(state: &AppState, smtp: &SmtpSender, worker: &str) -> usize {
    let items = match state.store.claim_outbox(worker, state.now(), LEASE, BATCH).await {
        Ok(items) => items,
        Err(e) => {
            tracing::error!(error = %e, "cannot claim mail from the outbox");
            return 0;
        }
    };
    for item in &items {
        let now = state.now();
        let mail = outgoing(item, &state.config.mail.from, now.as_millisecond());
        let recorded = match smtp.send(&mail).await {
            Ok(()) => state.store.outbox_sent(item.id, worker, state.now()).await,
            Err(e) => {
                tracing::warn!(outbox = item.id, permanent = e.is_permanent(), error = %e, "mail not sent");
                state.store.outbox_failed(item.id, worker, state.now(), &e.to_string(), e.is_permanent()).await
            }
        };
        if let Err(e) = recorded {
            // The lease runs out and the message is tried again: at worst sent twice, never lost.
            tracing::error!(outbox = item.id, error = %e, "cannot record the outcome of sending");
        }
    }
    items.len()
}

/// Sends mail until `stop` turns true.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let Some(config) = state.config.mail.smtp.clone() else { return };
    let smtp = match SmtpSender::new(config) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot set up SMTP; mail stays in the outbox");
            return;
        }
    };
    let worker = crate::jobs::worker_name();
    loop {
        if *stop.borrow() {
            break;
        }
        let sent = send_due(&state, &smtp, &worker).await;
        if sent as u32 == BATCH {
            continue;
        }
        let nap = match state.store.next_outbox_at().await {
            Ok(Some(next)) => Duration::try_from(next.duration_since(state.now()))
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(20), MAX_NAP),
            _ => MAX_NAP,
        };
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            _ = stop.changed() => {}
        }
    }
}
