/**
 * Starts Azurite (the Azure Storage emulator, a dev dependency) on loopback, for the tests, the
 * benchmarks and `npm run start:azure` when no connection string is given.
 *
 * Always `--inMemoryPersistence` (unless a folder is given, for restart tests), always
 * `--disableTelemetry` (otherwise it tries to send telemetry off the machine),
 * `--skipApiVersionCheck` (the SDKs may be newer than the emulator), hosts 127.0.0.1 and ports 0:
 * it prints the ports it took, and they are read from its output. If it cannot start within the
 * timeout this rejects: callers fail, they never skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** Azurite's well-known development account (public, the same in every Azurite; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

export interface AzuriteOptions {
  /** Keep data in this folder instead of in memory (so a restart on the same ports keeps it). */
  location?: string;
  /** Ports to listen on (default 0 each: any free port). */
  ports?: Partial<AzuritePorts>;
  /** How long to wait for the three services (default 30 s). */
  timeoutMs?: number;
}

export interface AzuriteInstance {
  readonly ports: AzuritePorts;
  /** A connection string for the three services (the development account, http on loopback). */
  readonly connectionString: string;
  readonly pid: number;
  /** Stops it gracefully (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL, for fault tests. */
  kill(): void;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export function azuriteConnectionString(ports: AzuritePorts, host = '127.0.0.1'): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${AZURITE_ACCOUNT}`,
    `AccountKey=${AZURITE_KEY}`,
    `BlobEndpoint=http://${host}:${ports.blob}/${AZURITE_ACCOUNT}`,
    `QueueEndpoint=http://${host}:${ports.queue}/${AZURITE_ACCOUNT}`,
    `TableEndpoint=http://${host}:${ports.table}/${AZURITE_ACCOUNT}`,
  ].join(';') + ';';
}

const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/;

export function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteInstance> {
  const script = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
  const ports = options.ports ?? {};
  const args = [
    script,
    options.location ? `--location=${options.location}` : '--inMemoryPersistence',
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--blobHost=127.0.0.1',
    `--blobPort=${ports.blob ?? 0}`,
    '--queueHost=127.0.0.1',
    `--queuePort=${ports.queue ?? 0}`,
    '--tableHost=127.0.0.1',
    `--tablePort=${ports.table ?? 0}`,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  running.add(child);
  installExitHook();
  const found: Partial<AzuritePorts> = {};
  let output = '';

  return new Promise<AzuriteInstance>((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      running.delete(child);
      reject(new Error(`Azurite did not start: ${why}\n${output.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail(`no ports after ${options.timeoutMs ?? 30_000} ms`), options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      for (const line of output.split('\n')) {
        const m = LISTENING.exec(line);
        if (m) found[m[1]!.toLowerCase() as keyof AzuritePorts] = Number(m[2]);
      }
      if (!settled && found.blob && found.queue && found.table) {
        settled = true;
        clearTimeout(timer);
        const actual = found as AzuritePorts;
        let stopped: Promise<void> | undefined;
        resolve({
          ports: actual,
          connectionString: azuriteConnectionString(actual),
          pid: child.pid ?? -1,
          kill: () => {
            child.kill('SIGKILL');
            running.delete(child);
          },
          stop: () => {
            stopped ??= new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) {
                running.delete(child);
                return done();
              }
              const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
              child.once('exit', () => {
                clearTimeout(hard);
                running.delete(child);
                done();
              });
              child.kill('SIGTERM');
            });
            return stopped;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (e) => fail(e.message));
    child.once('exit', (code, signal) => {
      running.delete(child);
      fail(`exited (${code ?? signal})`);
    });
  });
}
