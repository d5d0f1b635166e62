//! The upgrade journey over real HTTP: gated server functions, the request, the admin's
//! answer, and the plan changing everywhere at once.

use crate::helpers::*;
use serde_json::Value;

const HOOLI: (&str, &str) = ("owner@hooli.example", "hooli-owner-demo");
const ACME: (&str, &str) = ("owner@acme.example", "acme-owner-demo");

async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn gated_server_functions_refuse_a_free_session_with_the_plan_that_unlocks_them() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let free = app.sign_in(OWNER.0, OWNER.1).await;
    let (status, body) = json(app.server_fn(Some(&free), "export/usage", &[("days", "30")]).await).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["UpgradeRequired"]["feature"], "exports", "{body}");
    assert_eq!(body["UpgradeRequired"]["required_plan"], "pro", "{body}");
    let (status, body) = json(app.server_fn(Some(&free), "analytics", &[("days", "30")]).await).await;
    assert_eq!((status, body["UpgradeRequired"]["required_plan"].as_str()), (403, Some("pro")), "{body}");
    let (status, body) = json(app.server_fn(Some(&free), "alerts/set", &[("meter", "memories"), ("thresholds", "50%")]).await).await;
    assert_eq!((status, body["UpgradeRequired"]["required_plan"].as_str()), (403, Some("starter")), "{body}");
    // The same account's key on the REST API gets the same answer.
    let key = app.customer_key("acc_initech").await;
    let (status, body) = json(app.get_with_key(&key, "/api/v1/users/me/usage.csv").await).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("upgrade_required")));

    // Pro: the export is real CSV for the asked period, and analytics has every meter.
    let pro = app.sign_in(ACME.0, ACME.1).await;
    let (status, csv) = json(app.server_fn(Some(&pro), "export/usage", &[("days", "7")]).await).await;
    assert_eq!(status, 200);
    let csv = csv.as_str().expect("a CSV string");
    assert!(csv.starts_with("day,meter,value\n"));
    assert_eq!(csv.lines().count(), 1 + 7 * 3);
    let (status, analytics) = json(app.server_fn(Some(&pro), "analytics", &[("days", "90")]).await).await;
    assert_eq!(status, 200);
    let meters = analytics.as_array().expect("meters");
    assert_eq!(meters.len(), 3);
    assert!(meters.iter().all(|m| m["days"].as_array().map(Vec::len) == Some(90)));
    let calls = meters.iter().find(|m| m["meter"] == "api_calls").expect("api_calls");
    let sum: f64 = calls["days"].as_array().expect("days").iter().map(|d| d["value"].as_f64().unwrap_or(0.0)).sum();
    assert_eq!(calls["total"].as_f64(), Some(sum));
    // Bad periods are the person's to fix, not a crash.
    assert_eq!(app.server_fn(Some(&pro), "analytics", &[("days", "31")]).await.status(), 422);
    assert_eq!(app.server_fn(Some(&pro), "export/usage", &[("days", "lots")]).await.status(), 400);
}

