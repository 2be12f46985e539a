import type { Directory } from '../ports/Directory';
import type { InvitationPacer } from '../ports/pacer';
import type { BulkJob } from '../../domain/bulkJob';
import type { BulkJobRepository, EmailOutcome } from './ports';
import type { BulkRunnerLogger } from './runnerOptions';

/**
 * Has Microsoft email the invitation to every new guest of the job it did not email: POST
 * /invitations again for each with sendInvitationMessage true (an existing guest is invited
 * again, not created twice; Graph answers with a fresh link, kept in the results file).
 * Paced with the job's invitations.
 * https://learn.microsoft.com/en-us/graph/api/invitation-post
 */
export async function emailGuests(
  deps: { jobs: BulkJobRepository; directory: Directory; pacer: InvitationPacer | null; sendInvitationEmail: boolean; logger?: BulkRunnerLogger },
  job: BulkJob,
): Promise<EmailOutcome> {
  const { jobs } = deps;
  let sent = 0;
  let failed = 0;
  let after = 0;
  for (;;) {
    const rows = await jobs.rowsNotEmailed(job.id, deps.sendInvitationEmail, after, 100);
    if (rows.length === 0) break;
    for (const row of rows) {
      after = row.rowNumber;
      await deps.pacer?.acquire();
      try {
        const result = await deps.directory.invite({
          email: row.email,
          displayName: row.name,
          redirectUrl: row.redirectUrl ?? row.siteUrl ?? '',
          sendInvitationMessage: true,
        });
        await jobs.updateRow(job.id, row.rowNumber, { sendEmail: true, redeemUrl: result.redeemUrl, inviteId: result.invitationId });
        sent++;
      } catch (e) {
        failed++;
        deps.logger?.warn({ jobId: job.id, row: row.rowNumber, err: e instanceof Error ? e.name : 'unknown' }, 'bulk invitation email not sent');
      }
    }
  }
  return { sent, failed };
}
