import type { Attachment } from 'botbuilder';
import type { LookAlikeWarning } from '../../domain/lookAlike';
import type { SignInAdvice, SignInMethod } from '../../domain/signInAdvice';
import { OTP_CODE_VALID_MINUTES, OTP_SESSION_HOURS, methodLabel, methodWithArticle, signInUrlFor } from '../../domain/signInRules';
import type { InvitationRecord, InvitationState } from '../../adapters/sqlite/invitations';
import type { InvitationStatusView, InviteOutcome, InviteTarget } from '../../usecases/invite/inviteGuest';
import { renderCard } from '../cards';

/** Data for the invitation cards (cards/invite*.json, syncInstructions, invitationStatus, myInvitations). */

export interface ConfirmCardInput {
  displayName: string;
  email: string;
  target: InviteTarget;
  advice: SignInAdvice;
  needsApproval: string | null;
  /** An internationalised or mixed-script domain: shown with its ASCII form, to be confirmed knowingly. */
  lookAlike?: LookAlikeWarning | null;
}

export function inviteConfirmCard(input: ConfirmCardInput): Attachment {
  const { advice, target, displayName } = input;
  const plan = input.needsApproval
    ? `${input.needsApproval} Confirm sends the request to the approvers; nothing reaches ${displayName} until one of them agrees, and then you get the invitation link here.`
    : advice.subject === 'internalUser'
      ? `${displayName} is in your organisation: they will simply be added to ${target.siteName}, no invitation needed.`
      : advice.subject === 'existingGuest'
        ? advice.existing?.state === 'Accepted'
          ? `${displayName} is already a guest here (they accepted earlier): they will be added to ${target.siteName}, no new invitation.`
          : `${displayName} is already a guest but has not accepted yet: they will get a fresh invitation link and be added to ${target.siteName}.`
        : `An invitation will be created and ${displayName} will be added to ${target.siteName}.`;
  return renderCard('inviteConfirm', {
    forApproval: input.needsApproval !== null,
    guestName: displayName,
    guestEmail: input.email,
    siteName: target.siteName,
    plan,
    methodLabel: capitalise(describeMethod(advice)),
    reasons: advice.reasons,
    warnings: advice.warnings,
    ...lookAlikeCardData(input.lookAlike ?? null),
  });
}

/** The look-alike box's fields (cards inviteConfirm and bulkSummary). */
export function lookAlikeCardData(warning: LookAlikeWarning | null): Record<string, unknown> {
  return {
    hasLookAlike: warning !== null,
    lookAlikeHeading: warning?.kind === 'mixedScripts' ? 'This address may imitate another one' : 'Check this address: its domain is internationalised',
    lookAlikeMessage: warning?.message ?? '',
    lookAlikeDisplay: warning?.display ?? '',
    lookAlikeAscii: warning?.ascii ?? '',
  };
}

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
function capitalise(label: string): string {
  return label.charAt(0).toUpperCase() + label.slice(1);
}

