// Browser tests of the chat page (frontend/) against the real thing: a Redis,
// two gateways behind haproxy, and a third gateway serving the tutorial's own
// client (tests/tutorial). Run with `node --test` from this folder; the
// gateway binary comes from CHAT_GATEWAY_BIN (default build/test/gateway/chat-gateway).
// Screenshots and process logs go to tests/browser/out/.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  cspViolations, launchBrowser, onlineUsers, openChat, screenshot, send, shownMessages, waitForText, waitOnline,
} from './lib/browser.mjs';
import {
  API_KEY, Stack, gatewayBinary, httpStatus, outDir, publish, redisCommand, repoRoot, storedMessages, waitFor,
} from './lib/stack.mjs';

const TEST_TIMEOUT = 60000;
let stack, browser;
const contexts = [];

before(async () => {
  assert.ok(existsSync(gatewayBinary()), `no gateway binary at ${gatewayBinary()}: build it or set CHAT_GATEWAY_BIN`);
  stack = new Stack();
  await stack.startRedis();
  const [a, b] = await Promise.all([
    stack.startGateway('gw-a'),
    stack.startGateway('gw-b'),
    stack.startGateway('gw-tutorial', { staticDir: path.join(repoRoot, 'tests/tutorial') }),
  ]);
  await stack.startHaproxy(a, b);
  browser = await launchBrowser();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  if (browser) await browser.close().catch(() => {});
  if (stack) {
    await stack.stop({ keepDir: true });
    stack.saveLogs(path.join(outDir, 'logs'));
    const reports = stack.sanitizerReports();
    stack.removeDir();
    // The gateways run with ASan/UBSan in the test build: a report is a bug.
    assert.deepEqual(reports, [], 'sanitizer reports in the gateway logs (see tests/browser/out/logs)');
  }
});

/** Opens a chat page; its context is closed at the end of the run. */
async function open(url, options) {
  const chat = await openChat(browser, url, options);
  contexts.push(chat.context);
  return chat;
}

/** Closes the pages of a test and checks they raised no script error or CSP violation. */
async function finish(...chats) {
  for (const { page, errors, context } of chats) {
    if (!page.isClosed()) assert.deepEqual(await cspViolations(page), [], 'CSP violations');
    assert.deepEqual(errors, [], 'page errors');
    await context.close();
  }
}

function assertOrderedUnique(messages) {
  const ids = messages.filter((m) => m.id !== null).map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids}`);
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'ids in order');
}

test('two pages on different gateways exchange messages and see each other online', { timeout: TEST_TIMEOUT }, async () => {
  const alice = await open(`${stack.viaA}/#duo`, { username: 'alice', viaDialog: true });
  const bob = await open(`${stack.viaB}/#duo`, { username: 'bob' });
  assert.equal(await waitOnline(alice.page), 'gw-a', 'alice landed on gateway A');
  assert.equal(await waitOnline(bob.page), 'gw-b', 'bob landed on gateway B');
  assert.equal(await alice.page.evaluate(() => localStorage.getItem('chat.username')), 'alice', 'name kept');

  await send(alice.page, 'Hello from gateway A');
  const [atBob] = await waitForText(bob.page, 'Hello from gateway A');
  assert.equal(atBob.author, 'alice');
  await send(bob.page, 'Hi alice, this is B');
  const [atAlice] = await waitForText(alice.page, 'Hi alice, this is B');
  assert.equal(atAlice.author, 'bob');

  // Alice's own message went pending -> sent, with the id from its ack.
  const [mine] = await waitFor('alice\'s message sent', async () =>
    (await waitForText(alice.page, 'Hello from gateway A')).filter((m) => m.state === 'sent' && m.id));
  assert.equal(mine.author, 'alice');

  for (const chat of [alice, bob]) {
    await waitFor('both online', async () => JSON.stringify(await onlineUsers(chat.page)) === '["alice","bob"]');
    assertOrderedUnique(await shownMessages(chat.page));
  }
  // Each message shows its local time.
  assert.match(await alice.page.getByTestId('message-time').first().textContent(), /^\d{1,2}:\d{2}/);
  await screenshot(alice.page, 'two-gateways-alice');
  await screenshot(bob.page, 'two-gateways-bob');
  await finish(alice, bob);
});

