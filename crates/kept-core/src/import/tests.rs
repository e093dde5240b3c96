use super::*;
use proptest::prelude::*;
use serde_json::{Value, json};

fn now() -> Timestamp {
    "2025-01-31T12:00:00Z".parse().unwrap()
}

fn full() -> Value {
    json!({
        "external_id": "ZD-1042",
        "subject": "Printer on fire",
        "account": {"name": "Acme", "tier": "premium"},
        "requester": {"email": "Ana@Acme.test", "name": "Ana Acme"},
        "team": "Support",
        "assignee": "alex@kept.test",
        "channel": "phone",
        "priority": "high",
        "case_type": "incident",
        "tags": ["vip"],
        "created_at": "2025-01-06T09:00:00Z",
        "events": [
            {"at": "2025-01-06T09:00:00Z", "kind": "message", "author": "customer", "body": "It is smoking."},
            {"at": "2025-01-06T10:20:00+01:00", "kind": "message", "author": "agent", "agent": "alex@kept.test", "public": false, "body": "Call the fire brigade?"},
            {"at": "2025-01-06T09:30:00Z", "kind": "message", "author": "agent", "agent": {"email": "alex@kept.test", "name": "Alex"}, "body": "Unplug it, please."},
            {"at": "2025-01-06T10:00:00Z", "kind": "status", "to": "solved"}
        ],
        "surveys": [{"kind": "csat", "score": 5, "answered_at": "2025-01-07T08:00:00Z", "comment": " Quick! "}]
    })
}

fn parse(v: &Value) -> Result<ImportedCase, crate::FieldError> {
    parse_line(&v.to_string(), now())
}

/// The (field, code) of the error a line gives.
fn refused(v: Value) -> (String, &'static str) {
    let e = parse(&v).unwrap_err();
    (e.field, e.code)
}

fn with(path: &[&str], value: Value) -> Value {
    let mut v = full();
    let mut cur = &mut v;
    for (i, p) in path.iter().enumerate() {
        let last = i == path.len() - 1;
        cur = match p.parse::<usize>() {
            Ok(n) => &mut cur[n],
            Err(_) if last => {
                cur.as_object_mut().unwrap().insert((*p).into(), value.clone());
                return v;
            }
            Err(_) => &mut cur[*p],
        };
        if last {
            *cur = value.clone();
        }
    }
    v
}

#[test]
fn a_full_line_reads_into_a_case_with_its_history() {
    let c = parse(&full()).unwrap();
    assert_eq!(c.external_id.as_str(), "ZD-1042");
    assert_eq!(c.account.tier.as_ref().unwrap().as_str(), "premium");
    assert_eq!(c.requester.email.as_str(), "ana@acme.test", "emails are lower-cased");
    assert_eq!(c.assignee.as_ref().unwrap().display_name(), "alex");
    assert_eq!((c.channel, c.priority, c.case_type.as_str()), (Channel::Phone, Priority::High, "incident"));
    assert_eq!(c.body.as_str(), "It is smoking.", "the customer's first message at created_at opens the case");
    assert_eq!(c.first_step, 1);
    assert_eq!(c.steps().map(|(i, _)| i).collect::<Vec<_>>(), [1, 2, 3]);
    let ImportedAction::Message { public, .. } = &c.events[1].action else { panic!() };
    assert!(!public, "an internal note");
    assert_eq!(c.events[1].at, "2025-01-06T09:20:00Z".parse::<Timestamp>().unwrap(), "offsets are honoured");
    assert_eq!(c.surveys[0].comment.as_deref(), Some("Quick!"));
}

#[test]
fn a_minimal_line_takes_the_documented_defaults() {
    let c = parse(&json!({"external_id": 17, "subject": "Hello", "account": "Acme", "requester": "ana@acme.test",
        "team": "Support", "created_at": "2025-01-06T09:00:00Z"}))
    .unwrap();
    assert_eq!(c.external_id.as_str(), "17", "a numeric id becomes its decimal text");
    assert_eq!((c.channel, c.priority, c.case_type.as_str()), (Channel::Email, Priority::Normal, "question"));
    assert!(c.account.tier.is_none() && c.assignee.is_none() && c.events.is_empty() && c.surveys.is_empty());
    assert_eq!(c.body.as_str(), "Hello", "without a message the subject stands for the request");
    assert_eq!(c.first_step, 0);
}

#[test]
fn a_body_field_is_the_opening_message_and_every_event_is_a_step() {
    let c = parse(&with(&["body"], json!("From the body field"))).unwrap();
    assert_eq!(c.body.as_str(), "From the body field");
    assert_eq!(c.first_step, 0);
}

