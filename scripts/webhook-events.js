// Writes a wrk Lua file of signed Stripe events for the webhook benchmark:
//   node scripts/webhook-events.js SECRET COUNT OUT.lua
// Each event is a unique `invoice.paid` for one subscription (linked beforehand), signed
// as Stripe signs: HMAC-SHA256 over `{t}.{body}`, hex, with the whsec_ secret as it is.
// Signatures carry the current time, so the file must be used within 5 minutes.
const { createHmac } = require('node:crypto');
const fs = require('node:fs');
const [secret, count, out] = process.argv.slice(2);
const t = Math.floor(Date.now() / 1000);
const run = `${t}${Math.floor(Math.random() * 1e6)}`;
const lines = ['return {'];
for (let i = 0; i < Number(count); i++) {
  const body = JSON.stringify({
    id: `evt_bench_${run}_${i}`, type: 'invoice.paid', created: t + Math.floor(i / 500),
    data: { object: { id: `in_${i}`, subscription: 'sub_bench', customer_email: 'bench@example.com' } },
  });
  const sig = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  lines.push(`{${JSON.stringify(`t=${t},v1=${sig}`)}, ${JSON.stringify(body)}},`);
}
lines.push('}');
fs.writeFileSync(out, lines.join('\n'));
