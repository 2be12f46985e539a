/**
 * "I lost access": from the asker's own account, for a guest, the groups they are still in (with
 * owners) and who invited them. Any directory or store failure gives the generic answer instead.
 */
import type { Actor } from '../../domain/actor';
import type { GroupInfo, UserSummary } from '../../domain/tenant';
import { otpSignInAdvice } from '../../domain/signInWording';
import { providerTurnedOff } from '../../domain/tenantSettingRules';
import { isDirectoryError } from '../ports/Directory';
import { day, whoIsAsking, type Asker, type GuestAsker } from './asker';
import type { GuestHelpDependencies, GuestInvitation } from './ports';

/** How much of a guest's access the lost-access answer names. */
const MAX_GROUPS_SHOWN = 5;
const MAX_OWNERS_SHOWN = 3;
const MAX_INVITATIONS_SHOWN = 3;

/** Invitation states in which the directory step happened: someone really invited this guest. */
const INVITED_STATES: ReadonlySet<string> = new Set(['invited', 'completed', 'partial']);

interface GuestGroups {
  /** How many groups the guest is a direct member of (all of them, not only those shown). */
  total: number;
  memberGroupIds: ReadonlySet<string>;
  /** The first MAX_GROUPS_SHOWN by name, with their owners. */
  groups: Array<{ group: GroupInfo; owners: UserSummary[] }>;
}

interface GuestAccess extends GuestGroups {
  invitations: GuestInvitation[];
}

/** The answer's content; the Teams layer shows it as the lostAccessHelp card. */
export interface LostAccessAnswer {
  title: string;
  intro: string;
  /** Groups the guest is still a member of; `owners` is one line of names. */
  memberOf: Array<{ name: string; owners: string }>;
  invitedBy: string[];
  whoToAsk: string[];
  whatYouSee: string[];
  keepInMind: string[];
}

const WHAT_YOU_SEE = [
  'OneDrive shows a notification that the library cannot be synced.',
  'The OneDrive icon in the notification area shows an error.',
  'In the OneDrive activity center, a banner says "One or more libraries could not be synced"; select it to see how to resolve it.',
  'In the browser or in Teams, the site or files say you do not have access.',
];

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function ownersLine(owners: readonly UserSummary[]): string {
  if (owners.length === 0) return 'none listed';
  const names = owners.slice(0, MAX_OWNERS_SHOWN).map((o) => o.displayName || 'an owner whose name I cannot read');
  const more = owners.length - names.length;
  return more > 0 ? `${names.join(', ')} and ${more} more` : names.join(', ');
}

/** The people who invited the guest, each once, newest invitation first. */
function inviterNames(invitations: readonly GuestInvitation[]): string[] {
  return [...new Set(invitations.map((r) => r.requestedBy.name).filter((n) => n.trim() !== ''))];
}

/**
 * The lost-access card's data. `asker` null: the account could not be read; `access` null: not a
 * guest, or their groups could not be read. Both give the generic answer.
 */
function lostAccessAnswer(asker: Asker | null, access: GuestAccess | null): LostAccessAnswer {
  const tenantName = asker?.policies.tenantDisplayName ?? 'this organisation';
  const guest = asker?.kind === 'guest' ? asker : null;
  // Only work-or-school guests can sync: OneDrive errors and synced copies are theirs alone
  // (and the unknown/members, who may sync). Pending guests never got in at all.
  const pending = guest !== null && guest.user.externalUserState !== 'Accepted';
  const canSync = !guest || guest.method === 'workOrSchoolAccount';
  const stranded = guest && !pending ? providerTurnedOff(guest.method, guest.user, guest.policies) : null;
  const keepInMind = [
    ...(canSync ? ['Files you synced stay on your device after access is removed; they simply stop updating.'] : []),
    'If access was removed by mistake, a site owner can add you back; a new invitation is only needed if your guest account was deleted.',
  ];
  if (guest?.method === 'emailOneTimePasscode' && !stranded) {
    keepInMind.unshift(`If you only cannot sign in: ${otpSignInAdvice(guest.policies.tenantDisplayName)}`);
  }
  if (stranded) {
    keepInMind.unshift(
      `${stranded.replace(/^They /, 'You ')} That alone stops you signing in: ask an admin to reset your sign-in (redemption) (say "why did I get a code?" for the button).`,
    );
  }
  if (pending) {
    keepInMind.unshift("You have not accepted your invitation yet: open the invitation link first (from the invitation email or the person who invited you).");
  }
  const generic: LostAccessAnswer = {
    title: 'If you lost access',
    intro: `When a site owner removes your permission, or your guest account in ${tenantName} is deleted, you can no longer open what was shared with you.`,
    memberOf: [],
    invitedBy: [],
    whoToAsk:
      asker?.kind === 'member'
        ? ['Your IT help desk, or an owner of the site.']
        : ['The person who invited you, or an owner of the team or site you were using.'],
    whatYouSee: canSync ? [...WHAT_YOU_SEE] : [WHAT_YOU_SEE[WHAT_YOU_SEE.length - 1] ?? ''],
    keepInMind,
  };
  if (asker?.kind !== 'guest' || !access) return generic;

  const invitedBy = access.invitations.map(
    (r) =>
      `${r.requestedBy.name} invited you to ${r.siteName} on ${day(r.createdAt)}.${access.memberGroupIds.has(r.groupId) ? '' : ' You are not a member there now.'}`,
  );
  const inviters = inviterNames(access.invitations);

  if (access.total === 0) {
    return {
      ...generic,
      intro: `You are no longer a member of any team or site in ${tenantName}: access to those sites was removed.`,
      invitedBy,
      whoToAsk: [
        ...(inviters.length > 0
          ? inviters.map((name) => `${name}, who invited you: ask them to add you back.`)
          : ['The person who invited you: ask them to add you back.']),
        'Or an owner of the team or site you were using.',
      ],
    };
  }

  const shown = access.groups.length;
  return {
    ...generic,
    intro:
      `You are still a member of ${plural(access.total, 'team or group', 'teams or groups')} in ${tenantName}` +
      `${access.total > shown ? ` (the first ${shown} are listed)` : ''}. ` +
      'If what you can no longer open is listed, ask one of its owners to check your permission; if it is not, your membership of it was removed or it was shared with you another way.',
    memberOf: access.groups.map(({ group, owners }) => ({
      name: group.displayName || 'A group whose name I cannot read',
      owners: ownersLine(owners),
    })),
    invitedBy,
    whoToAsk: [
      ...(inviters.length > 0 ? inviters.map((name) => `${name}, who invited you.`) : ['The person who invited you.']),
      'An owner of the team or site you lost (the owners of those you are still in are listed above).',
    ],
  };
}

