//! Domain errors. Every error a user can cause has a stable snake_case code
//! and, where one field is to blame, names it; the HTTP layer maps these to
//! status codes in one place and never has to guess.

use std::fmt;

/// A value that failed validation: which field, why, and a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code, field: field.into(), message: message.into() }
    }

    /// The same error, reported against a nested field (`requester` → `case.requester`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() { parent.to_owned() } else { format!("{parent}.{}", self.field) };
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Everything a domain rule can refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Input that is well-formed but not acceptable (HTTP 422).
    #[error("{0}")]
    Invalid(FieldError),
    /// The thing does not exist, or the caller may not know that it does (HTTP 404).
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// The caller is known but not allowed to do this (HTTP 403).
    #[error("{message}")]
    Forbidden { message: String },
    /// A state transition the case lifecycle does not allow (HTTP 409).
    #[error("a case cannot go from {from} to {to}")]
    IllegalTransition { from: &'static str, to: &'static str },
    /// The request conflicts with the current state (HTTP 409).
    #[error("{message}")]
    Conflict { code: &'static str, field: Option<String>, message: String },
}

impl DomainError {
    pub fn invalid(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(FieldError::new(code, field, message))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden { message: message.into() }
    }

    pub fn conflict(code: &'static str, field: Option<&str>, message: impl Into<String>) -> Self {
        Self::Conflict { code, field: field.map(str::to_owned), message: message.into() }
    }

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(e) => e.code,
            Self::NotFound { .. } => "not_found",
            Self::Forbidden { .. } => "forbidden",
            Self::IllegalTransition { .. } => "illegal_transition",
            Self::Conflict { code, .. } => code,
        }
    }

    /// The field to blame, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid(e) => Some(&e.field),
            Self::IllegalTransition { .. } => Some("status"),
            Self::Conflict { field, .. } => field.as_deref(),
            Self::NotFound { .. } | Self::Forbidden { .. } => None,
        }
    }
}

impl From<FieldError> for DomainError {
    fn from(e: FieldError) -> Self {
        Self::Invalid(e)
    }
}
