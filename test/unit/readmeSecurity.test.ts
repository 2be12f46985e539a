/**
 * The README's Security section says what the bot defends against and what the operator must
 * do, and stays in step with the code it describes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MAX_MESSAGE_CHARS } from '../../src/teams/bot/messageLimits';

const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const security = /^## Security\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';

describe('the README Security section', () => {
  it('exists', () => {
    expect(security.length).toBeGreaterThan(500);
  });

  it.each([
    ['tokens', /Bot Framework\s+token/],
    ['loopback-only local mode', /loopback/],
    ['the tenant guard', /tenant guard/],
    ['rights re-checked on every click', /re-checks their rights/],
    ['file download hosts', /FILE_DOWNLOAD_HOSTS/],
    ['input limits', new RegExp(MAX_MESSAGE_CHARS.toLocaleString('en-US'))],
    ['template and markdown safety', /TextRun/],
    ['secrets in logs', /redacted/],
    ['HTTPS for the operator', /HTTPS/],
    ['secrets for the operator', /Key Vault|secrets/],
  ])('covers %s', (_topic, pattern) => {
    expect(security).toMatch(pattern);
  });
});
