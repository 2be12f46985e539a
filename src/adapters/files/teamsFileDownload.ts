import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP, type LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import ipaddr from 'ipaddr.js';
import { BulkCsvError } from '../../usecases/bulk/csvFormats';
import { tooLargeError } from '../../usecases/bulk/parseInvitationCsv';

/**
 * Downloads a file a user attached in Teams, and nothing else. Teams gives the bot a
 * pre-authenticated `downloadUrl` on the tenant's SharePoint / OneDrive; the URL comes in the
 * activity, so it is checked like any user input:
 * - https only, to a host on the allow-list (FILE_DOWNLOAD_HOSTS; by default Microsoft's
 *   SharePoint Online domains in every cloud), never an IP literal;
 * - the host name is resolved here and every address must be public unicast (no loopback,
 *   private, link-local, CGNAT, multicast, reserved …); the connection is then made to the
 *   address that was checked (DNS rebinding cannot slip a second answer in between), with the
 *   certificate verified for the host name;
 * - redirects are followed by hand (at most MAX_REDIRECTS), each hop checked the same way;
 * - connecting (DNS + TCP + TLS) must finish within `connectTimeoutMs`, and the whole download,
 *   body included, within `totalTimeoutMs`; the size limit is enforced on Content-Length here
 *   and on the bytes read by the CSV reader.
 * Every refusal is a BulkCsvError with a message for the user. Nothing of the URL is logged.
 */

export interface FileDownloadOptions {
  /** Host names (`contoso.sharepoint.com`) or wildcards (`*.sharepoint.com`: any subdomain, not the bare domain). */
  allowedHosts: readonly string[];
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  /** Resolves a host name to all its addresses (tests point names at loopback). */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
  /** Extra CA certificates to trust (tests' own CA); the system's are used otherwise. */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * Addresses let through despite the address rules. For tests only (their servers listen on
   * loopback); not reachable from configuration.
   */
  testOnlyAllowedAddresses?: readonly string[];
}

export const MAX_REDIRECTS = 5;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_TOTAL_TIMEOUT_MS = 30_000;

/** Why a download was refused; the user message says what to do. */
export type DownloadRefusal =
  | 'notHttps'
  | 'hostNotAllowed'
  | 'ipLiteral'
  | 'privateAddress'
  | 'unresolvable'
  | 'tooManyRedirects'
  | 'connectTimeout'
  | 'totalTimeout'
  | 'httpError'
  | 'network';

export class FileDownloadError extends BulkCsvError {
  constructor(
    readonly refusal: DownloadRefusal,
    userMessage: string,
    options: { cause?: unknown } = {},
  ) {
    super('unreadable', userMessage, options);
    this.name = 'FileDownloadError';
  }
}

const SEND_AGAIN = 'Attach the CSV file to a message here in Teams and send it again.';

function refuse(refusal: DownloadRefusal, message: string, cause?: unknown): FileDownloadError {
  return new FileDownloadError(refusal, message, { cause });
}

/** `*.x.com` matches `a.x.com` and `a.b.x.com`, not `x.com`; other entries match exactly. */
export function hostAllowed(hostname: string, allowedHosts: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return allowedHosts.some((entry) => {
    const pattern = entry.trim().toLowerCase();
    if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
    return host === pattern;
  });
}

/** Public unicast only: loopback, private, link-local, CGNAT, multicast, reserved and the like are refused. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
  const parsed = ipaddr.process(address);
  return parsed.range() === 'unicast';
}

async function defaultResolve(hostname: string): Promise<LookupAddress[]> {
  return dnsLookup(hostname, { all: true, verbatim: true });
}

/** Checks one hop's URL and resolves it to the address to connect to. */
async function checkHop(url: URL, options: FileDownloadOptions): Promise<LookupAddress> {
  if (url.protocol !== 'https:') {
    throw refuse('notHttps', `I only download files from Teams over https, and that link is not https. ${SEND_AGAIN}`);
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(hostname) !== 0) {
    throw refuse('ipLiteral', `That file link points at a bare IP address, not at your organisation's SharePoint or OneDrive, so I did not download it. ${SEND_AGAIN}`);
  }
  if (!hostAllowed(hostname, options.allowedHosts)) {
    throw refuse(
      'hostNotAllowed',
      `That file is not stored on your organisation's SharePoint or OneDrive (the host is not in FILE_DOWNLOAD_HOSTS), so I did not download it. ${SEND_AGAIN}`,
    );
  }
  let addresses: LookupAddress[];
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    // Name resolution counts towards connecting: a resolver that never answers is cut off too.
    addresses = await Promise.race([
      (options.resolve ?? defaultResolve)(hostname),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('name resolution timed out')), connectTimeoutMs);
      }),
    ]);
  } catch (cause) {
    throw refuse('unresolvable', `I could not reach the server that holds that file. Try again in a minute, or ${SEND_AGAIN.charAt(0).toLowerCase()}${SEND_AGAIN.slice(1)}`, cause);
  } finally {
    clearTimeout(timer);
  }
  const testOnly = new Set(options.testOnlyAllowedAddresses ?? []);
  if (addresses.length === 0 || addresses.some((a) => !testOnly.has(a.address) && !isPublicAddress(a.address))) {
    throw refuse('privateAddress', `That file link leads to an address inside a private network, so I did not download it. ${SEND_AGAIN}`);
  }
  return addresses[0] as LookupAddress;
}

