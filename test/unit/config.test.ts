import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/app/config';
import { azureStorageOptions } from '../../src/app/createStore';

const ROOT = path.join(path.sep, 'srv', 'bot');
const APP_ID = '11111111-2222-4333-8444-555555555555';
const TENANT = '99999999-8888-4777-8666-555555555555';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, ROOT);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration', () => {
  it('with nothing set runs in local mode on loopback against the demo tenant, data under the project', () => {
    const config = loadConfig({}, ROOT);
    expect(config.auth).toEqual({ kind: 'local' });
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(3978);
    expect(config.directory).toBe('demo');
    expect(config.databaseFile).toBe(path.join(ROOT, 'data', 'bot.sqlite'));
  });

  it('FILE_DOWNLOAD_HOSTS defaults to the SharePoint Online domains of every cloud, and takes hosts and *.wildcards', () => {
    expect(loadConfig({}, ROOT).env.FILE_DOWNLOAD_HOSTS).toEqual(['*.sharepoint.com', '*.sharepoint.us', '*.sharepoint-mil.us', '*.dps.mil', '*.sharepoint.cn']);
    expect(loadConfig({ FILE_DOWNLOAD_HOSTS: 'Contoso.sharepoint.com, contoso-my.sharepoint.com' }, ROOT).env.FILE_DOWNLOAD_HOSTS).toEqual([
      'contoso.sharepoint.com',
      'contoso-my.sharepoint.com',
    ]);
    for (const bad of ['https://contoso.sharepoint.com', '*', '10.0.0.1', 'contoso.sharepoint.com/path']) {
      expect(problemsOf({ FILE_DOWNLOAD_HOSTS: bad }).some((p) => p.startsWith('FILE_DOWNLOAD_HOSTS: '))).toBe(true);
    }
  });

  it('names MicrosoftAppPassword when an app id comes without a credential', () => {
    const problems = problemsOf({ MicrosoftAppId: APP_ID, MicrosoftAppTenantId: TENANT, DIRECTORY: 'demo' });
    expect(problems).toEqual([expect.stringMatching(/^MicrosoftAppPassword: required when MicrosoftAppId is set/)]);
  });

  it('names the variable holding a malformed GUID', () => {
    expect(problemsOf({ MicrosoftAppId: 'not-a-guid', MicrosoftAppPassword: 'x' })).toEqual([
      'MicrosoftAppId: expected a GUID',
    ]);
  });

  it('refuses a PORT that is not a number', () => {
    expect(problemsOf({ PORT: 'eighty' })).toEqual(['PORT: expected a whole number']);
  });

  it('refuses local mode (no credentials) on 0.0.0.0, and allows it once credentials are set', () => {
    expect(problemsOf({ HOST: '0.0.0.0' })).toEqual([expect.stringMatching(/^HOST: local mode .* only listens on loopback/)]);
    const config = loadConfig(
      { HOST: '0.0.0.0', MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'x', MicrosoftAppTenantId: TENANT, DIRECTORY: 'demo' },
      ROOT,
    );
    expect(config.auth.kind).toBe('botFramework');
    expect(config.host).toBe('0.0.0.0');
  });

  it('asks for GRAPH_TENANT_ID when the Graph directory is chosen', () => {
    const problems = problemsOf({ DIRECTORY: 'graph', GRAPH_CLIENT_ID: APP_ID, GRAPH_CLIENT_SECRET: 's', APPROVER_GROUP_ID: 'g' });
    expect(problems).toEqual([expect.stringMatching(/^GRAPH_TENANT_ID: required when DIRECTORY=graph/)]);
  });

  it('reports every malformed value at once', () => {
    const problems = problemsOf({ PORT: 'eighty', MicrosoftAppId: 'nope', LOG_LEVEL: 'loud', PARTNER_DOMAINS: 'fabrikam' });
    expect(problems.map((p) => p.split(/[.:]/)[0]).sort()).toEqual(['LOG_LEVEL', 'MicrosoftAppId', 'PARTNER_DOMAINS', 'PORT']);
  });

  it('reports every missing dependent value at once', () => {
    const problems = problemsOf({ MicrosoftAppId: APP_ID, DIRECTORY: 'graph' });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'MicrosoftAppPassword',
      'MicrosoftAppTenantId',
      'GRAPH_TENANT_ID',
      'GRAPH_CLIENT_ID',
      'GRAPH_CLIENT_SECRET',
      'APPROVER_GROUP_ID',
    ]);
  });

  it('says what is wrong in the error message itself, one line per problem', () => {
    expect(() => loadConfig({ PORT: '0' }, ROOT)).toThrow(/PORT: expected a whole number of at least 1/);
  });
});