/** Counts the name dialog's openings in window.__dialogs (an init script of the context). */
const countDialogs = (context) => context.addInitScript(() => {
  window.__dialogs = 0;
  const showModal = HTMLDialogElement.prototype.showModal;
  HTMLDialogElement.prototype.showModal = function showModalCounted() { window.__dialogs++; return showModal.call(this); };
});

test('?username= and ?room= in the page URL: the room, its history and who is online at once, no name dialog', { timeout: TEST_TIMEOUT }, async () => {
  const gw = stack.gateways['gw-a'].url;
  const seeded = ['welcome to the preset room', 'the agenda is pinned', 'see you at 10'];
  for (const [i, text] of seeded.entries()) await publish(gw, 'preset', i % 2 ? 'otto' : 'nina', text);
  // No name in localStorage: only the URL names the room and the user.
  const carol = await open(`${stack.viaA}/?username=carol&room=preset`, { prepare: countDialogs });
  const { page } = carol;
  assert.equal(await waitOnline(page), 'gw-a');
  // Nothing typed: the history and the online list are there.
  for (const text of seeded) await waitForText(page, text);
  assert.deepEqual((await shownMessages(page)).map((m) => m.text), seeded);
  await waitFor('carol online', async () => JSON.stringify(await onlineUsers(page)) === '["carol"]');
  assert.equal(await page.getByTestId('room-name').textContent(), 'preset');
  assert.equal(await page.locator('#user-name').textContent(), 'carol');
  assert.equal(await page.evaluate(() => window.__dialogs), 0, 'the name dialog never opened');
  assert.equal(await page.getByTestId('username-dialog').isVisible(), false);
  // The entry link became the page's own state: the hash names the room, the name is kept.
  const url = new URL(page.url());
  assert.equal(url.hash, '#preset');
  assert.equal(url.search, '');
  assert.equal(await page.evaluate(() => localStorage.getItem('chat.username')), 'carol');

  // Sending needs no dialog either.
  await send(page, 'carol was here');
  await waitFor('sent', async () => (await waitForText(page, 'carol was here')).find((m) => m.state === 'sent' && m.id));
  const stored = (await storedMessages(gw, 'preset')).filter((m) => m.text === 'carol was here');
  assert.deepEqual(stored.map((m) => m.username), ['carol']);
  assert.equal(await page.evaluate(() => window.__dialogs), 0);
  await screenshot(page, 'url-presets');
  await finish(carol);
});

