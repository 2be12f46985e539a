/** How invitations read on cards: the sign-in method, what the guest will see, the link's texts, sync and state. */
import { accessEndSentence, formatAccessDay } from '../../domain/accessEnd';
import type { SignInAdvice, SignInMethod } from '../../domain/signInAdvice';
import { OTP_CODE_VALID_MINUTES, OTP_SESSION_HOURS, methodLabel, methodWithArticle } from '../../domain/signInWording';
import type { InvitationRecord, InvitationState } from '../../usecases/ports/invitations';
import type { InvitationStatusView, RecordedAccess } from '../../usecases/invite/model';

/** "work or school account", or "personal Microsoft account if they have one, otherwise …". */
export function describeMethod(advice: SignInAdvice): string {
  if (advice.subject === 'internalUser') return 'their own organisation account';
  const redeemed = advice.existing?.redeemedWith;
  if (redeemed) return `${methodLabel(redeemed)} (how they accepted)`;
  if (!advice.method) return 'unknown';
  if (advice.confidence === 'depends' && advice.otherwise) {
    return `${methodLabel(advice.method)} if they have one, otherwise ${methodWithArticle(advice.otherwise)}`;
  }
  return advice.confidence === 'likely' ? `${methodLabel(advice.method)} (most likely)` : methodLabel(advice.method);
}

/** A label that starts a card value reads like the advice card's: "Work or school account …". */
export function capitalise(label: string): string {
  return label.charAt(0).toUpperCase() + label.slice(1);
}

export function effectiveMethod(advice: SignInAdvice | null, record: InvitationRecord | null): SignInMethod | null {
  return advice?.existing?.redeemedWith ?? record?.actualMethod ?? advice?.method ?? record?.predictedMethod ?? null;
}

/** What the guest sees when they open the invitation link, for their sign-in method. */
export function guestWillSee(method: SignInMethod | null, otherwise: SignInMethod | null, tenantName: string, siteName: string): string[] {
  const consent = `A permissions page for ${tenantName}: they review it and choose Accept.`;
  const end = `Then ${siteName} opens.`;
  switch (method) {
    case 'workOrSchoolAccount':
      return ['A Microsoft sign-in page: they sign in with their own work or school account (their usual password and MFA).', consent, end];
    case 'samlWsFedFederation':
      return ["They are sent to their own organisation's sign-in page and sign in there as usual.", consent, end];
    case 'googleFederation':
      return ['A "Sign in with Google" page: they use their Google account.', consent, end];
    case 'microsoftAccount':
      return [
        'A Microsoft sign-in page: they sign in with their personal Microsoft account for this address, if they have one.',
        ...(otherwise === 'emailOneTimePasscode'
          ? [`If they don't, Microsoft emails them a one-time code (valid ${OTP_CODE_VALID_MINUTES} minutes) instead.`]
          : otherwise === 'createMicrosoftAccount'
            ? ["If they don't, they are asked to create a Microsoft account for this address."]
            : []),
        consent,
        end,
      ];
    case 'emailOneTimePasscode':
      return [
        `Microsoft emails them a one-time code, valid ${OTP_CODE_VALID_MINUTES} minutes; they type it in.`,
        consent,
        end,
        `Their session lasts ${OTP_SESSION_HOURS} hours, then they get a new code. Later sign-ins must use a link that names your organisation (below).`,
      ];
    case 'createMicrosoftAccount':
      return ['They are asked to create a personal Microsoft account for this address (a few steps, including a code sent by email).', consent, end];
    default:
      return [];
  }
}

/**
 * How the invitation link reaches the guest, said once on every card that shows it: the link
 * itself (in a field that selects and copies as one line), whether Microsoft emailed it, and that
 * the person reading is not the one who should open it.
 */
export function invitationLinkTexts(guestName: string, guestEmail: string, emailed: 'created' | 'justNow' | 'no'): {
  linkHeading: string;
  emailStatus: string;
  dontOpen: string;
} {
  return {
    linkHeading: `Invitation link for ${guestName}`,
    emailStatus:
      emailed === 'justNow'
        ? `Microsoft has just emailed the invitation to ${guestEmail} (from invites@microsoft.com). The link below is the new one.`
        : emailed === 'created'
          ? `Microsoft has also emailed it to ${guestEmail} (from invites@microsoft.com).`
          : `Microsoft has not emailed ${guestName}. Send them this link yourself (a Teams chat or an email), or choose "Send the invitation email" to have Microsoft email it.`,
    dontOpen: `Don't open this link yourself: it is for ${guestName} (${guestEmail}), who accepts it with their own account.`,
  };
}

