//! Property tests: the parsers that read what strangers send (webhook signature headers,
//! Whop and Stripe payloads, usage events) and what operators write (the plan catalog)
//! answer every input with a value or an error, never a panic.
//!
//! Inputs are both shapeless (any bytes, any JSON) and near-valid (real payloads and the
//! demo catalog with fields replaced by hostile values, or bytes cut and spliced), so the
//! deep paths are reached too. The case count is bounded (`PROPTEST_CASES` overrides it);
//! a failure prints the smallest input that panics.

use chrono::{TimeZone, Utc};
use engine::billing::signature::{verify_standard, verify_timestamped_hex};
use engine::billing::{parse_stripe, parse_whop};
use engine::metering::{RawEvent, Scope};
use engine::{db::Db, AccountId, Catalog, Engine, EngineConfig};
use proptest::prelude::*;
use serde_json::{json, Value};

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Strings a hostile sender likes: empty, huge numbers, control and bidi characters,
/// other scripts, and arbitrary text.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("-9223372036854775808".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("1e400".to_owned()),
        Just("NaN".to_owned()),
        Just("\u{202e}\u{0}\u{1b}[31m".to_owned()),
        Just("9999-12-31T23:59:59Z".to_owned()),
        Just("-262144-01-01T00:00:00Z".to_owned()),
        "[a-z_.]{0,12}",
        any::<String>(),
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Sets the value at a dotted path of a JSON document, creating objects on the way.
fn set_path(doc: &mut Value, path: &str, value: Value) {
    let mut at = doc;
    for part in path.split('.') {
        if !at.is_object() {
            *at = json!({});
        }
        at = at.as_object_mut().map(|o| o.entry(part).or_insert(Value::Null)).unwrap_or_else(|| unreachable!());
    }
    *at = value;
}

fn stripe_event() -> Value {
    json!({
        "id": "evt_1", "type": "customer.subscription.updated", "created": 1_764_000_000, "livemode": false,
        "data": {"object": {
            "id": "sub_1", "status": "active", "customer_email": "a@b.example", "cancel_at_period_end": false,
            "current_period_end": 1_766_000_000, "client_reference_id": "ref_abc",
            "metadata": {"tollgate_ref": "ref_abc", "email": "a@b.example"},
            "items": {"data": [{"price": {"id": "price_pro", "product": "prod_1"}, "current_period_end": 1_766_000_000}]},
            "lines": {"data": [{"price": {"id": "price_pro"}}]}
        }}
    })
}

fn whop_event() -> Value {
    json!({
        "id": "msg_1", "type": "membership.went_valid", "timestamp": "2026-11-30T12:00:00Z",
        "data": {
            "id": "mem_1", "status": "active", "plan": {"id": "plan_pro"}, "product": {"id": "prod_1"},
            "user": {"email": "a@b.example", "name": "A", "username": "a"},
            "renewal_period_end": 1_766_000_000, "cancel_at_period_end": false, "manage_url": "https://whop.example/m",
            "metadata": {"tollgate_ref": "ref_abc"}, "membership": {"id": "mem_1"}, "created_at": 1_764_000_000
        }
    })
}

const STRIPE_PATHS: &[&str] = &[
    "id", "type", "created", "livemode", "data", "data.object", "data.object.id", "data.object.status",
    "data.object.subscription", "data.object.items", "data.object.items.data", "data.object.current_period_end",
    "data.object.client_reference_id", "data.object.metadata", "data.object.lines.data",
    "data.object.parent.subscription_details.subscription",
];
const WHOP_PATHS: &[&str] = &[
    "id", "type", "action", "timestamp", "data", "data.id", "data.membership", "data.membership.id", "data.plan",
    "data.user", "data.user.email", "data.renewal_period_end", "data.metadata", "data.created_at", "data.membership_id",
];

