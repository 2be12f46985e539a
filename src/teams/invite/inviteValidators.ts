import type { Directory } from '../../usecases/ports/Directory';
import type { GroupInfo } from '../../domain/tenant';
import { findAddressMentions, parseEmail, type EmailAddress } from '../../domain/email';
import { validateDisplayName } from '../../usecases/invite/refusals';
import type { SignInAdvisorPort } from '../../usecases/signIn/signInAdvisor';
import { quoteForChat, trimEndChars } from '../../domain/text';

/**
 * Checks for the invitation prompts. Each returns the accepted value or the reason to show
 * before asking again ("that address has a space in it").
 */

const DOMAIN_SETTINGS = /^(b2bManagementPolicy\.|sharePoint\.sharing(Allowed|Blocked)DomainList)/;

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** What a person typed as "the address": one address, optionally as `Name <address>`. */
export function readEmailAnswer(text: string): Checked<{ email: EmailAddress; displayName: string | null }> {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'I need an email address.' };
  const mentions = findAddressMentions(trimmed);
  const distinct = new Set(mentions.map((m) => m.raw.toLowerCase()));
  if (distinct.size > 1) return { ok: false, reason: 'That is more than one address: please give one at a time.' };
  const mention = mentions[0];
  // "Jane Doe <jane@x.com>" gives the address; anything else is taken whole so that
  // "jane doe@x.com" is refused for its space rather than shortened to "doe@x.com".
  const candidate = mention && hasAngledAddress(trimmed) ? mention.raw : trimmed.replace(/^mailto:/i, '');
  if (!candidate.includes('@')) return { ok: false, reason: `"${shorten(trimmed)}" doesn't look like an email address (it has no @).` };
  const parsed = parseEmail(candidate);
  if (!parsed.ok) return { ok: false, reason: `${capitalise(parsed.reason)}.` };
  return { ok: true, value: { email: parsed.email, displayName: mention?.displayName ?? null } };
}

/**
 * Address checks that need the tenant: an address in the tenant's own domains that nobody has,
 * and domains the tenant's settings refuse (reusing the advisor's blockedBy).
 */
export async function checkEmailForTenant(email: EmailAddress, advisor: SignInAdvisorPort): Promise<Checked<EmailAddress>> {
  const advice = await advisor.advise(email.address);
  if (advice.subject === 'internalUser' && !advice.existing) {
    return {
      ok: false,
      reason: `${email.display} is an address in your own organisation (${email.displayDomain}), and nobody there has it. A guest's address is outside your organisation.`,
    };
  }
  // Only settings about this address's domain are a reason to ask for another address;
  // tenant-wide refusals are explained by the policy check that follows.
  if (advice.subject === 'blocked' && advice.blockedBy && DOMAIN_SETTINGS.test(advice.blockedBy.setting)) {
    return {
      ok: false,
      reason: `I can't invite ${email.display}: ${advice.blockedBy.explanation} (setting: ${advice.blockedBy.setting}; who can change it: ${advice.blockedBy.whoCanChange}). Try another address.`,
    };
  }
  return { ok: true, value: email };
}

export function readNameAnswer(text: string): Checked<string> {
  const r = validateDisplayName(text);
  return r.ok ? { ok: true, value: r.name } : { ok: false, reason: `${capitalise(r.reason)}.` };
}

/** Picks one of the user's sites by number or (case-insensitive, unique prefix) name. */
export function readSiteAnswer(text: string, sites: readonly GroupInfo[]): Checked<GroupInfo> {
  const answer = withoutSiteWord(text.trim().replace(/^(the\s+)?/i, '')).toLowerCase();
  if (answer === '') return { ok: false, reason: 'Which site? Pick one from the list.' };
  const byNumber = /^\d+$/.test(answer) ? sites[Number(answer) - 1] : undefined;
  if (byNumber) return { ok: true, value: byNumber };
  const exact = sites.filter((s) => s.displayName.toLowerCase() === answer);
  const prefix = exact.length ? exact : sites.filter((s) => s.displayName.toLowerCase().startsWith(answer));
  if (prefix.length === 1 && prefix[0]) return { ok: true, value: prefix[0] };
  const names = sites.map((s) => quoteForChat(s.displayName)).join(', ');
  if (prefix.length > 1) return { ok: false, reason: `"${shorten(text)}" matches more than one of your sites (${names}). Which one?` };
  return { ok: false, reason: `I can't find a site called "${shorten(text)}" among your sites (${names}).` };
}

