/**
 * A demo person's Teams client, as far as the bot can tell: activities shaped as Teams sends them
 * (personal chat, tenant, the person's Teams and Entra ids), posted to the cluster's proxy, with
 * card buttons pressed as Teams presses them (Action.Submit: a message whose `value` is the
 * button's data, inputs merged; Action.Execute: an `adaptiveCard/action` invoke whose answer is
 * the refreshed card).
 */
import { randomUUID } from 'node:crypto';
import type { Activity } from 'botbuilder';
import { DEMO } from '../directory';
import { TEST_FILES_HOST } from './testFiles';
import { activityText, type ConnectorStandIn, type ReceivedActivity } from './connector';

export type DemoPerson = keyof typeof DEMO.users;

export const BOT = { id: '28:guest-onboarding-bot', name: 'Guest onboarding' };

interface CardAction {
  type: string;
  title?: string;
  verb?: string;
  data?: Record<string, unknown>;
  card?: { actions?: CardAction[]; body?: unknown[] };
}

export interface PostResult {
  status: number;
  body: unknown;
}

export interface TeamsUser {
  readonly person: DemoPerson;
  readonly conversationId: string;
  /** What the bot sent to this chat so far. */
  received(): ReceivedActivity[];
  /** Sends a message; resolves when the bot answered the HTTP request (its replies are at the connector). */
  say(text: string): Promise<PostResult>;
  /** Sends a message with a CSV file attached from the cluster's files folder (as Teams attaches a OneDrive file). */
  attach(fileName: string, text?: string): Promise<PostResult>;
  /** Presses the button titled `title` on the newest card that has one (ShowCard sub-actions included). */
  press(title: string, inputs?: Record<string, unknown>): Promise<PostResult>;
  /** Presses a button whose action the test took from a card (e.g. another person's copy). */
  pressAction(action: { type: string; verb?: string; data?: Record<string, unknown> }, inputs?: Record<string, unknown>): Promise<PostResult>;
  /** Waits until the chat shows `text` (in a message or a card) at least `times` times. */
  waitForText(text: string | RegExp, options?: { times?: number; timeoutMs?: number }): Promise<ReceivedActivity[]>;
  /** How many activities (sent or updated) show `text`. */
  count(text: string | RegExp): number;
}

function matches(activity: Partial<Activity>, text: string | RegExp): boolean {
  const shown = activityText(activity);
  return typeof text === 'string' ? shown.includes(text) : text.test(shown);
}

/** Every action of a card, those inside Action.ShowCard included. */
export function cardActions(activity: Partial<Activity>): CardAction[] {
  const out: CardAction[] = [];
  const collect = (actions: CardAction[] | undefined): void => {
    for (const action of actions ?? []) {
      out.push(action);
      if (action.card) collect(action.card.actions);
    }
  };
  for (const attachment of activity.attachments ?? []) collect((attachment.content as { actions?: CardAction[] } | undefined)?.actions);
  return out;
}

/** The ids of the inputs shown with the button `verb` (in the same Action.ShowCard), e.g. a reject reason. */
export function inputIdsFor(activity: Partial<Activity>, verb: string): string[] {
  const show = cardActions(activity).find((a) => a.type === 'Action.ShowCard' && (a.card?.actions ?? []).some((x) => x.verb === verb));
  return (show?.card?.body ?? []).flatMap((b) => {
    const element = b as { type?: string; id?: string };
    return element.type?.startsWith('Input.') && element.id ? [element.id] : [];
  });
}

export function teamsUser(
  person: DemoPerson,
  options: { messagesUrl: string; connector: ConnectorStandIn; conversationId?: string },
): TeamsUser {
  const user = DEMO.users[person];
  const conversationId = options.conversationId ?? `a:personal-${person}-${randomUUID()}`;
  const base = (): Partial<Activity> => ({
    id: randomUUID(),
    channelId: 'msteams',
    serviceUrl: options.connector.url,
    timestamp: new Date().toISOString() as unknown as Date,
    from: { id: `29:${user.id}`, name: user.displayName, aadObjectId: user.id },
    recipient: BOT,
    conversation: { id: conversationId, conversationType: 'personal', tenantId: DEMO.tenantId, isGroup: false, name: '' },
    channelData: { tenant: { id: DEMO.tenantId } },
    locale: 'en-GB',
  });
  const post = async (activity: Partial<Activity>): Promise<PostResult> => {
    const response = await fetch(options.messagesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? (JSON.parse(text) as unknown) : null;
    } catch {
      // Not JSON: kept as text.
    }
    return { status: response.status, body };
  };
  const received = (): ReceivedActivity[] => options.connector.received(conversationId);
  const pressAction: TeamsUser['pressAction'] = (action, inputs = {}) => {
    if (action.type === 'Action.Execute') {
      return post({
        ...base(),
        type: 'invoke',
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb: action.verb, data: { ...action.data, ...inputs } }, trigger: 'manual' },
      });
    }
    if (action.type === 'Action.Submit') return post({ ...base(), type: 'message', text: '', value: { ...action.data, ...inputs } });
    throw new Error(`${action.type} is not a button that sends anything to the bot`);
  };
  return {
    person,
    conversationId,
    received,
    say: (text) => post({ ...base(), type: 'message', text, textFormat: 'plain' }),
    attach: (fileName, text = '') =>
      post({
        ...base(),
        type: 'message',
        text,
        textFormat: 'plain',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.teams.file.download.info',
            name: fileName,
            content: { downloadUrl: `https://${TEST_FILES_HOST}/${encodeURIComponent(fileName)}`, uniqueId: randomUUID(), fileType: 'csv' },
          },
        ],
      }),
    press: async (title, inputs) => {
      const cards = received().map((r) => r.activity).reverse();
      for (const activity of cards) {
        const action = cardActions(activity).find((a) => a.title === title && a.type !== 'Action.ShowCard');
        if (action) return pressAction({ type: action.type, verb: action.verb, data: action.data }, inputs);
      }
      throw new Error(`no card in ${person}'s chat has a "${title}" button; received:\n${received().map((r) => activityText(r.activity).slice(0, 200)).join('\n')}`);
    },
    pressAction,
    waitForText: (text, waitOptions = {}) =>
      options.connector.waitFor(
        conversationId,
        (list) => list.filter((r) => matches(r.activity, text)).length >= (waitOptions.times ?? 1),
        waitOptions.timeoutMs ?? 30_000,
        `"${String(text)}" in ${person}'s chat`,
      ),
    count: (text) => received().filter((r) => matches(r.activity, text)).length,
  };
}
