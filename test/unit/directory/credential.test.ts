import { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
// Built the way the app builds it: configuration -> plain options -> the Graph adapter's credential.
import { graphCredentialFromConfig as createGraphCredential, type CredentialEnv } from '../../../src/app/createDirectory';
import { createGraphCredential as createAdapterCredential, GraphCredentialError } from '../../../src/adapters/graph/credential';
import { ConfigError } from '../../../src/app/config';

const TENANT = 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30';
const CLIENT = '11111111-2222-4333-8444-555555555555';
const base: CredentialEnv = {
  GRAPH_CREDENTIAL: 'clientSecret',
  GRAPH_TENANT_ID: TENANT,
  GRAPH_CLIENT_ID: CLIENT,
  GRAPH_CLIENT_SECRET: undefined,
  GRAPH_CERTIFICATE_PATH: undefined,
  GRAPH_MANAGED_IDENTITY_CLIENT_ID: undefined,
};

function problems(build: () => unknown): string[] {
  try {
    build();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

describe('createGraphCredential', () => {
  it('builds a client-secret credential', () => {
    expect(createGraphCredential({ ...base, GRAPH_CLIENT_SECRET: 's3cret' })).toBeInstanceOf(ClientSecretCredential);
  });

  it('refuses a client-secret configuration without the secret, naming the variable', () => {
    expect(problems(() => createGraphCredential(base))).toEqual(['GRAPH_CLIENT_SECRET: required with GRAPH_CREDENTIAL=clientSecret']);
  });

  it('builds a certificate credential from a PEM holding certificate and key', () => {
    const credential = createGraphCredential(
      { ...base, GRAPH_CREDENTIAL: 'certificate', GRAPH_CERTIFICATE_PATH: '/secrets/graph.pem' },
      { readFile: () => PEM },
    );
    expect(credential).toBeInstanceOf(ClientCertificateCredential);
  });

  it('refuses an unreadable certificate file and one without a private key, without echoing its content', () => {
    const env: CredentialEnv = { ...base, GRAPH_CREDENTIAL: 'certificate', GRAPH_CERTIFICATE_PATH: '/secrets/graph.pem' };
    expect(problems(() => createGraphCredential(env, { readFile: () => { throw new Error('ENOENT'); } }))).toEqual([
      'GRAPH_CERTIFICATE_PATH: cannot read "/secrets/graph.pem"',
    ]);
    const certOnly = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const found = problems(() => createGraphCredential(env, { readFile: () => certOnly }));
    expect(found).toEqual([expect.stringMatching(/^GRAPH_CERTIFICATE_PATH: .*has no PEM private key/)]);
    expect(found.join()).not.toContain('MIIB');
  });

  it('uses a user-assigned managed identity when its client id is given, else the system one', () => {
    expect(createGraphCredential({ ...base, GRAPH_CREDENTIAL: 'managedIdentity', GRAPH_MANAGED_IDENTITY_CLIENT_ID: CLIENT })).toBeInstanceOf(
      ManagedIdentityCredential,
    );
    expect(createGraphCredential({ ...base, GRAPH_CREDENTIAL: 'managedIdentity', GRAPH_CLIENT_ID: undefined })).toBeInstanceOf(
      ManagedIdentityCredential,
    );
  });

  it('builds a workload identity credential from the platform-provided token file', () => {
    const credential = createGraphCredential(
      { ...base, GRAPH_CREDENTIAL: 'workloadIdentity' },
      { processEnv: { AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token' }, fileExists: () => true },
    );
    expect(credential).toBeInstanceOf(WorkloadIdentityCredential);
  });

  it('refuses workload identity without AZURE_FEDERATED_TOKEN_FILE', () => {
    expect(problems(() => createGraphCredential({ ...base, GRAPH_CREDENTIAL: 'workloadIdentity' }, { processEnv: {} }))).toEqual([
      'AZURE_FEDERATED_TOKEN_FILE: required with GRAPH_CREDENTIAL=workloadIdentity (set by the workload identity platform)',
    ]);
  });
});

describe('the Graph adapter credential (plain options, no app configuration)', () => {
  it('reports every problem as a GraphCredentialError', () => {
    let caught: unknown;
    try {
      createAdapterCredential({ kind: 'clientSecret' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GraphCredentialError);
    expect((caught as GraphCredentialError).problems).toEqual([
      'GRAPH_TENANT_ID: required with GRAPH_CREDENTIAL=clientSecret',
      'GRAPH_CLIENT_ID: required with GRAPH_CREDENTIAL=clientSecret',
      'GRAPH_CLIENT_SECRET: required with GRAPH_CREDENTIAL=clientSecret',
    ]);
  });
});
