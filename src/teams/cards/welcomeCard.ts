/**
 * The welcome / help card (cards/welcome.json): what the bot does, per reader. Every place that
 * shows it goes through welcomeCardFrom.
 */
import type { Attachment } from 'botbuilder';
import type { BotFeature } from '../bot/feature';
import type { HelpAudience } from '../bot/helpAudience';
import { renderCard } from '../cards';

/** The data of cards/welcome.json. */
export interface WelcomeCardData {
  intro: string;
  sections: Array<{ heading: string; lines: Array<{ title: string; example: string }> }>;
  /** Each button sends its words as if typed. */
  buttons: Array<{ title: string; say: string }>;
  footer: string;
}

export function welcomeCardFrom(data: WelcomeCardData): Attachment {
  return renderCard('welcome', data);
}

export type HelpLine = NonNullable<BotFeature['help']>[number];

export const BUILT_IN_HELP: readonly HelpLine[] = [
  { title: 'Show this list', example: 'help', audience: 'everyone' },
  { title: 'Stop what we are doing', example: 'cancel', audience: 'everyone' },
];


export const WELCOME_TITLE = 'Guest onboarding';

/** Which help lines each reader gets (features tag their lines owners / guests / admins / everyone). */
const LINES_FOR: Record<HelpAudience, ReadonlyArray<HelpLine['audience']>> = {
  owner: ['owners', 'everyone'],
  member: ['everyone'],
  approver: ['admins', 'everyone'],
  guest: ['guests', 'everyone'],
  unknown: ['guests', 'everyone'],
};

/** A member who owns no site asks for guests; an approver decides. */
const MEMBER_HELP: readonly HelpLine[] = [
  { title: 'Ask for a guest on a site you belong to (an approver decides)', example: 'invite a guest', audience: 'owners' },
  { title: 'See the invitations you asked for', example: 'my invitations', audience: 'owners' },
];

/** The main actions, as buttons, per reader: each sends its words as if typed. */
const BUTTONS: Record<HelpAudience, ReadonlyArray<{ title: string; say: string }>> = {
  owner: [
    { title: 'Invite a guest', say: 'invite a guest' },
    { title: 'Invite many (CSV)', say: 'bulk invite' },
    { title: 'My invitations', say: 'my invitations' },
  ],
  member: [
    { title: 'Ask for a guest', say: 'invite a guest' },
    { title: 'My invitations', say: 'my invitations' },
  ],
  approver: [{ title: 'Pending approvals', say: 'pending' }],
  guest: [
    { title: 'Why do I get a code?', say: 'why did I get a code?' },
    { title: 'How do I sync?', say: 'how do I sync?' },
    { title: 'I lost access', say: 'I lost access' },
  ],
  unknown: [
    { title: 'Why do I get a code?', say: 'why did I get a code?' },
    { title: 'How do I sync?', say: 'how do I sync?' },
  ],
};

const HEADINGS: Record<HelpAudience, string> = {
  owner: 'For you, as a site owner',
  member: 'For you',
  approver: 'For you, as an approver',
  guest: 'For you, as a guest',
  unknown: 'Guest questions',
};

const INTROS: Record<HelpAudience, string> = {
  owner: 'I help you bring outside partners into your sites as guests, one by one or from a CSV file, and tell you beforehand how each will sign in.',
  member: "You don't own a site, so you can ask for a guest and an approver decides; I tell you how they will sign in and keep you posted.",
  approver: 'I bring you the guest requests that need a decision, and carry out what you approve.',
  guest: 'I answer questions about signing in, syncing and access as a guest here, from your own account.',
  unknown: "I can't tell who you are in this chat, so here are the questions anyone can ask. Site owners can invite guests from a chat with me in their organisation's Teams.",
};

/**
 * The welcome / help card for one reader: only the lines and buttons that are theirs, each
 * action once. `reason` changes only the opening sentence. Without a reader (the first welcome,
 * before anyone asked) it is the 'unknown' card.
 */
export function welcomeCard(
  features: readonly BotFeature[],
  reason: 'welcome' | 'notUnderstood' = 'welcome',
  readers?: readonly HelpAudience[],
): Attachment {
  if (!readers) return firstWelcome(features, reason);
  const all = features.flatMap((f) => f.help ?? []);
  const seen = new Set<string>();
  const take = (lines: readonly HelpLine[]) =>
    lines
      .filter((l) => l.audience !== 'everyone' && !seen.has(l.example) && (seen.add(l.example), true))
      // A line whose words are its own example says it once.
      .map(({ title, example }) => ({ title, example: example.toLowerCase() === title.toLowerCase() ? '' : example }));
  const sections = readers
    .map((reader) => ({
      heading: HEADINGS[reader],
      lines: take(reader === 'member' ? MEMBER_HELP : all.filter((l) => LINES_FOR[reader].includes(l.audience))),
    }))
    .filter((s) => s.lines.length > 0);
  const anyTime = take([...all, ...BUILT_IN_HELP].filter((l) => l.audience === 'everyone').map((l) => ({ ...l, audience: 'owners' as const })));
  if (anyTime.length > 0) sections.push({ heading: 'Any time', lines: anyTime });
  const buttonSeen = new Set<string>();
  const buttons = readers.flatMap((r) => BUTTONS[r]).filter((b) => !buttonSeen.has(b.say) && (buttonSeen.add(b.say), true)).slice(0, 5);
  const first = readers[0] ?? 'unknown';
  return welcomeCardFrom({
    intro: `${reason === 'notUnderstood' ? "Sorry, I didn't understand that. " : ''}${INTROS[first]}${readers.includes('approver') && first !== 'approver' ? ` ${INTROS.approver}` : ''}`,
    sections,
    buttons,
    footer: 'In a channel, @mention me first.',
  });
}

/**
 * The welcome posted on install, before anyone has asked anything: it does not know its reader
 * yet, so it says briefly what the bot does for each kind of person; "help" then gives the
 * reader's own card.
 */
function firstWelcome(features: readonly BotFeature[], reason: 'welcome' | 'notUnderstood'): Attachment {
  const all = [...features.flatMap((f) => f.help ?? []), ...BUILT_IN_HELP];
  const groups: ReadonlyArray<[HelpLine['audience'], string]> = [
    ['owners', 'For site and team owners'],
    ['guests', 'For guests'],
    ['admins', 'For approvers'],
    ['everyone', 'Any time'],
  ];
  const sections = groups
    .map(([audience, heading]) => ({
      heading,
      lines: all
        .filter((l) => l.audience === audience)
        .map(({ title, example }) => ({ title, example: example.toLowerCase() === title.toLowerCase() ? '' : example })),
    }))
    .filter((g) => g.lines.length > 0);
  return welcomeCardFrom({
    intro: `${reason === 'notUnderstood' ? "Sorry, I didn't understand that. " : ''}I help you bring outside partners into your team or SharePoint site as guests, and help guests get in. Here is what you can say (say help for the part that is yours):`,
    sections,
    buttons: [{ title: 'Help for me', say: 'help' }],
    footer: 'In a channel, @mention me first.',
  });
}