/** The one-line answer to "can they sync?", the same after a direct invitation and an approved one. */
export function syncSummary(guestName: string, method: SignInMethod | null, syncAvailable: boolean | 'depends', siteName: string): string {
  const available = method === 'workOrSchoolAccount' || (method === null && syncAvailable === true);
  if (available) {
    return `${guestName} signs in with a work or school account, so they can sync ${siteName} with the OneDrive app. Synced copies stay on their device if access is later removed.`;
  }
  if (syncAvailable === 'depends' || method === null) {
    return `OneDrive sync works only if ${guestName} signs in with a Microsoft Entra work or school account; with a personal account or one-time codes it will not be available.`;
  }
  return `${guestName} will sign in with ${methodWithArticle(method)}, and OneDrive B2B Sync needs a Microsoft Entra work or school account, so syncing will not be available to them. They can use the files in the browser or in Teams.`;
}

const STATE_LABELS: Record<InvitationState, string> = {
  pending: 'Being processed',
  invited: 'Invited, not yet added to the site',
  completed: 'Done',
  partial: 'Invited, but not added to the site (retry needed)',
  failed: 'Failed',
};

export function stateLabel(view: InvitationStatusView): string {
  const { record } = view;
  if (record.state === 'completed' || record.state === 'invited' || record.state === 'partial') {
    if (record.outcomeKind === 'internalUser') return record.state === 'completed' ? 'Added (member of your organisation)' : STATE_LABELS[record.state];
    if (view.externalUserState === 'Accepted') return record.state === 'completed' ? 'Accepted' : `Accepted; ${STATE_LABELS[record.state]}`;
    if (view.externalUserState === 'PendingAcceptance') {
      return record.state === 'completed' ? 'Waiting for the guest to accept' : `${STATE_LABELS[record.state]}; not accepted yet`;
    }
  }
  return STATE_LABELS[record.state];
}

export function formatTime(iso: string | null): string {
  if (!iso) return 'unknown time';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return 'unknown time';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The access-end line of the invite cards: the end date and who is the guest's sponsor. */
export interface AccessEndData {
  hasAccessEnd: boolean;
  accessEnd: string;
  sponsorNote: string;
}

/**
 * "Access ends on 30 May 2027" (or "No end date") with the sponsor: `you` on the confirmation
 * card, `afterApproval` when an approver decides first, or the sponsor's name on a result.
 * `endsAt` undefined: no guest lifecycle, no line.
 */
export function accessEndData(endsAt: string | null | undefined, sponsor: 'you' | 'afterApproval' | { name: string }): AccessEndData {
  if (endsAt === undefined) return { hasAccessEnd: false, accessEnd: '', sponsorNote: '' };
  const renew = endsAt === null ? '' : ' and can renew it';
  const sponsorNote =
    sponsor === 'you'
      ? `· You become the guest's sponsor: you are reminded before it ends${renew}.`
      : sponsor === 'afterApproval'
        ? `· You become the guest's sponsor once an approver agrees.`
        : `· Sponsor: ${sponsor.name}.`;
  return { hasAccessEnd: true, accessEnd: accessEndSentence(endsAt), sponsorNote };
}

/** The recorded access of "status of" and "my invitations": "Access ends on 30 May 2027", "No end date", "Access ended on …"; '' when none. */
export function recordedAccessLine(access: RecordedAccess | null | undefined): string {
  if (!access) return '';
  switch (access.state) {
    case 'invited':
    case 'accepted':
      return accessEndSentence(access.endsAt);
    case 'ended':
      return access.endsAt ? `Access ended on ${formatAccessDay(access.endsAt)}` : 'Access ended';
    case 'withdrawn':
      return 'Invitation withdrawn';
    case 'removed':
      return 'Removed from the site';
  }
}