#[tokio::test]
async fn a_request_is_approved_and_the_plan_changes_everywhere_at_once() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let hooli = app.sign_in(HOOLI.0, HOOLI.1).await;
    let key = app.customer_key("acc_hooli").await;

    // The license context: free, exports locked and naming Pro, a suggestion on the dashboard.
    let (_, license) = json(app.server_fn(Some(&hooli), "license", &[]).await).await;
    assert_eq!(license["plan"]["tier"], "free");
    let exports = license["features"].as_array().expect("features").iter().find(|f| f["feature"] == "exports").expect("exports").clone();
    assert_eq!((exports["allowed"].as_bool(), exports["required_plan"].as_str()), (Some(false), Some("pro")));
    assert!(!license.to_string().contains("lic_"), "no license id reaches the browser");
    let (_, dashboard) = json(app.server_fn(Some(&hooli), "overview", &[]).await).await;
    assert!(!dashboard["suggestions"].as_array().expect("suggestions").is_empty(), "Hooli is over its limits");

    // Inline validation: each bad field is named.
    for (form, field) in [
        (vec![("tier", "free"), ("justification", "we need more room"), ("contact_email", "ops@hooli.example")], "tier"),
        (vec![("tier", "pro"), ("justification", "pls"), ("contact_email", "ops@hooli.example")], "justification"),
        (vec![("tier", "pro"), ("justification", "we need more room"), ("contact_email", "not an email")], "contact_email"),
    ] {
        let (status, body) = json(app.server_fn(Some(&hooli), "upgrade/request", &form).await).await;
        assert_eq!((status, body["Invalid"]["field"].as_str()), (422, Some(field)), "{body}");
    }
    let hostile = "<script>alert('x')</script> We outgrew the free plan";
    let form = [("tier", "pro"), ("justification", hostile), ("contact_email", "ops@hooli.example")];
    let (status, request) = json(app.server_fn(Some(&hooli), "upgrade/request", &form).await).await;
    assert_eq!(status, 200, "{request}");
    assert_eq!(request["status"], "pending");
    assert!(!request["evidence"]["pain_points"].as_array().expect("pain points").is_empty());
    let id = request["id"].as_str().expect("id").to_owned();
    let (status, body) = json(app.server_fn(Some(&hooli), "upgrade/request", &form).await).await;
    assert_eq!((status, body["Invalid"]["field"].as_str()), (409, Some("request")), "one pending request per account: {body}");

    // Customers cannot see the inbox or answer their own request.
    assert_eq!(app.server_fn(Some(&hooli), "admin/requests", &[]).await.status(), 403);
    assert_eq!(app.server_fn(Some(&hooli), "admin/requests/approve", &[("id", &id)]).await.status(), 403);

    // The admin's inbox shows it, escaped in the page.
    let admin = app.sign_in(ADMIN.0, ADMIN.1).await;
    let (_, inbox) = json(app.server_fn(Some(&admin), "admin/requests", &[]).await).await;
    assert_eq!(inbox[0]["id"], id.as_str());
    let page = app.get_as(&admin, "/admin/requests").await.text().await.expect("page");
    assert!(page.contains("We outgrew the free plan") && !page.contains("<script>alert"), "the justification is escaped");

    let (status, approved) = json(app.server_fn(Some(&admin), "admin/requests/approve", &[("id", &id)]).await).await;
    assert_eq!((status, approved["status"].as_str()), (200, Some("approved")), "{approved}");
    assert_eq!(app.server_fn(Some(&admin), "admin/requests/approve", &[("id", &id)]).await.status(), 409, "approved once");

    // Everywhere at once: the license context, the dashboard, the server function and the REST key.
    let (_, license) = json(app.server_fn(Some(&hooli), "license", &[]).await).await;
    assert_eq!(license["plan"]["tier"], "pro");
    assert_eq!(license["notice"]["status"], "approved");
    let (status, _) = json(app.server_fn(Some(&hooli), "export/usage", &[("days", "30")]).await).await;
    assert_eq!(status, 200);
    assert_eq!(app.get_with_key(&key, "/api/v1/users/me/usage.csv").await.status(), 200);
    let (_, dashboard) = json(app.server_fn(Some(&hooli), "overview", &[]).await).await;
    assert_eq!(dashboard["plan_history"][0]["to_plan"], "pro");
    assert_eq!(dashboard["plan_history"][0]["source"], "admin");
}

#[tokio::test]
async fn a_declined_sales_request_shows_its_reason_and_members_cannot_ask() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let member = app.sign_in(MEMBER.0, MEMBER.1).await;
    let form = [("tier", "pro"), ("justification", "we need more room"), ("contact_email", "m@initech.example")];
    assert_eq!(app.server_fn(Some(&member), "upgrade/request", &form).await.status(), 403, "owners ask");

    let acme = app.sign_in(ACME.0, ACME.1).await;
    let form = [("tier", "enterprise"), ("justification", "we need an SLA and 2M calls a day"), ("contact_email", "cto@acme.example")];
    let (status, request) = json(app.server_fn(Some(&acme), "upgrade/request", &form).await).await;
    assert_eq!((status, request["kind"].as_str()), (200, Some("sales")), "{request}");
    let id = request["id"].as_str().expect("id").to_owned();

    let admin = app.sign_in(ADMIN.0, ADMIN.1).await;
    let (status, body) = json(app.server_fn(Some(&admin), "admin/requests/decline", &[("id", &id), ("reason", " ")]).await).await;
    assert_eq!((status, body["Invalid"]["field"].as_str()), (422, Some("reason")), "a reason is required");
    let reason = "Enterprise starts at 50 seats; let's talk at your renewal";
    let (status, _) = json(app.server_fn(Some(&admin), "admin/requests/decline", &[("id", &id), ("reason", reason)]).await).await;
    assert_eq!(status, 200);
    let (_, license) = json(app.server_fn(Some(&acme), "license", &[]).await).await;
    assert_eq!(license["plan"]["tier"], "pro", "unchanged");
    assert_eq!(license["notice"]["status"], "declined");
    assert_eq!(license["notice"]["decline_reason"], reason);
    // Malformed calls get a 400 that says so, and store nothing.
    assert_eq!(app.server_fn(Some(&admin), "admin/requests/decline", &[("id", &id)]).await.status(), 400);
}

