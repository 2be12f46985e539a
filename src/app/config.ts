import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import { projectRoot } from '../shared/projectRoot';
import { parseInactivityExclusions } from '../domain/inactivity';

/** Loads `.env` from the project root (never relative to the working directory). Real env vars win. */
export function loadDotEnv(root = projectRoot()): void {
  const file = path.join(root, '.env');
  if (fs.existsSync(file)) dotenv.config({ path: file, quiet: true });
}

const emptyToUndefined = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().trim().min(1).optional());
const bool = (dflt: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
      .default(dflt ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  );
const int = (dflt: number, min: number, max: number) =>
  z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: 'expected a whole number' })
      .int({ message: 'expected a whole number' })
      .min(min, { message: `expected a whole number of at least ${min}` })
      .max(max, { message: `expected a whole number of at most ${max}` })
      .default(dflt),
  );
const domainList = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(/[,;\s]+/)
        .map((d) => d.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/, { message: 'expected domain names separated by commas' }))),
);
/** INACTIVE_EXCLUDE: domains, *.domains, addresses or object ids (src/domain/inactivity.ts). */
const inactiveExclusions = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .default('')
    .transform((s, ctx) => {
      const parsed = parseInactivityExclusions(s);
      if ('problems' in parsed) {
        ctx.addIssue({ code: 'custom', message: `expected domains, *.domains, addresses or object ids separated by commas (${parsed.problems.join('; ')})` });
        return z.NEVER;
      }
      return parsed.exclusions;
    }),
);
const guid = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, { message: 'expected a GUID' })
    .optional(),
);
const url = (dflt?: string) =>
  z.preprocess(
    emptyToUndefined,
    dflt === undefined
      ? z.url({ message: 'expected an absolute http(s) URL', protocol: /^https?$/ }).optional()
      : z.url({ message: 'expected an absolute http(s) URL', protocol: /^https?$/ }).default(dflt),
  );

/** Microsoft's SharePoint Online / OneDrive host names, per cloud (the Microsoft 365 endpoint lists). */
// Worldwide and GCC: https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges
// GCC High: https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-gcc-high-endpoints
// DoD: https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-dod-endpoints
// 21Vianet: https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges-21vianet
/** GUEST_ACCESS_DAYS: whole days (1..3650) or "none" (no end). */
const accessDays = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .trim()
    .toLowerCase()
    .default('180')
    .refine((v) => v === 'none' || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 3650), { message: 'expected a whole number of days (1 to 3650) or none' })
    .transform((v): number | null => (v === 'none' ? null : Number(v))),
);

/** GUEST_ACCESS_DAYS_BY_SITE: "<group id>=<days|none>" pairs separated by commas. */
const siteAccessDays = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .default('')
    .transform((s) => s.split(/[,;\s]+/).map((p) => p.trim()).filter(Boolean))
    .refine((pairs) => pairs.every((p) => /^[0-9a-fA-F-]{36}=(?:none|\d{1,4})$/i.test(p) && (p.toLowerCase().endsWith('=none') || Number(p.split('=')[1]) >= 1)), {
      message: 'expected <group id>=<days or none> pairs separated by commas',
    })
    .transform((pairs) => {
      const map: Record<string, number | null> = {};
      for (const p of pairs) {
        const [id, days] = p.split('=') as [string, string];
        map[id.toLowerCase()] = days.toLowerCase() === 'none' ? null : Number(days);
      }
      return map;
    }),
);

/** RENEWAL_REMINDER_DAYS: days before the end, e.g. "14,1"; "none" for no reminders. */
const reminderDays = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .trim()
    .toLowerCase()
    .default('14,1')
    .refine((v) => v === 'none' || v.split(/[,;\s]+/).filter(Boolean).every((d) => /^\d+$/.test(d) && Number(d) >= 1 && Number(d) <= 365), {
      message: 'expected days separated by commas (each 1 to 365), or none',
    })
    .transform((v) => (v === 'none' ? [] : [...new Set(v.split(/[,;\s]+/).filter(Boolean).map(Number))].sort((a, b) => b - a))),
);

