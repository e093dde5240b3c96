//! Who is calling: bearer tokens for the API, session cookies for pages,
//! password checks with a lockout for both.

pub mod limiter;
pub mod login;
pub mod secrets;
