import { expect, test } from '@playwright/test';
import { ADMIN, OWNER, collectErrors, openHydrated, signIn } from './helpers';

// Every page is served with a Content-Security-Policy that allows scripts only from the
// site or with the response's nonce. A page that needed anything else (an inline script
// without the nonce, an eval, a script from elsewhere) would log a violation here.
const pages = {
  public: ['/signin', '/signup', '/plans'],
  customer: ['/dashboard', '/keys', '/notifications', '/analytics', '/export', '/upgrade', '/account'],
  admin: ['/admin', '/admin/requests'],
};

async function visitAll(page: import('@playwright/test').Page, paths: string[]) {
  for (const path of paths) {
    const response = await page.goto(path);
    expect(response, path).not.toBeNull();
    const headers = response!.headers();
    const policy = headers['content-security-policy'] ?? '';
    expect(policy, path).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}' 'wasm-unsafe-eval'/);
    expect(policy, path).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options'], path).toBe('nosniff');
    expect(headers['referrer-policy'], path).toBe('same-origin');
    expect(headers['x-frame-options'], path).toBe('DENY');
    await expect(page.locator('body'), `${path} hydrates under the policy`).toHaveAttribute('data-hydrated', 'true');
  }
}

test('every page passes its security policy with no console error, signed out, as a customer and as an admin', async ({ page }) => {
  const errors = collectErrors(page);
  const violations: string[] = [];
  await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as any).reportViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
  await visitAll(page, pages.public);
  await signIn(page, OWNER);
  await visitAll(page, pages.customer);
  // The dashboard's chart draws (ECharts under the policy) and the refresh still works.
  await openHydrated(page, '/dashboard');
  await expect(page.locator('#api-calls-chart canvas')).toHaveCount(1);
  await page.context().clearCookies();
  await signIn(page, ADMIN, '/admin');
  await visitAll(page, pages.admin);
  expect(violations).toEqual([]);
  expect(errors).toEqual([]);
});
