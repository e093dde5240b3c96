use super::app::TestApp;
use crate::app_test;
use axum::http::StatusCode;

app_test!(the_openapi_document_is_served_and_describes_every_route, async |app: &TestApp| {
    let a = app.get("/api/v1/openapi.json", "").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json["openapi"].as_str().unwrap().starts_with("3.1"), "OpenAPI 3.1");
    let paths = a.json["paths"].as_object().unwrap();
    assert!(paths.len() >= 20);
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} documents its answers"
            );
            // Every documented route exists: calling it never hits the no-route fallback.
            let concrete = path.replace("{id}", "1").replace("{user_id}", "1").replace("{promise_id}", "1");
            let answer = app.call(&method.to_uppercase(), &concrete, "admin", None).await;
            assert_ne!(answer.code(), "no_route", "{method} {path} is documented but not routed");
            assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
    }
    let schemes = &a.json["components"]["securitySchemes"]["bearer"];
    assert_eq!(schemes["scheme"], "bearer");
});

/// Schemathesis found operations whose path parameter was not documented
/// (`DELETE /api/v1/targets/{id}`, …) and query parameters documented as path
/// parameters (the scorecards' and the outbox's). Every `{name}` in a path
/// must be a documented path parameter, and every path parameter a `{name}`.
#[test]
fn path_parameters_are_exactly_the_placeholders_of_the_path() {
    let doc = serde_json::to_value(kept_server::api::router().1).unwrap();
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let placeholders: std::collections::BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        for (method, op) in item.as_object().unwrap() {
            let documented: std::collections::BTreeSet<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            if documented != placeholders {
                wrong.push(format!("{method} {path}: documents {documented:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every route that needs a token documents the 401 it answers without one,
/// and every error answer documents the error body.
#[test]
fn error_answers_are_documented_with_the_error_body() {
    let doc = serde_json::to_value(kept_server::api::router().1).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let public = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|r| r.is_empty())));
            let responses = op["responses"].as_object().unwrap();
            assert!(public || responses.contains_key("401"), "{method} {path}");
            for (status, answer) in responses {
                assert!(answer["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path} {status}");
                if status.starts_with('4') {
                    assert_eq!(
                        answer["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}
