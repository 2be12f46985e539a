/**
 * The Agents Playground's mock Teams context for tests, built from the demo tenant's people so a
 * test can chat as any of them. Mirrors the committed .m365agentsplayground.yml (used by `npm start`).
 */
export const DEMO_TENANT_ID = 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30';

interface PlaygroundUser {
  id: string;
  name: string;
  userPrincipleName: string;
  aadObjectId: string;
  givenName: string;
  surname: string;
  email: string;
}

function person(id: string, name: string, aadObjectId: string, email: string, upn = email): PlaygroundUser {
  const [givenName = name, surname = ''] = name.split(' ');
  return { id, name, userPrincipleName: upn, aadObjectId, givenName, surname, email };
}

export const DEMO_PEOPLE = {
  'Megan Bowen': person('29:megan-bowen', 'Megan Bowen', '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01', 'megan.bowen@contoso.com'),
  'Adele Vance': person('29:adele-vance', 'Adele Vance', '6f1c2b3a-0002-4c5d-8e9f-0a1b2c3d4e02', 'adele.vance@contoso.com'),
  'Alex Wilber': person('29:alex-wilber', 'Alex Wilber', '6f1c2b3a-0003-4c5d-8e9f-0a1b2c3d4e03', 'alex.wilber@contoso.com'),
  'Jordan Lee': person(
    '29:jordan-lee',
    'Jordan Lee',
    '6f1c2b3a-0004-4c5d-8e9f-0a1b2c3d4e04',
    'jordan.lee@tailspintoys.com',
    'jordan.lee_tailspintoys.com#EXT#@contoso.onmicrosoft.com',
  ),
  'Lee Gu': person(
    '29:lee-gu',
    'Lee Gu',
    '6f1c2b3a-0005-4c5d-8e9f-0a1b2c3d4e05',
    'lee.gu@fabrikam.com',
    'lee.gu_fabrikam.com#EXT#@contoso.onmicrosoft.com',
  ),
  'Sam Outsider': person('29:sam-outsider', 'Sam Outsider', '0b5e1c2d-0000-4000-8000-00000000dead', 'sam@outsider.example'),
} as const;

export type DemoPersonName = keyof typeof DEMO_PEOPLE;

/** A config whose current user is `current`; the schema wants exactly five other users. */
export function playgroundConfig(current: DemoPersonName): Record<string, unknown> {
  const others = (Object.keys(DEMO_PEOPLE) as DemoPersonName[]).filter((n) => n !== current).map((n) => DEMO_PEOPLE[n]);
  return {
    version: '0.1.1',
    tenantId: DEMO_TENANT_ID,
    bot: { id: '28:guest-onboarding-bot', name: 'Guest onboarding' },
    currentUser: DEMO_PEOPLE[current],
    users: others,
    // One personal chat per user, as in Teams: the bot's per-conversation state stays apart.
    personalChat: { id: `a:personal-chat-${DEMO_PEOPLE[current].id.slice(3)}` },
    groupChat: { id: '19:guest-onboarding-group-chat@thread.v2', name: 'Partner onboarding' },
    team: {
      id: '19:project-falcon-general@thread.tacv2',
      name: 'Project Falcon',
      aadGroupId: '7a2e9d41-0001-4b6c-9d8e-1f2a3b4c5d01',
      channels: [{ id: '19:project-falcon-partners@thread.tacv2', name: 'Partners' }],
    },
  };
}