test('without a name the page shows the lobby at once; sending asks for the name, then the message goes out', { timeout: TEST_TIMEOUT }, async () => {
  const gw = stack.gateways['gw-b'].url;
  const seeded = ['lobby history one', 'lobby history two'];
  for (const text of seeded) await publish(gw, 'lobby', 'host', text);
  const visitor = await open(`${stack.viaB}/`, { prepare: countDialogs });
  const { page } = visitor;
  assert.equal(await waitOnline(page), 'gw-b');
  assert.equal(await page.getByTestId('room-name').textContent(), 'lobby');
  for (const text of seeded) await waitForText(page, text);
  // Online as a guest (the gateway's name), listed as "you"; no name chosen yet.
  const guest = await waitFor('the guest online', async () => (await onlineUsers(page)).find((u) => u.startsWith('guest-')));
  assert.equal(await page.locator(`[data-testid="online-user"][data-username="${guest}"] .you`).count(), 1);
  assert.equal(await page.locator('#user-name').textContent(), 'Set name');
  assert.equal(await page.evaluate(() => window.__dialogs), 0, 'no name dialog before sending');
  assert.equal(await page.getByTestId('username-dialog').isVisible(), false);
  await screenshot(page, 'guest-reading');

  // Sending asks for a name; the text waits in the composer, nothing is sent.
  // Escape goes back to reading; the next send asks again.
  const text = 'hello, I am new here';
  await send(page, text);
  await page.getByTestId('username-input').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => window.__dialogs), 1);
  await page.keyboard.press('Escape');
  await page.getByTestId('username-dialog').waitFor({ state: 'hidden' });
  assert.equal(await page.getByTestId('composer-input').inputValue(), text);
  assert.equal((await shownMessages(page)).filter((m) => m.text === text).length, 0);
  await page.getByTestId('composer-input').press('Enter');
  await page.getByTestId('username-input').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => window.__dialogs), 2);
  await screenshot(page, 'guest-asked-for-name');
  await page.getByTestId('username-input').fill('dana');
  await page.getByTestId('username-input').press('Enter');

  // Reconnected as dana (resumed: nothing lost or shown twice), the message went out.
  const mine = await waitFor('sent as dana', async () =>
    (await waitForText(page, text)).find((m) => m.state === 'sent' && m.id));
  assert.equal(mine.author, 'dana');
  assert.equal(await page.getByTestId('composer-input').inputValue(), '');
  const stored = (await storedMessages(gw, 'lobby')).filter((m) => m.text === text);
  assert.deepEqual(stored.map((m) => [m.username, m.id]), [['dana', mine.id]]);
  const shown = await shownMessages(page);
  assertOrderedUnique(shown);
  for (const t of seeded) assert.equal(shown.filter((m) => m.text === t).length, 1, `"${t}" shown once`);
  await waitFor('dana online, the guest gone', async () => {
    const users = await onlineUsers(page);
    return users.includes('dana') && !users.includes(guest);
  });
  assert.equal(await page.locator('#user-name').textContent(), 'dana');
  assert.equal(await page.evaluate(() => localStorage.getItem('chat.username')), 'dana');
  assert.equal(await page.getByTestId('offline-banner').isVisible(), false, 'no offline banner for the rename');
  await finish(visitor);
});

test('rooms: join by name, unread counts, leave', { timeout: TEST_TIMEOUT }, async () => {
  const ann = await open(`${stack.viaA}/?room=plaza`, { username: 'ann' });
  const ben = await open(`${stack.viaB}/#plaza`, { username: 'ben' });
  await waitOnline(ann.page);
  await waitOnline(ben.page);
  assert.equal(new URL(ann.page.url()).hash, '#plaza', '?room= became the hash');

  // Ann joins a second room by name, on the same connection.
  await ann.page.getByTestId('room-input').fill('garden');
  await ann.page.getByTestId('room-input').press('Enter');
  await ann.page.locator('[data-testid="room-item"][data-room="garden"]').waitFor();
  assert.equal(await ann.page.getByTestId('room-name').textContent(), 'garden');
  await waitFor('ann online in garden', async () => JSON.stringify(await onlineUsers(ann.page)) === '["ann"]');

  // Ben writes in plaza while Ann looks at garden: plaza gets an unread count.
  await send(ben.page, 'anyone in the plaza?');
  await send(ben.page, 'hello?');
  const plaza = ann.page.locator('[data-testid="room-item"][data-room="plaza"]');
  await waitFor('unread 2 in plaza', async () => (await plaza.getAttribute('data-unread')) === '2');
  assert.match(await plaza.getByTestId('room-unread').textContent(), /^2/);
  await screenshot(ann.page, 'rooms-unread');

  await plaza.getByTestId('room-link').click();
  await waitForText(ann.page, 'hello?');
  assert.equal(await plaza.getAttribute('data-unread'), '0');
  assert.equal(new URL(ann.page.url()).hash, '#plaza');

  // Leaving garden takes it off the list; ben in plaza still sees ann.
  await ann.page.locator('[data-testid="room-item"][data-room="garden"]').getByTestId('room-leave').click();
  await waitFor('garden gone', async () => (await ann.page.getByTestId('room-item').count()) === 1);
  await waitFor('ben sees ann', async () => JSON.stringify(await onlineUsers(ben.page)) === '["ann","ben"]');
  await finish(ann, ben);
});

