import { pipeline, type Readable } from 'node:stream';
import type { Request, Response, Server } from 'restify';
import { resultsCsvStream } from '../../usecases/bulk/resultsCsv';
import { ResultsLinkError, type ResultsLinkClaims, type ResultsLinkSigner } from '../../usecases/bulk/resultsLink';
import type { BulkJobRepository } from '../../usecases/bulk/ports';
import type { BulkJob } from '../../domain/bulkJob';

/** A results file a verified link opens: a CSV made (or streamed from the store) on request. */
export interface ResultsFile {
  fileName: string;
  stream(): Readable;
  /** Ids for the log line if the download breaks off (never personal data). */
  logContext: Record<string, unknown>;
}

export interface ResultsFileRouteDeps {
  /** The signer made from the stored secret (fetched once). */
  signer: () => Promise<ResultsLinkSigner>;
  /**
   * The file the token names, for the person it was issued to, after re-checking that they may
   * still have it; null refuses (403) without saying which file it was.
   */
  open(claims: ResultsLinkClaims): Promise<ResultsFile | null>;
  /** The log line of a refusal (ids only). */
  refused: (claims: ResultsLinkClaims) => { context: Record<string, unknown>; message: string };
  logger?: { warn(obj: Record<string, unknown>, msg: string): void };
}

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
 * GET <path>?t=<token>: one results file (bulk results, exports). The token travels in the query
 * (restify's router caps path parameters at 100 characters); it is signed for the person it was
 * issued to, and `open` re-checks that this person may still have the file. The route cannot
 * check who is holding the link (a browser carries no Teams identity), so the link is a bearer
 * secret with a short lifetime and the card says so. Forged, malformed or expired tokens, a token
 * for someone who may no longer have the file, and a file that does not exist any more are
 * refused without saying which file it was.
 */
export function registerResultsFileRoute(server: Server, path: string, deps: ResultsFileRouteDeps): void {
  server.get(path, async (req: Request, res: Response) => {
    const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('t') ?? '';
    let claims: ResultsLinkClaims;
    try {
      claims = (await deps.signer()).verify(token);
    } catch (e) {
      if (e instanceof ResultsLinkError) {
        refuse(res, e.reason === 'expired' ? 410 : 403, e.userMessage);
        return;
      }
      throw e;
    }
    const file = await deps.open(claims);
    if (!file) {
      const { context, message } = deps.refused(claims);
      deps.logger?.warn(context, message);
      refuse(res, 403, 'This results link is not valid for you.');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${file.fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // The token is in the query: never pass it on to another site.
      'referrer-policy': 'no-referrer',
    });
    await new Promise<void>((resolve) => {
      pipeline(file.stream(), res, (err) => {
        if (err) deps.logger?.warn({ ...file.logContext, err: String(err) }, 'results download interrupted');
        resolve();
      });
    });
  });
}

export interface BulkRouteDeps {
  jobs: BulkJobRepository;
  /** The signer made from the stored secret (fetched once). */
  signer: () => Promise<ResultsLinkSigner>;
  /**
   * The job the link opens for the person it was issued to, with their right re-checked now (an
   * approver's standing can be removed), or null; a refusal is audited there (BulkJobService.openResults).
   */
  openResults: (claims: ResultsLinkClaims) => Promise<BulkJob | null>;
  logger?: { warn(obj: Record<string, unknown>, msg: string): void };
}

/** The token travels in the query: restify's router caps path parameters at 100 characters. */
export const RESULTS_ROUTE = '/bulk/results';

/**
 * GET /bulk/results?t=<token>: the results CSV of one job, for its requester (or an approver,
 * re-checked now), streamed from the store.
 */
export function registerBulkRoutes(server: Server, deps: BulkRouteDeps): void {
  registerResultsFileRoute(server, RESULTS_ROUTE, {
    signer: deps.signer,
    logger: deps.logger,
    refused: (claims) => ({ context: { jobId: claims.jobId }, message: 'results link refused: no such job, or not the requester or an approver' }),
    open: async (claims) => {
      const job = await deps.openResults(claims);
      if (!job) return null;
      const day = new Date(job.createdAt).toISOString().slice(0, 10);
      return { fileName: `bulk-invite-results-${day}.csv`, stream: () => resultsCsvStream(deps.jobs, job.id), logContext: { jobId: job.id } };
    },
  });
}
