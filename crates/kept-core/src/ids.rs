//! Typed identifiers. A `CaseId` can never be passed where a `UserId` is
//! expected; the store converts them to and from plain integers at its edge.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

typed_id!(
    /// A case (ticket).
    CaseId
);
typed_id!(
    /// Anyone who can be named on a case: staff users and customer contacts alike.
    UserId
);
typed_id!(
    /// A team of agents.
    TeamId
);
typed_id!(
    /// A customer organisation.
    AccountId
);
typed_id!(
    /// A message (public reply, customer message or internal note).
    MessageId
);
typed_id!(
    /// An entry in the append-only event log.
    EventId
);
typed_id!(
    /// An API token (its id, never its secret).
    TokenId
);