test('user text is shown as text, links only for http(s), long words wrap', { timeout: TEST_TIMEOUT }, async () => {
  const mallory = await open(`${stack.viaA}/#xss`, { username: 'mallory' });
  const victim = await open(`${stack.viaB}/#xss`, { username: 'victim' });
  await waitOnline(mallory.page);
  await waitOnline(victim.page);
  const evil = '<img src=x onerror="window.__xss=1">';
  await send(mallory.page, evil);
  await send(mallory.page, 'see https://example.com/a?b=1. and javascript:alert(1) and <b>bold</b>');
  await send(mallory.page, 'x'.repeat(400));
  for (const { page } of [mallory, victim]) {
    await waitForText(page, evil);
    await waitForText(page, 'x'.repeat(400));
    const list = page.getByTestId('messages');
    assert.equal(await list.locator('img, b, script').count(), 0, 'no markup from user text');
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    // The CSP is in force: an inline script does not run.
    assert.equal(await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.head.append(s);
      s.remove();
      return window.__inline;
    }), undefined, 'the CSP blocks inline scripts');
    await page.evaluate(() => { window.__csp = window.__csp.filter((v) => !v.startsWith('script-src')); });
    const links = await list.locator('a').evaluateAll((as) => as.map((a) => ({
      href: a.getAttribute('href'), text: a.textContent, rel: a.rel, target: a.target,
    })));
    assert.deepEqual(links, [{ href: 'https://example.com/a?b=1', text: 'https://example.com/a?b=1', rel: 'noopener noreferrer', target: '_blank' }]);
    // The 400-character word wraps inside the list: nothing scrolls sideways.
    assert.ok(await list.evaluate((el) => el.scrollWidth <= el.clientWidth), 'no horizontal overflow');
  }
  await screenshot(victim.page, 'xss-and-links');
  await finish(mallory, victim);
});

test('scrolling up loads older messages and keeps the scroll position', { timeout: TEST_TIMEOUT }, async () => {
  const gw = stack.gateways['gw-a'].url;
  for (let i = 1; i <= 150; i++) await publish(gw, 'archive', i % 3 ? 'historian' : 'scribe', `archived message ${i}`);
  const reader = await open(`${stack.viaA}/#archive`, { username: 'reader' });
  await waitOnline(reader.page);
  // The join replays the last HISTORY_ON_JOIN (100) messages.
  await waitForText(reader.page, 'archived message 150');
  const first = await waitFor('100 messages', async () => {
    const shown = await shownMessages(reader.page);
    return shown.length === 100 ? shown[0] : null;
  });
  assert.equal(first.id, 51);
  assert.equal(await reader.page.getByTestId('history-start').count(), 0);

  const list = reader.page.getByTestId('messages');
  // The text, not the row: the row of 51 loses its day divider to message 1.
  const topOf51 = () => list.evaluate((el) =>
    el.querySelector('[data-id="51"] .msg-text').getBoundingClientRect().top - el.getBoundingClientRect().top);
  await list.evaluate((el) => { el.scrollTop = 0; });
  const before = await topOf51();
  await waitFor('150 messages', async () => (await shownMessages(reader.page)).length === 150);
  const shown = await shownMessages(reader.page);
  assert.deepEqual(shown.map((m) => m.id), Array.from({ length: 150 }, (_, i) => i + 1));
  assert.deepEqual(shown.map((m) => m.text), Array.from({ length: 150 }, (_, i) => `archived message ${i + 1}`));
  assert.ok(Math.abs((await topOf51()) - before) <= 2, `message 51 stayed in place (${before} -> ${await topOf51()})`);
  assert.ok(await list.evaluate((el) => el.scrollTop > 0), 'scrolled down by the inserted height');
  await list.evaluate((el) => { el.scrollTop = 0; });
  await reader.page.getByTestId('history-start').waitFor();
  await screenshot(reader.page, 'scroll-back');
  await finish(reader);
});

