/**
 * A Bot Connector stand-in for the several-instances tests: the bots run in local mode and send
 * every reply, proactive message and card update to the activity's serviceUrl, which is this
 * server. It records them per conversation, in arrival order, whichever instance sent them
 * (as the real connector, it does not care), and answers with activity ids.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Activity } from 'botbuilder';

export interface ReceivedActivity {
  /** 'send' for a new message (reply or proactive), 'update' for a card updated in place. */
  kind: 'send' | 'update';
  /** The id this stand-in gave it (send) or the id updated (update). */
  id: string;
  /** For replies: the activity it answers. */
  replyToId: string | null;
  activity: Partial<Activity>;
  at: number;
}

export interface ConnectorStandIn {
  /** The serviceUrl to put in activities. */
  url: string;
  /** Everything received for one conversation, in arrival order. */
  received(conversationId: string): ReceivedActivity[];
  /** Every conversation id something was sent to. */
  conversations(): string[];
  /** Waits until `check` holds for the conversation's activities; returns them. */
  waitFor(conversationId: string, check: (received: ReceivedActivity[]) => boolean, timeoutMs?: number, what?: string): Promise<ReceivedActivity[]>;
  close(): Promise<void>;
}

export async function startConnectorStandIn(): Promise<ConnectorStandIn> {
  const byConversation = new Map<string, ReceivedActivity[]>();
  let counter = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const parts = (req.url ?? '').split('?')[0]?.split('/').filter(Boolean).map(decodeURIComponent) ?? [];
      let answer: Record<string, unknown> = {};
      // v3/conversations/{conversationId}/activities[/{activityId}]
      if (parts[0] === 'v3' && parts[1] === 'conversations' && parts[2] && parts[3] === 'activities') {
        const conversationId = parts[2];
        let activity: Partial<Activity> = {};
        try {
          activity = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Partial<Activity>;
        } catch {
          // Recorded as empty: the test then fails on what is missing.
        }
        const list = byConversation.get(conversationId) ?? [];
        if (req.method === 'PUT' && parts[4]) {
          list.push({ kind: 'update', id: parts[4], replyToId: null, activity, at: Date.now() });
          answer = { id: parts[4] };
        } else if (req.method === 'POST') {
          const id = `activity-${++counter}`;
          list.push({ kind: 'send', id, replyToId: parts[4] ?? null, activity, at: Date.now() });
          answer = { id };
        }
        byConversation.set(conversationId, list);
      } else if (req.method === 'POST' && parts[0] === 'v3' && parts[1] === 'conversations' && parts.length === 2) {
        answer = { id: `conversation-${++counter}` };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const received = (conversationId: string): ReceivedActivity[] => [...(byConversation.get(conversationId) ?? [])];
  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    conversations: () => [...byConversation.keys()],
    waitFor: async (conversationId, check, timeoutMs = 20_000, what = 'the expected activities') => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const list = received(conversationId);
        if (check(list)) return list;
        if (Date.now() > deadline) {
          const texts = list.map((r) => `${r.kind}: ${activityText(r.activity).slice(0, 300)}`).join('\n');
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} in ${conversationId}; received:\n${texts}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Every text an activity shows: its text, and every "text" and "title" inside its cards. */
export function activityText(activity: Partial<Activity>): string {
  const out: string[] = [];
  if (typeof activity.text === 'string') out.push(activity.text);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if ((key === 'text' || key === 'title' || key === 'value') && typeof value === 'string') out.push(value);
      else walk(value);
    }
  };
  walk(activity.attachments ?? []);
  return out.join('\n');
}
