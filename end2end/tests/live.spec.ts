import { test, expect, Page } from '@playwright/test';
import { collectErrors, openHydrated, parseUsageText, signIn } from './helpers';

const ACME = { email: 'owner@acme.example', password: 'acme-owner-demo' };

/** A key of the signed-in owner's account, as the operator's backend would hold one. */
async function ownerKey(page: Page): Promise<string> {
  const created = await page.request.post('/api/v1/user/keys', { data: { name: `e2e live ${Date.now()}` } });
  expect(created.status()).toBe(201);
  return (await created.json()).plaintext;
}

const meterText = (page: Page, meter: string) => page.getByTestId(`meter-${meter}`).getByTestId('meter-text');

test('the open dashboard follows usage as it is written, with no reload', async ({ page }) => {
  const errors = collectErrors(page);
  await signIn(page, ACME);
  const key = await ownerKey(page);
  await openHydrated(page, '/dashboard');
  // A marker that a reload would wipe.
  await page.evaluate(() => ((window as any).__stillHere = true));
  const [before] = parseUsageText((await meterText(page, 'api_calls').textContent()) ?? '');

  // Consume: the meter moves in place.
  const consumed = await page.request.post('/api/v1/quotas/api_calls/consume', {
    data: { quantity: 7 }, headers: { Authorization: `Bearer ${key}` },
  });
  expect(consumed.status()).toBe(200);
  await expect.poll(async () => parseUsageText((await meterText(page, 'api_calls').textContent()) ?? '')[0], { timeout: 2_000 }).toBe(before + 7);

  // Ingest: counted once for the account, and moved in place too.
  const ingested = await page.request.post('/api/v1/usage', {
    data: { idempotency_key: `live-${Date.now()}`, account_id: 'acc_acme', meter: 'api_calls', quantity: 5 },
    headers: { Authorization: `Bearer ${key}` },
  });
  expect(ingested.status()).toBe(200);
  await expect.poll(async () => parseUsageText((await meterText(page, 'api_calls').textContent()) ?? '')[0], { timeout: 2_000 }).toBe(before + 12);
  expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
  expect(errors).toEqual([]);
});

test('the badge rises when usage crosses a threshold, with no reload', async ({ page }) => {
  const errors = collectErrors(page);
  await signIn(page, ACME);
  const key = await ownerKey(page);
  await openHydrated(page, '/dashboard');
  await page.evaluate(() => ((window as any).__stillHere = true));
  const unread = async () => (await (await page.request.get('/api/v1/users/me/notifications')).json()).unread as number;
  const start = await unread();
  const badge = page.getByTestId('unread-badge');
  if (start > 0) await expect(badge).toHaveAttribute('data-count', String(start));

  // Memories to 90% of its limit: past the 80% warning.
  const [used, limit] = parseUsageText((await meterText(page, 'memories').textContent()) ?? '');
  const consumed = await page.request.post('/api/v1/quotas/memories/consume', {
    data: { quantity: Math.ceil(limit * 0.9 - used) }, headers: { Authorization: `Bearer ${key}` },
  });
  expect(consumed.status()).toBe(200);
  await expect(badge).toHaveAttribute('data-count', String(start + 1), { timeout: 2_000 });
  await expect(page.getByTestId('meter-memories')).toHaveAttribute('data-level', /warning|critical/);
  expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
  expect(errors).toEqual([]);
});