/** The sites a guest can be invited to by this user: groups they own that have a SharePoint site. */
export async function invitableSites(directory: Directory, userId: string): Promise<GroupInfo[]> {
  const owned = await directory.listOwnedGroups(userId);
  return owned.filter((g) => g.siteUrl !== null).sort((a, b) => a.displayName.localeCompare(b.displayName));
}

/**
 * The sites this user can invite to or, where approvals are on, ask an approver to invite to:
 * the sites they own, then the sites they are a member of (an approver decides those). Member
 * groups come without their site URL, so each is read once; groups with no site are left out.
 */
export async function requestableSites(directory: Directory, userId: string, includeMemberSites: boolean): Promise<GroupInfo[]> {
  const [owned, memberGroups] = await Promise.all([
    invitableSites(directory, userId),
    includeMemberSites ? directory.listMemberGroups(userId) : Promise.resolve([]),
  ]);
  if (!includeMemberSites) return owned;
  const ownedIds = new Set(owned.map((g) => g.id));
  const memberOf = memberGroups.filter((g) => !ownedIds.has(g.id));
  // Independent reads: all at once, never one group after another.
  const full = await Promise.all(memberOf.map((group) => directory.getGroup(group.id)));
  const withSites = full.filter((g): g is GroupInfo => g?.siteUrl != null);
  withSites.sort((a, b) => a.displayName.localeCompare(b.displayName));
  return [...owned, ...withSites];
}

/** Longest justification a requester can give an approver from chat. */
export const MAX_JUSTIFICATION = 500;

const SKIP_WORDS = new Set(['skip', 'none', 'no reason', 'n/a']);

/**
 * The requester's reason for an invitation that needs approval: trimmed, at most 500 characters,
 * no control characters (line breaks are fine). "skip" gives an empty reason.
 */
export function readJustificationAnswer(text: string): Checked<string> {
  const trimmed = text.replace(/\r\n?/g, '\n').trim();
  if (SKIP_WORDS.has(trimEndChars(trimmed.toLowerCase(), '.!'))) return { ok: true, value: '' };
  if (trimmed === '') return { ok: false, reason: 'I need a short reason, or say "skip".' };
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.exec(trimmed);
  if (control) {
    const cp = control[0].codePointAt(0) ?? 0;
    return {
      ok: false,
      reason: `That reason contains an invisible control character (U+${cp.toString(16).toUpperCase().padStart(4, '0')}); please type it again.`,
    };
  }
  const length = Array.from(trimmed).length;
  if (length > MAX_JUSTIFICATION) {
    return { ok: false, reason: `That reason is ${length} characters long; the most is ${MAX_JUSTIFICATION}. Please shorten it.` };
  }
  return { ok: true, value: trimmed };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** What the person typed, short and inert, to repeat in a plain message. */
function shorten(s: string): string {
  return quoteForChat(s, 60);
}

/** Whether `<…@…>` occurs in the text (one pass: the earliest '<' since the last '>' opens it). */
function hasAngledAddress(text: string): boolean {
  let open = false;
  let sawAt = false;
  for (const ch of text) {
    if (ch === '<') open = true;
    else if (ch === '@' && open) sawAt = true;
    else if (ch === '>') {
      if (open && sawAt) return true;
      open = false;
      sawAt = false;
    }
  }
  return false;
}

/** "Project Falcon site" → "Project Falcon": a trailing "site" or "team" word. */
function withoutSiteWord(answer: string): string {
  const words = answer.split(/\s+/);
  const last = words[words.length - 1] ?? '';
  return words.length > 1 && /^(?:site|team)$/i.test(last) ? words.slice(0, -1).join(' ') : answer;
}
