import { parseEmail } from '../../../src/domain/email';
import { lookAlikeWarning, type LookAlikeKind } from '../../../src/domain/lookAlike';

function warningFor(address: string) {
  const parsed = parseEmail(address);
  if (!parsed.ok) throw new Error(`${address}: ${parsed.reason}`);
  return lookAlikeWarning(parsed.email);
}

describe('look-alike addresses', () => {
  it.each<[string, LookAlikeKind | null, string, string, string[]]>([
    // address as typed, kind, shown as, ASCII form Entra gets, scripts
    ['jane@gmаil.com', 'mixedScripts', 'jane@gmаil.com', 'jane@xn--gmil-63d.com', ['Latin', 'Cyrillic']],
    ['jane@xn--gmil-63d.com', 'mixedScripts', 'jane@gmаil.com', 'jane@xn--gmil-63d.com', ['Latin', 'Cyrillic']],
    ['jane@GMАIL.COM', 'mixedScripts', 'jane@gmаil.com', 'jane@xn--gmil-63d.com', ['Latin', 'Cyrillic']],
    ['pay@paypal.cοm', 'mixedScripts', 'pay@paypal.cοm', 'pay@paypal.xn--cm-jbc', ['Latin', 'Greek']],
    ['x@аррӏе.com', 'internationalised', 'x@аррӏе.com', 'x@xn--80ak6aa92e.com', ['Cyrillic', 'Latin']],
    ['ivan@пример.рф', 'internationalised', 'ivan@пример.рф', 'ivan@xn--e1afmkfd.xn--p1ai', ['Cyrillic']],
    ['anna@münchen.de', 'internationalised', 'anna@münchen.de', 'anna@xn--mnchen-3ya.de', ['Latin']],
    ['ken@ドメイン名例.jp', 'internationalised', 'ken@ドメイン名例.jp', 'ken@xn--eckwd4c7cu47r2wf.jp', ['Katakana', 'Han', 'Latin']],
    ['ken@abcひらがな.jp', 'internationalised', 'ken@abcひらがな.jp', 'ken@xn--abc-r73b4fvb9j.jp', ['Latin', 'Hiragana']],
    ['kim@한국abc.kr', 'internationalised', 'kim@한국abc.kr', 'kim@xn--abc-lt8lk11n.kr', ['Hangul', 'Latin']],
    ['jane@gmail.com', null, '', '', []],
    ['jane@fabrikam.co.uk', null, '', '', []],
  ])('%s → %s', (address, kind, display, ascii, scripts) => {
    const warning = warningFor(address);
    if (kind === null) {
      expect(warning).toBeNull();
      return;
    }
    expect(warning).toMatchObject({ kind, display, ascii });
    expect(warning?.scripts.sort()).toEqual([...scripts].sort());
    expect(warning?.message).toContain(ascii);
  });

  it('names the scripts that are mixed', () => {
    expect(warningFor('jane@gmаil.com')?.message).toBe(
      '"gmаil" mixes Latin and Cyrillic letters, a common way to imitate another domain. Entra will invite jane@xn--gmil-63d.com.',
    );
  });
});
