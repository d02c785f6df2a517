// The connection's status pill and the offline banner ("Reconnecting in 3 s…",
// "Back online.", or an operator's disconnect, after which nothing reconnects).
import { $ } from './dom.js';
import { announce } from './notices.js';

const STATUS_LABEL = { connecting: 'Connecting…', online: 'Online', offline: 'Offline' };

/** client: the ChatClient; onlineChanged(on) enables the composer. */
export function createStatus(client, { onlineChanged }) {
  const statusEl = $('status');
  const statusText = statusEl.querySelector('.status-text');
  const banner = $('banner');
  const bannerText = $('banner-text');
  const retryButton = $('banner-retry');
  let everOnline = false, lostAt = 0, bannerTimer = 0, tickTimer = 0;
  let quiet = false; // a reconnect the page asked for (a new name): no offline banner

  function update() {
    const stopped = client.state === 'stopped';
    const state = stopped || client.state === 'offline' ? 'offline' : client.state === 'online' ? 'online' : 'connecting';
    statusEl.dataset.state = state;
    statusText.textContent = STATUS_LABEL[state];
    if (client.gateway) statusEl.dataset.gateway = client.gateway;
    onlineChanged(state === 'online');
    clearInterval(tickTimer);
    if (state === 'online') {
      if (lostAt && !quiet) {
        banner.dataset.state = 'online';
        bannerText.textContent = 'Back online.';
        retryButton.hidden = true;
        banner.hidden = false;
        announce('Back online.');
        clearTimeout(bannerTimer);
        bannerTimer = setTimeout(() => { if (banner.dataset.state === 'online') banner.hidden = true; }, 4000);
      }
      lostAt = 0;
      quiet = false;
      everOnline = true;
      return;
    }
    if (quiet && state === 'connecting') return;
    quiet = false;
    if (!lostAt && !everOnline && state === 'connecting') return; // first connect: the status pill says it
    if (!lostAt) lostAt = Date.now();
    clearTimeout(bannerTimer);
    const wasHidden = banner.hidden || banner.dataset.state !== 'offline';
    banner.dataset.state = 'offline';
    retryButton.hidden = state !== 'offline' || stopped;
    if (stopped) {
      bannerText.textContent = 'You were disconnected by an operator. Reload the page to connect again.';
      banner.hidden = false;
      return;
    }
    const paint = () => {
      const secs = Math.max(0, Math.ceil((client.retryAt - Date.now()) / 1000));
      bannerText.textContent = (everOnline ? 'You are offline. ' : 'Cannot reach the chat server. ') +
        (client.state === 'offline' && secs > 0 ? `Reconnecting in ${secs} s…` : 'Reconnecting…');
    };
    paint();
    if (state === 'offline') tickTimer = setInterval(paint, 1000);
    banner.hidden = false;
    if (wasHidden && everOnline) announce('Connection lost. Reconnecting…');
  }

  retryButton.addEventListener('click', () => client.retryNow());
  return {
    update,
    /** The next drop is one the page asked for: no banner for it. */
    expectReconnect() { quiet = true; },
  };
}