export class LostAccessHelp {
  constructor(private readonly deps: GuestHelpDependencies) {}


  /**
   * "I lost access", from the asker's own account: for a guest, the groups they are still in
   * (with owners) and who invited them. Any directory failure gives the generic answer instead.
   */
  async answer(actor: Actor | null): Promise<LostAccessAnswer> {
    let asker: Asker;
    try {
      asker = await whoIsAsking(this.deps, actor, { withAdvice: false });
    } catch (e) {
      this.fellBack('account', e);
      return lostAccessAnswer(null, null);
    }
    if (asker.kind !== 'guest') return lostAccessAnswer(asker, null);
    let groups: GuestGroups;
    try {
      groups = await this.guestGroups(asker.user.id);
    } catch (e) {
      this.fellBack('groups', e);
      return lostAccessAnswer(asker, null);
    }
    return lostAccessAnswer(asker, { ...groups, invitations: await this.invitationsOf(asker) });
  }

  private async guestGroups(userId: string): Promise<GuestGroups> {
    const all = await this.deps.directory.listMemberGroups(userId);
    const shown = [...all].sort((a, b) => a.displayName.localeCompare(b.displayName)).slice(0, MAX_GROUPS_SHOWN);
    const withOwners = await Promise.all(
      shown.map(async (group) => ({ group, owners: await this.deps.directory.listGroupOwners(group.id) })),
    );
    return { total: all.length, memberGroupIds: new Set(all.map((g) => g.id)), groups: withOwners };
  }

  /** The guest's invitations that reached the directory, one per group, newest first; none when the store fails. */
  private async invitationsOf(asker: GuestAsker): Promise<GuestInvitation[]> {
    const repository = this.deps.invitations;
    if (!repository) return [];
    const { user, policies } = asker;
    const addresses = [...new Set([user.mail, ...user.otherMails].filter((a): a is string => !!a).map((a) => a.toLowerCase()))];
    try {
      const lists = await Promise.all(addresses.map((a) => repository.listByEmail(policies.tenantId, a, { limit: 20 })));
      const newestPerGroup = new Map<string, GuestInvitation>();
      for (const record of lists.flat().sort((a, b) => b.createdAt.localeCompare(a.createdAt))) {
        // An address can outlive an account (deleted, invited again): only this account's invitations count.
        const ours = record.userId === null || record.userId === user.id;
        if (ours && INVITED_STATES.has(record.state) && !newestPerGroup.has(record.groupId)) {
          newestPerGroup.set(record.groupId, record);
        }
      }
      return [...newestPerGroup.values()].slice(0, MAX_INVITATIONS_SHOWN);
    } catch (e) {
      this.fellBack('invitations', e);
      return [];
    }
  }

  /** Logs why an answer is less specific than it could be: the failure's kind only, no names, ids or addresses. */
  private fellBack(step: 'account' | 'groups' | 'invitations', e: unknown): void {
    this.deps.logger?.warn(
      {
        step,
        code: isDirectoryError(e) ? e.code : 'unexpected',
        graphCode: isDirectoryError(e) ? e.graphCode : undefined,
        errorType: e instanceof Error ? e.name : typeof e,
      },
      'lost-access answer: could not read the asker\'s access; answered without it',
    );
  }
}
