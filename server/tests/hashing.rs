//! Password hashing under attack, against the real binary: 300 parallel sign-ups and 300
//! parallel sign-ins must not make the server hold hundreds of 19 MiB argon2 buffers at
//! once. The peak resident memory (`VmHWM`) of the server process is measured and bounded,
//! and every refusal is a clear 429 or 503 with `Retry-After`, never a 5xx without one.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

mod support;
use support::{tollgate, Running};

/// The process's peak resident set, in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib / 1024.0
}

fn start(dir: &tempfile::TempDir) -> (Running, String) {
    let mut child = Running(
        tollgate()
            .args(["serve", "--addr", "127.0.0.1:0", "--log-format", "json"])
            .arg("--database")
            .arg(format!("sqlite://{}", dir.path().join("t.db").display()))
            .env("RUST_LOG", "warn,server=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(url) = line.split("Tollgate is serving at ").nth(1) {
            let url = url.split('"').next().unwrap_or_default().to_owned();
            // Keep draining the log so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (child, url);
        }
    }
    panic!("the server did not start");
}

async fn flood(client: &reqwest::Client, base: &str, endpoint: &str, form: impl Fn(usize) -> Vec<(String, String)>) -> Vec<(u16, bool)> {
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..300 {
        let request = client.post(format!("{base}/api/session/{endpoint}")).header("Origin", base).form(&form(i));
        requests.spawn(async move {
            match request.send().await {
                Ok(response) => (response.status().as_u16(), response.headers().contains_key("retry-after")),
                Err(_) => (0, false),
            }
        });
    }
    requests.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_sign_ups_and_sign_ins_keep_memory_bounded_and_answer_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, base) = start(&dir);
    let pid = server.0.id();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(0).build().expect("client");
    let before = peak_rss_mib(pid);

    let sign_ups = flood(&client, &base, "sign_up", |i| {
        vec![("email".into(), format!("flood{i}@example.com")), ("password".into(), "a long enough password".into()), ("account_name".into(), format!("Flood {i}"))]
    })
    .await;
    let sign_ins = flood(&client, &base, "sign_in", |i| {
        vec![("email".into(), format!("victim{}@example.com", i % 7)), ("password".into(), "wrong password guess".into())]
    })
    .await;
    let peak = peak_rss_mib(pid);

    for (status, retry_after) in sign_ups.iter().chain(&sign_ins) {
        assert_ne!(*status, 0, "every request was answered");
        assert!(*status < 500 || (*status == 503 && *retry_after), "a 5xx must be a 503 with Retry-After, got {status}");
        if matches!(status, 429 | 503) {
            assert!(retry_after, "a refusal for load says when to retry");
        }
    }
    let created = sign_ups.iter().filter(|(s, _)| (200..400).contains(s)).count();
    assert!(created >= 1, "some sign-ups succeed: {sign_ups:?}");
    assert!(sign_ins.iter().all(|(s, _)| matches!(s, 401 | 429 | 503 | 303)), "{sign_ins:?}");
    // Without a bound, 300 parallel argon2id hashes take 300 x 19 MiB = 5.6 GiB.
    eprintln!("peak RSS: {before:.0} MiB before, {peak:.0} MiB after 600 parallel password requests ({created} sign-ups created)");
    assert!(peak < 300.0, "the server's peak memory was {peak:.0} MiB");
}
