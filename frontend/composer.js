// The composer: a textarea that grows, Enter sends, Shift+Enter adds a line,
// a counter near the limit; disabled while offline.
import { MAX_TEXT, codePoints } from './text.js';

/** onSend(text) returns true when the text went out (the composer then clears). */
export function createComposer(form, input, button, counter, { onSend }) {
  let enabled = false;
  const basePlaceholder = () => input.dataset.placeholder || 'Message';
  const textValue = () => input.value.trim();

  function autosize() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 200) + 'px';
  }

  function refresh() {
    const n = codePoints(textValue());
    const over = n > MAX_TEXT;
    counter.textContent = n > MAX_TEXT - 200 ? `${n}/${MAX_TEXT}` : '';
    counter.classList.toggle('over', over);
    input.setAttribute('aria-invalid', String(over));
    button.disabled = !enabled || n === 0 || over;
    form.classList.toggle('offline', !enabled);
    input.placeholder = enabled ? basePlaceholder() : 'Offline — reconnecting…';
  }

  function submit() {
    const text = textValue();
    if (!enabled || !text || codePoints(text) > MAX_TEXT) return;
    if (onSend(text)) { input.value = ''; autosize(); refresh(); }
  }

  input.addEventListener('input', () => { autosize(); refresh(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); input.focus(); });

  return {
    submit,
    setEnabled(on) { enabled = on; refresh(); },
    setPlaceholder(p) { input.dataset.placeholder = p; refresh(); },
    focus() { input.focus(); },
  };
}
