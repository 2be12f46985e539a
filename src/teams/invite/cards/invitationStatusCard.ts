import type { Attachment } from 'botbuilder';
import { methodLabel } from '../../../domain/signInWording';
import type { InvitationStatusView } from '../../../usecases/invite/model';
import { renderCard } from '../../cards';
import { formatTime, recordedAccessLine, stateLabel } from '../inviteWording';

/** The data of cards/invitationStatus.json: one row per invitation the reader may see. */
export interface InvitationStatusCardData {
  guestEmail: string;
  emptyMessage: string;
  invitations: Array<{
    siteName: string;
    stateLabel: string;
    guestName: string;
    methodLabel: string;
    requestedBy: string;
    requestedAt: string;
    stateDetail: string;
    showRedeemLink: boolean;
    redeemUrl: string;
    /** "Access ends on 30 May 2027", "No end date", "Access ended on …", or '' when no access is recorded. */
    accessLine: string;
    hasAccessLine: boolean;
    /** " · Sponsor: Megan Bowen", or ''. */
    sponsorLine: string;
  }>;
}

export function invitationStatusCard(email: string, views: readonly InvitationStatusView[]): Attachment {
  const data: InvitationStatusCardData = {
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
        accessLine: recordedAccessLine(v.access),
      hasAccessLine: recordedAccessLine(v.access) !== '',
        sponsorLine: v.access ? ` · Sponsor: ${v.access.sponsorName}` : '',
      };
    }),
  };
  return renderCard('invitationStatus', data);
}