export const DEFAULT_FILE_DOWNLOAD_HOSTS: readonly string[] = [
  '*.sharepoint.com',
  '*.sharepoint.us',
  '*.sharepoint-mil.us',
  '*.dps.mil',
  '*.sharepoint.cn',
];

/** Host names or `*.`-wildcards, comma-separated; empty means the default list (Microsoft's SharePoint domains). */
const hostPatternList = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .default(DEFAULT_FILE_DOWNLOAD_HOSTS.join(','))
    .transform((s) =>
      s
        .split(/[,;\s]+/)
        .map((d) => d.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().regex(/^(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z][a-z0-9-]*$/, { message: 'expected host names or *.domain wildcards separated by commas' }))
        .min(1),
    ),
);

/** The samplers the Azure Monitor distro accepts in OTEL_TRACES_SAMPLER. */
export const TRACE_SAMPLERS = [
  'microsoft.rate_limited',
  'microsoft.fixed_percentage',
  'always_on',
  'always_off',
  'trace_id_ratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_trace_id_ratio',
] as const;

/** Every environment variable the bot reads. Keep .env.sample and the README in step with this. */
export const envSchema = z.object({
  PORT: int(3978, 1, 65535),
  HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('data')),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'expected one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
  ),

  // Bot Framework identity. None set => local mode (loopback only, unauthenticated, demo tenant).
  MicrosoftAppId: guid,
  MicrosoftAppPassword: optionalString,
  MicrosoftAppType: z.preprocess(emptyToUndefined, z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('SingleTenant')),
  MicrosoftAppTenantId: guid,
  MicrosoftAppCertificateThumbprint: optionalString,
  MicrosoftAppCertificateKeyFile: optionalString,

  // Directory (Microsoft Graph). "demo" = the embedded in-memory demo tenant.
  DIRECTORY: z.preprocess(emptyToUndefined, z.enum(['demo', 'graph']).optional()),
  GRAPH_TENANT_ID: guid,
  GRAPH_CLIENT_ID: guid,
  GRAPH_CREDENTIAL: z.preprocess(
    emptyToUndefined,
    z.enum(['clientSecret', 'certificate', 'managedIdentity', 'workloadIdentity']).default('clientSecret'),
  ),
  GRAPH_CLIENT_SECRET: optionalString,
  GRAPH_CERTIFICATE_PATH: optionalString,
  GRAPH_MANAGED_IDENTITY_CLIENT_ID: guid,
  GRAPH_BASE_URL: url('https://graph.microsoft.com'),
  // How long one read of the tenant's policies is used (DIRECTORY=graph); 0 reads them every time.
  POLICY_CACHE_SECONDS: int(300, 0, 24 * 60 * 60),

  // Invitations.
  ALLOW_REDEMPTION_RESET: bool(false),
  SEND_INVITATION_EMAIL: bool(false),

  // Approvals.
  APPROVAL_POLICY: z.preprocess(emptyToUndefined, z.enum(['nonOwners', 'unlistedDomains', 'always']).default('nonOwners')),
  PARTNER_DOMAINS: domainList,
  APPROVER_GROUP_ID: z.preprocess(emptyToUndefined, z.string().trim().optional()),
  OWNERS_MAY_APPROVE: bool(false),
  APPROVALS_CHANNEL_ID: optionalString,
  APPROVAL_EXPIRY_DAYS: int(14, 1, 365),

  // Bulk invitations.
  BULK_MAX_ROWS: int(50_000, 1, 1_000_000),
  BULK_MAX_BYTES: int(20 * 1024 * 1024, 1024, 512 * 1024 * 1024),
  INVITES_PER_5S: int(150, 1, 150),
  // A queue message received more times than this is given up: its unfinished rows fail with the reason.
  BULK_MAX_DEQUEUES: int(5, 1, 100),
  PUBLIC_BASE_URL: url(),
  // Where attached CSV files may be downloaded from (https only; checked on every redirect).
  FILE_DOWNLOAD_HOSTS: hostPatternList,
  // Short by default: the link is a bearer link to a file of invitation links (see README, Bulk invitations).
  RESULTS_LINK_TTL_MINUTES: int(15, 1, 7 * 24 * 60),
  // Guest lifecycle (see README, Guest lifecycle).
  GUEST_ACCESS_DAYS: accessDays,
  GUEST_ACCESS_DAYS_BY_SITE: siteAccessDays,
  UNREDEEMED_REMINDER_DAYS: int(7, 0, 365),
  UNREDEEMED_AUTO_WITHDRAW: bool(false),
  UNREDEEMED_WITHDRAW_DAYS: int(30, 1, 365),
  RENEWAL_REMINDER_DAYS: reminderDays,
  GUEST_REMOVAL: z.preprocess(
    emptyToUndefined,
    z.enum(['removeFromGroup', 'blockSignIn', 'delete'], { message: 'expected removeFromGroup, blockSignIn or delete' }).default('removeFromGroup'),
  ),
  GUEST_DELETE_AFTER_DAYS: int(30, 0, 365),
  GUEST_ACCOUNT_DELETE_ON_WITHDRAW: bool(true),
  SCHEDULER_INTERVAL_SECONDS: int(60, 5, 3600),
  // Reports and exports: audit events older than this are deleted by a daily sweep (see README, Reports and exports).
  AUDIT_RETENTION_DAYS: int(365, 1, 36_500),
  // Access reviews and inactive guests (see README, Access reviews).
  ACCESS_REVIEWS: bool(false),
  REVIEW_INTERVAL_DAYS: int(90, 1, 3650),
  REVIEW_ESCALATE_DAYS: int(14, 0, 365),
  INACTIVE_DAYS: int(90, 1, 3650),
  INACTIVE_EXCLUDE: inactiveExclusions,
  // Recovery after a crash.
  RECOVERY_INTERVAL_MS: int(5000, 100, 600_000),
  HOLDER_TTL_MS: int(10_000, 500, 600_000),

  // The store: the embedded SQLite file (one process), or Azure Storage (several instances).
  STORE: z.preprocess(
    (v) => (typeof v === 'string' ? emptyToUndefined(v.trim().toLowerCase()) : v),
    z.enum(['sqlite', 'azure'], { message: 'expected sqlite or azure' }).default('sqlite'),
  ),
  AZURE_STORAGE_CONNECTION_STRING: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .regex(/(^|;)\s*(AccountName|TableEndpoint|UseDevelopmentStorage)\s*=/i, {
        message: 'expected an Azure Storage connection string ("DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…" or with …Endpoint=…;SharedAccessSignature=…)',
      })
      .optional(),
  ),
  AZURE_STORAGE_ACCOUNT_URL: url(),
  AZURE_STORAGE_TABLE_URL: url(),
  AZURE_STORAGE_BLOB_URL: url(),
  AZURE_STORAGE_QUEUE_URL: url(),
  AZURE_STORAGE_CREDENTIAL: z.preprocess(
    emptyToUndefined,
    z
      .enum(['managedIdentity', 'workloadIdentity', 'certificate', 'clientSecret'], {
        message: 'expected managedIdentity, workloadIdentity, certificate or clientSecret',
      })
      .default('managedIdentity'),
  ),
  // Default to the GRAPH_* values: one app registration usually holds both (see README, Store).
  AZURE_STORAGE_TENANT_ID: guid,
  AZURE_STORAGE_CLIENT_ID: guid,
  AZURE_STORAGE_CLIENT_SECRET: optionalString,
  AZURE_STORAGE_CERTIFICATE_PATH: optionalString,
  AZURE_STORAGE_MANAGED_IDENTITY_CLIENT_ID: guid,
  AZURE_STORAGE_PREFIX: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .regex(/^[a-z][a-z0-9]{0,19}$/, { message: 'expected lowercase letters and digits, starting with a letter, at most 20 characters' })
      .default('guestbot'),
  ),

  // Telemetry (OpenTelemetry → Azure Monitor). No connection string = no telemetry exported.
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .regex(/(^|;)\s*InstrumentationKey\s*=\s*[0-9a-fA-F-]{36}\s*(;|$)/, {
        message: 'expected the connection string of an Application Insights resource ("InstrumentationKey=…;IngestionEndpoint=…")',
      })
      .optional(),
  ),
  OTEL_SERVICE_NAME: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { message: 'expected a short name: letters, digits, ".", "_" or "-"' })
      .optional(),
  ),
  // Read by the Azure Monitor distro itself; checked here so that a typo stops start-up.
  OTEL_TRACES_SAMPLER: z.preprocess(
    (v) => (typeof v === 'string' ? emptyToUndefined(v.trim().toLowerCase()) : v),
    z.enum(TRACE_SAMPLERS, { message: `expected one of ${TRACE_SAMPLERS.join(', ')}` }).optional(),
  ),
  OTEL_TRACES_SAMPLER_ARG: z.preprocess(
    emptyToUndefined,
    z.coerce.number({ message: 'expected a number' }).min(0, { message: 'expected a number of at least 0' }).optional(),
  ),
});

