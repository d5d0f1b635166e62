import { test, expect } from '@playwright/test';
import { collectErrors, openHydrated, parseUsageText, signIn } from './helpers';

test.beforeEach(async ({ page }) => {
  await signIn(page);
});

test('the header, meters and chart show the numbers the JSON endpoints return', async ({ page }) => {
  const request = page.request; // shares the browser's session cookie
  await openHydrated(page, '/dashboard');
  const status = await (await request.get('/api/license/status')).json();
  const usage = await (await request.get('/api/v1/users/me/usage')).json();

  const header = page.getByTestId('license-header');
  await expect(header.getByTestId('license-tier')).toHaveText(status.plan_name);
  await expect(header.getByTestId('license-tier')).toHaveAttribute('data-tier', status.tier);
  await expect(header.getByTestId('license-status')).toHaveAttribute('data-status', status.status);
  await expect(header.getByTestId('license-status')).toContainText(status.status_label);
  await expect(header.getByTestId('license-seats')).toHaveText(String(status.seats));
  expect(status.license_id).toBeUndefined();

  const meters = Object.entries(status.quotas) as [string, any][];
  expect(meters.length).toBeGreaterThan(0);
  for (const [meter, quota] of meters) {
    const card = page.getByTestId(`meter-${meter}`);
    const [used, limit] = parseUsageText(await card.getByTestId('meter-text').innerText());
    expect(used).toBeCloseTo(quota.used, 1);
    expect(limit).toBe(quota.limit);
    expect(usage.usage[meter]).toBeCloseTo(quota.used, 1);
    await expect(card).toHaveAttribute('data-level', quota.level);
    await expect(card.getByTestId('meter-percent')).toHaveText(`${quota.percent}%`);
    const bar = card.getByRole('progressbar');
    await expect(bar).toHaveAttribute('aria-valuenow', String(Math.min(100, quota.percent)));
    await expect(bar).toHaveAttribute('aria-valuemin', '0');
    await expect(bar).toHaveAttribute('aria-valuemax', '100');
    if (quota.percent >= 80) await expect(card.getByTestId('meter-note')).toBeVisible();
    else await expect(card.getByTestId('meter-note')).toHaveCount(0);
  }

  const cells = page.getByTestId('chart-table').locator('td[data-value]');
  await expect(cells).toHaveCount(7);
  const values = await cells.evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
  expect(values).toEqual(usage.usage.api_calls_7d);
  const days = await page.getByTestId('chart-table').locator('td[data-day]')
    .evaluateAll((tds) => tds.map((td) => td.getAttribute('data-day')));
  expect(days).toEqual(usage.usage.api_calls_7d_days);
  // ECharts drew into the container after hydration.
  await expect(page.locator('#api-calls-chart canvas')).toHaveCount(1);
  await expect(page.getByTestId('user-email')).toHaveText('owner@initech.example');
});

test('the page hydrates: Refresh fetches a new overview', async ({ page }) => {
  await openHydrated(page, '/dashboard');
  const stamp = page.getByTestId('last-updated');
  const before = await stamp.getAttribute('datetime');
  await page.waitForTimeout(1100);
  await page.getByTestId('refresh').click();
  await expect(stamp).not.toHaveAttribute('datetime', before ?? '');
});

test('the console shows no errors while loading and refreshing', async ({ page }) => {
  const errors = collectErrors(page);
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('#api-calls-chart canvas')).toHaveCount(1);
  await page.getByTestId('refresh').click();
  await page.waitForLoadState('networkidle');
  expect(errors).toEqual([]);
});

test('a failing server call shows the error in place, and Retry recovers', async ({ page }) => {
  await openHydrated(page, '/dashboard');
  // The live region refreshes by reading the page again; fail that read (not navigations).
  await page.route('**/dashboard', (route) =>
    route.request().resourceType() === 'fetch' ? route.abort('failed') : route.continue());
  await page.getByTestId('refresh').click();
  const error = page.getByTestId('error');
  await expect(error).toBeVisible();
  await expect(error).toContainText("We couldn't load your usage");
  await expect(page.getByTestId('error-message')).not.toBeEmpty();
  // The page around the error is still there: never a blank page.
  await expect(page.getByRole('banner')).toBeVisible();
  await expect(page.getByTestId('user-email')).toBeVisible();

  await page.unroute('**/dashboard');
  await page.getByTestId('retry').click();
  await expect(page.getByTestId('dashboard')).toBeVisible();
  await expect(error).toHaveCount(0);
});

for (const width of [390, 360]) {
  test(`nothing scrolls sideways at ${width}px`, async ({ page }) => {
    await page.setViewportSize({ width, height: 800 });
    await openHydrated(page, '/dashboard');
    await expect(page.locator('#api-calls-chart canvas')).toHaveCount(1);
    const overflow = await page.evaluate(() => {
      const doc = document.documentElement;
      const wide = [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 0.5)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
      return { scroll: doc.scrollWidth, client: doc.clientWidth, wide };
    });
    expect(overflow.wide).toEqual([]);
    expect(overflow.scroll).toBeLessThanOrEqual(overflow.client);
  });
}

test('below 768px the layout is one column; at 1280px the plan sits beside the quotas', async ({ page }) => {
  const boxes = async () => {
    const quotas = await page.locator('section[aria-labelledby="quotas-title"]').boundingBox();
    const plan = await page.getByTestId('plan-card').boundingBox();
    const chart = await page.locator('section[aria-labelledby="chart-title"]').boundingBox();
    if (!quotas || !plan || !chart) throw new Error('dashboard sections missing');
    return { quotas, plan, chart };
  };
  await page.setViewportSize({ width: 767, height: 900 });
  await openHydrated(page, '/dashboard');
  let b = await boxes();
  expect(b.plan.x).toBeCloseTo(b.quotas.x, 0);
  expect(b.plan.width).toBeCloseTo(b.quotas.width, 0);
  expect(b.plan.y).toBeGreaterThanOrEqual(b.quotas.y + b.quotas.height);
  expect(b.chart.y).toBeGreaterThanOrEqual(b.plan.y + b.plan.height);

  await page.setViewportSize({ width: 1280, height: 900 });
  b = await boxes();
  expect(b.plan.x).toBeGreaterThan(b.quotas.x + b.quotas.width - 1);
  expect(Math.abs(b.plan.y - b.quotas.y)).toBeLessThan(2);
});

test('screenshots of the dashboard at 1280px and 390px', async ({ page }) => {
  for (const [width, name] of [[1280, 'dashboard-1280'], [390, 'dashboard-390']] as const) {
    await page.setViewportSize({ width, height: 900 });
    await openHydrated(page, '/dashboard');
    await expect(page.locator('#api-calls-chart canvas')).toHaveCount(1);
    await page.waitForTimeout(1500); // let the chart's 1 s entry animation finish
    await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
  }
});
