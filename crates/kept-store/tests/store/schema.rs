use super::common::*;
use kept_store::store_test;
use kept_store::test_support::TestDb;

#[test]
fn both_engines_have_migrations_with_the_same_names() {
    let dir = |engine: &str| {
        let mut names: Vec<String> = std::fs::read_dir(format!("{}/migrations/{engine}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(dir("sqlite"), dir("postgres"));
    assert_eq!(dir("sqlite"), kept_store::MIGRATION_FILES, "every migration file is embedded");
}

store_test!(migrating_a_database_that_holds_data_again_is_a_no_op, async |db: &TestDb| {
    let env = env(db).await;
    env.open_as(&env.ana, "Before the second migration", t(1)).await;
    env.store.migrate().await.unwrap();
    let list = env.store.list_cases(&env.admin, &Default::default(), Default::default(), None, 10).await.unwrap();
    assert_eq!(list.cases.len(), 1);
});

store_test!(events_can_be_neither_updated_nor_deleted, async |db: &TestDb| {
    let env = env(db).await;
    let case = env.open_as(&env.ana, "Audit me", t(1)).await;
    let url = db.url().to_owned();
    // Go around the store's API, as an intruder with SQL access would.
    let raw = kept_store::Store::open(&url, Default::default()).await.unwrap();
    for sql in ["UPDATE events SET kind = 'tampered'", "DELETE FROM events"] {
        let err = raw.execute_unchecked(sql).await.unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(env.kinds(case.case.id).await, ["case_created", "customer_message"]);
});
