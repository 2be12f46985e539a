/**
 * The bulk cards' typed data: each builder fills exactly the fields its template's sample
 * (test/fixtures/cards/<name>.json, the data the schema and hostile-data test renders) has, so
 * the interface, the builder and the template cannot drift apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bulkSummaryCardData } from '../../../src/teams/bulk/cards/summaryCard';
import { bulkProgressCardData } from '../../../src/teams/bulk/cards/progressCard';
import { bulkDoneCardData } from '../../../src/teams/bulk/cards/doneCard';
import { emptyCounts, type BulkJob } from '../../../src/domain/bulkJob';
import { emptyValidationSummary } from '../../../src/usecases/bulk/bulkValidation';
import type { BulkProgress } from '../../../src/usecases/bulk/progress';

function sampleKeys(name: string): string[] {
  const sample = JSON.parse(fs.readFileSync(path.resolve(__dirname, `../../fixtures/cards/${name}.json`), 'utf8')) as Record<string, unknown>;
  return Object.keys(sample)
    .filter((k) => !k.startsWith('$'))
    .sort();
}

const job: BulkJob = {
  id: 'job-1',
  tenantId: 't1',
  requestedBy: { id: 'megan', name: 'Megan Bowen' },
  conversationId: null,
  conversationRef: null,
  progressActivityId: null,
  defaultSite: null,
  state: 'running',
  summary: { ...emptyValidationSummary('partners.csv'), rows: 3, valid: 3, toSend: 3 },
  error: null,
  leaseOwner: null,
  leaseUntil: null,
  createdAt: 0,
  startedAt: 0,
  finishedAt: null,
  finishedEventPending: false,
  version: 2,
};

const progress: BulkProgress = {
  jobId: 'job-1',
  state: 'running',
  total: 3,
  done: 1,
  failed: 0,
  cancelled: 0,
  gaveUp: 0,
  remaining: 2,
  ratePerMinute: 0,
  finishedThisRun: 1,
  elapsedMs: 1000,
  secondsLeft: null,
  counts: { ...emptyCounts(), done: 1, pending: 2 },
};

describe('bulk card data matches its template', () => {
  it('bulkSummary', () => {
    expect(Object.keys(bulkSummaryCardData({ ...job, state: 'draft' }, [], null)).sort()).toEqual(sampleKeys('bulkSummary'));
  });

  it('bulkProgress', () => {
    expect(Object.keys(bulkProgressCardData(job, progress, 150)).sort()).toEqual(sampleKeys('bulkProgress'));
  });

  it('bulkDone', () => {
    expect(Object.keys(bulkDoneCardData({ ...job, state: 'completed' }, progress, null, 15)).sort()).toEqual(sampleKeys('bulkDone'));
  });
});
