//! Sign-in, sessions, CSRF and bad input, through the server functions the browser uses.

use crate::helpers::*;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, REFERER, RETRY_AFTER};
use serde_json::Value;

#[tokio::test]
async fn the_session_cookie_is_http_only_same_site_lax_and_not_secure_over_http() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let response = app.server_fn(None, "session/sign_in", &[("email", OWNER.0), ("password", OWNER.1)]).await;
    let set_cookie = set_cookie_header(response.headers());
    assert!(set_cookie.starts_with("tg_session="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(attribute), "{attribute} missing: {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    assert_eq!(response.headers()[LOCATION], "/dashboard");
}

#[tokio::test]
async fn behind_https_the_session_cookie_is_secure() {
    let app = spawn_app_with(|c| c.public_url = "https://tollgate.example".into()).await;
    app.seed_demo().await;
    let response = app
        .client
        .post(format!("{}/api/session/sign_in", app.base))
        .header(ORIGIN, "https://tollgate.example")
        .form(&[("email", OWNER.0), ("password", OWNER.1)])
        .send()
        .await
        .expect("request");
    assert!(set_cookie_header(response.headers()).contains("; Secure"));
}

#[tokio::test]
async fn every_sign_in_gets_a_new_session_id_and_the_old_one_stops_working() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let first = app.sign_in(OWNER.0, OWNER.1).await;
    // Signing in again from the same browser replaces its session.
    let response = app.server_fn(Some(&first), "session/sign_in", &[("email", OWNER.0), ("password", OWNER.1)]).await;
    let second = Session { cookie: session_cookie(response.headers()).expect("new cookie") };
    assert_ne!(first.cookie, second.cookie);
    assert_eq!(app.get_as(&first, "/api/license/status").await.status(), 401);
    assert_eq!(app.get_as(&second, "/api/license/status").await.status(), 200);
}

#[tokio::test]
async fn after_sign_out_the_old_cookie_is_rejected_everywhere() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let session = app.sign_in(OWNER.0, OWNER.1).await;
    assert_eq!(app.get_as(&session, "/dashboard").await.status(), 200);
    let out = app.server_fn(Some(&session), "session/sign_out", &[]).await;
    assert!(set_cookie_header(out.headers()).contains("Max-Age=0"), "the cookie is cleared");
    assert_eq!(app.get_as(&session, "/api/license/status").await.status(), 401);
    let page = app.get_as(&session, "/dashboard").await;
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()[LOCATION], "/signin?next=/dashboard");
    assert_eq!(app.server_fn(Some(&session), "keys/list", &[]).await.status(), 401);
}

#[tokio::test]
async fn a_signed_out_visitor_is_sent_to_sign_in_and_back() {
    let app = spawn_app().await;
    for page in ["/dashboard", "/keys", "/account", "/admin"] {
        let response = app.get(page).await;
        assert_eq!(response.status(), 303, "{page}");
        assert_eq!(response.headers()[LOCATION], format!("/signin?next={page}").as_str());
    }
    assert_eq!(app.get("/signin").await.status(), 200);
}

#[tokio::test]
async fn a_wrong_password_gets_a_clear_message_that_does_not_reveal_the_email() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let wrong = app.server_fn(None, "session/sign_in", &[("email", OWNER.0), ("password", "not the password")]).await;
    assert_eq!(wrong.status(), 401);
    assert!(session_cookie(wrong.headers()).is_none());
    let wrong: Value = wrong.json().await.expect("json");
    let unknown = app.server_fn(None, "session/sign_in", &[("email", "nobody@initech.example"), ("password", "not the password")]).await;
    assert_eq!(unknown.status(), 401);
    let unknown: Value = unknown.json().await.expect("json");
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, serde_json::json!("BadCredentials"));
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_429_and_retry_after() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = app.server_fn(None, "session/sign_in", &[("email", MEMBER.0), ("password", "guess guess")]).await;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            let retry: u64 = r.headers()[RETRY_AFTER].to_str().expect("ascii").parse().expect("seconds");
            assert!(retry > 0);
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    let right = app.server_fn(None, "session/sign_in", &[("email", MEMBER.0), ("password", MEMBER.1)]).await;
    assert_eq!(right.status(), 429, "still throttled, even with the right password");
}

