import type { Attachment } from 'botbuilder';
import type { InvitationStatusView } from '../../../usecases/invite/model';
import { renderCard } from '../../cards';
import { formatTime, recordedAccessLine, stateLabel } from '../inviteWording';

/** The data of cards/myInvitations.json: the reader's own invitations, newest first. */
export interface MyInvitationsCardData {
  summary: string;
  invitations: Array<{
    guestName: string;
    guestEmail: string;
    siteName: string;
    updatedAt: string;
    stateLabel: string;
    isDone: boolean;
    isProblem: boolean;
    /** "Access ends on 30 May 2027", "No end date", "Access ended on …", or ''. */
    accessLine: string;
    hasAccessLine: boolean;
  }>;
}

export function myInvitationsCard(views: readonly InvitationStatusView[]): Attachment {
  const data: MyInvitationsCardData = {
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
      accessLine: recordedAccessLine(v.access),
      hasAccessLine: recordedAccessLine(v.access) !== '',
    })),
  };
  return renderCard('myInvitations', data);
}
