import * as ACData from 'adaptivecards-templating';
import { dataKey, expandCard, expandedCardsKept } from '../../../src/teams/cards';

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

describe('expanded cards', () => {
  const data = () => ({ title: 'Same', message: 'Same message', items: [1, 'two', null, true] });

  it('keeps a card from the second time its data is seen, and gives every caller its own copy', () => {
    const expand = jest.spyOn(ACData.Template.prototype, 'expand');
    expandCard('error', { ...data(), title: 'Unique title for this test' });
    expect(expand).toHaveBeenCalledTimes(1);
    const first = expandCard('error', { ...data(), title: 'Unique title for this test' });
    expect(expand).toHaveBeenCalledTimes(2);
    const second = expandCard('error', { ...data(), title: 'Unique title for this test' });
    expect(expand).toHaveBeenCalledTimes(2);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    // A caller changing its card changes nobody else's.
    (first as Record<string, unknown>).body = [];
    (second as Record<string, unknown>).version = 'changed';
    const third = expandCard('error', { ...data(), title: 'Unique title for this test' });
    expect(third).not.toEqual(first);
    expect(third.version).not.toBe('changed');
    expect(JSON.stringify(third)).toContain('Unique title for this test');
    expand.mockRestore();
  });

  it('expands again for other data, and for data that is not plain JSON', () => {
    const expand = jest.spyOn(ACData.Template.prototype, 'expand');
    expandCard('error', { title: 'A', message: 'x' });
    expandCard('error', { title: 'A', message: 'x' });
    let calls = expand.mock.calls.length;
    expect(JSON.stringify(expandCard('error', { title: 'B', message: 'x' }))).toContain('"B"');
    expect(expand.mock.calls.length).toBe(calls + 1);
    calls = expand.mock.calls.length;
    const when = new Date(0);
    expandCard('error', { title: 'A', message: 'x', when });
    expandCard('error', { title: 'A', message: 'x', when });
    expect(expand.mock.calls.length).toBe(calls + 2);
    expand.mockRestore();
  });

  it('tells apart data that JSON would not', () => {
    const sparse = (): unknown[] => {
      const a: unknown[] = [1];
      a[2] = 3;
      return a;
    };
    expect(dataKey({ a: '1' })).not.toBe(dataKey({ a: 1 }));
    expect(dataKey({ a: undefined })).not.toBe(dataKey({}));
    expect(dataKey({ a: null })).not.toBe(dataKey({ a: undefined }));
    expect(dataKey(['a,b'])).not.toBe(dataKey(['a', 'b']));
    expect(dataKey({ 'a:1': 2 })).not.toBe(dataKey({ a: '1:2' }));
    for (const odd of [{ d: new Date(0) }, { n: Number.NaN }, { z: -0 }, { f: () => 1 }, sparse(), { big: 'x'.repeat(5000) }]) {
      expect(dataKey(odd)).toBeNull();
    }
  });

  it('keeps no card for data seen once, and at most 200 cards', () => {
    const before = expandedCardsKept();
    for (let i = 0; i < 150; i++) expandCard('error', { title: `Seen once ${i}`, message: 'm' });
    expect(expandedCardsKept()).toBe(before);
    for (let i = 0; i < 250; i++) for (let twice = 0; twice < 2; twice++) expandCard('error', { title: `Card ${i}`, message: 'm' });
    expect(expandedCardsKept()).toBe(200);
  });
});
