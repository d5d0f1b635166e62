use chrono::Utc;
use engine::Engine;
use reqwest::header::{HeaderMap, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use server::{open_engine, router, ServerConfig};
use std::net::SocketAddr;

pub struct TestApp {
    pub base: String,
    pub engine: Engine,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A signed-in browser: its session cookie.
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    spawn_app_full(TestOptions::default(), configure).await
}

/// What a test may change about the server it starts.
#[derive(Default)]
pub struct TestOptions {
    /// A plan catalog (TOML) instead of the demo catalog.
    pub catalog: Option<String>,
    /// A clock the test moves by hand.
    pub clock: Option<engine::Clock>,
    pub service_rate_per_second: Option<u64>,
    pub whop_secret: Option<String>,
    pub stripe_secret: Option<String>,
    /// Email and webhook delivery (a mail server, allowed networks, the retry schedule).
    pub delivery: Option<engine::DeliveryConfig>,
}

pub async fn spawn_app_full(options: TestOptions, configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let catalog = options.catalog.map(|text| {
        let path = dir.path().join("plans.toml");
        std::fs::write(&path, text).expect("write catalog");
        path
    });
    let store = server::config::StoreArgs { database_url: format!("sqlite://{}", dir.path().join("test.db").display()), catalog };
    let mut engine_config = engine::EngineConfig { billing_portal_url: Some("https://billing.example/portal".into()), ..Default::default() };
    if let Some(clock) = options.clock {
        engine_config.clock = clock;
    }
    engine_config.whop_webhook_secrets = options.whop_secret.into_iter().collect();
    engine_config.stripe_webhook_secrets = options.stripe_secret.into_iter().collect();
    if let Some(rate) = options.service_rate_per_second {
        engine_config.service_rate_per_second = rate;
    }
    if let Some(delivery) = options.delivery {
        engine_config.delivery = delivery;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    engine_config.public_url = format!("http://{addr}");
    let engine = open_engine(&store, engine_config).await.expect("engine");
    let mut config = ServerConfig {
        addr,
        site_root: dir.path().display().to_string(),
        signup_enabled: true,
        public_url: format!("http://{addr}"),
        metrics_token: None,
        trusted_proxies: Vec::new(),
    };
    configure(&mut config);
    let app = router(engine.clone(), &config);
    // The alert queue and the deliveries run as in the server (the other jobs do not).
    let alerts = engine.clone();
    tokio::spawn(async move { alerts.run_alert_queue(std::future::pending()).await });
    let deliveries = engine.clone();
    tokio::spawn(async move { deliveries.run_deliveries(std::future::pending()).await });
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A hung request fails its test in a minute instead of hanging the suite.
        .timeout(std::time::Duration::from_secs(60))
        .build().expect("client");
    TestApp { base: format!("http://{addr}"), engine, client, _dir: dir }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("request")
    }

    pub async fn get_as(&self, session: &Session, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.base)).header(COOKIE, &session.cookie).send().await.expect("request")
    }

    pub async fn get_with_key(&self, key: &str, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.base)).bearer_auth(key).send().await.expect("request")
    }

    pub async fn json_as(&self, session: &Session, path: &str) -> Value {
        let response = self.get_as(session, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json body")
    }

    /// Calls a server function the way the browser does: a form POST from the site's origin.
    pub async fn server_fn(&self, session: Option<&Session>, endpoint: &str, form: &[(&str, &str)]) -> Response {
        let mut request = self.client.post(format!("{}/api/{endpoint}", self.base)).header(ORIGIN, &self.base).form(form);
        if let Some(session) = session {
            request = request.header(COOKIE, &session.cookie);
        }
        request.send().await.expect("request")
    }

    /// Signs in through the real server function; panics unless it succeeds.
    pub async fn sign_in(&self, email: &str, password: &str) -> Session {
        let response = self.server_fn(None, "session/sign_in", &[("email", email), ("password", password)]).await;
        assert!(response.status().is_success() || response.status().is_redirection(), "sign in as {email}: {}", response.status());
        Session { cookie: session_cookie(response.headers()).expect("a session cookie") }
    }

    pub async fn seed_demo(&self) {
        self.engine.seed_demo(Utc::now()).await.expect("seed demo");
    }

    /// A service key, straight from the engine.
    pub async fn service_key(&self) -> String {
        let name = engine::auth::KeyName::parse("tests").expect("name");
        self.engine.create_key("test", None, model::KeyKind::Service, &name, None, Utc::now()).await.expect("service key").plaintext
    }

    /// A live key of an account.
    pub async fn customer_key(&self, account: &str) -> String {
        let name = engine::auth::KeyName::parse("tests").expect("name");
        let account = engine::AccountId::parse(account).expect("account id");
        self.engine.create_key("test", Some(&account), model::KeyKind::Live, &name, None, Utc::now()).await.expect("customer key").plaintext
    }

    /// A live key of an account that may also manage the account's keys.
    pub async fn manager_key(&self, account: &str) -> String {
        let name = engine::auth::KeyName::parse("manager").expect("name");
        let account = engine::AccountId::parse(account).expect("account id");
        let scopes = [model::KeyScope::ManageKeys];
        self.engine.create_scoped_key("test", Some(&account), model::KeyKind::Live, &name, None, &scopes, Utc::now()).await.expect("key").plaintext
    }

    /// Adds an account with an active license on `plan`.
    pub async fn account(&self, id: &str, plan: &str) {
        let new = engine::accounts::NewAccount {
            id: engine::AccountId::parse(id).expect("id"),
            name: id.to_owned(),
            plan_id: plan.to_owned(),
            status: model::LicenseStatus::Active,
            seats: 1,
            starts_at: self.engine.now(),
            expires_at: None,
        };
        self.engine.create_account(&new).await.expect("account");
    }

    /// POSTs JSON with a bearer key.
    pub async fn post_json(&self, key: &str, path: &str, body: &Value) -> Response {
        self.client.post(format!("{}{path}", self.base)).bearer_auth(key).json(body).send().await.expect("request")
    }

    /// The stored value of a rollup row (0 when absent).
    pub async fn rollup(&self, table: &str, account: &str, meter: &str) -> f64 {
        let sql = format!("SELECT COALESCE(SUM(value), 0) FROM {table} WHERE account_id = $1 AND meter = $2");
        sqlx::query_scalar(&sql).bind(account).bind(meter).fetch_one(self.engine.db().pool()).await.expect("rollup")
    }

    /// Today's (UTC) daily rollup of a meter.
    pub async fn today(&self, account: &str, meter: &str) -> f64 {
        sqlx::query_scalar("SELECT COALESCE(SUM(value), 0) FROM usage_daily WHERE account_id = $1 AND meter = $2 AND day = $3")
            .bind(account)
            .bind(meter)
            .bind(Utc::now().date_naive())
            .fetch_one(self.engine.db().pool())
            .await
            .expect("today")
    }

    /// The status of an entitlement check made with `key` (a service key).
    pub async fn entitlement_status(&self, key: &str) -> u16 {
        self.get_with_key(key, "/api/v1/entitlements/exports?account_id=acc_initech").await.status().as_u16()
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(self.engine.db().pool()).await.expect("count")
    }
}

/// `tg_session=…` (or `__Host-tg_session=…` over https) from a response's `Set-Cookie`,
/// if it sets a live one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| (v.starts_with("tg_session=") || v.starts_with("__Host-tg_session=")) && !v.contains("Max-Age=0"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

pub fn set_cookie_header(headers: &HeaderMap) -> String {
    headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join("\n")
}

pub async fn error_code(response: Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or_default().to_owned();
    let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
    (status, code, message)
}

pub const OWNER: (&str, &str) = ("owner@initech.example", "initech-owner-demo");
pub const MEMBER: (&str, &str) = ("member@initech.example", "initech-member-demo");
pub const ADMIN: (&str, &str) = ("admin@tollgate.example", "tollgate-admin-demo");
