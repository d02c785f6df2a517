// Makes the README's screenshots: docs/screenshot-light.png and
// docs/screenshot-dark.png (1280x800), plus phone-size ones in out/.
//   cd tests/browser && CHAT_GATEWAY_BIN=... node screenshots.mjs
// Uses the same stack as the tests: a private Redis and one gateway.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser, openChat, send, waitForText, waitOnline } from './lib/browser.mjs';
import { Stack, outDir, publish, repoRoot, waitFor } from './lib/stack.mjs';

const docs = path.join(repoRoot, 'docs');
const stack = new Stack();
let browser;
try {
  await stack.startRedis();
  const gw = await stack.startGateway('gw-1');
  browser = await launchBrowser();

  const seed = [
    ['leo', 'Morning all! Deploy of the new gateway went out at 9:00.'],
    ['leo', 'Two instances behind haproxy, Redis in the middle.'],
    ['sam', 'Nice. Reconnects look smooth from here, I killed one on purpose 😄'],
    ['maya', 'Release notes are here: https://example.com/releases/chat-1.4'],
    ['sam', 'Does scroll-back work across the restart?'],
    ['leo', 'Yes: history comes from Redis, ids keep going in the same epoch.'],
  ];
  for (const [user, text] of seed) await publish(gw.url, 'lobby', user, text);
  for (const [user, text] of [['sam', 'Can someone review the CSS for dark mode?'], ['leo', 'On it.']]) {
    await publish(gw.url, 'design', user, text);
  }

  // Others online in the lobby.
  const others = [];
  for (const name of ['leo', 'sam']) {
    const chat = await openChat(browser, `${gw.url}/#lobby`, { username: name });
    await waitOnline(chat.page);
    others.push(chat);
  }
  const maya = await openChat(browser, `${gw.url}/#design`, { username: 'maya' });
  await waitOnline(maya.page);
  await maya.page.getByTestId('room-input').fill('lobby');
  await maya.page.getByTestId('room-input').press('Enter');
  await waitForText(maya.page, 'Yes: history comes from Redis, ids keep going in the same epoch.');
  await send(others[0].page, 'Sure, works for me; the resume uses since and epoch.');
  await publish(gw.url, 'design', 'sam', 'Also the phone layout: the drawer feels right now.');
  await send(maya.page, 'Great work, both of you!');
  await waitFor('sent', async () => (await maya.page.locator('[data-testid="message"][data-state="sent"]').count()) >= 2);
  await waitFor('3 online', async () => (await maya.page.getByTestId('online-user').count()) === 3);
  await waitFor('unread in design', async () =>
    (await maya.page.locator('[data-testid="room-item"][data-room="design"]').getAttribute('data-unread')) === '1');
  await maya.page.getByTestId('composer-input').blur();

  mkdirSync(docs, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  await maya.page.screenshot({ path: path.join(docs, 'screenshot-light.png') });
  await maya.page.emulateMedia({ colorScheme: 'dark' });
  await maya.page.screenshot({ path: path.join(docs, 'screenshot-dark.png') });
  await maya.page.setViewportSize({ width: 360, height: 740 });
  await maya.page.screenshot({ path: path.join(outDir, 'readme-phone-dark.png') });
  await maya.page.emulateMedia({ colorScheme: 'light' });
  await maya.page.screenshot({ path: path.join(outDir, 'readme-phone-light.png') });
  console.log(`wrote ${path.join(docs, 'screenshot-light.png')} and ${path.join(docs, 'screenshot-dark.png')}`);
} finally {
  if (browser) await browser.close();
  await stack.stop();
}
