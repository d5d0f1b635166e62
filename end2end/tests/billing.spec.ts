import { test, expect, APIRequestContext } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { ADMIN, collectErrors, signIn } from './helpers';

// The e2e server's Stripe secret (scripts/e2e-server.sh).
const STRIPE_SECRET = 'whsec_e2e_test_secret';
const ACME = { email: 'owner@acme.example', password: 'acme-owner-demo' };

/** Sends a Stripe event signed as Stripe signs it: HMAC-SHA256 over `{t}.{body}`. */
async function stripe(request: APIRequestContext, id: string, status: string, created: number, email = ACME.email) {
  const subscription = email === ACME.email ? 'sub_e2e_acme' : `sub_${id}`;
  const body = JSON.stringify({
    id, type: 'customer.subscription.updated', created,
    data: { object: { id: subscription, status, customer: `cus_${subscription}`, items: { data: [{ price: { id: 'price_demo_pro' } }] },
      metadata: { email } } },
  });
  const t = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', STRIPE_SECRET).update(`${t}.${body}`).digest('hex');
  const response = await request.post('/api/webhooks/stripe', {
    headers: { 'stripe-signature': `t=${t},v1=${sig}`, 'content-type': 'application/json' },
    data: body,
  });
  expect(response.status()).toBe(200);
  return response.json();
}

test('a suspension from the billing provider changes the status header and shows in the plan history', async ({ page }) => {
  const errors = collectErrors(page);
  await signIn(page, ACME);
  const header = page.getByTestId('license-header');
  await expect(header).toContainText('Active');
  const now = Math.floor(Date.now() / 1000);

  expect((await stripe(page.request, `evt_e2e_unpaid_${now}`, 'unpaid', now)).outcome).toBe('applied');
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(header).toContainText('Suspended');
  const history = page.getByTestId('plan-history');
  await expect(history.getByTestId('plan-change').first()).toContainText('Active → Suspended');
  await expect(history.getByTestId('plan-change').first()).toContainText('stripe customer.subscription.updated');
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await history.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `screenshots/plan-history-${width}.png`, fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, 'no sideways scrolling').toBeLessThanOrEqual(1);
  }

  // Paid again: back to active, and the history has both changes.
  expect((await stripe(page.request, `evt_e2e_active_${now}`, 'active', now + 1)).outcome).toBe('applied');
  await page.reload();
  await expect(header).toContainText('Active');
  await expect(history.getByTestId('plan-change')).toHaveCount(2);
  expect(errors).toEqual([]);
});

test('the admin console lists the billing events and filters them by outcome', async ({ page }) => {
  const errors = collectErrors(page);
  const now = Math.floor(Date.now() / 1000);
  // An event older than one already applied to the same subscription is recorded as stale.
  await stripe(page.request, `evt_e2e_new_${now}`, 'active', now + 100);
  expect((await stripe(page.request, `evt_e2e_old_${now}`, 'past_due', now - 100)).outcome).toBe('stale');
  await signIn(page, ADMIN, '/admin');
  const table = page.getByTestId('webhook-events');
  await expect(table.getByTestId('webhook-row').first()).toBeVisible();
  await page.getByTestId('filter-outcome').selectOption('stale');
  await expect(table.getByTestId('webhook-row')).toHaveCount(1);
  await expect(table.getByTestId('webhook-row').first()).toContainText(`evt_e2e_old_${now}`);
  // The filter is applied in place, and the address keeps it: a reload shows the same.
  await expect(page).toHaveURL(/outcome=stale/);
  await page.reload();
  await expect(page.getByTestId('filter-outcome')).toHaveValue('stale');
  await expect(table.getByTestId('webhook-row')).toHaveCount(1);
  await page.setViewportSize({ width: 390, height: 900 });
  await page.screenshot({ path: 'screenshots/admin-webhooks-390.png', fullPage: true });
  expect(errors).toEqual([]);
});

test('a buyer the admin sends a sign-in link sets a password and gets the first key, once', async ({ browser }) => {
  const admin = await (await browser.newContext()).newPage();
  const buyer = await (await browser.newContext()).newPage();
  const adminErrors = collectErrors(admin);
  const errors = collectErrors(buyer);
  const now = Math.floor(Date.now() / 1000);
  const email = `buyer-${now}@example.com`;
  expect((await stripe(admin.request, `evt_e2e_buy_${now}`, 'active', now, email)).outcome).toBe('provisioned');

  await signIn(admin, ADMIN, '/admin');
  const waiting = admin.getByTestId('awaiting-item').filter({ hasText: email });
  await waiting.getByTestId('issue-link').click();
  const link = admin.getByTestId('signin-link');
  await expect(link).toHaveText(/^\/welcome\?token=/);
  // The list was read again: the link is shown, and the buyer still waits for sign-in.
  await expect(admin.getByTestId('awaiting-item').filter({ hasText: email })).toHaveCount(1);

  await buyer.goto((await link.textContent())!);
  await expect(buyer.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // Too short: the server's message, in place, and the form stays.
  await buyer.getByTestId('welcome-password').fill('short');
  await buyer.getByTestId('welcome-password').evaluate((input: HTMLInputElement) => input.removeAttribute('minlength'));
  await buyer.getByTestId('welcome-submit').click();
  await expect(buyer.getByTestId('welcome-error')).toContainText('8');
  await buyer.getByTestId('welcome-password').fill('a-good-long-password');
  await buyer.getByTestId('welcome-submit').click();
  await expect(buyer.getByTestId('welcome-done')).toBeVisible();
  await expect(buyer.getByTestId('welcome-submit')).toBeHidden();
  const key = (await buyer.getByTestId('first-key').textContent())!;
  expect(key).toMatch(/^tg_live_[A-Za-z0-9]{32}$/);
  const status = await buyer.request.get('/api/license/status', { headers: { Authorization: `Bearer ${key}` } });
  expect((await status.json()).tier).toBe('pro');

  // Signed in: the dashboard is the buyer's; the key is not on any page again.
  await buyer.getByRole('link', { name: 'Go to your dashboard' }).click();
  await expect(buyer.getByTestId('user-email')).toHaveText(email);
  await buyer.goto('/keys');
  expect(await buyer.content()).not.toContain(key);
  // Only the deliberate short password's refusal reached the console.
  expect(errors.filter((e) => !e.includes('status of 422'))).toEqual([]);
  expect(adminErrors).toEqual([]);
});
