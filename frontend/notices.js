// Messages to the reader: a notice that fades after 8 s, and the screen
// reader's live region.
import { $, h } from './dom.js';

let noticeTimer = 0;

export function showNotice(text) {
  const notice = $('notice');
  notice.textContent = text;
  notice.hidden = !text;
  clearTimeout(noticeTimer);
  if (text) noticeTimer = setTimeout(() => { notice.hidden = true; }, 8000);
}

export function announce(text) {
  const announcer = $('announcer');
  announcer.append(h('p', null, text));
  while (announcer.childElementCount > 5) announcer.firstElementChild.remove();
}
