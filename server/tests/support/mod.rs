//! Running the real `tollgate` binary from a test.

use std::process::{Child, Command};

/// Kills the server when a test ends, even by panicking.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary, with no `TOLLGATE_*` setting inherited from the environment.
pub fn tollgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TOLLGATE_") {
            command.env_remove(key);
        }
    }
    command
}

/// A free loopback port.
#[allow(dead_code)] // not every test binary starts a server on a port of its own
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Starts `tollgate serve` on `port` with `database`, extra flags and environment, and
/// waits (at most a minute) until it is ready.
#[allow(dead_code)]
pub async fn serve(database: &str, port: u16, client: &reqwest::Client, flags: &[&str], env: &[(&str, &str)]) -> Running {
    let child = tollgate()
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--database", database])
        .args(flags)
        .envs(env.iter().copied())
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let running = Running(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await {
            if r.status() == 200 {
                return running;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the server did not come up");
}
