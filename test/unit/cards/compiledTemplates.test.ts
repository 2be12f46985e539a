import * as ACData from 'adaptivecards-templating';
import { expandCard } from '../../../src/teams/cards';

describe('card templates', () => {
  it('are compiled (their expressions parsed) once, however many cards are expanded from them, and each card gets its own data', () => {
    // Compiling a template parses each of its strings for ${...} expressions.
    const parse = jest.spyOn(ACData.Template, 'parseInterpolatedString');
    const first = expandCard('error', { title: 'First', message: 'One' });
    const compiledOnce = parse.mock.calls.length;
    expect(compiledOnce).toBeGreaterThan(0);
    const second = expandCard('error', { title: 'Second', message: 'Two' });
    expect(parse.mock.calls.length).toBe(compiledOnce);
    expect(JSON.stringify(first)).toContain('One');
    expect(JSON.stringify(second)).toContain('Two');
    expect(JSON.stringify(second)).not.toContain('One');
    parse.mockRestore();
  });
});
