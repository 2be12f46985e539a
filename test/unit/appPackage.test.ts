import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { PNG } from 'pngjs';
import { buildAppPackage, fillPlaceholders, PackageError, placeholderValues } from '../../src/tools/packageApp';

const ROOT = path.resolve(__dirname, '..', '..');
const APP_PACKAGE = path.join(ROOT, 'appPackage');
const SAMPLE_ENV = {
  TEAMS_APP_ID: '3f0c6a8e-5b1d-4c2e-9a7f-1d2e3f4a5b6c',
  BOT_ID: '11111111-2222-4333-8444-555555555555',
  BOT_DOMAIN: 'guest-bot.contoso.com',
};

function readManifestTemplate(): string {
  return fs.readFileSync(path.join(APP_PACKAGE, 'manifest.json'), 'utf8');
}

function officialSchema(version: string): object {
  const file = path.join(
    path.dirname(require.resolve('@microsoft/app-manifest/package.json')),
    'build',
    'json-schemas',
    'teams',
    `v${version}`,
    'MicrosoftTeams.schema.json',
  );
  return JSON.parse(fs.readFileSync(file, 'utf8')) as object;
}

/** Reads a ZIP's entries through its central directory. */
function unzip(buffer: Buffer): Map<string, Buffer> {
  const end = buffer.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buffer.readUInt16LE(end + 10);
  let at = buffer.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = buffer.readUInt16LE(at + 10);
    const crc = buffer.readUInt32LE(at + 16);
    const compressedSize = buffer.readUInt32LE(at + 20);
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    const localOffset = buffer.readUInt32LE(at + 42);
    const name = buffer.toString('utf8', at + 46, at + 46 + nameLength);
    const localNameLength = buffer.readUInt16LE(localOffset + 26);
    const localExtraLength = buffer.readUInt16LE(localOffset + 28);
    const start = localOffset + 30 + localNameLength + localExtraLength;
    const raw = buffer.subarray(start, start + compressedSize);
    const content = method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw);
    expect(zlib.crc32(content)).toBe(crc);
    files.set(name, content);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

describe('the Teams app package', () => {
  it('has a manifest that validates against the official schema it declares, once placeholders are filled', () => {
    const manifest = JSON.parse(fillPlaceholders(readManifestTemplate(), placeholderValues(SAMPLE_ENV))) as {
      manifestVersion: string;
      $schema: string;
    };
    expect(manifest.$schema).toContain(`/v${manifest.manifestVersion}/`);
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(officialSchema(manifest.manifestVersion));
    const valid = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('offers the bot in personal, team and group chats with the commands the bot understands', () => {
    const manifest = JSON.parse(fillPlaceholders(readManifestTemplate(), placeholderValues(SAMPLE_ENV))) as {
      bots: Array<{ botId: string; scopes: string[]; commandLists: Array<{ commands: Array<{ title: string }> }> }>;
    };
    const bot = manifest.bots[0]!;
    expect(bot.botId).toBe(SAMPLE_ENV.BOT_ID);
    expect(bot.scopes.sort()).toEqual(['groupChat', 'personal', 'team']);
    expect(bot.commandLists.flatMap((l) => l.commands.map((c) => c.title))).toEqual([
      'invite',
      'bulk invite',
      'why did I get a code?',
      'how do I sync?',
      'pending',
      'my invitations',
      'help',
    ]);
  });

  it('has a 192x192 colour icon and a 32x32 outline icon that is white on transparent', () => {
    const color = PNG.sync.read(fs.readFileSync(path.join(APP_PACKAGE, 'color.png')));
    expect([color.width, color.height]).toEqual([192, 192]);

    const outline = PNG.sync.read(fs.readFileSync(path.join(APP_PACKAGE, 'outline.png')));
    expect([outline.width, outline.height]).toEqual([32, 32]);
    let transparent = 0;
    for (let i = 0; i < outline.data.length; i += 4) {
      const [r, g, b, a] = [outline.data[i], outline.data[i + 1], outline.data[i + 2], outline.data[i + 3]];
      if (a === 0) transparent++;
      else expect([r, g, b]).toEqual([255, 255, 255]);
    }
    // Mostly background: the shape must not fill the square.
    expect(transparent).toBeGreaterThan(32 * 32 * 0.4);
    expect(transparent).toBeLessThan(32 * 32);
  });

  it('zips the filled manifest and both icons into appPackage.zip', () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gob-package-'));
    const zipFile = buildAppPackage({ env: SAMPLE_ENV, appPackageDir: APP_PACKAGE, outDir });
    expect(path.basename(zipFile)).toBe('appPackage.zip');
    const files = unzip(fs.readFileSync(zipFile));
    expect([...files.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = files.get('manifest.json')!.toString('utf8');
    expect(manifest).not.toContain('${{');
    expect(JSON.parse(manifest)).toMatchObject({ id: SAMPLE_ENV.TEAMS_APP_ID, validDomains: [SAMPLE_ENV.BOT_DOMAIN] });
    expect(files.get('color.png')!.equals(fs.readFileSync(path.join(APP_PACKAGE, 'color.png')))).toBe(true);
  });

  it.each([
    [{ ...SAMPLE_ENV, TEAMS_APP_ID: '' }, /TEAMS_APP_ID is not set/],
    [{ ...SAMPLE_ENV, BOT_ID: undefined }, /BOT_ID \(or MicrosoftAppId\) is not set/],
    [{ ...SAMPLE_ENV, BOT_DOMAIN: undefined }, /BOT_DOMAIN is not set/],
    [{ ...SAMPLE_ENV, BOT_DOMAIN: 'https://guest-bot.contoso.com/' }, /BOT_DOMAIN: expected a bare host name/],
    [{ ...SAMPLE_ENV, TEAMS_APP_ID: 'my-app' }, /TEAMS_APP_ID: expected a GUID/],
  ])('refuses to package with a missing or malformed variable, naming it (%#)', (env, message) => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gob-package-'));
    expect(() => buildAppPackage({ env, appPackageDir: APP_PACKAGE, outDir })).toThrow(PackageError);
    expect(() => buildAppPackage({ env, appPackageDir: APP_PACKAGE, outDir })).toThrow(message);
    expect(fs.existsSync(path.join(outDir, 'appPackage.zip'))).toBe(false);
  });

  it('takes the bot id from MicrosoftAppId when BOT_ID is not set', () => {
    const { BOT_ID, ...rest } = SAMPLE_ENV;
    expect(placeholderValues({ ...rest, MicrosoftAppId: BOT_ID }).BOT_ID).toBe(BOT_ID);
  });
});
