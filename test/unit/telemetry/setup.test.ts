/**
 * Telemetry switches on only with APPLICATIONINSIGHTS_CONNECTION_STRING, and only then is the
 * Azure Monitor distro loaded. The distro itself is replaced here: started for real it would
 * reach Azure (ingestion, the instance metadata service), which no test may do.
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, type AppConfig } from '../../../src/app/config';
import { DEFAULT_SERVICE_NAME, startTelemetry } from '../../../src/app/telemetrySetup';

let mockDistroLoaded = false;
const mockUseAzureMonitor = jest.fn();
const mockShutdownAzureMonitor = jest.fn(async () => undefined);
jest.mock('@azure/monitor-opentelemetry', () => {
  mockDistroLoaded = true;
  return { useAzureMonitor: mockUseAzureMonitor, shutdownAzureMonitor: mockShutdownAzureMonitor };
});

const CONNECTION_STRING =
  'InstrumentationKey=00000000-1111-4222-8333-444444444444;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/';

function config(env: Record<string, string> = {}): AppConfig {
  return loadConfig(env, path.join(os.tmpdir(), 'gob-telemetry-setup'));
}

describe('turning telemetry on', () => {
  beforeEach(() => {
    mockUseAzureMonitor.mockClear();
    mockShutdownAzureMonitor.mockClear();
  });

  it('without a connection string: no SDK, no exporter, and the distro is never loaded', async () => {
    // Building the whole app does not load it either.
    await import('../../../src/app/app');
    const handle = await startTelemetry(config());
    expect(handle.exporter).toBe('off');
    await handle.shutdown();
    expect(mockDistroLoaded).toBe(false);
    expect(mockUseAzureMonitor).not.toHaveBeenCalled();
  });

  it('with a connection string: loads the distro, exports to that resource under the service name, automatic instrumentations off', async () => {
    const handle = await startTelemetry(config({ APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION_STRING }));
    expect(mockDistroLoaded).toBe(true);
    expect(handle.exporter).toBe('azureMonitor');
    expect(mockUseAzureMonitor).toHaveBeenCalledTimes(1);
    const options = mockUseAzureMonitor.mock.calls[0]?.[0];
    expect(options.azureMonitorExporterOptions).toEqual({ connectionString: CONNECTION_STRING });
    expect(options.resource.attributes['service.name']).toBe(DEFAULT_SERVICE_NAME);
    const instrumentations = Object.values(options.instrumentationOptions as Record<string, { enabled: boolean }>);
    expect(instrumentations.length).toBeGreaterThanOrEqual(7);
    expect(instrumentations.every((i) => i.enabled === false)).toBe(true);

    await handle.shutdown();
    expect(mockShutdownAzureMonitor).toHaveBeenCalledTimes(1);
  });

  it('names the service after OTEL_SERVICE_NAME when set', async () => {
    await startTelemetry(config({ APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION_STRING, OTEL_SERVICE_NAME: 'guest-bot-staging' }));
    expect(mockUseAzureMonitor.mock.calls[0]?.[0].resource.attributes['service.name']).toBe('guest-bot-staging');
  });
});

describe('telemetry settings', () => {
  function problems(env: Record<string, string>): string[] {
    try {
      config(env);
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
  }

  it('accepts a connection string, a service name and the distro samplers', () => {
    expect(
      problems({
        APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION_STRING,
        OTEL_SERVICE_NAME: 'guest-bot',
        OTEL_TRACES_SAMPLER: 'microsoft.rate_limited',
        OTEL_TRACES_SAMPLER_ARG: '20',
      }),
    ).toEqual([]);
    expect(problems({ OTEL_TRACES_SAMPLER: 'microsoft.fixed_percentage', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toEqual([]);
  });

  it.each([
    [{ APPLICATIONINSIGHTS_CONNECTION_STRING: 'https://westeurope-5.in.applicationinsights.azure.com/' }, 'APPLICATIONINSIGHTS_CONNECTION_STRING:'],
    [{ OTEL_SERVICE_NAME: 'guest bot; drop' }, 'OTEL_SERVICE_NAME:'],
    [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER: expected one of microsoft.rate_limited'],
    [{ OTEL_TRACES_SAMPLER_ARG: 'half' }, 'OTEL_TRACES_SAMPLER_ARG: expected a number'],
    [{ OTEL_TRACES_SAMPLER: 'microsoft.fixed_percentage', OTEL_TRACES_SAMPLER_ARG: '25' }, 'OTEL_TRACES_SAMPLER_ARG: expected a ratio between 0 and 1'],
  ])('refuses %j, naming the variable', (env, message) => {
    const found = problems(env as Record<string, string>);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(message);
  });
});
