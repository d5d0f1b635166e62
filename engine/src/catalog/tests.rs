use super::*;

fn parse(text: &str) -> Result<Catalog, CatalogError> {
    Catalog::parse(text, "plans.toml")
}

const METERS: &str = r#"
[[meters]]
key = "api_calls"
name = "API calls"
unit = "calls"
aggregation = "sum"
"#;

#[test]
fn the_demo_catalog_has_the_four_tiers_with_their_prices_and_rate_limits() {
    let catalog = Catalog::demo().expect("demo catalog parses");
    let tiers: Vec<_> = catalog.plans().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(tiers, ["free", "starter", "pro", "enterprise"]);
    let prices: Vec<_> = catalog.plans().iter().map(|p| p.price.to_string()).collect();
    assert_eq!(prices, ["$0/mo", "$10/mo", "$30/mo", "Custom"]);
    let per_minute: Vec<_> = catalog.plans().iter().map(|p| p.rate_limits.per_minute).collect();
    assert_eq!(per_minute, [10, 60, 300, 1000]);
    let per_day: Vec<_> = catalog.plans().iter().map(|p| p.rate_limits.per_day).collect();
    assert_eq!(per_day, [100, 5_000, 50_000, 1_000_000]);

    let meters: Vec<_> = catalog.meters().iter().map(|m| (m.key.as_str(), m.aggregation)).collect();
    assert_eq!(meters, [
        ("api_calls", Aggregation::Sum),
        ("storage_mb", Aggregation::Last),
        ("memories", Aggregation::Last),
    ]);
    let free = catalog.plan("free").expect("free");
    assert_eq!(free.limit("api_calls").map(|l| l.period), Some(Period::Day));
    assert_eq!(free.features, ["basic_memory", "search"]);
    assert!(catalog.plan("pro").expect("pro").has_feature("exports"));
    assert!(!catalog.has_higher_tier(catalog.plan("enterprise").expect("enterprise")));
}

