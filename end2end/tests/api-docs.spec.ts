import { test, expect } from '@playwright/test';
import { collectErrors } from './helpers';

// The API docs page is Swagger UI over the live OpenAPI document, served by the site.
for (const width of [1280, 390]) {
  test(`the API docs list every metering operation at ${width}px`, async ({ page }) => {
    const errors = collectErrors(page);
    await page.setViewportSize({ width, height: 900 });
    const spec = await (await page.request.get('/api/openapi.json')).json();
    await page.goto('/api/docs');
    const paths = page.locator('.opblock-summary-path');
    await expect(paths.first()).toBeVisible();
    const shown = await paths.allInnerTexts();
    // Swagger UI may break a path with zero-width spaces; compare without them.
    const clean = shown.map((p) => p.replace(/\u200b/g, '').trim());
    for (const path of Object.keys(spec.paths)) {
      expect(clean, `${path} is listed`).toContain(path);
    }
    await expect(page.getByText('Tollgate API', { exact: false }).first()).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, 'no sideways scrolling').toBeLessThanOrEqual(1);
    await page.screenshot({ path: `screenshots/api-docs-${width}.png`, fullPage: false });
    expect(errors).toEqual([]);
  });
}
