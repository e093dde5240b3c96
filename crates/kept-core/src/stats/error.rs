//! The one error type of the statistics module.

/// Why a statistic could not be computed from its inputs.
///
/// "No data" is not an error: an empty denominator gives `None` (D-7). These
/// variants are for inputs that cannot be right (k > n, a negative rate, an
/// unstable queue), so a caller bug surfaces instead of a plausible number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    /// An input is outside its domain; `field` names it.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: &'static str },
    /// Erlang C with traffic ≥ agents: the queue grows without bound, so a
    /// service level or ASA would be meaningless.
    #[error("unstable queue: {agents} agents cannot carry the offered traffic")]
    Unstable { agents: u32 },
    /// An XmR baseline with fewer points than D-30 allows.
    #[error("baseline has {len} points; at least {min} are needed")]
    BaselineTooShort { len: usize, min: usize },
    /// No agent count up to the search bound meets the staffing target.
    #[error("no agent count up to {max_agents} meets the target")]
    TargetUnreachable { max_agents: u32 },
    /// An integer sum or product exceeded its type; the inputs are absurd.
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
}

impl StatsError {
    /// A stable snake_case code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_input",
            Self::Unstable { .. } => "unstable_queue",
            Self::BaselineTooShort { .. } => "baseline_too_short",
            Self::TargetUnreachable { .. } => "target_unreachable",
            Self::Overflow(_) => "overflow",
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: &'static str) -> Self {
        Self::Invalid { field, reason }
    }
}

/// Checks that `x` is finite and strictly positive (rates, handle times).
pub(crate) fn positive(field: &'static str, x: f64) -> Result<f64, StatsError> {
    if x.is_finite() && x > 0.0 { Ok(x) } else { Err(StatsError::invalid(field, "must be finite and > 0")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_snake_case_code() {
        let all = [
            StatsError::invalid("k", "k > n"),
            StatsError::Unstable { agents: 3 },
            StatsError::BaselineTooShort { len: 3, min: 12 },
            StatsError::TargetUnreachable { max_agents: 9 },
            StatsError::Overflow("sum"),
        ];
        for e in all {
            assert!(e.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }

    #[test]
    fn positive_rejects_zero_negative_and_nan() {
        assert!(positive("h", 0.0).is_err());
        assert!(positive("h", -1.0).is_err());
        assert!(positive("h", f64::NAN).is_err());
        assert!(positive("h", f64::INFINITY).is_err());
        assert_eq!(positive("h", 2.5), Ok(2.5));
    }
}
