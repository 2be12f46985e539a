/** What the invite dialog reads from a turn (card values or typed words) and how it says plain text. */
import { type Activity, MessageFactory, type TurnContext } from 'botbuilder';
import type { GroupInfo } from '../../domain/tenant';
import { type Checked, readSiteAnswer } from './inviteValidators';

/** A plain-text message: user-typed values in it must not render as markdown. */
export function plain(text: string): Partial<Activity> {
  const message = MessageFactory.text(text);
  message.textFormat = 'plain';
  return message;
}

/** In a team channel the team's own site is the target: channelData.team.aadGroupId. */
export function teamGroupId(context: TurnContext): string | undefined {
  const data = context.activity.channelData as { team?: { aadGroupId?: unknown } } | undefined;
  const id = data?.team?.aadGroupId;
  return context.activity.conversation?.conversationType === 'channel' && typeof id === 'string' && id ? id : undefined;
}

/** The site picked on the card (its group id), or typed by name or number. */
export function siteAnswer(context: TurnContext, sites: readonly GroupInfo[]): Checked<GroupInfo> {
  const value = context.activity.value as { inviteSite?: unknown } | undefined;
  if (typeof value?.inviteSite === 'string') {
    const picked = sites.find((s) => s.id === value.inviteSite);
    if (picked) return { ok: true, value: picked };
  }
  return readSiteAnswer(context.activity.text ?? '', sites);
}

/** The confirmation card's "I checked the address" toggle (Input.Toggle sends "true"/"false"). */
export function lookAlikeConfirmed(context: TurnContext): boolean {
  const value = context.activity.value as { lookAlikeConfirmed?: unknown } | undefined;
  return value?.lookAlikeConfirmed === 'true' || value?.lookAlikeConfirmed === true;
}

export function confirmChoice(context: TurnContext): 'confirm' | 'edit' | 'cancel' | null {
  const value = context.activity.value as { inviteAction?: unknown } | undefined;
  const fromCard = typeof value?.inviteAction === 'string' ? value.inviteAction : undefined;
  const word = (fromCard ?? context.activity.text ?? '').trim().toLowerCase();
  if (['confirm', 'yes', 'y', 'ok', 'send', 'invite'].includes(word)) return 'confirm';
  if (['edit', 'change'].includes(word)) return 'edit';
  if (['cancel', 'no', 'n', 'stop'].includes(word)) return 'cancel';
  return null;
}
