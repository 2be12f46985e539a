import { pipeline } from 'node:stream';
import type { Request, Response, Server } from 'restify';
import { resultsCsvStream } from '../../usecases/bulk/resultsCsv';
import { ResultsLinkError, type ResultsLinkSigner } from '../../usecases/bulk/resultsLink';
import type { BulkJobRepository } from '../../usecases/bulk/ports';

export interface BulkRouteDeps {
  jobs: BulkJobRepository;
  /** The signer made from the stored secret (fetched once). */
  signer: () => Promise<ResultsLinkSigner>;
  /** Re-checks an approver's standing at download time (membership can be removed). */
  isApprover?: (userId: string) => Promise<boolean>;
  logger?: { warn(obj: Record<string, unknown>, msg: string): void };
}

/** The token travels in the query: restify's router caps path parameters at 100 characters. */
export const RESULTS_ROUTE = '/bulk/results';

function refuse(res: Response, status: number, message: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(message);
}

/**
 * GET /bulk/results?t=<token>: the results CSV of one job. The token is signed for the person it
 * was issued to and the route re-checks that this person may still see the job; it cannot check
 * who is holding the link (a browser carries no Teams identity), so the link is a bearer secret
 * with a short lifetime and the card says so. Forged, malformed or expired tokens, a token for
 * someone who may no longer see the job, and a job that does not exist any more are refused
 * without saying which job it was.
 */
export function registerBulkRoutes(server: Server, deps: BulkRouteDeps): void {
  server.get(RESULTS_ROUTE, async (req: Request, res: Response) => {
    const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('t') ?? '';
    let claims;
    try {
      claims = (await deps.signer()).verify(token);
    } catch (e) {
      if (e instanceof ResultsLinkError) {
        refuse(res, e.reason === 'expired' ? 410 : 403, e.userMessage);
        return;
      }
      throw e;
    }
    const job = await deps.jobs.get(claims.jobId);
    const mayRead =
      job !== null &&
      job.tenantId === claims.tenantId &&
      (job.requestedBy.id === claims.userId || (claims.approver && (await (deps.isApprover?.(claims.userId) ?? Promise.resolve(false)))));
    if (!job || !mayRead) {
      deps.logger?.warn({ jobId: claims.jobId }, 'results link refused: not the requester');
      refuse(res, 403, 'This results link is not valid for you.');
      return;
    }
    const day = new Date(job.createdAt).toISOString().slice(0, 10);
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="bulk-invite-results-${day}.csv"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // The token is in the query: never pass it on to another site.
      'referrer-policy': 'no-referrer',
    });
    await new Promise<void>((resolve) => {
      pipeline(resultsCsvStream(deps.jobs, job.id), res, (err) => {
        if (err) deps.logger?.warn({ jobId: job.id, err: String(err) }, 'results download interrupted');
        resolve();
      });
    });
  });
}