/** A lookup that answers with the address already checked, whatever DNS says now. */
function pinnedLookup(pinned: LookupAddress): LookupFunction {
  return ((_hostname: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (lookupOptions?.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  }) as unknown as LookupFunction;
}

interface Hop {
  response: IncomingMessage;
}

function requestHop(url: URL, pinned: LookupAddress, options: FileDownloadOptions, signal: AbortSignal): Promise<Hop> {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise<Hop>((resolve, reject) => {
    const request = https.request(url, {
      method: 'GET',
      lookup: pinnedLookup(pinned),
      servername: url.hostname,
      ca: options.ca,
      agent: false,
      headers: { accept: 'text/csv, text/plain, application/octet-stream, */*' },
    });
    // The total limit: the request is destroyed with the limit's own error, so the user hears which.
    const onAbort = (): void => {
      request.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const connectTimer = setTimeout(() => {
      request.destroy(refuse('connectTimeout', `The server holding that file did not answer within ${Math.round(connectTimeoutMs / 1000)} seconds. Try again in a minute, or ${SEND_AGAIN.charAt(0).toLowerCase()}${SEND_AGAIN.slice(1)}`));
    }, connectTimeoutMs);
    request.once('socket', (socket) => {
      socket.once('secureConnect', () => clearTimeout(connectTimer));
    });
    request.once('response', (response) => {
      clearTimeout(connectTimer);
      signal.removeEventListener('abort', onAbort);
      resolve({ response });
    });
    request.once('error', (error) => {
      clearTimeout(connectTimer);
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
    request.end();
  });
}

/** Downloads a Teams file attachment as a stream for the CSV reader. */
export async function downloadTeamsFile(downloadUrl: string, maxBytes: number, options: FileDownloadOptions): Promise<Readable> {
  const totalTimeoutMs = options.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS;
  const totalTimeout = refuse(
    'totalTimeout',
    `Downloading that file took longer than ${Math.round(totalTimeoutMs / 1000)} seconds, so I stopped. Try again in a minute, or send a smaller file.`,
  );
  const controller = new AbortController();
  const totalTimer = setTimeout(() => controller.abort(totalTimeout), totalTimeoutMs);
  const fail = (error: unknown): never => {
    clearTimeout(totalTimer);
    if (error instanceof FileDownloadError) throw error;
    if (controller.signal.reason === totalTimeout) throw totalTimeout;
    throw refuse('network', `I could not download that file from Teams. ${SEND_AGAIN}`, error);
  };

  let url: URL;
  try {
    url = new URL(downloadUrl);
  } catch (error) {
    return fail(refuse('notHttps', `That file link is not a valid web address. ${SEND_AGAIN}`, error));
  }
  try {
    for (let hop = 0; ; hop++) {
      const pinned = await checkHop(url, options);
      const { response } = await requestHop(url, pinned, options, controller.signal);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        if (hop >= MAX_REDIRECTS) throw refuse('tooManyRedirects', `That file link redirected too many times, so I stopped. ${SEND_AGAIN}`);
        url = new URL(response.headers.location, url);
        continue;
      }
      if (status !== 200) {
        response.resume();
        throw refuse('httpError', `Teams did not hand over that file (the server answered ${status}). ${SEND_AGAIN}`);
      }
      const length = Number(response.headers['content-length']);
      if (Number.isFinite(length) && length > maxBytes) {
        response.destroy();
        throw tooLargeError(maxBytes);
      }
      // The total limit covers the body too: a server that trickles is cut off with a clear error.
      const onAbort = (): void => {
        response.destroy(totalTimeout);
      };
      controller.signal.addEventListener('abort', onAbort, { once: true });
      response.once('close', () => {
        clearTimeout(totalTimer);
        controller.signal.removeEventListener('abort', onAbort);
      });
      return response;
    }
  } catch (error) {
    if (error instanceof BulkCsvError && !(error instanceof FileDownloadError)) {
      clearTimeout(totalTimer);
      throw error;
    }
    return fail(error);
  }
}
