import { test, expect } from '@playwright/test';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { collectErrors, openHydrated, signIn } from './helpers';

const GLOBEX = { email: 'owner@globex.example', password: 'globex-owner-demo' };
const HOOLI = { email: 'owner@hooli.example', password: 'hooli-owner-demo' };
const ACME = { email: 'owner@acme.example', password: 'acme-owner-demo' };

test('a Starter owner saves thresholds, an amount among them, and nonsense is refused in place', async ({ page }) => {
  const errors = collectErrors(page);
  await signIn(page, GLOBEX, '/settings/alerts');
  await openHydrated(page, '/settings/alerts');
  // No mail server on this test server: the page says so.
  await expect(page.getByTestId('email-off')).toBeVisible();

  const memories = page.locator('[data-testid=meter-thresholds][data-meter=memories]');
  await expect(memories.getByTestId('thresholds-current')).toContainText('80% (default)');
  await memories.getByTestId('thresholds-input').fill('150%');
  await memories.getByTestId('thresholds-save').click();
  await expect(memories.getByTestId('thresholds-error')).toContainText('from 1 to 100');
  await expect(page).toHaveURL(/\/settings\/alerts$/);

  await memories.getByTestId('thresholds-input').fill('50%, 1200');
  await memories.getByTestId('thresholds-save').click();
  await expect(memories.getByTestId('thresholds-current')).toHaveText(/Alerts at 50%, 1,200 items and the limit\./);
  await expect(memories.getByTestId('thresholds-error')).toBeHidden();
  // Saved, not just shown: a new page load reads the same.
  await page.reload();
  await expect(page.locator('[data-testid=meter-thresholds][data-meter=memories]').getByTestId('thresholds-current')).toContainText('50%, 1,200 items');
  // Starter has no webhooks: the section offers the upgrade instead.
  await expect(page.getByTestId('webhook-settings').getByTestId('upgrade-prompt')).toBeVisible();

  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `screenshots/alert-settings-starter-${width}.png`, fullPage: true });
  }
  expect(errors.filter((e) => !e.includes('status of 422'))).toEqual([]);
});

test('a Free owner is shown the upgrade instead of thresholds', async ({ page }) => {
  const errors = collectErrors(page);
  await signIn(page, HOOLI, '/settings/alerts');
  const gate = page.getByTestId('threshold-settings').getByTestId('upgrade-prompt');
  await expect(gate).toBeVisible();
  await expect(gate.getByTestId('upgrade-prompt-title')).toContainText('Starter');
  await expect(page.getByTestId('thresholds-input')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a Pro owner adds an endpoint, sees its secret once, and the test event in the delivery log', async ({ page }) => {
  const errors = collectErrors(page);
  // A receiver on loopback (the test server allows 127.0.0.1 for webhooks).
  const received: { id: string; body: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ id: String(req.headers['webhook-id']), body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ready) => receiver.listen(0, '127.0.0.1', ready));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  try {
    await signIn(page, ACME, '/settings/alerts');
    await openHydrated(page, '/settings/alerts');
    const hooks = page.getByTestId('webhook-settings');
    await hooks.getByTestId('webhook-url').fill('http://10.1.2.3/hooks');
    await hooks.getByTestId('webhook-add').click();
    await expect(hooks.getByTestId('webhook-error')).toContainText('private, loopback or link-local');

    await hooks.getByTestId('webhook-url').fill(url);
    await hooks.getByTestId('webhook-add').click();
    const secret = hooks.getByTestId('webhook-secret-value');
    await expect(secret).toHaveValue(/^whsec_/);
    await expect(hooks.getByTestId('endpoint')).toHaveCount(1);

    await hooks.getByTestId('webhook-test').click();
    await expect.poll(() => received.length).toBe(1);
    expect(JSON.parse(received[0].body).type).toBe('webhook.test');
    const log = page.getByTestId('delivery-log');
    await log.getByTestId('log-refresh').click();
    const row = log.locator('[data-testid=delivery][data-event="webhook.test"]');
    await expect(row).toHaveAttribute('data-state', 'delivered');
    await expect(row.getByTestId('attempt')).toContainText('204');

    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: `screenshots/alert-settings-pro-${width}.png`, fullPage: true });
    }
    // The secret is shown once: a reload does not bring it back.
    await page.reload();
    await expect(page.getByTestId('webhook-secret-value')).toHaveValue('');
    expect(errors.filter((e) => !e.includes('status of 422'))).toEqual([]);
  } finally {
    receiver.close();
  }
});
