/**
 * User text repeated in a plain reply never renders as markdown or a mention: every reply that
 * echoes what someone typed is sent through the real app with a markdown link, bold text, a
 * mention and a heading, and must contain none of them (only inert look-alikes).
 */
import { quoteForChat } from '../../src/domain/text';
import { messageFrom, startInProcessApp, type RunningApp } from '../support/e2e/inProcessApp';

const PAYLOADS = ['[x](https://evil.example)', '**x**', '<at>x</at>', '# x'];

/** Markdown or HTML that Teams would render from a plain message. */
function activeMarkup(text: string): string[] {
  const found: string[] = [];
  if (/\]\(/.test(text)) found.push('a markdown link');
  if (/\*\*|__/.test(text)) found.push('bold');
  if (/<\/?at\b/i.test(text)) found.push('a mention');
  if (/^[ \t]*#/m.test(text)) found.push('a heading');
  if (/https:\/\/evil/.test(text)) found.push('a live link');
  return found;
}

interface Scenario {
  name: string;
  /** What the reply says when it echoes the input. */
  phrase: string;
  /** Messages sent one after another in one conversation; the last one's replies are checked. */
  messages: (payload: string) => string[];
  /** Payloads that reach this reply (the others are removed or refused earlier, which is also fine). */
  payloads?: string[];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'a bulk paste naming a site the sender does not own',
    phrase: "You don't own a site called",
    messages: (p) => [`bulk invite to ${p}\nName,Email\nJane,jane@fabrikam.com`],
    payloads: ['[x](https://evil.example)', '**x**', '# x'],
  },
  {
    name: 'a pasted CSV whose header has no Email column',
    phrase: 'The header row has:',
    messages: (p) => [`Name,Emails sent,${p}\nJane,2,x`],
  },
  {
    name: 'a guest question about an unusable address',
    phrase: "I can't check",
    messages: (p) => [`what sign-in will ${p}@fabrikam.com get?`],
    payloads: ['[x](https://evil.example)', '**x**'],
  },
  {
    name: 'an answer to "what is the guest\'s email address?" that is not an address',
    phrase: "doesn't look like an email address",
    messages: (p) => ['invite a guest', p],
  },
  {
    name: 'an answer to "which site?" that names none of the sender\'s sites',
    phrase: "I can't find a site called",
    messages: (p) => ['invite Jane Doe <jane@fabrikam.com>', p],
  },
];

describe('user text in plain replies', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startInProcessApp();
  });
  afterAll(async () => {
    await running?.close();
  });

  async function converse(messages: string[]): Promise<string[]> {
    const conversation = { id: `conv-${Math.random().toString(36).slice(2)}`, tenantId: 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30', conversationType: 'personal' };
    let texts: string[] = [];
    for (const text of messages) {
      const res = await running.post(messageFrom(text, { conversation: conversation as never }));
      const body = (await res.json()) as { activities?: Array<{ text?: string }> };
      texts = (body.activities ?? []).map((a) => a.text ?? '').filter(Boolean);
    }
    return texts;
  }

  for (const scenario of SCENARIOS) {
    for (const payload of scenario.payloads ?? PAYLOADS) {
      it(`${scenario.name}: ${payload} is repeated inert`, async () => {
        const replies = await converse(scenario.messages(payload));
        const echo = replies.find((t) => t.includes(scenario.phrase));
        expect(echo).toBeDefined();
        expect(activeMarkup(echo ?? '')).toEqual([]);
        // The text is still shown, as look-alikes, unless the shell removed it (mentions).
        if (payload === '<at>x</at>' && !echo?.includes('\u2039at\u203a')) return;
        expect(echo).toMatch(/[\uff3b\uff3d\u2217\uff03\u2039\u203a]/);
      });
    }
  }

  it('keeps ordinary text as it was typed', () => {
    expect(quoteForChat('Project Falcon (EU)')).toBe('Project Falcon (EU)');
    expect(quoteForChat('jane_doe@fabrikam.com')).toBe('jane_doe@fabrikam.com');
    expect(quoteForChat('a\nb   c')).toBe('a b c');
    expect(quoteForChat('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
