//! The real `tollgate` binary: help, bad configuration, JSON logs, health.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tollgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TOLLGATE_") {
            command.env_remove(key);
        }
    }
    command
}

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
    let mut child = tollgate()
        .args(["serve", "--addr", "127.0.0.1:0", "--demo"])
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .env("TOLLGATE_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut url = None;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        let message = entry["message"].as_str().unwrap_or_default();
        if let Some(rest) = message.strip_prefix("Tollgate is serving at ") {
            url = Some(rest.to_owned());
            break;
        }
    }
    let url = url.expect("the server announced its URL");
    assert!(db.exists(), "the database file and its folders were created");
    let health = raw_http::get_status(&format!("{url}/readyz"));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(health, 200);
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
