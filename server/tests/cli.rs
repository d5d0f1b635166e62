//! The real `tollgate` binary: help, bad configuration, JSON logs, health.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{tollgate, Running};

#[test]
fn help_documents_every_serve_flag_and_its_environment_variable() {
    let output = tollgate().args(["serve", "--help"]).output().expect("run");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "--addr", "TOLLGATE_ADDR", "127.0.0.1:3000",
        "--database", "TOLLGATE_DATABASE_URL", "sqlite://data/tollgate.db",
        "--demo", "TOLLGATE_DEMO",
        "--catalog", "TOLLGATE_CATALOG",
        "--log-format", "TOLLGATE_LOG_FORMAT",
    ] {
        assert!(help.contains(expected), "serve --help lacks {expected}:\n{help}");
    }
    let top = tollgate().arg("--help").output().expect("run");
    let top = String::from_utf8_lossy(&top.stdout);
    assert!(top.contains("serve") && top.contains("seed"), "{top}");
}

fn serve_with_catalog(catalog: &str) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plans.toml");
    std::fs::write(&path, catalog).expect("write catalog");
    let output = tollgate()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .arg("--catalog")
        .arg(&path)
        .arg("--database")
        .arg(format!("sqlite://{}", dir.path().join("t.db").display()))
        .output()
        .expect("run");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

const METER: &str = "[[meters]]\nkey = \"api_calls\"\nname = \"API calls\"\nunit = \"calls\"\naggregation = \"sum\"\n";

#[test]
fn an_unknown_meter_in_a_plan_stops_serve_with_a_message_naming_it() {
    let catalog = format!(
        "{METER}\n[[plans]]\nid = \"free\"\nname = \"Free\"\nrank = 0\nprice = 0\nrate_limits = {{ per_minute = 1, per_day = 1 }}\nlimits.bandwidth = {{ value = 1, period = \"day\" }}\n"
    );
    let (ok, stderr) = serve_with_catalog(&catalog);
    assert!(!ok);
    assert!(stderr.contains("plans.toml, line 13"), "{stderr}");
    assert!(stderr.contains("unknown meter `bandwidth`"), "{stderr}");
}

#[test]
fn a_negative_limit_stops_serve_with_a_message_naming_it() {
    let catalog = format!(
        "{METER}\n[[plans]]\nid = \"free\"\nname = \"Free\"\nrank = 0\nprice = 0\nrate_limits = {{ per_minute = 1, per_day = 1 }}\nlimits.api_calls = {{ value = -3, period = \"day\" }}\n"
    );
    let (ok, stderr) = serve_with_catalog(&catalog);
    assert!(!ok);
    assert!(stderr.contains("plans[free].limits.api_calls.value"), "{stderr}");
    assert!(stderr.contains("must be zero or more, got -3"), "{stderr}");
}

#[test]
fn an_unreadable_catalog_stops_serve_with_a_message_naming_the_file() {
    let output = tollgate()
        .args(["serve", "--addr", "127.0.0.1:0", "--catalog", "/nonexistent/plans.toml"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/plans.toml") && stderr.contains("cannot read"), "{stderr}");
}

#[test]
fn serve_creates_the_database_logs_json_and_answers_health_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("fresh/sub/tollgate.db");
    let mut child = Running(tollgate()
        .args(["serve", "--addr", "127.0.0.1:0", "--demo"])
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .env("TOLLGATE_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn"));
    let url = announced_url(&mut child).expect("the server announced its URL");
    assert!(db.exists(), "the database file and its folders were created");
    let health = raw_http::get_status(&format!("{url}/readyz"));
    drop(child);
    assert_eq!(health, 200);
}

#[test]
fn a_settings_file_configures_serve_and_the_environment_wins_over_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from_file = dir.path().join("from-file.db");
    let from_env = dir.path().join("from-env.db");
    let config = dir.path().join("tollgate.toml");
    std::fs::write(
        &config,
        format!("addr = \"127.0.0.1:0\"\nlog_format = \"json\"\ndatabase_url = \"sqlite://{}\"\nsignup = false\n", from_file.display()),
    )
    .expect("write config");
    // The environment names another database: it wins over the file.
    let mut child = Running(tollgate()
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .env("TOLLGATE_DATABASE_URL", format!("sqlite://{}", from_env.display()))
        .env_remove("TOLLGATE_LOG_FORMAT")
        .env_remove("TOLLGATE_ADDR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn"));
    // The file's log_format applies: every line is JSON.
    let url = announced_url(&mut child).expect("the server announced its URL (the file's addr applied)");
    assert_eq!(raw_http::get_status(&format!("{url}/readyz")), 200);
    drop(child);
    assert!(from_env.exists() && !from_file.exists(), "the environment's database wins over the file's");

    std::fs::write(&config, "adress = \"127.0.0.1:0\"\n").expect("write config");
    let output = tollgate().arg("serve").arg("--config").arg(&config).output().expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("unknown setting `adress`") && stderr.contains("tollgate.toml"), "{stderr}");
}

/// Reads the server's JSON log lines (each must be JSON) until it says where it serves.
fn announced_url(child: &mut Running) -> Option<String> {
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if let Some(rest) = entry["message"].as_str().and_then(|m| m.strip_prefix("Tollgate is serving at ")) {
            return Some(rest.to_owned());
        }
    }
    None
}

mod raw_http {
    /// A minimal blocking GET over a raw socket, returning the status code.
    pub fn get_status(url: &str) -> u16 {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").expect("http url");
        let (host, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
        let mut stream = std::net::TcpStream::connect(host).expect("connect");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0)
    }
}

fn db_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("ops.db").display())
}