#[tokio::test]
async fn cross_origin_and_origin_less_posts_to_server_functions_are_refused() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let session = app.sign_in(OWNER.0, OWNER.1).await;
    let keys_before = app.count("api_keys").await;
    let url = format!("{}/api/keys/create", app.base);
    let form = [("name", "evil"), ("environment", "live")];

    let evil = app.client.post(&url).header(COOKIE, &session.cookie).header(ORIGIN, "http://evil.example").form(&form).send().await.expect("r");
    let (status, code, message) = error_code(evil).await;
    assert_eq!((status.as_u16(), code.as_str()), (403, "csrf"));
    assert!(message.contains("cross-origin"), "{message}");

    let bare = app.client.post(&url).header(COOKIE, &session.cookie).form(&form).send().await.expect("r");
    assert_eq!(bare.status(), 403);
    let bad_referer = app.client.post(&url).header(COOKIE, &session.cookie).header(REFERER, "http://evil.example/page").form(&form).send().await.expect("r");
    assert_eq!(bad_referer.status(), 403);
    assert_eq!(app.count("api_keys").await, keys_before, "nothing was created");

    let good_referer = app.client.post(&url).header(COOKIE, &session.cookie).header(REFERER, format!("{}/keys", app.base)).form(&form).send().await.expect("r");
    assert_eq!(good_referer.status(), 200);
    assert_eq!(app.count("api_keys").await, keys_before + 1);
}

#[tokio::test]
async fn state_changing_server_functions_have_no_get_encoding() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let session = app.sign_in(OWNER.0, OWNER.1).await;
    let before = app.count("api_keys").await;
    for endpoint in ["keys/create?name=x&environment=live", "session/sign_out", "keys/revoke?id=x", "session/password"] {
        let response = app.get_as(&session, &format!("/api/{endpoint}")).await;
        assert!(!response.status().is_success(), "GET /api/{endpoint} answered {}", response.status());
    }
    assert_eq!(app.count("api_keys").await, before);
    assert_eq!(app.get_as(&session, "/api/license/status").await.status(), 200, "still signed in");
}

#[tokio::test]
async fn a_password_change_ends_the_session_and_optionally_the_others() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let laptop = app.sign_in(OWNER.0, OWNER.1).await;
    let phone = app.sign_in(OWNER.0, OWNER.1).await;
    let response = app
        .server_fn(Some(&laptop), "session/password", &[
            ("current_password", OWNER.1),
            ("new_password", "a brand new password"),
            ("sign_out_others", "on"),
        ])
        .await;
    assert_eq!(response.status(), 200);
    let renewed = Session { cookie: session_cookie(response.headers()).expect("new session") };
    assert_eq!(app.get_as(&laptop, "/api/license/status").await.status(), 401);
    assert_eq!(app.get_as(&phone, "/api/license/status").await.status(), 401);
    assert_eq!(app.get_as(&renewed, "/api/license/status").await.status(), 200);
    app.sign_in(OWNER.0, "a brand new password").await;
}

#[tokio::test]
async fn sign_up_creates_a_free_account_and_can_be_turned_off() {
    let app = spawn_app().await;
    let response = app.server_fn(None, "session/sign_up", &[("email", "new@example.com"), ("password", "long enough"), ("account_name", "New Co")]).await;
    let session = Session { cookie: session_cookie(response.headers()).expect("signed in") };
    let status = app.json_as(&session, "/api/license/status").await;
    assert_eq!((status["tier"].as_str(), status["account_name"].as_str()), (Some("free"), Some("New Co")));

    let closed = spawn_app_with(|c| c.signup_enabled = false).await;
    let refused = closed.server_fn(None, "session/sign_up", &[("email", "new@example.com"), ("password", "long enough"), ("account_name", "New Co")]).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(closed.count("accounts").await, 0);
}

