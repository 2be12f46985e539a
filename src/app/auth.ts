import fs from 'node:fs';
import type { Activity } from 'botbuilder';
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
} from 'botbuilder';
import {
  AuthenticationConstants,
  AuthenticationError,
  CertificateServiceClientCredentialsFactory,
  type ClaimsIdentity,
  type ConnectorClient,
  ConnectorFactory,
  JwtTokenProviderFactory,
  ManagedIdentityServiceClientCredentialsFactory,
  PasswordServiceClientCredentialFactory,
  type AuthenticateRequestResult,
  type ServiceClientCredentialsFactory,
  type UserTokenClient,
} from 'botframework-connector';
import { CallerIdConstants } from 'botframework-schema';
import { ConfigError, type AppConfig } from './config';

/** HTTP 401: what the channel gets for any activity whose token does not check out. */
const UNAUTHORIZED = 401;

/**
 * Bot Framework authentication that answers every failed validation with 401.
 * The SDK lets some failures (a bad signature, say) escape as plain errors, which the
 * CloudAdapter reports as 500; a forged token is the caller's fault, not ours.
 */
class StrictBotFrameworkAuthentication extends ConfigurationBotFrameworkAuthentication {
  private readonly connectorClients = new ConnectorClientPool();
  private readonly userTokenClients = new Map<string, Promise<UserTokenClient>>();

  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    let result: AuthenticateRequestResult;
    try {
      result = await super.authenticateRequest(activity, authHeader);
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      throw new AuthenticationError('Unauthorized: the Bot Framework token could not be validated.', UNAUTHORIZED);
    }
    if (!result.connectorFactory) return result;
    return { ...result, connectorFactory: this.connectorClients.factory(result.connectorFactory, result.claimsIdentity) };
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.connectorClients.factory(super.createConnectorFactory(claimsIdentity), claimsIdentity);
  }

  /**
   * The CloudAdapter asks for a user token client (the OAuth sign-in API's client, with its
   * credentials and HTTP pipeline) on every turn, and the SDK builds a new one each time (40 to
   * 70 µs, and garbage). It holds nothing of a turn or a user (each call names the user) and
   * depends only on the bot's app id, so one per app id is reused.
   */
  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    const key = JSON.stringify([appIdOf(claimsIdentity) ?? null]);
    const cached = this.userTokenClients.get(key);
    if (cached) return cached;
    const created = super.createUserTokenClient(claimsIdentity);
    this.userTokenClients.set(key, created);
    created.catch(() => this.userTokenClients.delete(key));
    if (this.userTokenClients.size > MAX_CONNECTOR_CLIENTS) {
      const oldest = this.userTokenClients.keys().next().value;
      if (oldest !== undefined) this.userTokenClients.delete(oldest);
    }
    return created;
  }
}

/** The SDK's own rule for whose client this is (audience claim from a channel, appid from the emulator). */
function appIdOf(claimsIdentity: ClaimsIdentity): string | undefined {
  return claimsIdentity.getClaimValue(AuthenticationConstants.AudienceClaim) ?? claimsIdentity.getClaimValue(AuthenticationConstants.AppIdClaim) ?? undefined;
}

/** Connector clients kept per app id, service URL and audience; the oldest go beyond this. */
const MAX_CONNECTOR_CLIENTS = 200;

/**
 * The SDK builds a new ConnectorClient (with its credentials and HTTP pipeline) for every turn
 * and every proactive message. A client holds no per-conversation state and its credentials
 * refresh their own token, so one per (bot app id, service URL, audience) is reused.
 */
class ConnectorClientPool {
  private readonly clients = new Map<string, Promise<ConnectorClient>>();

