import { test, expect, Page } from '@playwright/test';
import * as fs from 'node:fs';
import { ADMIN, collectErrors, signIn } from './helpers';

// A free demo account over its limits; no other test uses it.
const HOOLI = { email: 'owner@hooli.example', password: 'hooli-owner-demo' };

/** Presses Tab (or Shift+Tab) until `selector` has focus; fails after `max` presses. */
async function tabTo(page: Page, selector: string, back = false, max = 25) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** Opens the modal from a focused button with Enter and asks for `tier`, keyboard only. */
async function requestWithKeyboard(page: Page, opener: string, tier: string, justification: string) {
  await page.locator(opener).first().focus();
  await page.keyboard.press('Enter');
  const modal = page.getByTestId('upgrade-modal');
  await expect(modal).toBeVisible();
  await expect(modal.locator('input[type=radio]:checked')).toBeFocused();
  for (let i = 0; i < 4 && (await modal.locator('input[type=radio]:checked').getAttribute('value')) !== tier; i++) {
    await page.keyboard.press('ArrowRight');
  }
  await expect(modal.locator('input[type=radio]:checked')).toHaveValue(tier);
  await tabTo(page, '#justification');
  await page.keyboard.type(justification);
  await tabTo(page, '[data-testid=request-submit]');
  await page.keyboard.press('Enter');
}

test('a free customer asks for Pro with the keyboard; the admin declines, then approves, and the plan changes without a reload', async ({ browser }) => {
  const customer = await (await browser.newContext()).newPage();
  const admin = await (await browser.newContext()).newPage();
  const errors = collectErrors(customer);
  const adminErrors = collectErrors(admin);

  // 1. The CSV export is Pro's: the gate names the plan and what it adds.
  await signIn(customer, HOOLI, '/export');
  const prompt = customer.getByTestId('upgrade-prompt');
  await expect(prompt).toContainText('Exports is part of the Pro plan');
  await expect(prompt).toContainText('Adds');
  await expect(customer.getByTestId('export-download')).toHaveCount(0);

  // 2. The dashboard suggests a plan, with its urgency in words.
  await customer.getByRole('link', { name: 'Dashboard' }).click();
  const suggestion = customer.getByTestId('suggestion').first();
  await expect(suggestion).toBeVisible();
  await expect(suggestion.getByTestId('suggestion-urgency')).toHaveText(/(Low|Medium|High) urgency/);
  await expect(customer.getByTestId('license-tier')).toHaveText('Free');

  // 3. The modal, keyboard only: focus goes in, is trapped, Escape closes it, focus comes back.
  const opener = customer.getByTestId('suggestion-request').first();
  await opener.focus();
  await customer.keyboard.press('Enter');
  const modal = customer.getByTestId('upgrade-modal');
  await expect(modal.locator('input[type=radio]:checked')).toBeFocused();
  await expect(modal.getByTestId('tier-free')).toHaveAttribute('data-current', 'true');
  await expect(modal.getByTestId('evidence')).toContainText('last 30 days');
  await expect(modal.locator('#contact_email')).toHaveValue(HOOLI.email);
  for (let i = 0; i < 12; i++) {
    await customer.keyboard.press('Tab');
    expect(await customer.evaluate(() => !!document.activeElement?.closest('[role=dialog]')), 'focus stays in the dialog').toBe(true);
  }
  await customer.keyboard.press('Shift+Tab');
  expect(await customer.evaluate(() => !!document.activeElement?.closest('[role=dialog]'))).toBe(true);
  await customer.keyboard.press('Escape');
  await expect(modal).toHaveCount(0);
  await expect(opener).toBeFocused();

  // Screenshots at 390px: the modal and its comparison table.
  await customer.setViewportSize({ width: 390, height: 844 });
  await customer.keyboard.press('Enter');
  await expect(modal).toBeVisible();
  await customer.screenshot({ path: 'screenshots/upgrade-modal-390.png' });
  await customer.setViewportSize({ width: 1280, height: 900 });
  await customer.screenshot({ path: 'screenshots/upgrade-modal-1280.png' });
  await customer.setViewportSize({ width: 390, height: 844 });
  // The comparison, scrolled to the tier being asked for (an element screenshot of a
  // scrolled fixed layer would show the page behind it).
  await modal.getByTestId('tier-pro').scrollIntoViewIfNeeded();
  await customer.screenshot({ path: 'screenshots/tier-table-390.png' });
  const overflow = await customer.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'no sideways scrolling on a phone').toBeLessThanOrEqual(1);

  // Submitting with no justification: the message is shown inline, by the field.
  await customer.locator('#justification').focus();
  await tabTo(customer, '[data-testid=request-submit]');
  await customer.keyboard.press('Enter');
  await expect(customer.locator('#justification-error')).toContainText('at least 10 characters');
  await expect(customer.locator('#justification')).toBeFocused();
  await customer.keyboard.press('Escape');
  await customer.setViewportSize({ width: 1280, height: 900 });

  // 4. Completed with the keyboard: pending.
  await requestWithKeyboard(customer, '[data-testid=suggestion-request]', 'pro', 'We keep hitting the daily call limit during launches.');
  await expect(customer.getByTestId('request-sent')).toContainText('Pro is pending');
  await expect(customer.getByTestId('modal-done')).toBeFocused();
  await customer.keyboard.press('Escape');
  await expect(modal).toHaveCount(0);
  await expect(customer.getByTestId('request-notice')).toHaveAttribute('data-status', 'pending');
  await customer.screenshot({ path: 'screenshots/request-pending-1280.png', fullPage: true });

  // The admin declines with a reason; the customer sees it without reloading.
  await signIn(admin, ADMIN, '/admin/requests');
  let item = admin.locator('[data-testid=request-item][data-status=pending][data-account=Hooli]');
  await expect(item.getByTestId('request-justification')).toContainText('daily call limit');
  await expect(item.getByTestId('request-evidence')).toContainText('API calls');
  const reason = 'Please add a card on file first, then ask again.';
  await item.getByTestId('decline-reason').fill(reason);
  await item.getByTestId('decline').click();
  await expect(admin.locator('[data-testid=request-item][data-account=Hooli]').first()).toHaveAttribute('data-status', 'declined');
  await expect(customer.getByTestId('request-notice')).toContainText(reason);
  await expect(customer.getByTestId('request-notice')).toHaveAttribute('data-status', 'declined');

  // Asked again, and approved: the header, the export and the suggestions follow, no reload.
  await requestWithKeyboard(customer, '[data-testid=upgrade-cta]', 'pro', 'Card added. We need Pro for exports and headroom.');
  await expect(customer.getByTestId('request-sent')).toBeVisible();
  await customer.getByTestId('modal-done').click();
  await admin.reload();
  item = admin.locator('[data-testid=request-item][data-status=pending][data-account=Hooli]');
  await item.getByTestId('approve').click();
  await expect(admin.locator('[data-testid=request-item][data-account=Hooli]').first()).toHaveAttribute('data-status', 'approved');
  await admin.screenshot({ path: 'screenshots/admin-requests-1280.png', fullPage: true });

  await expect(customer.getByTestId('license-tier')).toHaveText('Pro');
  await expect(customer.getByTestId('request-notice')).toHaveAttribute('data-status', 'approved');
  await expect(customer.getByTestId('suggestion')).toHaveCount(0);
  await customer.getByRole('link', { name: 'Export' }).click();
  const downloading = customer.waitForEvent('download');
  await customer.getByTestId('export-download').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('usage-30d.csv');
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  expect(csv[0]).toBe('day,meter,value');
  expect(csv.length).toBe(1 + 30 * 3);
  expect(csv.some((row) => /^\d{4}-\d{2}-\d{2},api_calls,[1-9]/.test(row)), 'real usage in the file').toBe(true);

  // Contact sales for the custom-priced tier: the account's context goes with it.
  await customer.getByRole('link', { name: 'Dashboard' }).click();
  await customer.getByTestId('contact-sales').click();
  await expect(customer.getByRole('heading', { name: 'Contact sales' })).toBeVisible();
  await expect(modal.locator('input[type=radio]:checked')).toHaveValue('enterprise');
  await customer.locator('#justification').fill('We need an SLA and dedicated support for 40 seats.');
  await customer.getByTestId('request-submit').click();
  await expect(customer.getByTestId('request-sent')).toContainText('Sales will contact you');

  // Only the deliberate empty submission's 422 reached the console.
  expect(errors.filter((e) => !e.includes('status of 422'))).toEqual([]);
  expect(adminErrors).toEqual([]);
});

