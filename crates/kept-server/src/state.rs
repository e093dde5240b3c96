//! What every handler shares.

use crate::auth::limiter::LoginLimiter;
use crate::clock::Clock;
use crate::config::ServerConfig;
use jiff::Timestamp;
use kept_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<ServerConfig>,
    pub limiter: Arc<LoginLimiter>,
    /// Survey answers per client address (the survey page has no login to limit).
    pub survey_limiter: Arc<LoginLimiter>,
}

impl AppState {
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: ServerConfig) -> Self {
        let limiter = Arc::new(LoginLimiter::new(config.login_attempts, config.login_window));
        let store = store.with_mail(kept_store::MailSettings {
            domain: config.mail.domain().to_owned(),
            time_zone: config.time_zone.clone(),
        });
        let survey_limiter = Arc::new(LoginLimiter::new(config.survey_posts, config.survey_window));
        Self { store, clock, config: Arc::new(config), limiter, survey_limiter }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