/// A real payload with some of its fields replaced by any JSON.
fn mutated(base: fn() -> Value, paths: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((prop::sample::select(paths), json_value()), 1..5).prop_map(move |changes| {
        let mut doc = base();
        for (path, value) in changes {
            set_path(&mut doc, path, value);
        }
        serde_json::to_vec(&doc).unwrap_or_default()
    })
}

/// Bytes: anything, or a valid document cut and spliced.
fn spliced(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (0..=len, 0..=len, prop::collection::vec(any::<u8>(), 0..16)).prop_map(move |(a, b, insert)| {
            let (from, to) = (a.min(b), a.max(b));
            let mut bytes = valid[..from].to_vec();
            bytes.extend(insert);
            bytes.extend(&valid[to..]);
            bytes
        }),
    ]
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).single().unwrap_or_default()
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn stripe_payloads_never_panic(body in prop_oneof![mutated(stripe_event, STRIPE_PATHS), spliced(stripe_event().to_string().into_bytes())]) {
        let _ = parse_stripe(&body);
    }

    #[test]
    fn whop_payloads_never_panic(body in prop_oneof![mutated(whop_event, WHOP_PATHS), spliced(whop_event().to_string().into_bytes())]) {
        let _ = parse_whop(&body, "msg_fallback", now());
    }

    #[test]
    fn stripe_and_legacy_whop_signature_headers_never_panic(
        header in prop_oneof![
            any::<String>(),
            (hostile_text(), hostile_text(), "[0-9a-f]{0,70}").prop_map(|(t, k, v)| format!("t={t},{k}=x,v1={v}")),
            (any::<i64>(), "[0-9a-fA-F]{64}").prop_map(|(t, v)| format!("t={t},v1={v}")),
        ],
        body in prop::collection::vec(any::<u8>(), 0..64),
        now in any::<i64>(),
    ) {
        let secrets = vec!["whsec_test".to_owned(), String::new()];
        let verdict = verify_timestamped_hex(&secrets, "stripe-signature", Some(&header), &body, now);
        prop_assert!(verdict.is_err(), "a random header never verifies: {header}");
    }

    #[test]
    fn standard_webhook_headers_never_panic(
        id in prop::option::of(hostile_text()),
        ts in prop::option::of(prop_oneof![hostile_text(), any::<i64>().prop_map(|t| t.to_string())]),
        signatures in prop::option::of(prop_oneof![
            any::<String>(),
            "(v1,[A-Za-z0-9+/=]{0,50} ?){0,4}",
        ]),
        body in prop::collection::vec(any::<u8>(), 0..64),
        now in any::<i64>(),
    ) {
        let secrets = vec!["whsec_dGVzdA==".to_owned(), "plain".to_owned(), "whsec_not base64".to_owned()];
        let verdict = verify_standard(&secrets, id.as_deref(), ts.as_deref(), signatures.as_deref(), &body, now);
        prop_assert!(verdict.is_err());
    }
}

/// The demo catalog, with lines replaced, removed or spliced.
fn catalog_text() -> impl Strategy<Value = String> {
    let demo = engine::catalog::DEMO_CATALOG;
    let lines: Vec<String> = demo.lines().map(str::to_owned).collect();
    let count = lines.len();
    let toml_value = prop_oneof![
        Just("-1".to_owned()), Just("0".to_owned()), Just("1e309".to_owned()), Just("nan".to_owned()), Just("inf".to_owned()),
        Just("\"\"".to_owned()), Just("[]".to_owned()), Just("{}".to_owned()), Just("true".to_owned()),
        Just("9223372036854775807".to_owned()), Just("-9223372036854775808".to_owned()),
        Just("\"unknown_meter\"".to_owned()), Just("[\"a\", 1]".to_owned()), Just("\"\\u202e\"".to_owned()),
        any::<String>().prop_map(|s| format!("{s:?}")),
    ];
    prop_oneof![
        any::<String>(),
        prop::collection::vec((0..count, toml_value.clone()), 1..6).prop_map({
            let lines = lines.clone();
            move |edits| {
                let mut lines = lines.clone();
                for (at, value) in edits {
                    if let Some((key, _)) = lines[at].split_once('=') {
                        lines[at] = format!("{key}= {value}");
                    }
                }
                lines.join("\n")
            }
        }),
        prop::collection::vec(0..count, 1..8).prop_map({
            let lines = lines.clone();
            move |drops| lines.iter().enumerate().filter(|(i, _)| !drops.contains(i)).map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n")
        }),
        (0..count, 0..count).prop_map(move |(a, b)| {
            let mut lines = lines.clone();
            let line = lines[a].clone();
            lines.insert(b, line);
            lines.join("\n")
        }),
    ]
}

