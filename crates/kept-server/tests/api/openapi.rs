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
