/**
 * Turns telemetry on at start-up when APPLICATIONINSIGHTS_CONNECTION_STRING is set: the Azure
 * Monitor OpenTelemetry distro (the OpenTelemetry Node SDK with Azure Monitor exporters) is
 * loaded then, and only then, so a bot without it pays neither the load time nor any overhead:
 * the code's spans and metrics (./telemetry.ts) fall on the API's no-op implementations.
 *
 * The distro's automatic instrumentations (http, Azure SDK, databases) stay off. Outgoing Bot
 * Connector URLs carry conversation ids and the identity library's requests carry tenant ids;
 * our own spans (turns, Graph requests by route template, bulk batches) say what matters
 * without that. https://learn.microsoft.com/azure/azure-monitor/app/opentelemetry-configuration?tabs=nodejs
 */
import type { AzureMonitorOpenTelemetryOptions } from '@azure/monitor-opentelemetry';
import type { AppConfig } from './config';

export const DEFAULT_SERVICE_NAME = 'guest-onboarding-bot';

export interface TelemetryHandle {
  /** Where telemetry goes: "azureMonitor" or "off". */
  readonly exporter: 'azureMonitor' | 'off';
  /** Sends what is buffered and stops the SDK (process shutdown). */
  shutdown(): Promise<void>;
}

/** The part of the distro this module uses; tests pass a stand-in (the real one reaches Azure). */
export interface AzureMonitorDistro {
  useAzureMonitor(options?: AzureMonitorOpenTelemetryOptions): void;
  shutdownAzureMonitor(): Promise<void> | undefined;
}

export interface StartTelemetryOptions {
  loadDistro?: () => Promise<AzureMonitorDistro>;
  /** Builds the resource naming the service (default: @opentelemetry/resources). */
  loadResource?: () => Promise<(attributes: Record<string, string>) => NonNullable<AzureMonitorOpenTelemetryOptions['resource']>>;
}

export const TELEMETRY_OFF: TelemetryHandle = { exporter: 'off', shutdown: async () => undefined };

/** The options handed to the distro for this configuration. */
export function azureMonitorOptions(
  config: AppConfig,
  resource: AzureMonitorOpenTelemetryOptions['resource'],
): AzureMonitorOpenTelemetryOptions {
  const disabled = { enabled: false };
  return {
    azureMonitorExporterOptions: { connectionString: config.env.APPLICATIONINSIGHTS_CONNECTION_STRING },
    resource,
    instrumentationOptions: {
      http: disabled,
      azureSdk: disabled,
      mongoDb: disabled,
      mySql: disabled,
      postgreSql: disabled,
      redis: disabled,
      redis4: disabled,
      bunyan: disabled,
      winston: disabled,
    },
  };
}

/**
 * Starts the Azure Monitor distro when a connection string is configured; otherwise does
 * nothing (no SDK, no exporter). Call once, before the app is built.
 */
export async function startTelemetry(config: AppConfig, options: StartTelemetryOptions = {}): Promise<TelemetryHandle> {
  if (!config.env.APPLICATIONINSIGHTS_CONNECTION_STRING) return TELEMETRY_OFF;
  const distro = await (options.loadDistro ?? (() => import('@azure/monitor-opentelemetry')))();
  const makeResource = await (options.loadResource ?? (async () => (await import('@opentelemetry/resources')).resourceFromAttributes))();
  const serviceName = config.env.OTEL_SERVICE_NAME ?? DEFAULT_SERVICE_NAME;
  distro.useAzureMonitor(azureMonitorOptions(config, makeResource({ 'service.name': serviceName })));
  return {
    exporter: 'azureMonitor',
    shutdown: async () => {
      await distro.shutdownAzureMonitor();
    },
  };
}
