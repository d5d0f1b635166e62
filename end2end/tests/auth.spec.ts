import { test, expect } from '@playwright/test';
import { ADMIN, OWNER, collectErrors, openHydrated, signIn } from './helpers';

test('a customer signs in and sees their own account', async ({ page }) => {
  const errors = collectErrors(page);
  await signIn(page);
  await expect(page.getByTestId('user-email')).toHaveText(OWNER.email);
  await expect(page.getByTestId('user-role')).toHaveText('owner');
  await expect(page.getByTestId('license-header')).toContainText('Initech');
  expect(errors).toEqual([]);
});

test('a wrong password shows a clear message and no session', async ({ page }) => {
  await openHydrated(page, '/signin');
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByTestId('signin-submit').click();
  await expect(page.getByTestId('signin-error')).toHaveText('wrong email or password');
  await expect(page).toHaveURL(/\/signin/);
  const status = await page.request.get('/api/license/status');
  expect(status.status()).toBe(401);
});

test('signing out ends the session', async ({ page }) => {
  await signIn(page);
  await page.getByTestId('sign-out').click();
  await page.waitForURL('**/signin');
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/signin\?next=\/dashboard/);
  expect((await page.request.get('/api/license/status')).status()).toBe(401);
});

test('a customer opening /admin sees the 403 page; an admin sees the console', async ({ page }) => {
  await signIn(page);
  const response = await page.goto('/admin');
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId('forbidden')).toContainText('Admins only');

  await page.getByTestId('sign-out').click();
  await page.waitForURL('**/signin');
  await signIn(page, ADMIN, '/admin');
  await expect(page.getByTestId('accounts-table')).toContainText('Initech');
});

test('an owner creates a key, copies it, uses it, revokes it, and the next call fails', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signIn(page, OWNER, '/keys');
  await page.getByTestId('key-name').fill('playwright key');
  await page.getByTestId('create-key').click();
  const shown = page.getByTestId('new-key-value');
  await expect(shown).toHaveValue(/^tg_live_[A-Za-z0-9]{32}$/);
  await page.getByTestId('copy-key').click();
  await expect(page.getByTestId('copy-key')).toHaveText('Copied');
  const key = await page.evaluate(() => navigator.clipboard.readText());
  expect(key).toBe(await shown.inputValue());

  // The operator's side: a program uses the key, with no cookies.
  const api = await (await import('@playwright/test')).request.newContext({ baseURL: page.url().replace(/\/keys.*$/, '') });
  const ok = await api.get('/api/license/status', { headers: { Authorization: `Bearer ${key}` } });
  expect(ok.status()).toBe(200);
  expect((await ok.json()).account_name).toBe('Initech');

  const item = page.getByTestId('key-item').filter({ hasText: 'playwright key' });
  await item.getByTestId('revoke-key').click();
  await expect(item).toHaveAttribute('data-status', 'Revoked');
  const refused = await api.get('/api/license/status', { headers: { Authorization: `Bearer ${key}` } });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.message).toContain('revoked');
  await api.dispose();
});

test('sign-in works with the keyboard alone', async ({ page }) => {
  await openHydrated(page, '/signin');
  for (let i = 0; i < 6; i++) {
    if (await page.evaluate(() => document.activeElement?.id) === 'email') break;
    await page.keyboard.press('Tab');
  }
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('email');
  await page.keyboard.type(OWNER.email);
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
  await page.keyboard.type(OWNER.password);
  await page.keyboard.press('Enter');
  await page.waitForURL('**/dashboard');
  await expect(page.getByTestId('user-email')).toHaveText(OWNER.email);
});

test('screenshots at 390px of the sign-in and keys pages', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openHydrated(page, '/signin');
  await page.screenshot({ path: 'screenshots/signin-390.png', fullPage: true });
  await signIn(page, OWNER, '/keys');
  await page.getByTestId('key-name').fill('phone screenshot');
  await page.getByTestId('create-key').click();
  await expect(page.getByTestId('new-key')).toBeVisible();
  // Rotating shows the replacement once, in the same place; the list gains it.
  const first = await page.getByTestId('new-key-value').inputValue();
  const rotated = page.getByTestId('key-item').filter({ hasText: 'phone screenshot' }).first();
  await rotated.getByRole('button', { name: 'Rotate' }).click();
  await expect(page.getByTestId('new-key-value')).not.toHaveValue(first);
  await expect(page.getByTestId('new-key-value')).toHaveValue(/^tg_live_/);
  await expect(page.getByTestId('key-item').filter({ hasText: 'phone screenshot' })).toHaveCount(2);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: 'screenshots/keys-390.png', fullPage: true });
});
