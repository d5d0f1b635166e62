import { expect, Page } from '@playwright/test';

/** Opens a page and waits until the WASM has hydrated it, so clicks are not lost. */
export async function openHydrated(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** Collects console errors and uncaught exceptions for the whole test. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(String(err)));
  return errors;
}

/** "4,620 / 5,000 calls" -> [4620, 5000] */
export function parseUsageText(text: string): [number, number] {
  const match = text.replace(/,/g, '').match(/([\d.]+)\s*\/\s*([\d.]+)/);
  if (!match) throw new Error(`not a usage text: ${text}`);
  return [Number(match[1]), Number(match[2])];
}

export const OWNER = { email: 'owner@initech.example', password: 'initech-owner-demo' };
export const ADMIN = { email: 'admin@tollgate.example', password: 'tollgate-admin-demo' };

/** Signs in through the form, as a person would, and waits for the dashboard to hydrate. */
export async function signIn(page: Page, who = OWNER, next = '/dashboard') {
  await openHydrated(page, `/signin?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByTestId('signin-submit').click();
  await page.waitForURL((url) => url.pathname === next);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}