  factory(inner: ConnectorFactory, claimsIdentity: ClaimsIdentity): ConnectorFactory {
    // The SDK's own rule for whose client this is (audience claim from a channel, appid from the emulator).
    const appId =
      claimsIdentity.getClaimValue(AuthenticationConstants.AudienceClaim) ?? claimsIdentity.getClaimValue(AuthenticationConstants.AppIdClaim) ?? '';
    const clients = this.clients;
    return new (class extends ConnectorFactory {
      create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
        const key = `${appId}|${serviceUrl}|${audience ?? ''}`;
        const cached = clients.get(key);
        if (cached) return cached;
        const created = inner.create(serviceUrl, audience);
        clients.set(key, created);
        created.catch(() => clients.delete(key));
        if (clients.size > MAX_CONNECTOR_CLIENTS) {
          const oldest = clients.keys().next().value;
          if (oldest !== undefined) clients.delete(oldest);
        }
        return created;
      }
    })();
  }
}

export interface AuthOverrides {
  /**
   * Extra Bot Framework settings, e.g. ToBotFromChannelOpenIdMetadataUrl so tests can validate
   * tokens against a local key set instead of login.botframework.com.
   */
  botFramework?: Partial<ConfigurationBotFrameworkAuthenticationOptions>;
}

const PUBLIC_CLOUD_ENDPOINTS: ConfigurationBotFrameworkAuthenticationOptions = {
  ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
  ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
  ToBotFromChannelTokenIssuer: AuthenticationConstants.ToBotFromChannelTokenIssuer,
  OAuthUrl: AuthenticationConstants.OAuthUrl,
  ToBotFromChannelOpenIdMetadataUrl: AuthenticationConstants.ToBotFromChannelOpenIdMetadataUrl,
  ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
  CallerId: CallerIdConstants.PublicAzureChannel,
};

/**
 * Builds the adapter for the configured auth mode.
 * - local: no app id, so the SDK accepts unauthenticated activities (the server confines
 *   this to loopback) and sends replies without a token.
 * - botFramework: every inbound activity must carry a valid Bot Framework JWT for our app id;
 *   outbound calls use the configured credential (password, certificate or managed identity).
 */
export function createAdapter(config: AppConfig, overrides: AuthOverrides = {}): CloudAdapter {
  const auth = config.auth;
  // The SDK treats any one endpoint setting as "all endpoints are custom", so an override
  // starts from the public-cloud values rather than from nothing.
  const endpoints = overrides.botFramework ? { ...PUBLIC_CLOUD_ENDPOINTS, ...overrides.botFramework } : {};
  if (auth.kind === 'local') {
    return new CloudAdapter(new StrictBotFrameworkAuthentication(endpoints));
  }
  const options: ConfigurationBotFrameworkAuthenticationOptions = {
    MicrosoftAppId: auth.appId,
    MicrosoftAppType: auth.appType,
    ...(auth.tenantId ? { MicrosoftAppTenantId: auth.tenantId } : {}),
    ...endpoints,
  };
  return new CloudAdapter(new StrictBotFrameworkAuthentication(options, credentialsFactory(config)));
}

function credentialsFactory(config: AppConfig): ServiceClientCredentialsFactory {
  const auth = config.auth;
  if (auth.kind !== 'botFramework') throw new Error('credentialsFactory: bot credentials are not configured');
  // MultiTenant bots get their tokens from the botframework.com tenant, so no tenant is passed.
  const tenantId = auth.appType === 'MultiTenant' ? undefined : auth.tenantId;
  switch (auth.credential) {
    case 'certificate': {
      const thumbprint = config.env.MicrosoftAppCertificateThumbprint ?? '';
      const keyFile = config.env.MicrosoftAppCertificateKeyFile ?? '';
      let privateKey: string;
      try {
        privateKey = fs.readFileSync(keyFile, 'utf8');
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ConfigError([`MicrosoftAppCertificateKeyFile: cannot read the private key file (${reason})`]);
      }
      return new CertificateServiceClientCredentialsFactory(auth.appId, thumbprint, privateKey, tenantId);
    }
    case 'managedIdentity':
      return new ManagedIdentityServiceClientCredentialsFactory(auth.appId, new JwtTokenProviderFactory());
    case 'password':
      return tenantId
        ? new PasswordServiceClientCredentialFactory(auth.appId, config.env.MicrosoftAppPassword ?? '', tenantId)
        : new PasswordServiceClientCredentialFactory(auth.appId, config.env.MicrosoftAppPassword ?? '');
  }
}
