/**
 * Chooses the @azure/identity credential GraphDirectory signs in with, from plain options that
 * src/app builds from its configuration (this adapter never reads AppConfig).
 *
 * The app's config loader already checks that the variables each kind needs are present; this
 * module checks what only exists at run time (the certificate file, the federated token file) and
 * reports every problem at once as a GraphCredentialError, so start-up stops with a clear message
 * instead of failing on the first Graph call. Each problem names the setting the operator changes
 * (the GRAPH_* / AZURE_* variable), since that is what they have to fix.
 */
import fs from 'node:fs';
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity';

export type GraphCredentialKind = 'clientSecret' | 'certificate' | 'managedIdentity' | 'workloadIdentity';

/** What the credential is built from (GRAPH_CREDENTIAL, GRAPH_TENANT_ID, ... in the app's configuration). */
export interface GraphCredentialOptions {
  kind: GraphCredentialKind;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** A PEM file holding the certificate and its private key. */
  certificatePath?: string;
  /** A user-assigned managed identity's client id; absent = the system-assigned identity. */
  managedIdentityClientId?: string;
}

/** Every problem found, each naming the variable to fix. Never holds a secret. */
export class GraphCredentialError extends Error {
  constructor(readonly problems: string[]) {
    super(`Graph credential: ${problems.join('; ')}`);
    this.name = 'GraphCredentialError';
  }
}

export interface CredentialRuntime {
  /** Where AZURE_FEDERATED_TOKEN_FILE / AZURE_CLIENT_ID / AZURE_TENANT_ID come from (workload identity). */
  processEnv?: NodeJS.ProcessEnv;
  /** Reads a file (injected in tests). */
  readFile?: (path: string) => string;
  /** Whether a file exists (injected in tests). */
  fileExists?: (path: string) => boolean;
}

const PEM_KEY = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----/;

/** Builds the credential or throws GraphCredentialError listing every problem. Never logs or returns a secret. */
export function createGraphCredential(options: GraphCredentialOptions, runtime: CredentialRuntime = {}): TokenCredential {
  const processEnv = runtime.processEnv ?? process.env;
  const readFile = runtime.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8'));
  const fileExists = runtime.fileExists ?? ((p: string) => fs.existsSync(p));
  const problems: string[] = [];
  const tenantId = options.tenantId;
  const clientId = options.clientId;

  const requireTenantAndClient = (kind: string): void => {
    if (!tenantId) problems.push(`GRAPH_TENANT_ID: required with GRAPH_CREDENTIAL=${kind}`);
    if (!clientId) problems.push(`GRAPH_CLIENT_ID: required with GRAPH_CREDENTIAL=${kind}`);
  };

  switch (options.kind) {
    case 'clientSecret': {
      requireTenantAndClient('clientSecret');
      if (!options.clientSecret) problems.push('GRAPH_CLIENT_SECRET: required with GRAPH_CREDENTIAL=clientSecret');
      if (problems.length) throw new GraphCredentialError(problems);
      return new ClientSecretCredential(tenantId as string, clientId as string, options.clientSecret as string);
    }
    case 'certificate': {
      requireTenantAndClient('certificate');
      const certificatePath = options.certificatePath;
      if (!certificatePath) {
        problems.push('GRAPH_CERTIFICATE_PATH: required with GRAPH_CREDENTIAL=certificate (a PEM file with the certificate and its private key)');
      } else {
        let pem: string | null = null;
        try {
          pem = readFile(certificatePath);
        } catch {
          problems.push(`GRAPH_CERTIFICATE_PATH: cannot read "${certificatePath}"`);
        }
        // The file content is never echoed: it holds a private key.
        if (pem !== null && !PEM_KEY.test(pem)) {
          problems.push(`GRAPH_CERTIFICATE_PATH: "${certificatePath}" has no PEM private key (expected a "-----BEGIN PRIVATE KEY-----" block)`);
        }
        if (pem !== null && !PEM_CERT.test(pem)) {
          problems.push(`GRAPH_CERTIFICATE_PATH: "${certificatePath}" has no PEM certificate (expected a "-----BEGIN CERTIFICATE-----" block)`);
        }
      }
      if (problems.length) throw new GraphCredentialError(problems);
      return new ClientCertificateCredential(tenantId as string, clientId as string, { certificatePath: certificatePath as string });
    }
    case 'managedIdentity': {
      // A user-assigned identity is picked by its client id; without one, the system-assigned identity is used.
      const miClientId = options.managedIdentityClientId;
      return miClientId ? new ManagedIdentityCredential({ clientId: miClientId }) : new ManagedIdentityCredential();
    }
    case 'workloadIdentity': {
      // The platform (AKS workload identity, federated credentials) injects these; GRAPH_* values win when set.
      const tokenFilePath = processEnv.AZURE_FEDERATED_TOKEN_FILE?.trim();
      const wiTenant = tenantId ?? processEnv.AZURE_TENANT_ID?.trim();
      const wiClient = clientId ?? processEnv.AZURE_CLIENT_ID?.trim();
      if (!tokenFilePath) {
        problems.push('AZURE_FEDERATED_TOKEN_FILE: required with GRAPH_CREDENTIAL=workloadIdentity (set by the workload identity platform)');
      } else if (!fileExists(tokenFilePath)) {
        problems.push(`AZURE_FEDERATED_TOKEN_FILE: no file at "${tokenFilePath}"`);
      }
      if (!wiTenant) problems.push('GRAPH_TENANT_ID: required with GRAPH_CREDENTIAL=workloadIdentity (or AZURE_TENANT_ID)');
      if (!wiClient) problems.push('GRAPH_CLIENT_ID: required with GRAPH_CREDENTIAL=workloadIdentity (or AZURE_CLIENT_ID)');
      if (problems.length) throw new GraphCredentialError(problems);
      return new WorkloadIdentityCredential({ tenantId: wiTenant, clientId: wiClient, tokenFilePath });
    }
  }
}
