/**
 * Whether an error means the store could not be reached for a moment, as opposed to a bug, bad
 * data or a lost compare-and-set: Azure Storage down, unreachable, timing out, busy (5xx, 408,
 * 429 / ServerBusy), or SQLite busy or failing to read its file. The bot then answers the turn
 * "try again in a moment" and keeps the conversation where it was (nothing was changed, and the
 * dialog state could not be read or written anyway).
 *
 * Azure SDK errors are `RestError`s: `statusCode` is absent when no answer came (network), and
 * `code` carries the network error (ECONNREFUSED …) or the storage error code
 * (https://learn.microsoft.com/rest/api/storageservices/common-rest-api-error-codes).
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'REQUEST_SEND_ERROR',
  'ServerBusy',
  'OperationTimedOut',
  'InternalError',
]);

const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|PROTOCOL)/;

function unavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { name, code, statusCode } = error as { name?: unknown; code?: unknown; statusCode?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLITE_UNAVAILABLE.test(code))) return true;
  if (name === 'RestError') {
    if (statusCode === undefined) return true;
    if (typeof statusCode === 'number' && (statusCode >= 500 || statusCode === 408 || statusCode === 429)) return true;
  }
  return name === 'AbortError' || name === 'TimeoutError';
}

export function isStoreUnavailable(error: unknown): boolean {
  // Adapters and botbuilder wrap errors: look down the cause chain (a few levels).
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (unavailable(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
