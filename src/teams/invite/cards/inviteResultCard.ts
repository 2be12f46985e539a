import type { Attachment } from 'botbuilder';
import { methodLabel, signInUrlFor } from '../../../domain/signInWording';
import type { InviteOutcome } from '../../../usecases/invite/model';
import { renderCard, type AdaptiveCard, expandCard } from '../../cards';
import { accessEndData, capitalise, effectiveMethod, guestWillSee, invitationLinkTexts } from '../inviteWording';
import { syncInstructionsCard } from './syncInstructionsCard';

/** The data of cards/inviteResult.json. */
export interface InviteResultCardData {
  headline: string;
  hasDetail: boolean;
  detail: string;
  isCompleted: boolean;
  isPartial: boolean;
  guestName: string;
  guestEmail: string;
  siteName: string;
  siteUrl: string;
  hasMethod: boolean;
  methodLabel: string;
  showRedeemLink: boolean;
  redeemUrl: string;
  /** invitationLinkTexts: how the link reaches the guest. */
  linkHeading: string;
  emailStatus: string;
  dontOpen: string;
  /** The "Send the invitation email" button. */
  canSendEmail: boolean;
  hasNotice: boolean;
  notice: string;
  guestWillSee: string[];
  showTenantLink: boolean;
  tenantSignInUrl: string;
  /** The invitation record the card's buttons act on. */
  recordId: string;
  hasAccessEnd: boolean;
  accessEnd: string;
  sponsorNote: string;
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
  /** The end the access gets when the outcome carries none (a partial invitation); null = no end. */
  accessEnd?: { endsAt: string | null } | null;
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
  const data: InviteResultCardData = {
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
      ...accessEndData(
        (isCompleted || isPartial) && outcome.kind !== 'internalUser' ? (outcome.access ? outcome.access.endsAt : ctx.accessEnd?.endsAt) : undefined,
        { name: record?.requestedBy.name ?? '' },
      ),
  };
  const cards = [renderCard('inviteResult', data)];
  if ((isCompleted || isPartial) && outcome.kind !== 'internalUser' && target) {
    cards.push(syncInstructionsCard(name, method, outcome.advice?.syncAvailable ?? (method === 'workOrSchoolAccount'), target, ctx.tenantName));
  }
  return cards;
}

/** An action refused before any invitation is shown (unknown actor, not theirs, gone): only why. */
export function refusedInviteResultCard(message: string): AdaptiveCard {
  const data: InviteResultCardData = {
    headline: 'Nothing was changed',
    hasDetail: true,
    detail: message,
    isCompleted: false,
    isPartial: false,
    guestName: '',
    guestEmail: '',
    siteName: '',
    siteUrl: '',
    hasMethod: false,
    methodLabel: '',
    showRedeemLink: false,
    redeemUrl: '',
    linkHeading: '',
    emailStatus: '',
    dontOpen: '',
    canSendEmail: false,
    hasNotice: false,
    notice: '',
    guestWillSee: [],
    showTenantLink: false,
    tenantSignInUrl: '',
    recordId: '',
    hasAccessEnd: false,
    accessEnd: '',
    sponsorNote: '',
  };
  return expandCard('inviteResult', data);
}
