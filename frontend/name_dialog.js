// The name dialog: opened when a visitor without a name sends, or clicks
// their name. Not offered when a login names the user.
import { $ } from './dom.js';
import { validateName } from './text.js';

export function createNameDialog(dialog, { onSave }) {
  const form = dialog.querySelector('form');
  const input = $('username-input');
  const error = $('name-error');
  const cancel = $('name-cancel');
  let purpose;

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const { name, error: msg } = validateName(input.value);
    if (!name) { error.textContent = msg; input.setAttribute('aria-invalid', 'true'); input.focus(); return; }
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    dialog.close();
    onSave(name, purpose);
  });
  cancel.addEventListener('click', () => dialog.close()); // as does Escape: reading needs no name

  return {
    /** purpose comes back with onSave (e.g. 'send': a message waits for the name). */
    open(current, why) {
      purpose = why;
      input.value = current || '';
      error.textContent = '';
      if (typeof dialog.showModal === 'function') dialog.showModal(); else dialog.setAttribute('open', '');
      input.focus();
      input.select();
    },
  };
}