describe('.env.sample', () => {
  const sample = require('node:fs').readFileSync(path.join(__dirname, '..', '..', '.env.sample'), 'utf8') as string;

  it('lists every variable the bot reads, each with a comment above it', () => {
    const { envSchema } = require('../../src/app/config') as typeof import('../../src/app/config');
    const lines = sample.split('\n');
    for (const name of Object.keys(envSchema.shape)) {
      const at = lines.findIndex((l) => l.startsWith(`${name}=`));
      expect({ name, listed: at >= 0 }).toEqual({ name, listed: true });
      expect({ name, comment: lines[at - 1]?.startsWith('#') }).toEqual({ name, comment: true });
    }
  });

  it('as shipped starts the bot in local mode on the demo tenant', () => {
    const values = require('dotenv').parse(sample) as Record<string, string>;
    const config = loadConfig(values, ROOT);
    expect(config.auth.kind).toBe('local');
    expect(config.directory).toBe('demo');
  });
});

describe('configuration problems are all reported at once', () => {
  it('names a malformed list variable without an index, and still reports the loopback rule', () => {
    let problems: string[] = [];
    try {
      loadConfig({ PARTNER_DOMAINS: 'fabrikam.com, not a domain!', PORT: 'abc', HOST: '0.0.0.0' });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems.some((p) => p.startsWith('PARTNER_DOMAINS: '))).toBe(true);
    expect(problems.some((p) => /PARTNER_DOMAINS\.\d/.test(p))).toBe(false);
    expect(problems.some((p) => p.startsWith('PORT: expected a whole number'))).toBe(true);
    expect(problems.some((p) => p.startsWith('HOST: local mode'))).toBe(true);
  });

  it('says which log levels exist', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL: expected one of fatal, error, warn, info/);
  });
});