test('a send that fails while Redis is down can be retried and is stored once', { timeout: TEST_TIMEOUT }, async () => {
  const sender = await open(`${stack.viaA}/#retry`, { username: 'sender' });
  const watcher = await open(`${stack.viaB}/#retry`, { username: 'watcher' });
  await waitOnline(sender.page);
  await waitOnline(watcher.page);
  await send(sender.page, 'before the outage');
  await waitForText(watcher.page, 'before the outage');

  const gwA = stack.gateways['gw-a'];
  await stack.stopRedis();
  await waitFor('gateway A not ready', async () => (await httpStatus(`${gwA.url}/readyz`)) === 503);
  const text = 'sent during the outage';
  await send(sender.page, text);
  const failed = sender.page.locator('[data-testid="message"][data-state="failed"]');
  await failed.waitFor();
  assert.equal(await failed.getByTestId('message-text').textContent(), text);
  await screenshot(sender.page, 'send-failed');

  await stack.startRedis();
  await stack.waitReady(gwA.url, 'gateway A after Redis restart', gwA.proc);
  await stack.waitReady(stack.gateways['gw-b'].url, 'gateway B after Redis restart', stack.gateways['gw-b'].proc);
  await failed.getByTestId('retry-button').click();
  const [sent] = await waitFor('sent after retry', async () =>
    (await waitForText(sender.page, text)).filter((m) => m.state === 'sent' && m.id));
  await waitForText(watcher.page, text);

  const stored = (await storedMessages(gwA.url, 'retry')).filter((m) => m.text === text);
  assert.equal(stored.length, 1, 'stored exactly once');
  assert.equal(stored[0].id, sent.id);
  assertOrderedUnique(await shownMessages(sender.page));
  await screenshot(sender.page, 'send-retried');
  await finish(sender, watcher);
});

// The tutorial client must keep working (docs/protocol.md section 2), also when the
// gateway serves it: no header of the gateway may block its inline script.
// (The project's own page carries its strict CSP in a <meta> tag.)
test('the gateway serves the tutorial page so that its inline script runs', { timeout: TEST_TIMEOUT }, async () => {
  const res = await fetch(`${stack.gateways['gw-tutorial'].url}/`);
  await res.arrayBuffer();
  const policy = res.headers.get('content-security-policy') || '';
  assert.doesNotMatch(policy, /script-src(?![^;]*'unsafe-inline')/, 'a CSP that blocks inline scripts');
  const tutorial = await open(`${stack.gateways['gw-tutorial'].url}/`, { csp: 'as-served' });
  await tutorial.page.waitForLoadState('load');
  assert.deepEqual(await cspViolations(tutorial.page), [], 'CSP violations on the tutorial page');
  assert.equal(await tutorial.page.evaluate(() => typeof window.ws), 'object', 'the tutorial script ran');
  await tutorial.context.close();
});

