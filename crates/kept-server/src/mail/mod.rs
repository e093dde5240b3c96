//! Email at the edge: the sender that empties the outbox over SMTP, and the
//! conversion of raw inbound messages into what the store takes in.

pub mod imap_poll;
pub mod inbound;
pub mod sender;