describe('configuration of the store', () => {
  const CS = 'DefaultEndpointsProtocol=https;AccountName=contosobot;AccountKey=a2V5;EndpointSuffix=core.windows.net';

  it('defaults to the embedded SQLite store, prefix guestbot, managed identity', () => {
    const env = loadConfig({}, ROOT).env;
    expect(env.STORE).toBe('sqlite');
    expect(env.AZURE_STORAGE_PREFIX).toBe('guestbot');
    expect(env.AZURE_STORAGE_CREDENTIAL).toBe('managedIdentity');
  });

  it('STORE=azure takes a connection string, or an account URL with a managed identity', () => {
    expect(loadConfig({ STORE: 'azure', AZURE_STORAGE_CONNECTION_STRING: CS }, ROOT).env.STORE).toBe('azure');
    expect(loadConfig({ STORE: 'Azure', AZURE_STORAGE_ACCOUNT_URL: 'https://contosobot.blob.core.windows.net' }, ROOT).env.STORE).toBe('azure');
  });

  it('refuses a bad value naming the variable', () => {
    expect(problemsOf({ STORE: 'cosmos' })).toEqual(['STORE: expected sqlite or azure']);
    expect(problemsOf({ STORE: 'azure', AZURE_STORAGE_CONNECTION_STRING: 'not a connection string' })[0]).toMatch(/^AZURE_STORAGE_CONNECTION_STRING: expected an Azure Storage connection string/);
    expect(problemsOf({ STORE: 'azure', AZURE_STORAGE_CONNECTION_STRING: CS, AZURE_STORAGE_PREFIX: 'Guest_Bot' })[0]).toMatch(/^AZURE_STORAGE_PREFIX: /);
    expect(problemsOf({ STORE: 'azure', AZURE_STORAGE_ACCOUNT_URL: 'ftp://x' })[0]).toMatch(/^AZURE_STORAGE_ACCOUNT_URL: /);
    expect(problemsOf({ STORE: 'azure', AZURE_STORAGE_ACCOUNT_URL: 'https://contosobot.blob.core.windows.net', AZURE_STORAGE_CREDENTIAL: 'password' })[0]).toMatch(
      /^AZURE_STORAGE_CREDENTIAL: expected managedIdentity, workloadIdentity, certificate or clientSecret/,
    );
  });

  it('STORE=azure without a connection string or endpoints names AZURE_STORAGE_CONNECTION_STRING; missing service URLs are named', () => {
    expect(problemsOf({ STORE: 'azure' })[0]).toMatch(/^AZURE_STORAGE_CONNECTION_STRING: required when STORE=azure/);
    expect(problemsOf({ STORE: 'azure', AZURE_STORAGE_TABLE_URL: 'http://127.0.0.1:10002/devstoreaccount1' })).toEqual([
      'AZURE_STORAGE_BLOB_URL: required with the other AZURE_STORAGE_*_URL when AZURE_STORAGE_ACCOUNT_URL is not set',
      'AZURE_STORAGE_QUEUE_URL: required with the other AZURE_STORAGE_*_URL when AZURE_STORAGE_ACCOUNT_URL is not set',
    ]);
    expect(problemsOf({ STORE: 'azure', AZURE_STORAGE_ACCOUNT_URL: 'https://storage.contoso.com' })[0]).toMatch(/^AZURE_STORAGE_ACCOUNT_URL: expected an account endpoint/);
  });

  it('a client secret credential needs a tenant, a client and a secret, taken from GRAPH_* when not given', () => {
    const base = { STORE: 'azure', AZURE_STORAGE_ACCOUNT_URL: 'https://contosobot.blob.core.windows.net', AZURE_STORAGE_CREDENTIAL: 'clientSecret' };
    expect(problemsOf(base)).toEqual([
      'AZURE_STORAGE_TENANT_ID: required with AZURE_STORAGE_CREDENTIAL=clientSecret (or GRAPH_TENANT_ID)',
      'AZURE_STORAGE_CLIENT_ID: required with AZURE_STORAGE_CREDENTIAL=clientSecret (or GRAPH_CLIENT_ID)',
      'AZURE_STORAGE_CLIENT_SECRET: required with AZURE_STORAGE_CREDENTIAL=clientSecret (or GRAPH_CLIENT_SECRET)',
    ]);
    expect(loadConfig({ ...base, GRAPH_TENANT_ID: TENANT, GRAPH_CLIENT_ID: APP_ID, GRAPH_CLIENT_SECRET: 's' }, ROOT).env.STORE).toBe('azure');
  });

  it('a certificate that cannot be read stops start-up naming AZURE_STORAGE_CERTIFICATE_PATH', () => {
    const config = loadConfig(
      {
        STORE: 'azure',
        AZURE_STORAGE_ACCOUNT_URL: 'https://contosobot.blob.core.windows.net',
        AZURE_STORAGE_CREDENTIAL: 'certificate',
        AZURE_STORAGE_TENANT_ID: TENANT,
        AZURE_STORAGE_CLIENT_ID: APP_ID,
        AZURE_STORAGE_CERTIFICATE_PATH: '/nonexistent/storage.pem',
      },
      ROOT,
    );
    expect(() => azureStorageOptions(config.env)).toThrow(/AZURE_STORAGE_CERTIFICATE_PATH: cannot read "\/nonexistent\/storage.pem"/);
    const options = azureStorageOptions(loadConfig({ STORE: 'azure', AZURE_STORAGE_ACCOUNT_URL: 'https://contosobot.blob.core.windows.net' }, ROOT).env);
    expect(options).toMatchObject({
      tableUrl: 'https://contosobot.table.core.windows.net',
      blobUrl: 'https://contosobot.blob.core.windows.net',
      queueUrl: 'https://contosobot.queue.core.windows.net',
      prefix: 'guestbot',
    });
    expect(options.credential).toBeDefined();
  });
});

describe('access review settings', () => {
  it('are off by default, every 90 days, escalated after 14, inactive after 90, nobody excluded', () => {
    const { env } = loadConfig({});
    expect(env).toMatchObject({ ACCESS_REVIEWS: false, REVIEW_INTERVAL_DAYS: 90, REVIEW_ESCALATE_DAYS: 14, INACTIVE_DAYS: 90 });
    expect(env.INACTIVE_EXCLUDE).toEqual({ domains: [], emails: [], userIds: [] });
  });

  it('parse INACTIVE_EXCLUDE and refuse an entry that is none of domain, *.domain, address or object id', () => {
    expect(loadConfig({ INACTIVE_EXCLUDE: 'Fabrikam.com, *.tailspintoys.com, jane@outlook.com' }).env.INACTIVE_EXCLUDE).toEqual({
      domains: ['fabrikam.com', '*.tailspintoys.com'],
      emails: ['jane@outlook.com'],
      userIds: [],
    });
    expect(() => loadConfig({ INACTIVE_EXCLUDE: 'fabrikam.com, nope!' })).toThrow(/INACTIVE_EXCLUDE/);
  });

  it('refuse an escalation that would come after the next review', () => {
    expect(() => loadConfig({ ACCESS_REVIEWS: 'true', REVIEW_INTERVAL_DAYS: '14', REVIEW_ESCALATE_DAYS: '14' })).toThrow(/REVIEW_ESCALATE_DAYS/);
    expect(loadConfig({ ACCESS_REVIEWS: 'true', REVIEW_INTERVAL_DAYS: '30', REVIEW_ESCALATE_DAYS: '0' }).env.REVIEW_ESCALATE_DAYS).toBe(0);
  });
});
