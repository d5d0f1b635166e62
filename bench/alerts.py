#!/usr/bin/env python3
"""Time from a crossing write to the alert's email and webhook, against a release build.

Starts, on loopback: an SMTP sink, an HTTP receiver, and `tollgate serve` on a fresh
database with bench/alerts-catalog.toml. Makes N accounts, each with an owner (who gets
the email) and an endpoint (which gets the webhook); then, one account at a time, consumes
80 of its 100 calls (crossing the 80% threshold) and notes when the email and the webhook
arrive. Prints p50 and max of both latencies. Standard library only.

    bench/alerts.py target/release/tollgate [N]
"""

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/tollgate"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 100
PASSWORD = "bench owner password"

arrivals = {"email": {}, "webhook": {}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def smtp_session(reader, writer):
    writer.write(b"220 sink ESMTP\r\n")
    rcpt = []
    while True:
        line = await reader.readline()
        if not line:
            return
        cmd = line.decode(errors="replace").strip()
        up = cmd.upper()
        if up.startswith("EHLO"):
            writer.write(b"250-sink\r\n250 8BITMIME\r\n")
        elif up.startswith("RCPT TO:"):
            rcpt.append(cmd[8:].strip().strip("<>"))
            writer.write(b"250 ok\r\n")
        elif up == "DATA":
            writer.write(b"354 go\r\n")
            await writer.drain()
            while (await reader.readline()) not in (b".\r\n", b".\n", b""):
                pass
            now = time.monotonic()
            for to in rcpt:
                arrivals["email"].setdefault(to, now)
            rcpt = []
            writer.write(b"250 queued\r\n")
        elif up.startswith("QUIT"):
            writer.write(b"221 bye\r\n")
            await writer.drain()
            writer.close()
            return
        else:
            writer.write(b"250 ok\r\n")
        await writer.drain()


async def http_session(reader, writer):
    while True:
        head = await reader.readuntil(b"\r\n\r\n") if True else b""
        length = 0
        for line in head.decode(errors="replace").split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = await reader.readexactly(length)
        now = time.monotonic()
        try:
            event = json.loads(body)
            arrivals["webhook"].setdefault(event["data"]["account_id"], now)
        except (ValueError, KeyError):
            pass
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()


def run_sinks(smtp_port, http_port):
    async def main():
        async def safe(handler, r, w):
            try:
                await handler(r, w)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
        await asyncio.start_server(lambda r, w: safe(smtp_session, r, w), "127.0.0.1", smtp_port)
        await asyncio.start_server(lambda r, w: safe(http_session, r, w), "127.0.0.1", http_port)
        await asyncio.Event().wait()
    asyncio.run(main())


def request(method, url, body=None, headers=None, form=False):
    data = None
    headers = dict(headers or {})
    if body is not None:
        if form:
            data = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in body.items()).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        resp = opener.open(req, timeout=30)
    except urllib.error.HTTPError as err:
        resp = err
    return resp.status, resp.headers, resp.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def cli(db, *args, env=None):
    out = subprocess.run([BINARY, *args, "--database", db, "--catalog", "bench/alerts-catalog.toml"],
                         capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True)
    return out.stdout.strip()


def main():
    import urllib.parse  # noqa: F401 (used by request)
    smtp_port, http_port, port = free_port(), free_port(), free_port()
    threading.Thread(target=run_sinks, args=(smtp_port, http_port), daemon=True).start()
    tmp = tempfile.mkdtemp()
    db = f"sqlite://{tmp}/alerts.db"
    keys = {}
    for i in range(N):
        account = f"acc_alert{i:03d}"
        cli(db, "account", "create", "--id", account, "--name", f"Alert {i}", "--plan", "alerting")
        cli(db, "user", "add", "--email", f"owner{i}@bench.test", "--role", "owner", "--account", account,
            env={"TOLLGATE_USER_PASSWORD": PASSWORD})
        keys[account] = cli(db, "key", "create", "--account", account, "--name", "bench").splitlines()[-1].strip()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [BINARY, "serve", "--addr", f"127.0.0.1:{port}", "--database", db, "--catalog", "bench/alerts-catalog.toml"],
        env={**os.environ, "RUST_LOG": "warn", "TOLLGATE_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
             "TOLLGATE_WEBHOOK_ALLOW_NETS": "127.0.0.1/32"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if request("GET", f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        for i in range(N):
            status, headers, _ = request("POST", f"{base}/api/session/sign_in",
                                         {"email": f"owner{i}@bench.test", "password": PASSWORD},
                                         {"Origin": base}, form=True)
            cookie = next(v.split(";")[0] for k, v in headers.items() if k.lower() == "set-cookie" and v.startswith("tg_session="))
            status, _, body = request("POST", f"{base}/api/v1/users/me/webhooks", {"url": f"http://127.0.0.1:{http_port}/hook"},
                                      {"Origin": base, "Cookie": cookie})
            assert status == 201, body
        email_ms, webhook_ms = [], []
        for i in range(N):
            account = f"acc_alert{i:03d}"
            start = time.monotonic()
            status, _, body = request("POST", f"{base}/api/v1/quotas/api_calls/consume", {"quantity": 80},
                                      {"Authorization": f"Bearer {keys[account]}"})
            assert status == 200, body
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (f"owner{i}@bench.test" in arrivals["email"] and account in arrivals["webhook"]):
                time.sleep(0.001)
            email_ms.append((arrivals["email"][f"owner{i}@bench.test"] - start) * 1000)
            webhook_ms.append((arrivals["webhook"][account] - start) * 1000)
        for name, values in (("email", email_ms), ("webhook", webhook_ms)):
            print(f"{name:8} crossings={len(values)} p50={statistics.median(values):.1f} ms "
                  f"p90={sorted(values)[int(len(values) * 0.9) - 1]:.1f} ms max={max(values):.1f} ms")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