proptest! {
    #![proptest_config(cases(1000))]

    #[test]
    fn catalogs_never_panic(text in catalog_text()) {
        if let Ok(catalog) = Catalog::parse(&text, "fuzzed.toml") {
            // What parses must also be usable without panicking.
            let lowest = catalog.lowest_plan().id.clone();
            for plan in catalog.plans() {
                let _ = catalog.has_higher_tier(plan);
                for feature in catalog.features() {
                    let _ = catalog.plan_unlocking(feature, plan);
                }
            }
            prop_assert!(catalog.plan(&lowest).is_some());
        }
    }
}

/// One engine for the whole event property: ingest is its real entry point.
fn ingest_fixture() -> (tokio::runtime::Runtime, Engine, tempfile::TempDir) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("fuzz.db").display());
    let engine = runtime.block_on(async {
        let db = Db::connect(&url).await.expect("db");
        let engine = Engine::new(db, Catalog::demo().expect("demo"), EngineConfig::default());
        engine.seed_demo(Utc::now()).await.expect("demo data");
        engine
    });
    (runtime, engine, dir)
}

fn raw_event() -> impl Strategy<Value = Value> {
    let field = |valid: Value| prop_oneof![3 => Just(valid), 1 => json_value(), 1 => Just(Value::Null)];
    (
        field(json!("acc_initech")),
        field(json!("api_calls")),
        prop_oneof![field(json!(1)), any::<f64>().prop_map(|f| json!(f)), Just(json!(1e308)), Just(json!(-0.0))],
        field(json!(Utc::now().to_rfc3339())),
        "[a-zA-Z0-9_-]{1,20}",
        field(json!({"region": "eu"})),
        prop::collection::vec(("[a-z_]{1,12}", json_value()), 0..2),
    )
        .prop_map(|(account, meter, quantity, timestamp, key, properties, extra)| {
            let mut event = json!({
                "account_id": account, "meter": meter, "quantity": quantity,
                "timestamp": timestamp, "idempotency_key": key, "properties": properties,
            });
            for (name, value) in extra {
                set_path(&mut event, &name, value);
            }
            event
        })
}

#[test]
fn usage_events_never_panic_and_a_bad_one_is_refused_with_a_reason() {
    let (runtime, engine, _dir) = ingest_fixture();
    let own = AccountId::parse("acc_initech").expect("id");
    let scopes = [Scope::Service, Scope::Account(own.clone()), Scope::Operator(own)];
    let mut runner = proptest::test_runner::TestRunner::new(cases(400));
    let strategy = (prop::collection::vec(raw_event(), 1..8), 0..3usize);
    runner
        .run(&strategy, |(events, scope)| {
            let raws: Vec<RawEvent> = events
                .iter()
                .filter_map(|event| serde_json::from_value(event.clone()).ok())
                .collect();
            if raws.is_empty() {
                return Ok(());
            }
            let count = raws.len();
            let results = runtime.block_on(engine.ingest(&scopes[scope], raws)).map_err(|e| TestCaseError::fail(format!("the batch failed as a whole: {e}")))?;
            prop_assert_eq!(results.len(), count, "one result per event");
            for result in results {
                let rejected = result.status == model::EventStatus::Rejected;
                prop_assert!(!rejected || result.reason.as_deref().is_some_and(|r| !r.is_empty()), "a refusal says why: {:?}", result);
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
