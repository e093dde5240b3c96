//! Checking an email and password, shared by the login page and the token
//! endpoint, with the failed-attempt limiter in front.

use crate::auth::secrets::{decoy_hash, verify_password};
use crate::error::ApiError;
use crate::state::AppState;
use kept_core::people::User;
use kept_core::values::Email;
use std::time::Instant;

/// The outcome of a login attempt.
pub enum LoginOutcome {
    Ok(User),
    Refused,
    /// Locked out; wait this many seconds.
    Locked(u64),
}

/// Checks the password of the active person with this email. Unknown emails
/// take as long as wrong passwords, and both count against the limiter.
pub async fn check_password(
    state: &AppState,
    email: &str,
    password: &str,
    client: &str,
) -> Result<LoginOutcome, ApiError> {
    let now = Instant::now();
    let email_key = format!("email:{}", email.trim().to_lowercase());
    let client_key = format!("client:{client}");
    for key in [&email_key, &client_key] {
        if let Some(wait) = state.limiter.blocked(key, now) {
            return Ok(LoginOutcome::Locked(wait.as_secs()));
        }
    }
    let found = match Email::parse("email", email) {
        Ok(email) => state.store.user_for_login(&email).await?,
        Err(_) => None,
    };
    let hash = found.as_ref().and_then(|(_, h)| h.clone()).unwrap_or_else(|| decoy_hash().to_owned());
    let password = password.to_owned();
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    match found {
        Some((user, Some(_))) if ok => {
            state.limiter.clear(&email_key);
            Ok(LoginOutcome::Ok(user))
        }
        _ => {
            state.limiter.record_failure(&email_key, now);
            state.limiter.record_failure(&client_key, now);
            Ok(LoginOutcome::Refused)
        }
    }
}