#[tokio::test]
async fn bad_sign_up_input_gets_clear_messages_and_changes_nothing() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let (users, accounts) = (app.count("users").await, app.count("accounts").await);
    let long_email = format!("{}@example.com", "a".repeat(300));
    let huge_password = "p".repeat(10 * 1024);
    let cases: [(&str, &str, &str, &str); 9] = [
        ("", "long enough", "Co", "enter your email"),
        ("not-an-email", "long enough", "Co", "needs an @"),
        (&long_email, "long enough", "Co", "at most 254"),
        ("x'); DROP TABLE users;--@example.com", "long enough", "Co", "cannot contain spaces"),
        ("ann@example.com", &huge_password, "Co", "at most 256"),
        ("ann@example.com", "short", "Co", "at least 8"),
        ("ann@example.com", "long enough", "", "account name"),
        ("ann@example.com", "long enough", "\u{0}\u{7}", "account name"),
        (OWNER.0, "long enough", "Co", "already has a user"),
    ];
    for (email, password, name, expected) in cases {
        let response = app.server_fn(None, "session/sign_up", &[("email", email), ("password", password), ("account_name", name)]).await;
        let status = response.status();
        assert!(status.is_client_error(), "{email:.30}: {status}");
        let body = response.text().await.expect("body");
        assert!(body.contains(expected), "{email:.30} / {password:.10}: expected {expected:?} in {body}");
    }
    // Unicode is fine where it belongs.
    let ok = app.server_fn(None, "session/sign_up", &[("email", "jörg@exämple.de"), ("password", "pässwörd-ünïcode"), ("account_name", "Jörg & Søn 株式会社")]).await;
    assert!(ok.status().is_success() || ok.status().is_redirection(), "{}", ok.status());
    assert_eq!(app.count("users").await, users + 1);
    assert_eq!(app.count("accounts").await, accounts + 1);
    app.sign_in("jörg@exämple.de", "pässwörd-ünïcode").await;
}

#[tokio::test]
async fn bad_sign_in_input_is_refused_without_panics_or_leaks() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let long_email = "a".repeat(10_000);
    let huge_password = "p".repeat(10 * 1024);
    for (email, password) in [("", ""), (&long_email[..], "x"), (OWNER.0, &huge_password[..]), ("' OR 1=1 --", "' OR 1=1 --"), ("ünïcödé@例え.jp", "密码密码密码密码")] {
        let response = app.server_fn(None, "session/sign_in", &[("email", email), ("password", password)]).await;
        assert_eq!(response.status(), 401, "{email:.20}");
        assert!(session_cookie(response.headers()).is_none());
    }
    // A malformed request (missing fields) is a 4xx with a message, not a crash.
    let response = app.server_fn(None, "session/sign_in", &[("nonsense", "1")]).await;
    assert!(response.status().is_client_error(), "{}", response.status());
    assert!(response.text().await.expect("body").contains("malformed"));
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// The sign-in page is server HTML: its form posts without WASM, and a wrong password must
/// bring the browser back to the form with the message, not leave it on a JSON error.
#[tokio::test]
async fn a_failed_form_post_from_a_page_goes_back_to_it_with_the_error() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let page = format!("{}/signin?next=%2Fkeys", app.base);
    let response = app
        .client
        .post(format!("{}/api/session/sign_in", app.base))
        .header(ORIGIN, &app.base)
        .header(REFERER, &page)
        .header(reqwest::header::ACCEPT, "text/html")
        .form(&[("email", OWNER.0), ("password", "not the password")])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 303, "a browser follows only a redirect");
    let location = response.headers()[LOCATION].to_str().expect("location").to_owned();
    assert!(location.starts_with(&page) && location.contains("__err="), "{location}");
    assert!(session_cookie(response.headers()).is_none(), "no session for a wrong password");

    // The page it goes back to shows the message by the form.
    let html = app.client.get(&location).send().await.expect("page").text().await.expect("body");
    assert!(html.contains("data-testid=\"signin-error\"") && html.contains("wrong email or password"), "{html}");

    // A script's call (no text/html) keeps its status and JSON body.
    let script = app.server_fn(None, "session/sign_in", &[("email", OWNER.0), ("password", "not the password")]).await;
    assert_eq!(script.status(), 401);
}
