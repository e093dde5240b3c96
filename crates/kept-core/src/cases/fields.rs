//! The closed vocabularies a case is described with.

use crate::string_enum;

string_enum!(
    /// How urgent a case is. Ordered: `low < normal < high < urgent`.
    Priority {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
);

impl Priority {
    /// The integer rank stored in the database so that cases sort by urgency.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        Priority::ALL.iter().copied().find(|p| p.rank() == rank)
    }
}

string_enum!(
    /// The channel a case arrived through.
    Channel {
        Email = "email",
        Web = "web",
        Phone = "phone",
        Chat = "chat",
        Api = "api",
        /// Raised by one team to another (an internal request).
        Internal = "internal",
    }
);

string_enum!(
    /// Who wrote a message, as it matters for the metrics: a customer (or the
    /// requesting team of an internal request), an agent of the serving team,
    /// or automation.
    AuthorRole {
        Customer = "customer",
        Agent = "agent",
        System = "system",
    }
);
