// Debian's Chromium driven by playwright-core (no browser download), and
// helpers to open the chat page and read what it shows.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { outDir, waitFor } from './stack.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/** The gateway's CSP; added to the page's response when the gateway does not send one. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; " +
  "connect-src 'self' ws: wss:; img-src 'self' data:";

export function launchBrowser() {
  // launch() runs Chromium with a fresh temporary profile that it deletes on close.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage',
      // A document that openChat() fulfils itself (to add the CSP header) has
      // no IP address space, so Chromium's Local Network Access checks would
      // block its WebSocket to 127.0.0.1; served by the gateway, it is not.
      '--disable-features=LocalNetworkAccessChecks'],
  });
}

/**
 * Opens url in a new browser context (its own localStorage). With username
 * and viaDialog the name is typed into the name dialog (opened from the name
 * button; the page is connected as a guest before); with username alone it is
 * preset in localStorage. csp: 'enforce' (default) adds the CSP
 * above when the page gets none in a header, 'strip' removes a header CSP,
 * 'as-served' changes nothing. prepare(context) runs before the page loads. Returns
 * { context, page, errors }.
 */
export async function openChat(browser, url, {
  username, viaDialog = false, viewport = { width: 1280, height: 800 }, colorScheme = 'light', csp = 'enforce', prepare,
} = {}) {
  const context = await browser.newContext({ viewport, colorScheme, locale: 'en-GB', timezoneId: 'UTC' });
  const errors = [];
  const served = await fetch(url.split('#')[0]);
  await served.arrayBuffer();
  const sentCsp = served.headers.has('content-security-policy');
  if ((csp === 'enforce' && !sentCsp) || (csp === 'strip' && sentCsp)) {
    await context.route('**/*', async (route) => {
      if (route.request().resourceType() !== 'document') return route.continue();
      const response = await route.fetch();
      const headers = response.headers();
      if (csp === 'strip') delete headers['content-security-policy'];
      else headers['content-security-policy'] ??= CSP;
      return route.fulfill({ response, headers });
    });
  }
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  if (username && !viaDialog) {
    await context.addInitScript((name) => { try { localStorage.setItem('chat.username', name); } catch { /* */ } }, username);
  }
  if (prepare) await prepare(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  page.cspHeader = sentCsp;
  if (username && viaDialog) {
    await page.getByTestId('user-button').click();
    const input = page.getByTestId('username-input');
    await input.waitFor({ state: 'visible' });
    await input.fill(username);
    await input.press('Enter');
    await page.locator('#user-name', { hasText: username }).waitFor();
  }
  return { context, page, errors };
}

export async function cspViolations(page) {
  return page.evaluate(() => window.__csp || []);
}

/** Waits until the connection status says online; returns the gateway id the page landed on. */
export async function waitOnline(page, timeoutMs = 15000) {
  const status = page.locator('[data-testid="connection-status"][data-state="online"]');
  await status.waitFor({ state: 'attached', timeout: timeoutMs });
  return status.getAttribute('data-gateway');
}

/** The messages the page shows: [{ id, state, author, text }]. */
export function shownMessages(page) {
  return page.getByTestId('messages').evaluate((list) =>
    [...list.querySelectorAll('[data-testid="message"]')].map((li) => ({
      id: li.dataset.id ? Number(li.dataset.id) : null,
      state: li.dataset.state,
      author: li.querySelector('[data-testid="message-author"]').textContent,
      text: li.querySelector('[data-testid="message-text"]').textContent,
    })));
}

/** Waits until exactly `count` shown messages (default 1) have this text; returns them. */
export async function waitForText(page, text, { count = 1, timeoutMs = 10000 } = {}) {
  let last = [];
  try {
    return await waitFor(`${count} message(s) "${text}"`, async () => {
      last = (await shownMessages(page)).filter((m) => m.text === text);
      return last.length === count ? last : null;
    }, { timeoutMs });
  } catch (e) {
    e.message += ` (shown: ${last.length})`;
    throw e;
  }
}

export async function send(page, text) {
  const input = page.getByTestId('composer-input');
  await input.fill(text);
  await input.press('Enter');
}

export async function onlineUsers(page) {
  return page.getByTestId('online-user').evaluateAll((els) => els.map((e) => e.dataset.username).sort());
}

export async function screenshot(page, name) {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