function effectiveMethod(advice: SignInAdvice | null, record: InvitationRecord | null): SignInMethod | null {
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

export interface ResultCardContext {
  guestName: string;
  guestEmail: string;
  tenantName: string;
  tenantId: string;
  /** SEND_INVITATION_EMAIL: Microsoft emailed the invitation when it was created. */
  emailsInvitations?: boolean;
  /** Microsoft has just emailed it on request ("Send the invitation email"). */
  justEmailed?: boolean;
  /** A line about what just happened (e.g. the email was sent, or why not). */
  notice?: string | null;
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

export function inviteResultCards(outcome: InviteOutcome, ctx: ResultCardContext): Attachment[] {
  const record = outcome.record;
  const target = outcome.target ?? (record ? { groupId: record.groupId, siteName: record.siteName, siteUrl: record.siteUrl } : null);
  const siteName = target?.siteName ?? 'the site';
  const method = outcome.kind === 'internalUser' ? null : effectiveMethod(outcome.advice, record);
  const otherwise = outcome.advice?.otherwise ?? null;
  const isCompleted = outcome.status === 'completed';
  const isPartial = outcome.status === 'partial';
  const name = record?.displayName ?? ctx.guestName;
  const email = record?.emailDisplay ?? ctx.guestEmail;

  let headline: string;
  let detail: string;
  if (isCompleted) {
    headline =
      outcome.kind === 'internalUser'
        ? `${name} was added to ${siteName}`
        : outcome.kind === 'existingGuest'
          ? `${name} (already a guest) is now in ${siteName}`
          : `${name} is invited to ${siteName}`;
    detail = outcome.membershipRestored
      ? `${name} had been removed from ${siteName} since an earlier invitation: they are back in its group. No new invitation was sent.`
      : outcome.alreadyDone
        ? 'This was already done by an earlier request: nothing new was sent.'
        : outcome.kind === 'internalUser'
          ? 'They are in your organisation, so no invitation was needed.'
          : outcome.redeemUrl
            ? "They are in the site's group and can open it as soon as they accept."
            : 'They accepted an invitation before, so they can open the site now: no new link is needed.';
  } else if (isPartial) {
    headline = `${name} was invited, but adding them to ${siteName} failed`;
    detail = `${outcome.refusal?.message ?? 'The directory did not add them.'} This is not finished: press Retry.`;
  } else if (outcome.status === 'inProgress') {
    headline = `The invitation for ${name} is still being processed`;
    detail = 'Another request for the same guest and site is running. Ask "status of" the address in a minute.';
  } else {
    headline = `${name} was not invited`;
    detail = outcome.refusal?.message ?? 'Nothing was changed.';
  }

  const showTenantLink = method === 'emailOneTimePasscode' || (method === 'microsoftAccount' && otherwise === 'emailOneTimePasscode');
  const redeemUrl = isCompleted || isPartial ? outcome.redeemUrl : null;
  const emailed = ctx.justEmailed ? 'justNow' : ctx.emailsInvitations ? 'created' : 'no';
  const cards = [
    renderCard('inviteResult', {
      ...invitationLinkTexts(name, email, emailed),
      canSendEmail: redeemUrl !== null && emailed === 'no' && record !== null,
      hasNotice: Boolean(ctx.notice),
      notice: ctx.notice ?? '',
      headline,
      hasDetail: detail !== '',
      detail,
      isCompleted,
      isPartial,
      guestName: name,
      guestEmail: email,
      siteName,
      siteUrl: target?.siteUrl ?? '',
      hasMethod: method !== null,
      methodLabel: method ? capitalise(methodLabel(method)) : '',
      showRedeemLink: redeemUrl !== null,
      redeemUrl: redeemUrl ?? '',
      guestWillSee: redeemUrl ? guestWillSee(method, otherwise, ctx.tenantName, siteName) : [],
      showTenantLink,
      tenantSignInUrl: showTenantLink ? (outcome.advice?.tenantSignInUrl ?? signInUrlFor(ctx.tenantId)) : '',
      recordId: record?.id ?? '',
    }),
  ];
  if ((isCompleted || isPartial) && outcome.kind !== 'internalUser' && target) {
    cards.push(syncInstructionsCard(name, method, outcome.advice?.syncAvailable ?? (method === 'workOrSchoolAccount'), target, ctx.tenantName));
  }
  return cards;
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

/** OneDrive B2B Sync instructions fitted to the guest's sign-in method. */
export function syncInstructionsCard(
  guestName: string,
  method: SignInMethod | null,
  syncAvailable: boolean | 'depends',
  target: InviteTarget,
  tenantName: string,
): Attachment {
  const available = method === 'workOrSchoolAccount' || (method === null && syncAvailable === true);
  const cannotSync = [
    'Files shared one by one: only whole sites, libraries and folders can be synced.',
    'Anything shared with an "Anyone" link (those links create no guest account).',
  ];
  const steps = [
    'Accept the invitation first: open the invitation link once and sign in with their work or school account.',
    `Open the ${target.siteName} link and sign in with the same work or school (organisational) account.`,
    'Go to the library or folder they want and select Sync.',
    'When the browser asks to open Microsoft OneDrive, allow it.',
    'If OneDrive asks them to sign in, use the same work address (it is filled in for them).',
    `Confirm where the files go: they appear in a folder named after ${tenantName}, next to their own organisation's folder.`,
  ];
  const alternatives = [
    `Open the files in the browser from the ${target.siteName} site.`,
    'Use the Files tab of the team in Microsoft Teams.',
  ];
  const summary = syncSummary(guestName, method, syncAvailable, target.siteName);
  const canMaybeSync = available || syncAvailable === 'depends' || method === null;
  return renderCard('syncInstructions', {
    // With a sign-in that can never sync, the card is about working with the files, and lists no sync limits.
    title: canMaybeSync ? `Syncing ${target.siteName} with OneDrive` : `${target.siteName} without OneDrive sync`,
    siteName: target.siteName,
    siteUrl: target.siteUrl,
    summary,
    steps: available || syncAvailable === 'depends' || method === null ? steps : [],
    cannotSync: canMaybeSync ? cannotSync : [],
    alternatives: available ? [] : alternatives,
  });
}

const STATE_LABELS: Record<InvitationState, string> = {
  pending: 'Being processed',
  invited: 'Invited, not yet added to the site',
  completed: 'Done',
  partial: 'Invited, but not added to the site (retry needed)',
  failed: 'Failed',
};

function stateLabel(view: InvitationStatusView): string {
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

function formatTime(iso: string | null): string {
  if (!iso) return 'unknown time';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return 'unknown time';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function invitationStatusCard(email: string, views: readonly InvitationStatusView[]): Attachment {
  return renderCard('invitationStatus', {
    guestEmail: email,
    emptyMessage: `I have no invitation for ${email} that you asked for or whose site you own.`,
    invitations: views.map((v) => {
      const accepted = v.externalUserState === 'Accepted';
      const method = v.actualMethod ?? v.record.predictedMethod;
      return {
        siteName: v.record.siteName,
        stateLabel: stateLabel(v),
        guestName: v.record.displayName,
        methodLabel: method ? `${methodLabel(method)}${v.actualMethod ? '' : ' (expected)'}` : 'not known',
        requestedBy: v.record.requestedBy.name || 'someone',
        requestedAt: formatTime(v.record.createdAt),
        stateDetail: accepted
          ? `accepted on ${formatTime(v.externalUserStateChangedAt)}`
          : v.record.lastError
            ? `last problem: ${v.record.lastError}`
            : `last change ${formatTime(v.record.updatedAt)}`,
        showRedeemLink: !accepted && v.record.redeemUrl !== null && v.record.outcomeKind !== 'internalUser',
        redeemUrl: v.record.redeemUrl ?? '',
      };
    }),
  });
}

export function myInvitationsCard(views: readonly InvitationStatusView[]): Attachment {
  return renderCard('myInvitations', {
    summary:
      views.length === 0
        ? 'You have not invited anyone through me yet. Say "invite a guest" to start.'
        : `${views.length} invitation${views.length === 1 ? '' : 's'}, newest first.`,
    invitations: views.map((v) => ({
      guestName: v.record.displayName,
      guestEmail: v.record.emailDisplay,
      siteName: v.record.siteName,
      updatedAt: formatTime(v.record.updatedAt),
      stateLabel: stateLabel(v),
      isDone: v.record.state === 'completed' && (v.externalUserState === 'Accepted' || v.record.outcomeKind === 'internalUser'),
      isProblem: v.record.state === 'partial' || v.record.state === 'failed',
    })),
  });
}
