/** The invitation cards (cards/invite*.json, syncInstructions, invitationStatus, myInvitations): one typed builder each, in ./cards. */
export { inviteConfirmCard, lookAlikeCardData, type ConfirmCardInput, type LookAlikeBoxData } from './cards/inviteConfirmCard';
export { inviteResultCards, refusedInviteResultCard, type ResultCardContext } from './cards/inviteResultCard';
export { syncInstructionsCard } from './cards/syncInstructionsCard';
export { invitationStatusCard } from './cards/invitationStatusCard';
export { myInvitationsCard } from './cards/myInvitationsCard';
export { siteQuestionCard } from './cards/siteQuestionCard';
export { describeMethod, guestWillSee, invitationLinkTexts, syncSummary } from './inviteWording';