#[tokio::test]
async fn the_plans_page_is_public() {
    let app = spawn_app().await;
    let response = app.get("/plans").await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.expect("page");
    for text in ["Free", "Starter", "Pro", "Enterprise", "Custom", "$30/mo", "Advanced analytics"] {
        assert!(page.contains(text), "/plans shows {text}");
    }
    let (status, tiers) = json(app.get("/api/plans").await).await;
    // Server functions are POST; a GET is refused rather than served.
    assert_ne!(status, 200, "{tiers}");
}

/// The `<input>` tag of the tier radio with this value, on an `/upgrade` page.
fn tier_radio<'a>(page: &'a str, tier: &str) -> &'a str {
    let at = page.find(&format!("name=\"tier\" value=\"{tier}\"")).unwrap_or_else(|| panic!("no {tier} radio"));
    let start = page[..at].rfind('<').expect("tag start");
    let end = at + page[at..].find('>').expect("tag end");
    &page[start..=end]
}

#[tokio::test]
async fn the_upgrade_page_is_the_modals_content_for_the_signed_in_account_only() {
    let app = spawn_app().await;
    app.seed_demo().await;

    // Signed out: to sign in, and back to the same choice.
    let response = app.get("/upgrade?tier=pro").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[reqwest::header::LOCATION], "/signin?next=/upgrade%3Ftier%3Dpro");

    let hooli = app.sign_in(HOOLI.0, HOOLI.1).await;
    let page = app.get_as(&hooli, "/upgrade?tier=pro").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("page");
    assert!(page.contains("data-upgrade-dialog"), "the part the modal reads");
    assert!(tier_radio(&page, "pro").contains("checked"), "{}", tier_radio(&page, "pro"));
    assert!(!tier_radio(&page, "starter").contains("checked"));
    assert!(tier_radio(&page, "free").contains("disabled"), "the current tier cannot be asked for");
    assert!(page.contains("Attached automatically: your last 30 days"));
    assert!(page.contains(&format!("value=\"{}\"", HOOLI.0)), "the contact email is prefilled");
    assert!(!page.contains("lic_") && !page.contains("Initech"), "nothing of another account, no license id");

    // A hostile or unknown tier is not echoed, and the next tier up is chosen instead.
    let page = app.get_as(&hooli, "/upgrade?tier=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await.text().await.expect("page");
    assert!(!page.contains("<script>alert(1)"));
    assert!(tier_radio(&page, "starter").contains("checked"));
    let page = app.get_as(&hooli, "/upgrade?tier=*sales").await.text().await.expect("page");
    assert!(tier_radio(&page, "enterprise").contains("checked"), "the contact-sales form");

    // After a request: `?sent` says it was sent; without it, that one is pending.
    let form = [("tier", "pro"), ("justification", "We keep hitting the daily call limit."), ("contact_email", HOOLI.0)];
    assert_eq!(app.server_fn(Some(&hooli), "upgrade/request", &form).await.status(), 200);
    let sent = app.get_as(&hooli, "/upgrade?sent").await.text().await.expect("page");
    assert!(sent.contains("data-testid=\"request-sent\"") && sent.contains("Your request for Pro is pending"), "{sent}");
    let pending = app.get_as(&hooli, "/upgrade").await.text().await.expect("page");
    assert!(pending.contains("data-testid=\"modal-pending\"") && !pending.contains("name=\"tier\""));
}
