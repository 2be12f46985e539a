import { type Directory, DirectoryError } from '../../../src/usecases/ports/Directory';
import type { ExternalDomainInfo } from '../../../src/domain/tenant';
import type { SignInAdvice } from '../../../src/domain/signInAdvice';
import { isInvalidEmailAdvice, SignInAdvisor, type InvalidEmailAdvice } from '../../../src/usecases/signIn/signInAdvisor';
import { InvalidEmailError } from '../../../src/domain/email';
import { DEMO, demoDirectory, fixedClock } from '../../support/directory';

const MINUTE = 60_000;

function advice(a: SignInAdvice | InvalidEmailAdvice): SignInAdvice {
  if (isInvalidEmailAdvice(a)) throw new Error(`unexpectedly invalid: ${a.email}: ${a.reason}`);
  return a;
}

/** Wraps a directory so each domain lookup waits until the test releases it. */
function gatedLookups(directory: Directory): { directory: Directory; release: () => void; calls: () => number } {
  let calls = 0;
  const waiting: Array<() => void> = [];
  const gated: Directory = Object.create(directory) as Directory;
  gated.lookupExternalDomain = async (domain: string): Promise<ExternalDomainInfo> => {
    calls++;
    await new Promise<void>((resolve) => waiting.push(resolve));
    return directory.lookupExternalDomain(domain);
  };
  return {
    directory: gated,
    release: () => waiting.splice(0).forEach((r) => r()),
    calls: () => calls,
  };
}

