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
    let dir = tempfile::tempdir().expect("tempdir");
    let store = server::cli::StoreArgs {
        database_url: format!("sqlite://{}", dir.path().join("test.db").display()),
        catalog: None,
    };
    let engine = open_engine(&store, Some("https://billing.example/portal".into())).await.expect("engine");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = ServerConfig {
        addr,
        site_root: dir.path().display().to_string(),
        signup_enabled: true,
        public_url: format!("http://{addr}"),
    };
    configure(&mut config);
    let app = router(engine.clone(), &config);
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await });
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
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

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(self.engine.db().pool()).await.expect("count")
    }
}

/// `tg_session=…` from a response's `Set-Cookie`, if it sets a live one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tg_session=") && !v.contains("Max-Age=0"))
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