export type Env = z.infer<typeof envSchema>;

export type AuthMode =
  | { kind: 'local' }
  | {
      kind: 'botFramework';
      appId: string;
      appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
      tenantId: string | undefined;
      credential: 'password' | 'certificate' | 'managedIdentity';
    };

export interface AppConfig {
  env: Env;
  port: number;
  host: string;
  dataDir: string;
  databaseFile: string;
  auth: AuthMode;
  directory: 'demo' | 'graph';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Validates the environment. Every problem names the variable and what is expected;
 * all problems are reported at once.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, root = projectRoot()): AppConfig {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    // Name the variable alone (not "PARTNER_DOMAINS.0"), once per problem.
    const formatProblems = [
      ...new Set(parsed.error.issues.map((i) => `${String(i.path[0] ?? '(environment)')}: ${i.message}`)),
    ];
    // Still check how the valid variables fit together, so every problem is reported at once.
    const lenient = envSchema.partial().safeParse(
      Object.fromEntries(Object.entries(source).filter(([k]) => !parsed.error.issues.some((i) => i.path[0] === k))),
    );
    const malformed = new Set(parsed.error.issues.map((i) => String(i.path[0])));
    // A variable already reported as malformed is not reported again as missing.
    const dependencyProblems = lenient.success
      ? crossCheck(lenient.data as Env).problems.filter((p) => !malformed.has(p.slice(0, p.indexOf(':'))))
      : [];
    throw new ConfigError([...formatProblems, ...dependencyProblems]);
  }
  const env = parsed.data;
  const { problems, auth, directory } = crossCheck(env);
  if (problems.length) throw new ConfigError(problems);

  const dataDir = path.resolve(root, env.DATA_DIR);
  return {
    env,
    port: env.PORT,
    host: env.HOST,
    dataDir,
    databaseFile: path.join(dataDir, 'bot.sqlite'),
    auth,
    directory,
  };
}

