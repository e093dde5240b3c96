//! The live promise clocks of cases: recomputed in the same transaction as
//! every change, and by due jobs at deadlines; agent-made promises; recovery.

mod agent;
mod facts;
mod read;
mod recompute;
mod recovery;

pub use agent::NewAgentPromise;
pub use read::PromiseView;
pub use recompute::RecomputeOutcome;
pub use recovery::{ACTION_KINDS as RECOVERY_ACTION_KINDS, NewRecoveryAction, RecoveryActionView, RecoveryTaskView};