#[test]
fn operators_list_accounts_add_users_and_create_keys_from_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = db_url(&dir);
    // Seed the demo data by starting and stopping nothing: `seed` adds generated accounts.
    let seeded = tollgate().args(["seed", "--accounts", "3", "--days", "2", "--database", &url]).output().expect("seed");
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));

    let listed = tollgate().args(["account", "list", "--json", "--database", &url]).output().expect("list");
    assert!(listed.status.success());
    let accounts: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(accounts.as_array().map(Vec::len), Some(3));
    let account = accounts[0]["id"].as_str().expect("id").to_owned();
    assert!(accounts[0]["plan"].is_string() && accounts[0]["status"].is_string());
    let table = tollgate().args(["account", "list", "--database", &url]).output().expect("table");
    assert!(String::from_utf8_lossy(&table.stdout).contains(&account));

    let added = tollgate()
        .args(["user", "add", "--email", "Ops@Example.com", "--role", "owner", "--account", &account, "--database", &url])
        .output()
        .expect("user add");
    let out = String::from_utf8_lossy(&added.stdout);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(out.contains("ops@example.com") && out.contains("Password (shown once): "), "{out}");
    let again = tollgate()
        .args(["user", "add", "--email", "ops@example.com", "--role", "owner", "--account", &account, "--database", &url])
        .env("TOLLGATE_USER_PASSWORD", "long enough")
        .output()
        .expect("dup");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let bad_role = tollgate().args(["user", "add", "--email", "x@example.com", "--role", "root", "--database", &url]).output().expect("role");
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role `root`"));

    let key = tollgate().args(["key", "create", "--account", &account, "--name", "ci", "--database", &url]).output().expect("key");
    let plaintext = String::from_utf8_lossy(&key.stdout).trim().to_owned();
    assert!(plaintext.starts_with("tg_live_") && plaintext.len() == 40, "{plaintext}");
    let service = tollgate().args(["key", "create", "--service", "--name", "backend", "--database", &url]).output().expect("svc");
    assert!(String::from_utf8_lossy(&service.stdout).trim().starts_with("tg_svc_"));
    let neither = tollgate().args(["key", "create", "--name", "x", "--database", &url]).output().expect("neither");
    assert!(!neither.status.success());
    let missing = tollgate().args(["key", "create", "--account", "acc_nope", "--name", "x", "--database", &url]).output().expect("missing");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no account acc_nope"));
}

/// Starts the real binary with demo data; returns it, its base URL, and its log lines so far.
fn start_demo_server(dir: &tempfile::TempDir) -> (Running, String, std::sync::mpsc::Receiver<String>) {
    let mut child = Running(tollgate()
        .args(["serve", "--addr", "127.0.0.1:0", "--demo", "--database", &db_url(dir)])
        .env("TOLLGATE_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn"));
    let (tx, rx) = std::sync::mpsc::channel();
    for stream in [
        Box::new(child.0.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(child.0.stderr.take().expect("stderr")),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_secs(1)) {
            if let Some(at) = line.find("Tollgate is serving at ") {
                let url = line[at + 23..].split('"').next().expect("url").to_owned();
                return (child, url, rx);
            }
        }
    }
    panic!("the server did not start");
}

#[tokio::test]
async fn keys_passwords_and_session_ids_never_appear_in_the_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (child, base, logs) = start_demo_server(&dir);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let signed_in = client
        .post(format!("{base}/api/session/sign_in"))
        .header("origin", &base)
        .form(&[("email", "owner@initech.example"), ("password", "initech-owner-demo")])
        .send()
        .await
        .expect("sign in");
    let cookie = signed_in.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    let created: serde_json::Value = client
        .post(format!("{base}/api/keys/create"))
        .header("origin", &base)
        .header("cookie", &cookie)
        .form(&[("name", "log test"), ("environment", "live")])
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let key = created["plaintext"].as_str().expect("plaintext").to_owned();
    for _ in 0..3 {
        let ok = client.get(format!("{base}/api/license/status")).bearer_auth(&key).send().await.expect("use");
        assert_eq!(ok.status(), 200);
    }
    let wrong = format!("{}X", &key[..39]);
    let _ = client.get(format!("{base}/api/license/status")).bearer_auth(&wrong).send().await;
    let _ = client
        .post(format!("{base}/api/session/sign_in"))
        .header("origin", &base)
        .form(&[("email", "owner@initech.example"), ("password", "a wrong password")])
        .send()
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(child);

    let captured: Vec<String> = logs.try_iter().collect();
    let all = captured.join("\n");
    assert!(all.contains("API key created"), "the logs were captured: {all:.500}");
    assert!(all.contains("signed in"));
    let session_token = cookie.trim_start_matches("tg_session=");
    for secret in [&key[8..], &wrong[8..], session_token, "initech-owner-demo", "a wrong password"] {
        // The demo banner prints demo passwords by design; it is not a log line.
        let leaked: Vec<_> = captured.iter().filter(|l| l.contains(secret) && !l.starts_with("  ")).collect();
        assert!(leaked.is_empty(), "a secret reached the logs: {leaked:?}");
    }
}

#[test]
fn sigterm_stops_the_server_and_its_jobs_gracefully() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, _base, logs) = start_demo_server(&dir);
    let pid = child.0.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop within 15 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    std::thread::sleep(Duration::from_millis(200));
    let captured: Vec<String> = logs.try_iter().collect();
    assert!(captured.iter().any(|l| l.contains("\"stopped\"")), "{captured:?}");
}

#[test]
fn a_database_with_the_published_demo_admin_is_refused_outside_demo_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _url, _log) = start_demo_server(&dir);
    drop(server);
    let output = tollgate().args(["serve", "--addr", "127.0.0.1:0", "--database", &db_url(&dir)]).output().expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it must not serve demo credentials for real");
    assert!(stderr.contains("demo data") && stderr.contains("--demo"), "{stderr}");
}
