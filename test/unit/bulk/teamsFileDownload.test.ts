/**
 * The attached-file download against real local servers: https with a throwaway test CA, on
 * 127.0.0.1 only. The host names are a test-only allow-list entry (*.sharepoint.test) that the
 * test's resolver points at loopback; loopback itself is let through only where a test says so.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import type { Readable } from 'node:stream';
import { DEFAULT_FILE_DOWNLOAD_HOSTS } from '../../../src/app/config';
import { BulkCsvError } from '../../../src/usecases/bulk/csvFormats';
import {
  downloadTeamsFile,
  FileDownloadError,
  hostAllowed,
  isPublicAddress,
  type DownloadRefusal,
  type FileDownloadOptions,
} from '../../../src/adapters/files/teamsFileDownload';
import { TEAMS_FILE_DOWNLOAD } from '../../../src/teams/bulk/bulkInput';
import { bulkBot, textOf } from '../../support/bulkBot';
import { DEMO } from '../../support/directory';
import { makeTestTls } from '../../support/testTls';

const HOSTS = ['contoso.sharepoint.test', 'other.sharepoint.test', 'internal.sharepoint.test', 'evil.example'];
const tls = makeTestTls(HOSTS);
const CSV = 'Name,Email\nAna Silva,ana@example.org\n';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let httpsServer: https.Server;
let httpServer: http.Server;
let stallServer: net.Server;
let httpsPort = 0;
let httpPort = 0;
let stallPort = 0;
const routes = new Map<string, Handler>();
const hits: string[] = [];
let httpHits = 0;
const openSockets = new Set<net.Socket>();

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  httpsServer = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    hits.push(`${req.headers.host?.split(':')[0]}${req.url}`);
    const handler = routes.get(req.url ?? '');
    if (handler) handler(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  httpServer = http.createServer((_req, res) => {
    httpHits++;
    res.end(CSV);
  });
  // Accepts the connection and never speaks: TLS never completes.
  stallServer = net.createServer((socket) => {
    openSockets.add(socket);
    socket.on('close', () => openSockets.delete(socket));
  });
  for (const server of [httpsServer, httpServer]) server.on('connection', (s: net.Socket) => {
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
  });
  [httpsPort, httpPort, stallPort] = await Promise.all([listen(httpsServer), listen(httpServer), listen(stallServer)]);

  routes.set('/ok.csv', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': Buffer.byteLength(CSV) });
    res.end(CSV);
  });
  routes.set('/to-http', (_req, res) => redirect(res, `http://127.0.0.1:${httpPort}/ok.csv`));
  routes.set('/to-http-allowed-name', (_req, res) => redirect(res, `http://contoso.sharepoint.test:${httpPort}/ok.csv`));
  routes.set('/to-ip', (_req, res) => redirect(res, `https://127.0.0.1:${httpsPort}/ok.csv`));
  routes.set('/to-other-site', (_req, res) => redirect(res, `https://evil.example:${httpsPort}/ok.csv`));
  routes.set('/to-internal', (_req, res) => redirect(res, `https://internal.sharepoint.test:${httpsPort}/ok.csv`));
  routes.set('/to-allowed', (_req, res) => redirect(res, `https://other.sharepoint.test:${httpsPort}/ok.csv`));
  routes.set('/relative', (_req, res) => redirect(res, '/ok.csv'));
  routes.set('/loop', (_req, res) => redirect(res, '/loop'));
  routes.set('/huge', (_req, res) => {
    res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
    res.write('Name,Email\n');
  });
  routes.set('/never-answers', () => undefined);
  routes.set('/trickle', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/csv' });
    res.write('Name,Email\n');
    const timer = setInterval(() => res.write(' '), 100);
    res.on('close', () => clearInterval(timer));
  });
});

afterAll(async () => {
  for (const socket of openSockets) socket.destroy();
  await Promise.all([httpsServer, httpServer, stallServer].map((s) => new Promise((r) => s.close(r))));
});

function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(302, { location });
  res.end();
}

/** The test's DNS: the allowed names point at loopback, "internal" at a private address. */
const resolve = async (hostname: string): Promise<LookupAddress[]> => {
  if (hostname === 'internal.sharepoint.test') return [{ address: '10.1.2.3', family: 4 }];
  if (HOSTS.includes(hostname)) return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

function options(overrides: Partial<FileDownloadOptions> = {}): FileDownloadOptions {
  return {
    allowedHosts: ['*.sharepoint.test'],
    resolve,
    ca: tls.ca,
    testOnlyAllowedAddresses: ['127.0.0.1'],
    connectTimeoutMs: 2_000,
    totalTimeoutMs: 5_000,
    ...overrides,
  };
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

async function refusalOf(promise: Promise<unknown>): Promise<FileDownloadError> {
  try {
    const result = await promise;
    if (result && typeof (result as Readable).resume === 'function') await readAll(result as Readable);
  } catch (error) {
    expect(error).toBeInstanceOf(BulkCsvError);
    expect(error).toBeInstanceOf(FileDownloadError);
    return error as FileDownloadError;
  }
  throw new Error('expected a refusal');
}

const at = (host: string, path: string): string => `https://${host}:${httpsPort}${path}`;

describe('downloading an attached file', () => {
  beforeEach(() => {
    hits.length = 0;
    httpHits = 0;
  });

  it('downloads over https from an allowed host, connecting to the address that was checked', async () => {
    // The system resolver does not know *.sharepoint.test: the connection can only have used the checked address.
    const stream = await downloadTeamsFile(at('contoso.sharepoint.test', '/ok.csv'), 1024 * 1024, options());
    expect(await readAll(stream)).toBe(CSV);
    expect(hits).toEqual(['contoso.sharepoint.test/ok.csv']);
  });

  it('follows a redirect to another allowed host, and a relative one, checking each hop', async () => {
    expect(await readAll(await downloadTeamsFile(at('contoso.sharepoint.test', '/to-allowed'), 1024 * 1024, options()))).toBe(CSV);
    expect(hits).toEqual(['contoso.sharepoint.test/to-allowed', 'other.sharepoint.test/ok.csv']);
    expect(await readAll(await downloadTeamsFile(at('contoso.sharepoint.test', '/relative'), 1024 * 1024, options()))).toBe(CSV);
  });

  it.each<[string, () => string, Partial<FileDownloadOptions>, DownloadRefusal, RegExp, number]>([
    // label, URL, options, refusal, message, requests the https server saw
    ['plain http', () => `http://127.0.0.1:${httpPort}/ok.csv`, {}, 'notHttps', /only download files from Teams over https/, 0],
    ['a host off the list', () => at('evil.example', '/ok.csv'), {}, 'hostNotAllowed', /not stored on your organisation's SharePoint or OneDrive/, 0],
    ['the default list does not include test hosts', () => at('contoso.sharepoint.test', '/ok.csv'), { allowedHosts: DEFAULT_FILE_DOWNLOAD_HOSTS }, 'hostNotAllowed', /FILE_DOWNLOAD_HOSTS/, 0],
    ['an IP literal', () => `https://127.0.0.1:${httpsPort}/ok.csv`, {}, 'ipLiteral', /bare IP address/, 0],
    ['an IPv6 literal', () => `https://[::1]:${httpsPort}/ok.csv`, {}, 'ipLiteral', /bare IP address/, 0],
    ['an allowed name that resolves to loopback', () => at('contoso.sharepoint.test', '/ok.csv'), { testOnlyAllowedAddresses: [] }, 'privateAddress', /private network/, 0],
    ['an allowed name that resolves to a private address', () => at('internal.sharepoint.test', '/ok.csv'), {}, 'privateAddress', /private network/, 0],
    ['a name that does not resolve', () => 'https://nowhere.sharepoint.test/ok.csv', {}, 'unresolvable', /could not reach the server/, 0],
    ['a redirect to http', () => at('contoso.sharepoint.test', '/to-http'), {}, 'notHttps', /over https/, 1],
    ['a redirect to http on an allowed name', () => at('contoso.sharepoint.test', '/to-http-allowed-name'), {}, 'notHttps', /over https/, 1],
    ['a redirect to an IP literal', () => at('contoso.sharepoint.test', '/to-ip'), {}, 'ipLiteral', /bare IP address/, 1],
    ['a redirect off the list', () => at('contoso.sharepoint.test', '/to-other-site'), {}, 'hostNotAllowed', /not stored on your organisation's SharePoint/, 1],
    ['a redirect to a private address', () => at('contoso.sharepoint.test', '/to-internal'), {}, 'privateAddress', /private network/, 1],
    ['a redirect loop', () => at('contoso.sharepoint.test', '/loop'), {}, 'tooManyRedirects', /redirected too many times/, 6],
    ['a missing file', () => at('contoso.sharepoint.test', '/missing'), {}, 'httpError', /answered 404/, 1],
    ['a certificate not signed by a trusted CA', () => at('contoso.sharepoint.test', '/ok.csv'), { ca: undefined }, 'network', /could not download that file/, 0],
  ])('refuses %s with a clear message', async (_label, url, extra, refusal, message, requests) => {
    const error = await refusalOf(downloadTeamsFile(url(), 1024 * 1024, options(extra)));
    expect(error.refusal).toBe(refusal);
    expect(error.userMessage).toMatch(message);
    expect(error.userMessage).not.toContain('127.0.0.1');
    expect(hits).toHaveLength(requests);
    expect(httpHits).toBe(0);
  });

  it('refuses a file larger than the limit from its Content-Length', async () => {
    await expect(downloadTeamsFile(at('contoso.sharepoint.test', '/huge'), 1024 * 1024, options())).rejects.toMatchObject({
      code: 'tooLarge',
    });
  });

  it('gives up on a server that accepts the connection but never completes TLS (connect limit)', async () => {
    const started = Date.now();
    const error = await refusalOf(downloadTeamsFile(`https://contoso.sharepoint.test:${stallPort}/ok.csv`, 1024, options({ connectTimeoutMs: 300 })));
    expect(error.refusal).toBe('connectTimeout');
    expect(error.userMessage).toMatch(/did not answer within/);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('gives up on a server that never answers the request (total limit)', async () => {
    const error = await refusalOf(downloadTeamsFile(at('contoso.sharepoint.test', '/never-answers'), 1024, options({ totalTimeoutMs: 500 })));
    expect(error.refusal).toBe('totalTimeout');
    expect(error.userMessage).toMatch(/took longer than/);
  });

  it('cuts off a body that trickles past the total limit, with the same clear error', async () => {
    const stream = await downloadTeamsFile(at('contoso.sharepoint.test', '/trickle'), 1024 * 1024, options({ totalTimeoutMs: 600 }));
    const error = await refusalOf(readAll(stream));
    expect(error.refusal).toBe('totalTimeout');
  });
});

describe('address and host rules', () => {
  it.each([
    ['127.0.0.1', false],
    ['10.0.0.1', false],
    ['172.16.5.4', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['ff02::1', false],
    ['not an address', false],
    ['13.107.136.10', true],
    ['52.104.0.1', true],
    ['2603:1036::1', true],
    ['::ffff:13.107.136.10', true],
  ])('%s is public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it.each([
    ['contoso.sharepoint.com', true],
    ['contoso-my.sharepoint.com', true],
    ['CONTOSO.SharePoint.com.', true],
    ['contoso.sharepoint.us', true],
    ['contoso.sharepoint-mil.us', true],
    ['contoso.sharepoint.cn', true],
    ['sharepoint.com', false],
    ['evilsharepoint.com', false],
    ['contoso.sharepoint.com.evil.example', false],
    ['graph.microsoft.com', false],
  ])('%s is on the default list: %s', (host, expected) => {
    expect(hostAllowed(host, DEFAULT_FILE_DOWNLOAD_HOSTS)).toBe(expected);
  });
});

describe('an attached file through the bot', () => {
  const attach = (downloadUrl: string) => [{ contentType: TEAMS_FILE_DOWNLOAD, name: 'partners.csv', content: { downloadUrl, fileType: 'csv', uniqueId: 'x' } }];

  it.each([
    ['a redirect to http on loopback', '/to-http', /only download files from Teams over https/],
    ['a redirect to a private address', '/to-internal', /private network/],
    ['a redirect off the list', '/to-other-site', /not stored on your organisation's SharePoint or OneDrive/],
  ])('%s: the owner is told why, and nothing is staged', async (_label, path, message) => {
    const bot = bulkBot({ fileDownload: options() });
    const replies = await bot.say('bulk invite to Marketing', { attachments: attach(at('contoso.sharepoint.test', path)) });
    expect(textOf(replies)).toMatch(message);
    expect(await bot.env.jobs.listByRequester(DEMO.tenantId, DEMO.users.megan.id)).toEqual([]);
    expect(httpHits).toBe(0);
  });

  it('a file on an allowed host is read and summarised', async () => {
    const bot = bulkBot({ fileDownload: options() });
    const replies = await bot.say('bulk invite to Marketing', { attachments: attach(at('contoso.sharepoint.test', '/ok.csv')) });
    expect(textOf(replies)).toContain('partners.csv');
    expect(textOf(replies)).toContain('Marketing');
  });
});