/** How the variables must fit together (credentials, loopback rule, Graph settings). */
function crossCheck(env: Env): { problems: string[]; auth: AuthMode; directory: 'demo' | 'graph' } {
  const problems: string[] = [];
  let auth: AuthMode = { kind: 'local' };
  if (env.MicrosoftAppId) {
    const credential = env.MicrosoftAppPassword
      ? 'password'
      : env.MicrosoftAppCertificateThumbprint
        ? 'certificate'
        : env.MicrosoftAppType === 'UserAssignedMSI'
          ? 'managedIdentity'
          : null;
    if (!credential) {
      problems.push(
        'MicrosoftAppPassword: required when MicrosoftAppId is set (or set MicrosoftAppCertificateThumbprint with MicrosoftAppCertificateKeyFile, or MicrosoftAppType=UserAssignedMSI)',
      );
    }
    if (credential === 'certificate' && !env.MicrosoftAppCertificateKeyFile) {
      problems.push('MicrosoftAppCertificateKeyFile: required with MicrosoftAppCertificateThumbprint (path to the PEM private key)');
    }
    if (env.MicrosoftAppType !== 'MultiTenant' && !env.MicrosoftAppTenantId) {
      problems.push(`MicrosoftAppTenantId: required when MicrosoftAppType is ${env.MicrosoftAppType}`);
    }
    auth = {
      kind: 'botFramework',
      appId: env.MicrosoftAppId,
      appType: env.MicrosoftAppType,
      tenantId: env.MicrosoftAppTenantId,
      credential: credential ?? 'password',
    };
  } else if (env.MicrosoftAppPassword || env.MicrosoftAppCertificateThumbprint) {
    problems.push('MicrosoftAppId: required when a bot credential (MicrosoftAppPassword or certificate) is set');
  }

  if (auth.kind === 'local' && env.HOST !== undefined && !isLoopbackHost(env.HOST)) {
    problems.push(
      `HOST: local mode (no MicrosoftAppId) accepts unauthenticated activities, so it only listens on loopback (127.0.0.1 or ::1), not "${env.HOST}"; configure bot credentials to listen elsewhere`,
    );
  }

  const directory = env.DIRECTORY ?? (auth.kind === 'local' ? 'demo' : 'graph');
  if (directory === 'graph') {
    if (!env.GRAPH_TENANT_ID) problems.push('GRAPH_TENANT_ID: required when DIRECTORY=graph (the tenant guests are invited into)');
    if (env.GRAPH_CREDENTIAL !== 'managedIdentity' && !env.GRAPH_CLIENT_ID) {
      problems.push('GRAPH_CLIENT_ID: required when DIRECTORY=graph (the app registration holding the Graph permissions)');
    }
    if (env.GRAPH_CREDENTIAL === 'clientSecret' && !env.GRAPH_CLIENT_SECRET) {
      problems.push('GRAPH_CLIENT_SECRET: required when GRAPH_CREDENTIAL=clientSecret');
    }
    if (env.GRAPH_CREDENTIAL === 'certificate' && !env.GRAPH_CERTIFICATE_PATH) {
      problems.push('GRAPH_CERTIFICATE_PATH: required when GRAPH_CREDENTIAL=certificate (PEM with private key)');
    }
  }
  if (env.APPROVER_GROUP_ID === undefined && directory === 'graph') {
    problems.push('APPROVER_GROUP_ID: required when DIRECTORY=graph (the group whose members approve invitations)');
  }

  problems.push(...storeProblems(env));

  if (env.OTEL_TRACES_SAMPLER_ARG !== undefined && env.OTEL_TRACES_SAMPLER_ARG > 1 && env.OTEL_TRACES_SAMPLER !== 'microsoft.rate_limited') {
    problems.push(
      'OTEL_TRACES_SAMPLER_ARG: expected a ratio between 0 and 1 (it is a number of traces per second only with OTEL_TRACES_SAMPLER=microsoft.rate_limited)',
    );
  }

  if (env.UNREDEEMED_AUTO_WITHDRAW && env.UNREDEEMED_REMINDER_DAYS > 0 && env.UNREDEEMED_WITHDRAW_DAYS <= env.UNREDEEMED_REMINDER_DAYS) {
    problems.push('UNREDEEMED_WITHDRAW_DAYS: expected more days than UNREDEEMED_REMINDER_DAYS (the sponsor is reminded before the invitation is withdrawn)');
  }
  const longestReminder = Math.max(0, ...(env.RENEWAL_REMINDER_DAYS ?? []));
  if (typeof env.GUEST_ACCESS_DAYS === 'number' && longestReminder >= env.GUEST_ACCESS_DAYS) {
    problems.push('RENEWAL_REMINDER_DAYS: expected fewer days than GUEST_ACCESS_DAYS (a reminder before the access starts is no reminder)');
  }
  if (env.ACCESS_REVIEWS && env.REVIEW_ESCALATE_DAYS >= env.REVIEW_INTERVAL_DAYS) {
    problems.push('REVIEW_ESCALATE_DAYS: expected fewer days than REVIEW_INTERVAL_DAYS (a review is escalated before the next one starts), or 0 for never');
  }

  return { problems, auth, directory };
}

