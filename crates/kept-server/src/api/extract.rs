//! Our own extractors, so that every rejection speaks the API's error format
//! and names the field at fault.

use crate::auth::secrets::digest;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use kept_core::people::User;
use kept_core::permissions::Principal;
use serde::de::DeserializeOwned;

/// A JSON body. Unknown fields, wrong types and missing fields are 422s that
/// name the field; malformed JSON is a 400; too large a body is a 413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(&req)?;
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub(crate) fn body_rejection(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large")
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "the request body could not be read")
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every body kept reads is an object. serde would also read a struct from
    // an array of its fields in order (`[null, null]` passed as an empty
    // PATCH), so anything but an object is refused before it gets there.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') {
        return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(e) => ApiError::bad_request("invalid_json", "", format!("the body is not valid JSON: {e}")),
            Ok(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "the body must be a JSON object"),
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request("invalid_json", "", format!("the body is not valid JSON: {inner}"))
        } else {
            let message = strip_position(&inner.to_string());
            let code = if message.starts_with("unknown field") { "unknown_field" } else { "invalid_body" };
            let field = if field == "." { missing_field(&message).unwrap_or_default() } else { field };
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
        }
    })
}

/// Query-string parameters, with the same error style as bodies.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(ApiQuery)
    }
}

pub(crate) fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = if field == "." { missing_field(&message).unwrap_or_default() } else { field };
        ApiError::bad_request("invalid_query", "", message).with_field(field)
    })
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_owned)
}

/// The person behind a bearer token.
pub struct Caller {
    pub user: User,
    pub principal: Principal,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(header) = header else {
            return Err(ApiError::unauthenticated(
                "unauthenticated",
                "send an API token: Authorization: Bearer <token>",
            ));
        };
        let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).map(str::trim);
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(ApiError::unauthenticated(
                "unauthenticated",
                "the Authorization header must be 'Bearer <token>'",
            ));
        };
        match state.store.token_user(&digest(token), state.now()).await? {
            Some((user, principal)) => Ok(Caller { user, principal }),
            None => Err(ApiError::unauthenticated(
                "invalid_token",
                "the API token is unknown, revoked or its owner deactivated",
            )),
        }
    }
}

/// A JSON body together with its raw bytes (for request fingerprints).
pub struct ApiJsonRaw<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJsonRaw<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(&req)?;
        let raw = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        Ok(Self { value: parse_json(&raw)?, raw })
    }
}

fn require_json(req: &Request) -> Result<(), ApiError> {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ))
    }
}

/// A path parameter; a malformed one is a 400 naming the parameter.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError::bad_request("invalid_path", "", e.body_text())),
        }
    }
}

/// The client's address, for rate limits: the peer address of the TCP
/// connection ("unknown" in in-process tests). Proxies' forwarding headers
/// are not trusted, since anyone can send them.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr =
            parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientAddr(addr.unwrap_or_else(|| "unknown".to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        subject: String,
        count: Option<u32>,
        nested: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        value: i64,
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"subject": 5}"#).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code.as_ref(), e.field.as_deref()), (422, "invalid_body", Some("subject")));
        let e = parse_json::<Body>(br#"{"count": 1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("subject"));
        let e = parse_json::<Body>(br#"{"subject": "x", "sbuject": 1}"#).unwrap_err();
        assert_eq!((e.code.as_ref(), e.field.as_deref()), ("unknown_field", Some("sbuject")));
        let e = parse_json::<Body>(br#"{"subject": "x", "nested": {"value": "nine"}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("nested.value"));
        let e = parse_json::<Body>(b"{not json").unwrap_err();
        assert_eq!((e.status.as_u16(), e.code.as_ref()), (400, "invalid_json"));
        let e = parse_json::<Body>(br#"{"subject": "x", "count": -1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("count"));
    }

    #[test]
    fn query_errors_name_the_parameter() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Q {
            limit: Option<u32>,
        }
        let e = parse_query::<Q>("limit=many").unwrap_err();
        assert_eq!((e.status.as_u16(), e.code.as_ref(), e.field.as_deref()), (400, "invalid_query", Some("limit")));
        assert!(parse_query::<Q>("limit=5").unwrap().limit == Some(5));
    }
}
