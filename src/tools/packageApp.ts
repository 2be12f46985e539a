import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { loadDotEnv } from '../app/config';
import { projectRoot } from '../shared/projectRoot';

/** A variable the package needs is missing or malformed. The message names it. */
export class PackageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackageError';
  }
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;
const PACKAGE_FILES = ['manifest.json', 'color.png', 'outline.png'] as const;

/** The values that replace `${{NAME}}` placeholders in appPackage/manifest.json. */
export function placeholderValues(env: NodeJS.ProcessEnv): Record<string, string> {
  const teamsAppId = env.TEAMS_APP_ID?.trim();
  const botId = (env.BOT_ID ?? env.MicrosoftAppId)?.trim();
  const botDomain = env.BOT_DOMAIN?.trim();
  if (!teamsAppId) throw new PackageError('TEAMS_APP_ID is not set: the Teams app id (a GUID you choose once and keep).');
  if (!GUID.test(teamsAppId)) throw new PackageError(`TEAMS_APP_ID: expected a GUID, got "${teamsAppId}".`);
  if (!botId) throw new PackageError('BOT_ID (or MicrosoftAppId) is not set: the app id of the Azure Bot registration.');
  if (!GUID.test(botId)) throw new PackageError(`BOT_ID: expected a GUID, got "${botId}".`);
  if (!botDomain) throw new PackageError('BOT_DOMAIN is not set: the host name the bot is reachable at, e.g. bot.contoso.com.');
  if (!HOSTNAME.test(botDomain)) {
    throw new PackageError(`BOT_DOMAIN: expected a bare host name such as bot.contoso.com (no https://, no path), got "${botDomain}".`);
  }
  return { TEAMS_APP_ID: teamsAppId, BOT_ID: botId, BOT_DOMAIN: botDomain };
}

/** Replaces every `${{NAME}}`; a placeholder without a value is an error naming it. */
export function fillPlaceholders(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new PackageError(`${name} is not set (used in appPackage/manifest.json).`);
    return value;
  });
}

interface ZipEntry {
  name: string;
  content: Buffer;
}

/** A minimal ZIP writer (DEFLATE entries, no directories): all a Teams app package needs. */
export function writeZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  // DOS date/time for 1980-01-01 00:00: a fixed stamp keeps the package reproducible.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = zlib.deflateRawSync(entry.content);
    const crc = zlib.crc32(entry.content);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.content.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.content.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** Builds appPackage/build/appPackage.zip (or into `outDir`) from the manifest template and icons. */
export function buildAppPackage(options: { env: NodeJS.ProcessEnv; appPackageDir?: string; outDir?: string }): string {
  const dir = options.appPackageDir ?? path.join(projectRoot(), 'appPackage');
  const manifest = fillPlaceholders(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'), placeholderValues(options.env));
  JSON.parse(manifest); // a value that broke the JSON should fail here, not in Teams
  const entries: ZipEntry[] = PACKAGE_FILES.map((name) => ({
    name,
    content: name === 'manifest.json' ? Buffer.from(manifest, 'utf8') : fs.readFileSync(path.join(dir, name)),
  }));
  const outDir = options.outDir ?? path.join(dir, 'build');
  fs.mkdirSync(outDir, { recursive: true });
  const zipFile = path.join(outDir, 'appPackage.zip');
  fs.writeFileSync(zipFile, writeZip(entries));
  return zipFile;
}

if (require.main === module) {
  loadDotEnv();
  try {
    const zipFile = buildAppPackage({ env: process.env });
    process.stdout.write(`Wrote ${zipFile}: upload it in Teams (Apps > Manage your apps > Upload an app).\n`);
  } catch (error) {
    if (!(error instanceof PackageError)) throw error;
    process.stderr.write(`Cannot build the Teams app package: ${error.message}\n`);
    process.exit(1);
  }
}