#[test]
fn an_unknown_meter_in_a_plan_names_the_file_line_plan_and_meter() {
    let text = format!(
        "{METERS}
[[plans]]
id = \"free\"
name = \"Free\"
rank = 0
price = 0
rate_limits = {{ per_minute = 1, per_day = 1 }}
limits.bandwidth = {{ value = 5, period = \"day\" }}
"
    );
    let err = parse(&text).expect_err("unknown meter");
    assert_eq!(err.line, Some(14));
    assert_eq!(err.field.as_deref(), Some("plans[free].limits.bandwidth"));
    let shown = err.to_string();
    assert!(shown.contains("plans.toml, line 14"), "{shown}");
    assert!(shown.contains("unknown meter `bandwidth`"), "{shown}");
    assert!(shown.contains("api_calls"), "lists the known meters: {shown}");
}

#[test]
fn a_negative_limit_names_its_line_and_field() {
    let text = format!(
        "{METERS}
[[plans]]
id = \"free\"
name = \"Free\"
rank = 0
price = 0
rate_limits = {{ per_minute = 1, per_day = 1 }}

[plans.limits.api_calls]
period = \"day\"
value = -5
"
    );
    let err = parse(&text).expect_err("negative limit");
    assert_eq!(err.line, Some(17));
    assert_eq!(err.field.as_deref(), Some("plans[free].limits.api_calls.value"));
    assert!(err.to_string().contains("must be zero or more, got -5"), "{err}");
}

#[test]
fn a_wrong_type_names_the_line_and_the_key() {
    let text = format!(
        "{METERS}
[[plans]]
id = \"free\"
name = \"Free\"
rank = \"first\"
price = 0
rate_limits = {{ per_minute = 1, per_day = 1 }}
"
    );
    let err = parse(&text).expect_err("wrong type");
    assert_eq!(err.line, Some(11));
    assert_eq!(err.field.as_deref(), Some("rank"));
    assert!(err.message.contains("invalid type"), "{err}");
}

#[test]
fn a_misspelt_field_and_a_bad_period_are_refused() {
    let typo = format!("{METERS}\n[[plans]]\nid = \"free\"\nnmae = \"Free\"\n");
    let err = parse(&typo).expect_err("typo");
    assert!(err.message.contains("unknown field `nmae`"), "{err}");
    assert_eq!(err.line, Some(10));

    let period = format!(
        "{METERS}
[[plans]]
id = \"free\"
name = \"Free\"
rank = 0
price = 0
rate_limits = {{ per_minute = 1, per_day = 1 }}
limits.api_calls = {{ value = 5, period = \"fortnight\" }}
"
    );
    let err = parse(&period).expect_err("bad period");
    assert!(err.message.contains("fortnight"), "{err}");
    assert_eq!(err.line, Some(14));
}

#[test]
fn duplicate_plans_and_duplicate_ranks_are_refused() {
    let plan = |id: &str, rank: u32| {
        format!(
            "\n[[plans]]\nid = \"{id}\"\nname = \"X\"\nrank = {rank}\nprice = 0\nrate_limits = {{ per_minute = 1, per_day = 1 }}\n"
        )
    };
    let twice = format!("{METERS}{}{}", plan("free", 0), plan("free", 1));
    assert!(parse(&twice).expect_err("dup").message.contains("defined twice"));
    let ranks = format!("{METERS}{}{}", plan("free", 0), plan("pro", 0));
    assert!(parse(&ranks).expect_err("dup rank").message.contains("rank 0"));
    assert!(parse(METERS).expect_err("no plans").message.contains("plans") );
}

#[test]
fn an_unreadable_file_names_the_path() {
    let err = Catalog::from_file(Path::new("/nonexistent/plans.toml")).expect_err("missing");
    assert_eq!(err.source_name, "/nonexistent/plans.toml");
    assert!(err.to_string().contains("cannot read the file"), "{err}");
}

#[test]
fn the_demo_catalog_maps_the_demo_provider_products_to_plans() {
    let billing = Catalog::demo().expect("demo").billing;
    assert_eq!(billing.whop_plans.get("plan_demo_pro").map(String::as_str), Some("pro"));
    assert_eq!(billing.whop_plans.get("plan_demo_starter").map(String::as_str), Some("starter"));
    assert_eq!(billing.stripe_prices.get("price_demo_pro").map(String::as_str), Some("pro"));
    assert_eq!(billing.stripe_prices.get("price_demo_starter").map(String::as_str), Some("starter"));
    assert_eq!(billing.past_due_grace_days, 7);
}

#[test]
fn a_provider_mapping_to_an_unknown_plan_names_the_line_and_the_field() {
    let text = format!(
        "[billing.whop.plans]\nplan_x = \"platinum\"\n{METERS}\n[[plans]]\nid = \"free\"\nname = \"Free\"\nrank = 0\nprice = 0\nrate_limits = {{ per_minute = 1, per_day = 1 }}\n"
    );
    let err = parse(&text).expect_err("unknown plan");
    assert_eq!(err.line, Some(2));
    assert_eq!(err.field.as_deref(), Some("billing.whop.plans.plan_x"));
    assert!(err.message.contains("unknown plan `platinum`"), "{err}");
}

#[test]
fn alert_defaults_come_from_the_catalog_and_nonsense_is_refused() {
    const PLAN: &str = "\n[[plans]]\nid = \"free\"\nname = \"Free\"\nrank = 0\nprice = 0\nrate_limits = { per_minute = 10, per_day = 100 }\n";
    let defaults = parse(&format!("{METERS}{PLAN}")).expect("valid");
    assert_eq!(defaults.alerts, AlertDefaults { daily_requests_percent: 90.0, license_expiry_days: 7 });
    let own = parse(&format!("[alerts]\ndaily_requests_percent = 75\nlicense_expiry_days = 14\n{METERS}{PLAN}")).expect("valid");
    assert_eq!(own.alerts, AlertDefaults { daily_requests_percent: 75.0, license_expiry_days: 14 });
    for (table, field) in [
        ("daily_requests_percent = 0", "alerts.daily_requests_percent"),
        ("daily_requests_percent = 101", "alerts.daily_requests_percent"),
        ("license_expiry_days = 0", "alerts.license_expiry_days"),
        ("license_expiry_days = 365", "alerts.license_expiry_days"),
    ] {
        let err = parse(&format!("[alerts]\n{table}\n{METERS}{PLAN}")).expect_err(table);
        assert_eq!(err.field.as_deref(), Some(field), "{table}: {err}");
    }
    assert!(parse(&format!("[alerts]\nsoon = 3\n{METERS}{PLAN}")).is_err(), "unknown settings are refused");
}
