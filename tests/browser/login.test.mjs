// The bundled page logs in where tokens are required (docs/protocol.md
// section 10): with AUTH_SECRET set and TOKEN_URL=/auth/token, the page reads
// /config.json, fetches a token from the app's endpoint with its own cookies
// (the app's session), sends it as the first frame, and chats as the token's
// user. The "app" is a small node:http server that signs HS256 tokens for
// the user named by its session cookie; haproxy puts both on one origin.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, openChat, send, waitForText, waitOnline } from './lib/browser.mjs';
import { Stack, freePort, outDir, waitFor } from './lib/stack.mjs';

const SECRET = 'login-test-secret-0123456789';
let stack, browser, app, origin, gw;
const tokensIssued = [];

function b64url(data) {
  return Buffer.from(data).toString('base64url');
}

function tokenFor(user) {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: user, exp: Math.floor(Date.now() / 1000) + 600 }));
  const signature = createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

before(async () => {
  stack = new Stack();
  await stack.startRedis();
  gw = await stack.startGateway('gw-login', { env: { AUTH_SECRET: SECRET, TOKEN_URL: '/auth/token' } });
  const appPort = await freePort();
  app = http.createServer((req, res) => {
    const session = /(?:^|;\s*)app_user=([a-z]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (req.url !== '/auth/token' || !session) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('log in to the app first\n');
      return;
    }
    tokensIssued.push(session);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify({ token: tokenFor(session) }));
  });
  await new Promise((resolve) => app.listen(appPort, '127.0.0.1', resolve));
  origin = await stack.startAppProxy(gw, appPort);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (app) app.close();
  if (stack) {
    await stack.stop({ keepDir: true });
    stack.saveLogs(path.join(outDir, 'logs-login'));
    const reports = stack.sanitizerReports();
    stack.removeDir();
    assert.deepEqual(reports, [], 'sanitizer reports in the gateway logs');
  }
});

test('with AUTH_SECRET and TOKEN_URL the page gets a token from the app and chats as its user, with no name dialog', { timeout: 60000 }, async () => {
  const config = await (await fetch(`${origin}/config.json`)).json();
  assert.deepEqual(config, { auth: true, token_url: '/auth/token', auth_cookie: false });

  const chat = await openChat(browser, `${origin}/#signed`, {
    prepare: async (context) => {
      await context.addCookies([{ name: 'app_user', value: 'zoe', url: origin }]);
      // A name kept from before the login must not matter: the token names the user.
      await context.addInitScript(() => {
        localStorage.setItem('chat.username', 'someone-else');
        window.__dialogs = 0;
        const showModal = HTMLDialogElement.prototype.showModal;
        HTMLDialogElement.prototype.showModal = function showModalCounted() { window.__dialogs++; return showModal.call(this); };
      });
    },
  });
  assert.equal(await waitOnline(chat.page), 'gw-login');
  assert.ok(tokensIssued.includes('zoe'), 'the page asked the app for a token');
  // Logged in, the token's user is the name: no name dialog is offered.
  await chat.page.locator('#user-name', { hasText: 'zoe' }).waitFor();
  const userButton = chat.page.getByTestId('user-button');
  assert.equal(await userButton.isDisabled(), true, 'the name button offers no dialog');
  assert.equal(await userButton.getAttribute('aria-label'), 'Signed in as zoe');
  await userButton.click({ force: true });
  await send(chat.page, 'signed in through the app');
  // Stored (acked) before the REST read below looks for it.
  const [shown] = await waitFor('acked', async () =>
    (await waitForText(chat.page, 'signed in through the app')).filter((m) => m.state === 'sent' && m.id));
  assert.equal(shown.author, 'zoe', 'the token\'s sub is the author');
  assert.equal(await chat.page.evaluate(() => window.__dialogs), 0, 'the name dialog never opened');
  assert.equal(await chat.page.getByTestId('username-dialog').isVisible(), false);
  // The REST read takes a token too when login is on.
  const res = await fetch(`${gw.url}/api/rooms/signed/messages`, { headers: { authorization: `Bearer ${tokenFor('zoe')}` } });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).at(-1).username, 'zoe');
  assert.deepEqual(chat.errors, []);
  await chat.context.close();
});
