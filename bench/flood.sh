#!/usr/bin/env bash
# Password hashing under attack: starts BINARY on a fresh database at 127.0.0.1:PORT, sends
# 300 parallel sign-ups, then 300 parallel wrong-password sign-ins (7 emails), and prints
# the server's peak resident memory (VmHWM) and the answers' statuses.
# usage: bench/flood.sh target/release/tollgate 3951
set -u
bin=$1; port=$2; dir=$(mktemp -d)
"$bin" serve --addr 127.0.0.1:$port --database "sqlite://$dir/t.db" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.2; done
before=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
seq 300 | xargs -P 300 -I{} curl -s -o /dev/null -w "%{http_code}\n" -H "Origin: http://127.0.0.1:$port" \
  --data-urlencode "email=flood{}@example.com" --data-urlencode "password=a long enough password" --data-urlencode "account_name=Flood {}" \
  http://127.0.0.1:$port/api/session/sign_up > $dir/signups.txt
seq 300 | xargs -P 300 -I{} sh -c 'curl -s -o /dev/null -w "%{http_code}\n" -H "Origin: http://127.0.0.1:'$port'" --data-urlencode "email=victim$(({} % 7))@example.com" --data-urlencode "password=wrong password guess" http://127.0.0.1:'$port'/api/session/sign_in' > $dir/signins.txt
after=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
kill $pid; wait $pid 2>/dev/null
echo "peak RSS before: $((before/1024)) MiB, after 600 parallel password requests: $((after/1024)) MiB"
echo "sign-up statuses: $(sort $dir/signups.txt | uniq -c | tr '\n' ' ')"
echo "sign-in statuses: $(sort $dir/signins.txt | uniq -c | tr '\n' ' ')"
rm -rf "$dir"
