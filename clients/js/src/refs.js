// Client refs (docs/protocol.md section 4): at most 64 bytes, unique enough
// that two tabs of one user never retry each other's sends.

let counter = 0;

export function newRef(prefix = 'c') {
  const rand = new Uint32Array(2);
  globalThis.crypto.getRandomValues(rand);
  return prefix + (++counter).toString(36) + '-' + rand[0].toString(36) + rand[1].toString(36);
}
