import type { Attachment } from 'botbuilder';
import type { SignInMethod } from '../../../domain/signInAdvice';
import type { InviteTarget } from '../../../usecases/invite/model';
import { renderCard } from '../../cards';
import { syncSummary } from '../inviteWording';

/** The data of cards/syncInstructions.json. */
export interface SyncInstructionsCardData {
  title: string;
  siteName: string;
  siteUrl: string;
  /** syncSummary: the one-line answer to "can they sync?". */
  summary: string;
  steps: string[];
  /** What cannot be synced even with the right account. */
  cannotSync: string[];
  alternatives: string[];
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
  const data: SyncInstructionsCardData = {
    // With a sign-in that can never sync, the card is about working with the files, and lists no sync limits.
    title: canMaybeSync ? `Syncing ${target.siteName} with OneDrive` : `${target.siteName} without OneDrive sync`,
    siteName: target.siteName,
    siteUrl: target.siteUrl,
    summary,
    steps: available || syncAvailable === 'depends' || method === null ? steps : [],
    cannotSync: canMaybeSync ? cannotSync : [],
    alternatives: available ? [] : alternatives,
  };
  return renderCard('syncInstructions', data);
}
