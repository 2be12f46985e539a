import { ClaimsIdentity, type BotFrameworkAuthentication } from 'botframework-connector';
import { createAdapter } from '../../src/app/auth';
import { testConfig } from '../support/e2e/inProcessApp';

/** The adapter's authentication (a protected field of CloudAdapter). */
function authenticationOf(adapter: ReturnType<typeof createAdapter>): BotFrameworkAuthentication {
  return (adapter as unknown as { botFrameworkAuthentication: BotFrameworkAuthentication }).botFrameworkAuthentication;
}

describe('connector clients', () => {
  it('one client per service URL is reused from turn to turn instead of being built for each', async () => {
    const auth = authenticationOf(createAdapter(testConfig()));
    const anonymous = new ClaimsIdentity([], 'anonymous');
    const first = await auth.createConnectorFactory(anonymous).create('http://127.0.0.1:9/', 'https://api.botframework.com');
    const again = await auth.createConnectorFactory(anonymous).create('http://127.0.0.1:9/', 'https://api.botframework.com');
    const elsewhere = await auth.createConnectorFactory(anonymous).create('http://127.0.0.1:10/', 'https://api.botframework.com');
    expect(again).toBe(first);
    expect(elsewhere).not.toBe(first);
  });

  it('one user token client per app id is reused from turn to turn', async () => {
    const auth = authenticationOf(createAdapter(testConfig()));
    const anonymous = new ClaimsIdentity([], 'anonymous');
    const first = await auth.createUserTokenClient(anonymous);
    const again = await auth.createUserTokenClient(new ClaimsIdentity([], 'anonymous'));
    const otherBot = await auth.createUserTokenClient(new ClaimsIdentity([{ type: 'aud', value: 'another-app-id' }], 'jwt'));
    const otherBotAgain = await auth.createUserTokenClient(new ClaimsIdentity([{ type: 'appid', value: 'another-app-id' }], 'jwt'));
    expect(again).toBe(first);
    expect(otherBot).not.toBe(first);
    expect(otherBotAgain).toBe(otherBot);
  });
});