test('the tutorial\'s own client and the project page talk in the lobby', { timeout: TEST_TIMEOUT }, async () => {
  // Exactly as the gateway serves it.
  const tutorial = await open(`${stack.gateways['gw-tutorial'].url}/`, { csp: 'as-served' });
  const carol = await open(`${stack.viaB}/`, { username: 'carol' });
  await waitOnline(carol.page);
  assert.equal(await carol.page.getByTestId('room-name').textContent(), 'lobby');
  await tutorial.page.waitForFunction(() => typeof ws === 'object' && ws.readyState === WebSocket.OPEN, null, { timeout: 10000 });

  await tutorial.page.fill('#username', 'tutor');
  await tutorial.page.fill('#text', 'Hello from the tutorial page');
  await tutorial.page.press('#text', 'Enter');
  const [got] = await waitForText(carol.page, 'Hello from the tutorial page');
  assert.equal(got.author, 'tutor');

  await send(carol.page, 'Hello tutorial, from the project page');
  await tutorial.page.locator('#messages li', { hasText: 'carol: Hello tutorial, from the project page' }).waitFor();
  const items = await tutorial.page.locator('#messages li').allTextContents();
  assert.ok(!items.some((t) => t.includes('undefined')), `plain client got only chat messages: ${items}`);
  assert.equal(items.filter((t) => t === 'carol: Hello tutorial, from the project page').length, 1);
  await screenshot(tutorial.page, 'tutorial-client');
  await screenshot(carol.page, 'tutorial-project-page');
  await finish(tutorial, carol);
});

test('phone width, dark theme and keyboard-only use', { timeout: TEST_TIMEOUT }, async () => {
  const phone = await open(`${stack.viaB}/#pocket`, { viewport: { width: 360, height: 740 }, colorScheme: 'dark' });
  const { page } = phone;
  // Keyboard only: the page connects without a name and the composer has
  // focus; the first send asks for the name (the dialog has focus), and the
  // message goes out once the page is back with that name.
  await waitOnline(page);
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'composer-input');
  await page.keyboard.type('first line');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('second line');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'username-input');
  await page.keyboard.type('pat');
  await page.keyboard.press('Enter');
  const [multi] = await waitForText(page, 'first line\nsecond line');
  assert.equal(multi.author, 'pat');
  await send(page, `a long word: ${'supercalifragilistic'.repeat(12)} https://example.com/${'path/'.repeat(20)}`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="message"][data-state="sent"]').length === 2);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scroll at 360px');
  assert.ok(await page.getByTestId('messages').evaluate((el) => el.scrollWidth <= el.clientWidth), 'messages wrap at 360px');
  assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), true);
  await screenshot(page, 'phone-dark');

  // Every control has an accessible name.
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, textarea, select, a[href]')]
    .filter((el) => {
      if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return false;
      if (el.id && document.querySelector(`label[for="${el.id}"]`)) return false;
      return !el.textContent.trim();
    }).map((el) => el.outerHTML.slice(0, 80)));
  assert.deepEqual(unnamed, []);

  // The rooms drawer opens from the keyboard and closes with Escape.
  await page.getByTestId('menu-button').focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('sidebar').locator('[data-testid="room-item"][data-room="pocket"]').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.getElementById('sidebar').getBoundingClientRect().left >= 0);
  await screenshot(page, 'phone-dark-drawer');
  await page.keyboard.press('Escape');
  await page.getByTestId('room-list').waitFor({ state: 'hidden' });

  await page.emulateMedia({ colorScheme: 'light' });
  await screenshot(page, 'phone-light');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'desktop-dark');
  await finish(phone);
});

