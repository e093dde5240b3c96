//! kept-core must stay pure: the domain may not depend on an async runtime,
//! a database driver or a web framework. This test reads the manifest so a
//! careless `cargo add` fails the suite instead of slowly rotting the design.

#[test]
fn the_domain_crate_depends_on_no_runtime_database_or_web_framework() {
    let manifest = include_str!("../Cargo.toml");
    let deps = manifest.split("[dependencies]").nth(1).and_then(|rest| rest.split("\n[").next()).unwrap_or_default();
    for banned in ["tokio", "sqlx", "axum", "hyper", "reqwest", "async-std", "tower"] {
        let found = deps.lines().any(|l| l.trim_start().starts_with(banned));
        assert!(!found, "kept-core must not depend on {banned}");
    }
}
