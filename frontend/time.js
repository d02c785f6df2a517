// Times and day labels of messages, in the reader's locale and time zone.

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const sameDay = (a, b) => new Date(a).toDateString() === new Date(b).toDateString();

/** The item's day, cached on it (regrouping asks often). */
export const dayKey = (item) => (item.day ??= new Date(item.ts).toDateString());

export function dayLabel(ts) {
  const now = Date.now();
  if (sameDay(ts, now)) return 'Today';
  if (sameDay(ts, now - 86400000)) return 'Yesterday';
  return dayFmt.format(new Date(ts));
}

export function setTime(timeEl, ts) {
  const d = new Date(ts);
  timeEl.dateTime = d.toISOString();
  timeEl.title = fullFmt.format(d);
  timeEl.textContent = timeFmt.format(d);
}
