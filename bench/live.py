#!/usr/bin/env python3
"""The hot path with alert rules and open dashboards, against the release build.

On the benchmark database that scripts/bench.sh leaves in target/ (run it first, e.g.
`BENCH_DURATION=1s scripts/bench.sh`), one server, three conditions, interleaved over
`ROUNDS` rounds so the VM's drift falls on all alike:
  plain      acc_scale with the catalog's default thresholds, no channels;
  rules      acc_scale with five thresholds of its own, an email address and a webhook
             endpoint (email and webhooks configured on the server);
  dashboards `rules`, plus DASHBOARDS open /api/live streams of acc_scale: every charge
             of the benchmark touches the watched account.
For each, wrk runs keys/verify (64 connections) and ingest (batches of 1,000 events).

    bench/live.py [DASHBOARDS] [ROUNDS] [SECONDS]
"""

import asyncio
import json
import os
import re
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

DASHBOARDS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SECONDS = sys.argv[3] if len(sys.argv) > 3 else "6s"
TARGET = os.environ.get("CARGO_TARGET_DIR", "target")
BINARY = f"{TARGET}/release/tollgate"
DB = f"sqlite://{TARGET}/bench.db"
PORT = 3951
BASE = f"http://127.0.0.1:{PORT}"
service_key, scale_key = open(f"{TARGET}/bench-metering.keys").read().split()[:2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, body=None, headers=None, form=False):
    headers = dict(headers or {})
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        resp = urllib.request.build_opener(NoRedirect).open(req, timeout=30)
    except urllib.error.HTTPError as err:
        resp = err
    return resp.status, resp.headers, resp.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


events = {"count": 0, "open": 0, "cpu": 0.0}


def run_dashboards(n, stop):
    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
        writer.write(f"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {scale_key}\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        events["open"] += 1
        try:
            while not stop.is_set():
                line = await asyncio.wait_for(reader.readline(), 1)
                if not line:
                    break
                if line.startswith(b"event: live"):
                    events["count"] += 1
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            events["open"] -= 1
            writer.close()

    async def main():
        tasks = []
        for _ in range(n):
            tasks.append(asyncio.create_task(forever(one)))
            await asyncio.sleep(0.001)
        while not stop.is_set():
            events["cpu"] = time.thread_time()
            await asyncio.sleep(0.1)
        for t in tasks:
            t.cancel()

    async def forever(f):
        while not stop.is_set():
            try:
                await f()
            except (asyncio.TimeoutError, ConnectionError, OSError):
                await asyncio.sleep(0.1)

    asyncio.run(main())


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(kind):
    if kind == "verify":
        args = ["-t1", "-c64", f"-d{SECONDS}", "-s", f"{TARGET}/verify.lua", f"{BASE}/api/v1/keys/verify"]
    else:
        args = ["-t1", "-c4", f"-d{SECONDS}", "-s", f"{TARGET}/ingest.lua", f"{BASE}/api/v1/usage"]
    out = subprocess.run(["wrk", "--latency", *args], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    return rps, p99, count


def main():
    # Room for the dashboards' sockets, here and in the server (which inherits it).
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    smtp_port = free_port()
    # A mail server that accepts connections and never answers: no crossing happens, so
    # nothing is sent; it only makes the server's email channel real.
    sink = socket.socket()
    sink.bind(("127.0.0.1", smtp_port))
    sink.listen()
    subprocess.run([BINARY, "user", "add", "--email", "scale-owner@bench.test", "--role", "owner", "--account", "acc_scale",
                    "--database", DB], env={**os.environ, "TOLLGATE_USER_PASSWORD": "scale owner password"},
                   capture_output=True)
    server = subprocess.Popen(
        [BINARY, "serve", "--addr", f"127.0.0.1:{PORT}", "--database", DB, "--catalog", "bench/catalog.toml"],
        env={**os.environ, "RUST_LOG": "warn", "TOLLGATE_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
             "TOLLGATE_WEBHOOK_ALLOW_NETS": "127.0.0.1/32"},
        stdout=subprocess.DEVNULL, stderr=open("/tmp/live-server.log", "w"))
    try:
        for _ in range(100):
            try:
                if request("GET", f"{BASE}/readyz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        _, headers, _ = request("POST", f"{BASE}/api/session/sign_in",
                                {"email": "scale-owner@bench.test", "password": "scale owner password"}, {"Origin": BASE}, form=True)
        cookie = next(v.split(";")[0] for k, v in headers.items() if k.lower() == "set-cookie" and v.startswith("tg_session="))
        owner = {"Origin": BASE, "Cookie": cookie}

        def rules(on):
            thresholds = "10%, 20%, 30%, 40%, 50%" if on else ""
            for meter in ("api_calls", "storage_mb", "memories"):
                status, _, body = request("POST", f"{BASE}/api/alerts/set", {"meter": meter, "thresholds": thresholds}, owner, form=True)
                assert status in (200, 302, 303), body
            status, _, listed = request("GET", f"{BASE}/api/v1/users/me/webhooks", None, owner)
            for endpoint in json.loads(listed)["endpoints"]:
                request("DELETE", f"{BASE}/api/v1/users/me/webhooks/{endpoint['id']}", None, owner)
            if on:
                status, _, body = request("POST", f"{BASE}/api/v1/users/me/webhooks", {"url": f"http://127.0.0.1:{smtp_port}/hook"}, owner)
                assert status == 201, body

        results = {}
        cpu = {}
        for round_ in range(ROUNDS):
            # ABC, CBA, ABC…: the database grows as the benchmark writes, so no condition
            # always runs last.
            order = ("plain", "rules", "dashboards") if round_ % 2 == 0 else ("dashboards", "rules", "plain")
            for condition in order:
                rules(condition != "plain")
                stop = threading.Event()
                thread = None
                if condition == "dashboards":
                    events["count"] = 0
                    thread = threading.Thread(target=run_dashboards, args=(DASHBOARDS, stop), daemon=True)
                    thread.start()
                    deadline = time.time() + 30
                    while events["open"] < DASHBOARDS and time.time() < deadline:
                        time.sleep(0.1)
                    time.sleep(1)
                for kind in ("verify", "ingest"):
                    before, client_before = cpu_seconds(server.pid), events["cpu"]
                    rps, p99, count = wrk(kind)
                    used = cpu_seconds(server.pid) - before
                    client = events["cpu"] - client_before
                    results.setdefault((condition, kind), []).append(rps)
                    cpu.setdefault((condition, kind), []).append(used / count * 1e6)
                    extra = f" open={events['open']} events={events['count']} client CPU {client:.1f} s" if condition == "dashboards" else ""
                    print(f"round {round_ + 1} {condition:10} {kind:6} {rps:10.1f} req/s  p99 {p99:>8}  server CPU {used / count * 1e6:8.1f} us/req{extra}", flush=True)
                stop.set()
                if thread:
                    thread.join(timeout=10)
        print()
        for kind in ("verify", "ingest"):
            base = sum(results[("plain", kind)]) / ROUNDS
            base_cpu = sum(cpu[("plain", kind)]) / ROUNDS
            for condition in ("plain", "rules", "dashboards"):
                mean = sum(results[(condition, kind)]) / ROUNDS
                mean_cpu = sum(cpu[(condition, kind)]) / ROUNDS
                print(f"{kind:6} {condition:10} mean {mean:10.1f} req/s ({(mean / base - 1) * 100:+.1f}%)  "
                      f"server CPU {mean_cpu:8.1f} us/req ({(mean_cpu / base_cpu - 1) * 100:+.1f}%) vs plain")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