describe('SignInAdvisor', () => {
  it('answers from the demo tenant: Fabrikam is a work account, Gmail is Google, Litware is blocked, Contoso is internal', async () => {
    const advisor = new SignInAdvisor(demoDirectory());
    expect(await advisor.advise('new.person@fabrikam.com')).toMatchObject({ subject: 'newGuest', method: 'workOrSchoolAccount' });
    expect(await advisor.advise('someone@gmail.com')).toMatchObject({ method: 'googleFederation' });
    expect(await advisor.advise('pat@wingtiptoys.com')).toMatchObject({ method: 'samlWsFedFederation' });
    expect(await advisor.advise('chris@litware.com')).toMatchObject({ subject: 'blocked', blockedBy: { setting: 'b2bManagementPolicy.blockList' } });
    expect(await advisor.advise('adele.vance@contoso.com')).toMatchObject({ subject: 'internalUser' });
  });

  it('finds the existing OTP guest Jordan and says a reset is needed now Tailspin Toys has Entra', async () => {
    const advisor = new SignInAdvisor(demoDirectory());
    const a = await advisor.advise('Jordan.Lee@TailspinToys.com');
    expect(a).toMatchObject({
      subject: 'existingGuest',
      method: 'emailOneTimePasscode',
      tenantSignInUrl: `https://myapps.microsoft.com/?tenantid=${DEMO.tenantId}`,
      existing: { userId: DEMO.users.jordan.id, redeemedWith: 'emailOneTimePasscode' },
    });
    expect(a.reasons.join(' ')).toMatch(/until an admin resets/);
  });

  it('throws a typed error for an unusable address, without calling the directory', async () => {
    const directory = demoDirectory();
    const advisor = new SignInAdvisor(directory);
    await expect(advisor.advise('jane doe@fabrikam.com')).rejects.toThrow(InvalidEmailError);
    expect(directory.callCount('readPolicies')).toBe(0);
  });

  it('10,000 addresses over 50 domains do 50 domain lookups and read the policies once', async () => {
    const directory = demoDirectory();
    const advisor = new SignInAdvisor(directory);
    const emails = Array.from({ length: 10_000 }, (_, i) => `person${i}@partner${i % 50}.example`);
    const results = await advisor.adviseMany(emails);
    expect(results).toHaveLength(10_000);
    expect(advice(results[0] as SignInAdvice).email).toBe('person0@partner0.example');
    expect(advice(results[9_999] as SignInAdvice).email).toBe('person9999@partner49.example');
    expect(directory.callCount('lookupExternalDomain')).toBe(50);
    expect(directory.callCount('readPolicies')).toBe(1);
    expect(directory.callCount('findUserByEmail')).toBe(0);
  });

  it('one at a time, 10,000 addresses over 50 domains still do 50 lookups', async () => {
    const directory = demoDirectory();
    const advisor = new SignInAdvisor(directory);
    for (let i = 0; i < 10_000; i++) await advisor.advise(`person${i}@partner${i % 50}.example`);
    expect(directory.callCount('lookupExternalDomain')).toBe(50);
    expect(directory.callCount('readPolicies')).toBe(1);
  });

  it('adviseMany reports unusable addresses in place and advises the rest', async () => {
    const advisor = new SignInAdvisor(demoDirectory());
    const results = await advisor.adviseMany(['jane@fabrikam.com', 'bad,address@x.com', 'jordan.lee@tailspintoys.com']);
    expect(results[0]).toMatchObject({ method: 'workOrSchoolAccount' });
    expect(results[1]).toEqual({ email: 'bad,address@x.com', invalid: true, reason: "the character ',' is not allowed" });
    expect(results[2]).toMatchObject({ subject: 'existingGuest', method: 'emailOneTimePasscode' });
  });

  it('honours the domain TTL with an injected clock', async () => {
    const clock = fixedClock();
    const directory = demoDirectory({ clock });
    const advisor = new SignInAdvisor(directory, { clock, domainTtlMs: 60 * MINUTE, policyTtlMs: 5 * MINUTE });
    await advisor.advise('a@fabrikam.com');
    clock.advance(59 * MINUTE);
    await advisor.advise('b@fabrikam.com');
    expect(directory.callCount('lookupExternalDomain')).toBe(1);
    clock.advance(2 * MINUTE);
    await advisor.advise('c@fabrikam.com');
    expect(directory.callCount('lookupExternalDomain')).toBe(2);
  });

  it('re-reads policies after their shorter TTL, so a changed setting shows', async () => {
    const clock = fixedClock();
    const directory = demoDirectory({ clock });
    const advisor = new SignInAdvisor(directory, { clock, policyTtlMs: 5 * MINUTE });
    expect((await advisor.advise('kim@example.org')).otherwise).toBe('emailOneTimePasscode');
    directory.setPolicies({ emailOtp: 'disabled' });
    clock.advance(4 * MINUTE);
    expect((await advisor.advise('kim@example.org')).otherwise).toBe('emailOneTimePasscode');
    clock.advance(2 * MINUTE);
    expect((await advisor.advise('kim@example.org')).otherwise).toBe('createMicrosoftAccount');
    expect(directory.callCount('readPolicies')).toBe(2);
  });

  it('concurrent calls for one domain share one lookup', async () => {
    const gate = gatedLookups(demoDirectory());
    const advisor = new SignInAdvisor(gate.directory);
    const pending = Promise.all(Array.from({ length: 20 }, (_, i) => advisor.advise(`p${i}@fabrikam.com`)));
    // Let every call reach the lookup before releasing it.
    for (let i = 0; i < 10 && gate.calls() === 0; i++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    gate.release();
    const results = await pending;
    expect(gate.calls()).toBe(1);
    expect(results.every((r) => r.method === 'workOrSchoolAccount')).toBe(true);
  });

  it('a failed domain lookup degrades to "likely" with a reason instead of failing', async () => {
    const directory = demoDirectory();
    directory.failNext('lookupExternalDomain', new DirectoryError('transient', 'Microsoft Graph is unavailable.'));
    const advisor = new SignInAdvisor(directory);
    const a = await advisor.advise('jane@fabrikam.com');
    expect(a.confidence).toBe('likely');
    expect(a.reasons.join(' ')).toMatch(/could not check whether fabrikam\.com belongs to a Microsoft Entra tenant/);
  });

  it('a failed lookup is retried once its short memory has passed', async () => {
    const clock = fixedClock();
    const directory = demoDirectory({ clock });
    directory.failNext('lookupExternalDomain', new DirectoryError('throttled', 'Busy.', { retryAfterMs: 1000 }));
    const advisor = new SignInAdvisor(directory, { clock, failedLookupTtlMs: 30_000 });
    expect((await advisor.advise('jane@fabrikam.com')).confidence).toBe('likely');
    expect((await advisor.advise('john@fabrikam.com')).confidence).toBe('likely');
    expect(directory.callCount('lookupExternalDomain')).toBe(1);
    clock.advance(31_000);
    const retried = await advisor.advise('john@fabrikam.com');
    expect(retried).toMatchObject({ confidence: 'likely', method: 'workOrSchoolAccount' });
    expect(retried.reasons.join(' ')).toMatch(/belongs to the Microsoft Entra tenant/);
    expect(retried.reasons.join(' ')).not.toMatch(/could not check/);
  });

  it('a failed user lookup degrades to "likely" and says what was assumed', async () => {
    const directory = demoDirectory();
    directory.failNext('findUserByEmail', new DirectoryError('transient', 'Microsoft Graph is unavailable.'));
    const a = await new SignInAdvisor(directory).advise('jane@fabrikam.com');
    expect(a).toMatchObject({ confidence: 'likely', method: 'workOrSchoolAccount' });
    expect(a.reasons[0]).toMatch(/could not check whether jane@fabrikam\.com is already in the directory/);
  });

  it('uses the last good policies when a re-read fails, and says so', async () => {
    const clock = fixedClock();
    const directory = demoDirectory({ clock });
    const advisor = new SignInAdvisor(directory, { clock, policyTtlMs: MINUTE });
    await advisor.advise('jane@fabrikam.com');
    clock.advance(2 * MINUTE);
    directory.failNext('readPolicies', new DirectoryError('transient', 'Microsoft Graph is unavailable.'));
    const a = await advisor.advise('jane@fabrikam.com');
    expect(a).toMatchObject({ method: 'workOrSchoolAccount', confidence: 'likely' });
    expect(a.reasons[0]).toMatch(/settings could not be re-read/);
  });

  it('does not look up the domain of an internal or a blocked address', async () => {
    const directory = demoDirectory();
    const advisor = new SignInAdvisor(directory);
    await advisor.advise('megan.bowen@contoso.com');
    await advisor.advise('chris@litware.com');
    expect(directory.callCount('lookupExternalDomain')).toBe(0);
  });
});
