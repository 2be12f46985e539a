/** "export audit …": the periods people type, and the clear refusals for the ones that cannot be. */
import { parseAuditPeriod, auditPeriodBounds } from '../../../src/usecases/reports/exportPeriod';

const NOW = new Date('2026-12-01T09:00:00.000Z');

describe('the period of an audit export', () => {
  it.each([
    ['from 2026-11-01 to 2026-11-30', '2026-11-01', '2026-11-30'],
    ['2026-11-01 to 2026-11-30', '2026-11-01', '2026-11-30'],
    ['From  2026-11-01   until 2026-11-30', '2026-11-01', '2026-11-30'],
    ['between 2026-11-01 and 2026-11-01', '2026-11-01', '2026-11-01'],
    ['last 30 days', '2026-11-02', '2026-12-01'],
    ['for the past 1 day', '2026-12-01', '2026-12-01'],
    ['', '2026-11-02', '2026-12-01'],
    ['from 2025-12-01 to 2026-12-01', '2025-12-01', '2026-12-01'],
  ])('reads %j as %s .. %s', (text, fromDay, toDay) => {
    expect(parseAuditPeriod(text, NOW)).toEqual({ kind: 'audit', fromDay, toDay });
  });

  it.each([
    ['from 2026-02-30 to 2026-03-01', /start is not a date/],
    ['from 2026-11-01 to 2026-13-01', /end is not a date/],
    ['from 1/11/2026 to 30/11/2026', /start is not a date/],
    ['from 2026-11-30 to 2026-11-01', /ends \(2026-11-01\) before it starts \(2026-11-30\)/],
    ['from 2024-01-01 to 2026-11-30', /at most 366 days/],
    ['last 400 days', /at most 366 days/],
    ['last 0 days', /at least one day/],
    ['from 2027-01-01 to 2027-01-31', /starts after today/],
    ['yesterday please', /didn't understand/],
    ['from **2026-11-01** to [x](https://evil.example)', /not a date/],
  ])('refuses %j with a clear message and an example', (text, message) => {
    const answer = parseAuditPeriod(text, NOW);
    expect(answer).toMatchObject({ kind: 'refused', reason: 'invalidInput' });
    const said = (answer as { message: string }).message;
    expect(said).toMatch(message);
    expect(said).toContain('export audit from 2026-11-01 to 2026-11-30');
    expect(said).not.toContain('evil');
  });

  it('covers whole UTC days, the last one included', () => {
    expect(auditPeriodBounds({ fromDay: '2026-11-01', toDay: '2026-11-30' })).toEqual({
      from: new Date('2026-11-01T00:00:00.000Z'),
      to: new Date('2026-12-01T00:00:00.000Z'),
    });
  });
});