test('the public plans page compares every tier, on a phone too', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/plans');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const table = page.getByTestId('plans-table');
  for (const name of ['Free', 'Starter', 'Pro', 'Enterprise']) {
    await expect(table.getByTestId('tier-name').filter({ hasText: new RegExp(`^${name}$`) })).toHaveCount(1);
  }
  await expect(page.getByTestId('plan-pro').getByTestId('tier-price')).toHaveText('$30/mo');
  await expect(page.getByTestId('plan-enterprise').getByTestId('tier-price')).toHaveText('Custom');
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `screenshots/plans-${width}.png`, fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
  }
  expect(errors).toEqual([]);
});

test('a Pro customer sees 30- and 90-day analytics with a per-meter breakdown', async ({ page }) => {
  const errors = collectErrors(page);
  await signIn(page, { email: 'owner@acme.example', password: 'acme-owner-demo' }, '/analytics');
  await expect(page.getByTestId('breakdown')).toBeVisible();
  await expect(page.getByTestId('breakdown-api_calls')).toContainText('API calls');
  await expect(page.locator('#chart-api_calls canvas')).toHaveCount(1);
  await page.getByTestId('analytics-90').click();
  await expect(page.getByTestId('analytics-90')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('[data-testid=chart-api_calls] table tr')).toHaveCount(90);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `screenshots/analytics-${width}.png`, fullPage: true });
  }
  expect(errors).toEqual([]);
});
