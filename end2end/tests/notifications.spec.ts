import { test, expect } from '@playwright/test';
import { collectErrors, openHydrated, signIn } from './helpers';

const HOOLI = { email: 'owner@hooli.example', password: 'hooli-owner-demo' };

test('a crossing shows in the header badge; marking read lowers it without a reload', async ({ page }) => {
  const errors = collectErrors(page);
  // Hooli is over its item limit and at its daily call limit: consuming storage to 80%
  // (7 of 10 MB stored, so 1 MB more) crosses its threshold, and the evaluation reports
  // the account's other meters with it.
  await signIn(page, HOOLI);
  // The owner makes a key, as the operator's backend would hold one, and uses it.
  const created = await page.request.post('/api/v1/user/keys', { data: { name: 'e2e alerts' } });
  expect(created.status()).toBe(201);
  const { plaintext } = await created.json();
  const consumed = await page.request.post('/api/v1/quotas/storage_mb/consume', {
    data: { quantity: 1 },
    headers: { Authorization: `Bearer ${plaintext}` },
  });
  expect(consumed.status()).toBe(200);

  // The crossing is evaluated off the request path, within a moment: wait for the storage
  // notification, then take the count.
  const unreadNow = async () => (await (await page.request.get('/api/v1/users/me/notifications')).json());
  await expect.poll(async () => (await unreadNow()).notifications.some((n: any) => n.subject === 'storage_mb')).toBe(true);
  const unread: number = (await unreadNow()).unread;
  expect(unread).toBeGreaterThanOrEqual(2);

  await openHydrated(page, '/notifications');
  const badge = page.getByTestId('unread-badge');
  await expect(badge).toHaveAttribute('data-count', String(unread));
  const items = page.getByTestId('notification');
  await expect(items).toHaveCount(unread);
  await expect(page.getByRole('heading', { name: /Storage: (\d+% of the limit|limit reached)$/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Unread: Memories: limit reached' })).toBeVisible();

  // One read: the list and the badge follow, with no navigation.
  await page.getByTestId('mark-read').first().click();
  await expect(badge).toHaveAttribute('data-count', String(unread - 1));
  await expect(page.locator('[data-testid=notification][data-read=true]')).toHaveCount(1);

  // All read: the badge goes away.
  await page.getByTestId('mark-all-read').click();
  await expect(page.getByTestId('unread-summary')).toHaveText('All read.');
  await expect(page.getByTestId('unread-badge')).toHaveCount(0);
  expect(errors).toEqual([]);
});

for (const width of [1280, 390]) {
  test(`the notifications page reads well at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    await signIn(page, HOOLI);
    await openHydrated(page, '/notifications');
    await expect(page.getByTestId('notification').first().or(page.getByTestId('no-notifications'))).toBeVisible();
    // Nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `test-results/notifications-${width}.png`, fullPage: true });
  });
}