test('a message whose ack was lost with the connection is matched on reconnect and shown once', { timeout: TEST_TIMEOUT }, async () => {
  const text = 'the ack of this one is lost';
  let lostRef = null, dropped = false;
  // Between page and gateway: pass everything, except that the connection
  // drops right when the ack of that message comes (it is stored by then).
  const prepare = (context) => context.routeWebSocket(/\/websocket/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((msg) => {
      if (!dropped && typeof msg === 'string' && msg.includes(`"text":"${text}"`)) lostRef = JSON.parse(msg).ref;
      server.send(msg);
    });
    server.onMessage((msg) => {
      if (lostRef && !dropped && typeof msg === 'string' &&
          msg.split('\n').some((line) => line.includes('"type":"ack"') && line.includes(`"ref":"${lostRef}"`))) {
        dropped = true;
        server.close();
        ws.close({ code: 4000, reason: 'test: lost before the ack' });
        return;
      }
      ws.send(msg);
    });
  });
  const kate = await open(`${stack.viaB}/#lostack`, { username: 'kate', prepare });
  await waitOnline(kate.page);
  await send(kate.page, 'first, acked');
  await kate.page.locator('[data-testid="message"][data-state="sent"]').waitFor();
  await send(kate.page, text);
  await kate.page.locator('[data-testid="message"][data-state="failed"]').waitFor();
  assert.ok(dropped && lostRef);
  // Reconnected, the resumed history brings the stored message: it replaces
  // the failed one (matched by author and text), without a retry.
  await waitOnline(kate.page);
  const [shown] = await waitFor('sent, once', async () =>
    (await waitForText(kate.page, text)).filter((m) => m.state === 'sent' && m.id));
  const stored = (await storedMessages(stack.gateways['gw-b'].url, 'lostack')).filter((m) => m.text === text);
  assert.equal(stored.length, 1);
  assert.equal(shown.id, stored[0].id);
  assert.equal(await kate.page.getByTestId('retry-button').count(), 0);
  assert.deepEqual((await shownMessages(kate.page)).map((m) => m.text), ['first, acked', text]);
  await finish(kate);
});

test('when a room\'s history is lost (new epoch), the page starts the room over', { timeout: TEST_TIMEOUT }, async () => {
  const ivy = await open(`${stack.viaA}/#epochs`, { username: 'ivy' });
  await waitOnline(ivy.page);
  await send(ivy.page, 'old one');
  await send(ivy.page, 'old two');
  await waitFor('two sent', async () => (await ivy.page.locator('[data-testid="message"][data-state="sent"]').count()) === 2);
  // Redis loses the room (as after a restart without persistence).
  await redisCommand(stack.redisPort, 'DEL', 'chat:{epochs}:history', 'chat:{epochs}:seq');
  const fresh = await publish(stack.gateways['gw-a'].url, 'epochs', 'ops', 'first of the new epoch');
  assert.equal(fresh.id, 1);
  await waitForText(ivy.page, 'first of the new epoch');
  await waitFor('old messages replaced', async () => (await shownMessages(ivy.page)).length === 1);
  const [m] = await shownMessages(ivy.page);
  assert.equal(m.id, 1);
  await send(ivy.page, 'and on it goes');
  const [next] = await waitFor('sent in new epoch', async () => {
    const sent = (await waitForText(ivy.page, 'and on it goes')).filter((x) => x.state === 'sent' && x.id);
    return sent.length > 0 ? sent : null;  // an empty array is truthy: keep waiting
  });
  assert.equal(next.id, 2);
  await finish(ivy);
});

test('a page disconnected by an operator (4002) says so and does not reconnect by itself', { timeout: TEST_TIMEOUT }, async () => {
  const gw = stack.gateways['gw-a'].url;
  const zed = await open(`${gw}/#ops`, { username: 'zed' });
  assert.equal(await waitOnline(zed.page), 'gw-a');
  const res = await fetch(`${gw}/api/users/zed/disconnect`, {
    method: 'POST', headers: { authorization: `Bearer ${API_KEY}` },
  });
  assert.equal(res.status, 202);
  const banner = zed.page.getByTestId('offline-banner');
  await waitFor('the disconnected banner', async () =>
    /disconnected by an operator/.test((await banner.textContent()) ?? ''));
  assert.equal(await zed.page.getByTestId('reconnect-button').isHidden(), true);
  assert.equal(await zed.page.locator('[data-testid="connection-status"]').getAttribute('data-state'), 'offline');
  await finish(zed);
});

