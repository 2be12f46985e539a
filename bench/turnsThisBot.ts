/**
 * This bot as the turn benchmark runs it (see turns.bench.ts): built by createApp from the
 * environment as in production (demo tenant, or DIRECTORY=graph against the Graph-shaped test
 * server with a fixed-token credential), listening on 127.0.0.1 (port 0, local mode). Bundled
 * like production's dist/src/main.js for the load phases (scripts/bundle-bench.mjs).
 */
import type { AccessToken } from '@azure/identity';
import { DEMO } from '../src/adapters/demo/demoTenant';
import { createApp, type App } from '../src/app/app';
import { loadConfig } from '../src/app/config';
import { createDirectory } from '../src/app/createDirectory';
import { createLogger } from '../src/shared/logger';
import type { Directory } from '../src/usecases/ports/Directory';
import { send, serveControl } from './turnsBotControl';

/** A credential that hands out a fixed token: the Graph-shaped server only checks that one is sent. */
const fixedTokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'bench-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/**
 * Puts `count` completed invitations in the store and the directory before the bot listens, as a
 * long-running bot would hold them: a guest in the demo tenant, a member of Project Falcon, and
 * the invitation record (demo mode only; the Graph-shaped server keeps its own tenant).
 */
async function preloadInvitations(app: App, count: number): Promise<void> {
  const { directory } = app.services;
  const { store } = app;
  const invitations = store.invitations;
  const group = DEMO.groups.projectFalcon;
  for (let i = 1; i <= count; i++) {
    const email = `held${i}@fabrikam.com`;
    const invited = await directory.invite({ email, displayName: `Held Guest ${i}`, redirectUrl: group.siteUrl, sendInvitationMessage: false });
    await directory.addMembers(group.id, [invited.userId]);
    const { record } = await invitations.claim({
      tenantId: DEMO.tenantId,
      emailNormalised: email,
      groupId: group.id,
      emailDisplay: email,
      displayName: `Held Guest ${i}`,
      siteName: group.displayName,
      siteUrl: group.siteUrl,
      requestedBy: { id: DEMO.users.megan.id, name: DEMO.users.megan.displayName },
      conversationRefKey: null,
      source: 'chat',
      predictedMethod: 'workOrSchoolAccount',
    });
    await invitations.update(record.id, record.version, {
      state: 'completed',
      outcomeKind: 'newGuest',
      userId: invited.userId,
      invitationId: invited.invitationId,
      redeemUrl: invited.redeemUrl,
    });
  }
}

async function thisBot(): Promise<void> {
    const config = { ...loadConfig(process.env), port: 0 };
  const logger = createLogger({ level: config.env.LOG_LEVEL });
  let directory: Directory | undefined;
  if (config.directory === 'graph') directory = createDirectory(config, logger, { credential: fixedTokenCredential });
  const app = createApp(config, { logger, directory });
  const preload = Number(process.env.BENCH_PRELOAD_INVITATIONS ?? '0');
  if (preload > 0) await preloadInvitations(app, preload);
  const { port } = await app.listen();
  serveControl(() => app.close());
  send({ ready: true, port });
}

export function runThisBot(): void {
  thisBot().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}

if (require.main === module) runThisBot();
