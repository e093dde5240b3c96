//! A desk under test: kept itself or a peer (Request Tracker, django-helpdesk),
//! driven over HTTP on loopback by the same blocking clients, so that every
//! desk is measured by the same workload and the same clock.

/// One desk, reachable over HTTP. Shared by the client threads.
pub trait Desk: Sync {
    /// Short name for the report ("kept", "rt5", "django-helpdesk").
    fn name(&self) -> &str;
    /// A client for one thread, with whatever session or token the desk
    /// needs already in place (logging in is not part of the measurement).
    fn client(&self) -> Result<Box<dyn DeskClient>, String>;
}

/// One client thread's connection to a desk. The intake workload calls
/// `create`, `reply`, `solve` in that order for every case; each call is one
/// HTTP request and is timed on its own.
pub trait DeskClient: Send {
    /// Open a case with its first (customer) message; the desk's id for it.
    /// `n` numbers the case within the run (for subjects and bodies).
    fn create(&mut self, n: u64) -> Result<String, String>;
    /// One public agent reply on the case.
    fn reply(&mut self, id: &str) -> Result<(), String>;
    /// Solve (resolve) the case.
    fn solve(&mut self, id: &str) -> Result<(), String>;
}