test('when its gateway is killed, a page reconnects to the other one and misses nothing', { timeout: TEST_TIMEOUT }, async () => {
  const dave = await open(`${stack.viaA}/#failover`, { username: 'dave' });
  const erin = await open(`${stack.viaB}/#failover`, { username: 'erin' });
  assert.equal(await waitOnline(dave.page), 'gw-a');
  assert.equal(await waitOnline(erin.page), 'gw-b');
  await send(dave.page, 'dave here, on A');
  await waitForText(erin.page, 'dave here, on A');
  await waitForText(dave.page, 'dave here, on A');

  const killedAt = Date.now();
  stack.gateways['gw-a'].proc.kill('SIGKILL');
  await dave.page.locator('[data-testid="connection-status"]:not([data-state="online"])').waitFor({ timeout: 5000 });
  await dave.page.locator('[data-testid="offline-banner"][data-state="offline"]').waitFor({ state: 'visible', timeout: 5000 });
  await screenshot(dave.page, 'failover-offline');
  const meanwhile = ['while you were away 1', 'while you were away 2', 'while you were away 3'];
  for (const text of meanwhile) await send(erin.page, text);
  for (const text of meanwhile) await waitForText(erin.page, text);

  assert.equal(await waitOnline(dave.page, 10000), 'gw-b', 'dave reconnected through haproxy to gateway B');
  assert.ok(Date.now() - killedAt < 10000, `reconnected in ${Date.now() - killedAt} ms`);
  for (const text of meanwhile) await waitForText(dave.page, text);
  await dave.page.locator('[data-testid="offline-banner"][data-state="online"]').waitFor({ state: 'visible' });
  const shown = await shownMessages(dave.page);
  assertOrderedUnique(shown);
  assert.deepEqual(shown.map((m) => m.text), ['dave here, on A', ...meanwhile]);
  const ids = shown.map((m) => m.id);
  assert.deepEqual(ids, ids.map((_, i) => ids[0] + i), 'no gaps');
  await screenshot(dave.page, 'failover-back');

  // And the conversation goes on.
  await send(dave.page, 'back, via B');
  await waitForText(erin.page, 'back, via B');
  await finish(dave, erin);
});

test('a deleted message leaves the page (a delete frame), a tombstone frame shows nothing', { timeout: TEST_TIMEOUT }, async () => {
  const gw = stack.gateways['gw-b'].url;
  const kept = await publish(gw, 'tombs', 'ops', 'this one stays');
  const doomed = await publish(gw, 'tombs', 'ops', 'this one is deleted');
  const toPage = [];
  // Between page and gateway: the test speaks for a gateway that deletes
  // messages (docs/protocol.md section 10), on the page's own connection.
  const prepare = (context) => context.routeWebSocket(/\/websocket/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((msg) => server.send(msg));
    server.onMessage((msg) => ws.send(msg));
    toPage.push(ws);
  });
  const reader = await open(`${stack.viaB}/#tombs`, { username: 'reader', prepare });
  await waitOnline(reader.page);
  await waitForText(reader.page, 'this one is deleted');
  toPage[0].send(JSON.stringify({ type: 'delete', room: 'tombs', epoch: doomed.epoch, id: doomed.id }));
  await waitFor('the deleted message gone', async () =>
    JSON.stringify((await shownMessages(reader.page)).map((m) => m.id)) === JSON.stringify([kept.id]));
  // A tombstone (as a replay carries one) in a batch with a message after it.
  toPage[0].send([
    JSON.stringify({ type: 'message', room: 'tombs', epoch: doomed.epoch, id: doomed.id + 1, ts: Date.now(), deleted: true }),
    JSON.stringify({ type: 'message', room: 'tombs', epoch: doomed.epoch, id: doomed.id + 2, ts: Date.now(), username: 'ops', text: 'after the tombstone' }),
  ].join('\n'));
  await waitForText(reader.page, 'after the tombstone');
  assert.deepEqual((await shownMessages(reader.page)).map((m) => m.id), [kept.id, doomed.id + 2]);
  await finish(reader);
});