/**
 * STORE=azure needs a connection string, or the account's endpoints with a credential; each
 * problem names the variable to set. The credential's own checks (files that must exist) run when
 * the store is built (src/app/createStore.ts).
 */
function storeProblems(env: Env): string[] {
  if (env.STORE !== 'azure' || env.AZURE_STORAGE_CONNECTION_STRING) return [];
  const problems: string[] = [];
  const perService = {
    AZURE_STORAGE_TABLE_URL: env.AZURE_STORAGE_TABLE_URL,
    AZURE_STORAGE_BLOB_URL: env.AZURE_STORAGE_BLOB_URL,
    AZURE_STORAGE_QUEUE_URL: env.AZURE_STORAGE_QUEUE_URL,
  };
  const given = Object.entries(perService).filter(([, v]) => v);
  if (!env.AZURE_STORAGE_ACCOUNT_URL && given.length === 0) {
    problems.push(
      'AZURE_STORAGE_CONNECTION_STRING: required when STORE=azure, unless AZURE_STORAGE_ACCOUNT_URL (or AZURE_STORAGE_TABLE_URL, AZURE_STORAGE_BLOB_URL and AZURE_STORAGE_QUEUE_URL) is set with a credential',
    );
    return problems;
  }
  if (!env.AZURE_STORAGE_ACCOUNT_URL) {
    for (const [name, value] of Object.entries(perService)) {
      if (!value) problems.push(`${name}: required with the other AZURE_STORAGE_*_URL when AZURE_STORAGE_ACCOUNT_URL is not set`);
    }
  } else if (!/^[a-z0-9]+\.(blob|table|queue|dfs)\./i.test(new URL(env.AZURE_STORAGE_ACCOUNT_URL).hostname) && given.length < 3) {
    problems.push(
      'AZURE_STORAGE_ACCOUNT_URL: expected an account endpoint like https://<account>.blob.core.windows.net (or set AZURE_STORAGE_TABLE_URL, AZURE_STORAGE_BLOB_URL and AZURE_STORAGE_QUEUE_URL)',
    );
  }
  const tenant = env.AZURE_STORAGE_TENANT_ID ?? env.GRAPH_TENANT_ID;
  const client = env.AZURE_STORAGE_CLIENT_ID ?? env.GRAPH_CLIENT_ID;
  const kind = env.AZURE_STORAGE_CREDENTIAL;
  if (kind === 'clientSecret' || kind === 'certificate') {
    if (!tenant) problems.push(`AZURE_STORAGE_TENANT_ID: required with AZURE_STORAGE_CREDENTIAL=${kind} (or GRAPH_TENANT_ID)`);
    if (!client) problems.push(`AZURE_STORAGE_CLIENT_ID: required with AZURE_STORAGE_CREDENTIAL=${kind} (or GRAPH_CLIENT_ID)`);
  }
  if (kind === 'clientSecret' && !(env.AZURE_STORAGE_CLIENT_SECRET ?? env.GRAPH_CLIENT_SECRET)) {
    problems.push('AZURE_STORAGE_CLIENT_SECRET: required with AZURE_STORAGE_CREDENTIAL=clientSecret (or GRAPH_CLIENT_SECRET)');
  }
  if (kind === 'certificate' && !(env.AZURE_STORAGE_CERTIFICATE_PATH ?? env.GRAPH_CERTIFICATE_PATH)) {
    problems.push('AZURE_STORAGE_CERTIFICATE_PATH: required with AZURE_STORAGE_CREDENTIAL=certificate (or GRAPH_CERTIFICATE_PATH)');
  }
  return problems;
}
