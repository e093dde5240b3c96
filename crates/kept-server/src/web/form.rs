//! Form bodies for pages, with errors shown as pages rather than text.

use super::session::PageError;
use crate::api::extract::{body_rejection, parse_query};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// An `application/x-www-form-urlencoded` body.
pub struct WebForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for WebForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| PageError::Api(body_rejection(e)))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            PageError::Api(crate::error::ApiError::bad_request("invalid_form", "", "the form is not valid UTF-8"))
        })?;
        parse_query(text).map(WebForm).map_err(PageError::Api)
    }
}

/// Empty form fields mean "not given".
pub fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses an optional numeric id from a form field.
pub fn form_id(field: &str, v: &Option<String>) -> Result<Option<i64>, PageError> {
    given(v)
        .map(|s| s.parse().map_err(|_| kept_core::FieldError::new("invalid_value", field, "must be a number").into()))
        .transpose()
}

/// Splits a comma-separated field.
pub fn comma_list(v: &Option<String>) -> Vec<String> {
    given(v).unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// A form body as its name/value pairs, for forms with a field that repeats
/// (a multi-select) and forms shown again with what was sent.
pub struct FormPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormPairs {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| PageError::Api(body_rejection(e)))?;
        Ok(FormPairs(form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()))
    }
}

impl FormPairs {
    /// The first value of a field, trimmed; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The field's value, or "" (the draft's own check names it).
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    pub fn opt(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Every non-empty value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect()
    }
}