#[test]
fn errors_name_the_field_and_say_what_is_wrong() {
    let e = parse(&with(&["events", "3", "to"], json!("finished"))).unwrap_err();
    assert_eq!(e.field, "events[3].to");
    assert_eq!(e.message, r#"unknown status "finished" (one of: new, open, pending, on_hold, solved, closed)"#);
    assert_eq!(
        LineError::new(12, e).to_string(),
        r#"line 12: events[3].to: unknown status "finished" (one of: new, open, pending, on_hold, solved, closed)"#
    );
}

#[test]
fn each_bad_field_is_refused_with_its_path_and_code() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (with(&["external_id"], json!("")), "external_id", "required"),
        (with(&["external_id"], json!(1.5)), "external_id", "invalid_type"),
        (with(&["subject"], Value::Null), "subject", "required"),
        (with(&["account", "tier"], json!("Gold Plus")), "account.tier", "invalid_slug"),
        (with(&["account"], json!(3)), "account", "invalid_type"),
        (with(&["requester"], json!("not-an-email")), "requester", "invalid_email"),
        (with(&["requester", "email"], json!("x@")), "requester.email", "invalid_email"),
        (with(&["assignee"], json!({"email": "a@b.test", "role": "x"})), "assignee.role", "unknown_field"),
        (with(&["channel"], json!("fax")), "channel", "invalid_value"),
        (with(&["channel"], json!("internal")), "channel", "invalid_value"),
        (with(&["priority"], json!("asap")), "priority", "invalid_value"),
        (with(&["tags", "0"], json!("Not A Slug")), "tags[0]", "invalid_slug"),
        (with(&["created_at"], json!("2025-01-06 09:00")), "created_at", "invalid_time"),
        (with(&["created_at"], json!("2025-02-06T09:00:00Z")), "created_at", "in_future"),
        (with(&["created_at"], json!("0024-01-06T09:00:00Z")), "created_at", "too_old"),
        (with(&["colour"], json!("red")), "colour", "unknown_field"),
        (with(&["events", "1", "at"], json!("2025-01-05T09:00:00Z")), "events[1].at", "before_created"),
        (with(&["events", "2", "at"], json!("2025-01-06T09:10:00Z")), "events[2].at", "out_of_order"),
        (with(&["events", "1", "kind"], json!("call")), "events[1].kind", "invalid_value"),
        (with(&["events", "1", "author"], json!("bot")), "events[1].author", "invalid_value"),
        (with(&["events", "1", "agent"], Value::Null), "events[1].agent", "required"),
        (with(&["events", "1", "public"], json!("no")), "events[1].public", "invalid_type"),
        (with(&["events", "1", "body"], json!("  ")), "events[1].body", "required"),
        (with(&["events", "0", "agent"], json!("a@b.test")), "events[0].agent", "not_allowed"),
        (with(&["events", "0", "public"], json!(false)), "events[0].public", "not_allowed"),
        (with(&["events", "3", "to"], json!(7)), "events[3].to", "invalid_type"),
        (with(&["events", "3", "why"], json!("x")), "events[3].why", "unknown_field"),
        (with(&["events", "2"], json!("hello")), "events[2]", "invalid_type"),
        (with(&["events"], json!({})), "events", "invalid_type"),
        (with(&["surveys", "0", "kind"], json!("smiley")), "surveys[0].kind", "invalid_value"),
        (with(&["surveys", "0", "score"], json!(6)), "surveys[0].score", "out_of_range"),
        (with(&["surveys", "0", "score"], json!(4.5)), "surveys[0].score", "invalid_type"),
        (
            with(&["surveys", "0", "answered_at"], json!("2025-01-01T00:00:00Z")),
            "surveys[0].answered_at",
            "before_created",
        ),
    ];
    for (line, field, code) in cases {
        assert_eq!(refused(line.clone()), (field.to_owned(), code), "{line}");
    }
}

#[test]
fn score_ranges_follow_each_kind() {
    for (kind, lo, hi) in [("csat", 1, 5), ("ces", 1, 7), ("nps", 0, 10)] {
        for (score, ok) in [(lo - 1, false), (lo, true), (hi, true), (hi + 1, false)] {
            let line =
                with(&["surveys", "0"], json!({"kind": kind, "score": score, "answered_at": "2025-01-07T08:00:00Z"}));
            assert_eq!(parse(&line).is_ok(), ok, "{kind} {score}");
        }
    }
}

#[test]
fn the_same_survey_twice_in_a_line_is_refused() {
    let s = json!({"kind": "nps", "score": 9, "answered_at": "2025-01-07T08:00:00Z"});
    let line = with(&["surveys"], json!([s, s]));
    assert_eq!(refused(line), ("surveys[1].answered_at".into(), "duplicate"));
}

#[test]
fn whole_line_problems_name_no_field() {
    for (line, code) in [("{", "invalid_json"), ("[1, 2]", "invalid_type"), ("null", "invalid_type")] {
        let e = parse_line(line, now()).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("", code), "{line}");
        assert_eq!(LineError::new(3, e).field, None);
    }
}

#[test]
fn tracked_fields_compare_teams_regardless_of_case() {
    let a = parse(&full()).unwrap().tracked();
    let b = parse(&with(&["team"], json!("SUPPORT"))).unwrap().tracked();
    assert_eq!(a, b);
    assert_ne!(a, parse(&with(&["priority"], json!("low"))).unwrap().tracked());
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("2025-01-06T09:00:00Z"),
            Just("message"),
            Just("status"),
            Just("agent"),
            Just("customer"),
            Just("csat"),
            Just("a@b.test"),
        ]
        .prop_map(|s| Value::String(s.into())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let keys = prop_oneof![
        Just("external_id".to_owned()),
        Just("subject".to_owned()),
        Just("events".to_owned()),
        Just("surveys".to_owned()),
        Just("at".to_owned()),
        Just("kind".to_owned()),
        Just("to".to_owned()),
        Just("score".to_owned()),
        "[a-z_]{1,8}",
    ];
    leaf().prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(line in ".{0,300}") {
        let _ = parse_line(&line, now());
    }

    #[test]
    fn random_json_never_panics(v in json_value()) {
        let _ = parse_line(&v.to_string(), now());
    }

    #[test]
    fn a_valid_line_with_one_field_replaced_never_panics(field in 0usize..14, v in json_value()) {
        let mut line = full();
        line.as_object_mut().unwrap().insert(super::parse::TOP_FOR_TESTS[field].into(), v);
        let _ = parse_line(&line.to_string(), now());
    }
}
