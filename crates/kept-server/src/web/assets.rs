//! Static assets, compiled into the binary: no CDN, nothing to install.
//! htmx is vendored from npm (htmx.org 2.0.x; see assets/README.md).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const ASSETS: &[(&str, &str, &[u8])] = &[
    ("htmx.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/htmx.min.js")),
    ("kept.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/kept.js")),
    ("kept.css", "text/css; charset=utf-8", include_bytes!("../../assets/kept.css")),
];

pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, bytes)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "public, max-age=3600")], *bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
