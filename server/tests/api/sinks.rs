#![allow(dead_code)] // shared by test binaries that each use part of it
//! Real servers the tests deliver to, on loopback: a small SMTP server that keeps what it
//! is sent, and an HTTP receiver that answers from a script and keeps every request.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA, with quoted-printable soft breaks and `=3D` undone, so text reads plainly.
    pub data: String,
}

impl Mail {
    /// The value of a header (unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    }
}

/// An SMTP server on loopback. Answers `fail_first` DATA commands with a temporary
/// failure (451), then accepts.
#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    pub mails: Arc<Mutex<Vec<Mail>>>,
    fail_first: Arc<Mutex<usize>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_failing(0).await
    }

    pub async fn start_failing(fail_first: usize) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let sink = SmtpSink { addr: listener.local_addr().expect("addr"), mails: Arc::default(), fail_first: Arc::new(Mutex::new(fail_first)) };
        let served = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = served.clone();
                tokio::spawn(async move {
                    let _ = sink.converse(stream).await;
                });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    async fn converse(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink.test ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                write.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n").await?;
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                write.write_all(b"250 ok\r\n").await?;
            } else if upper.starts_with("RSET") {
                (from, to) = (String::new(), Vec::new());
                write.write_all(b"250 ok\r\n").await?;
            } else if upper.starts_with("MAIL FROM:") {
                from = address(&command[10..]);
                write.write_all(b"250 ok\r\n").await?;
            } else if upper.starts_with("RCPT TO:") {
                to.push(address(&command[8..]));
                write.write_all(b"250 ok\r\n").await?;
            } else if upper == "DATA" {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
                }
                let fail = {
                    let mut left = self.fail_first.lock().expect("lock");
                    let fail = *left > 0;
                    *left = left.saturating_sub(1);
                    fail
                };
                if fail {
                    write.write_all(b"451 4.3.0 try again later\r\n").await?;
                } else {
                    let data = data.replace("=\r\n", "").replace("=3D", "=");
                    self.mails.lock().expect("lock").push(Mail { from: from.clone(), to: to.clone(), data });
                    write.write_all(b"250 2.0.0 queued\r\n").await?;
                }
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                write.write_all(b"502 not implemented\r\n").await?;
            }
        }
    }

    pub fn received(&self) -> Vec<Mail> {
        self.mails.lock().expect("lock").clone()
    }

    /// Waits until `count` messages have arrived (at most `within`), and returns them all.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + within;
        loop {
            let mails = self.received();
            if mails.len() >= count || Instant::now() > deadline {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn address(raw: &str) -> String {
    raw.trim().trim_start_matches('<').split('>').next().unwrap_or_default().to_owned()
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }
}

/// An HTTP receiver on loopback: answers each POST with the next status of its script
/// (200 once the script is used up) and keeps every request.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    script: Arc<Mutex<VecDeque<u16>>>,
    pub requests: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(script: &[u16]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let receiver = Receiver {
            addr: listener.local_addr().expect("addr"),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            requests: Arc::default(),
        };
        let app = axum::Router::new().route("/{*path}", axum::routing::post(receive)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.requests.lock().expect("lock").clone()
    }

    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= count || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = receiver.script.lock().expect("lock").pop_front().unwrap_or(200);
    receiver.requests.lock().expect("lock").push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

/// Checks a Standard Webhooks signature the way a receiver would, written here from the
/// specification rather than taken from the server: HMAC-SHA256 over
/// `{id}.{timestamp}.{body}` with the base64 key after `whsec_`, compared against each
/// space-separated `v1,` signature.
pub fn verifies(secret: &str, request: &Received) -> bool {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let Some(key) = secret.strip_prefix("whsec_").and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok()) else { return false };
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&key) else { return false };
    mac.update(format!("{}.{}.{}", request.header("webhook-id"), request.header("webhook-timestamp"), request.body).as_bytes());
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    request.header("webhook-signature").split(' ').any(|s| s == expected)
}
