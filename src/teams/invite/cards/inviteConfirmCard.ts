import type { Attachment } from 'botbuilder';
import type { LookAlikeWarning } from '../../../domain/lookAlike';
import type { SignInAdvice } from '../../../domain/signInAdvice';
import type { InviteTarget } from '../../../usecases/invite/model';
import { renderCard } from '../../cards';
import { accessEndData, capitalise, describeMethod } from '../inviteWording';

/** The look-alike box's fields (cards inviteConfirm and bulkSummary). */
export interface LookAlikeBoxData {
  hasLookAlike: boolean;
  lookAlikeHeading: string;
  lookAlikeMessage: string;
  lookAlikeDisplay: string;
  lookAlikeAscii: string;
}

/** The data of cards/inviteConfirm.json. */
export interface InviteConfirmCardData extends LookAlikeBoxData {
  /** "Send for approval" instead of "Confirm". */
  forApproval: boolean;
  guestName: string;
  guestEmail: string;
  siteName: string;
  /** What Confirm will do. */
  plan: string;
  methodLabel: string;
  reasons: string[];
  warnings: string[];
  /** The end date the invitation will get (GUEST_ACCESS_DAYS …), when the guest lifecycle runs. */
  hasAccessEnd: boolean;
  /** "Access ends on 30 May 2027" or "No end date". */
  accessEnd: string;
  /** Who becomes the guest's sponsor, and what that means. */
  sponsorNote: string;
}

export interface ConfirmCardInput {
  displayName: string;
  email: string;
  target: InviteTarget;
  advice: SignInAdvice;
  needsApproval: string | null;
  /** An internationalised or mixed-script domain: shown with its ASCII form, to be confirmed knowingly. */
  lookAlike?: LookAlikeWarning | null;
  /** The end the access will get (null = no end); undefined when no guest lifecycle runs. */
  accessEnd?: { endsAt: string | null } | null;
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
  const data: InviteConfirmCardData = {
    forApproval: input.needsApproval !== null,
    guestName: displayName,
    guestEmail: input.email,
    siteName: target.siteName,
    plan,
    methodLabel: capitalise(describeMethod(advice)),
    reasons: advice.reasons,
    warnings: advice.warnings,
    ...accessEndData(input.accessEnd && advice.subject !== 'internalUser' ? input.accessEnd.endsAt : undefined, input.needsApproval !== null ? 'afterApproval' : 'you'),
    ...lookAlikeCardData(input.lookAlike ?? null),
  };
  return renderCard('inviteConfirm', data);
}

/** The look-alike box's fields (cards inviteConfirm and bulkSummary). */
export function lookAlikeCardData(warning: LookAlikeWarning | null): LookAlikeBoxData {
  return {
    hasLookAlike: warning !== null,
    lookAlikeHeading: warning?.kind === 'mixedScripts' ? 'This address may imitate another one' : 'Check this address: its domain is internationalised',
    lookAlikeMessage: warning?.message ?? '',
    lookAlikeDisplay: warning?.display ?? '',
    lookAlikeAscii: warning?.ascii ?? '',
  };
}
