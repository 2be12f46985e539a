/**
 * What the people in the turn benchmark say, turn by turn: a site owner, a member whose
 * invitation needs an approver, and a guest. Addresses carry a per-round tag, so every
 * invitation is a new one and really reaches the directory.
 */
import { DEMO } from '../src/adapters/demo/demoTenant';

export type TurnKind =
  | 'help'
  | 'signInQuestion'
  | 'invite'
  | 'confirm'
  | 'status'
  | 'approvalInvite'
  | 'approvalConfirm'
  | 'justification'
  | 'guestCode'
  | 'guestSync';

export interface ScriptStep {
  kind: TurnKind;
  text: (tag: string) => string;
  /** Something the reply must contain (checked on the raw JSON the bot sent). */
  expect: RegExp;
}

export interface Persona {
  name: 'owner' | 'member' | 'guest';
  user: { id: string; displayName: string };
  steps: ScriptStep[];
}

export const PERSONAS: Record<Persona['name'], Persona> = {
  /** Megan owns Project Falcon: asks about a partner, invites one, confirms, checks on it. */
  owner: {
    name: 'owner',
    user: DEMO.users.megan,
    steps: [
      { kind: 'signInQuestion', text: () => 'what sign-in will jane@fabrikam.com get?', expect: /jane@fabrikam\.com/ },
      { kind: 'invite', text: (tag) => `invite Guest ${tag} <g-${tag}@fabrikam.com> to Project Falcon`, expect: /Invite this guest\?/ },
      { kind: 'confirm', text: () => 'confirm', expect: /Guest: / },
      { kind: 'status', text: (tag) => `status of g-${tag}@fabrikam.com`, expect: /Invitations for / },
      { kind: 'help', text: () => 'help', expect: /Guest onboarding/ },
    ],
  },
  /** Adele is a member of Project Falcon, not an owner: her invitation goes to an approver. */
  member: {
    name: 'member',
    user: DEMO.users.adele,
    steps: [
      { kind: 'approvalInvite', text: (tag) => `invite Partner ${tag} <p-${tag}@fabrikam.com> to Project Falcon`, expect: /Send this request for approval\?/ },
      { kind: 'approvalConfirm', text: () => 'confirm', expect: /Why does/ },
      { kind: 'justification', text: () => 'They review the launch plan with us this quarter.', expect: /approv/i },
    ],
  },
  /** Jordan is a guest who signs in with one-time passcodes. */
  guest: {
    name: 'guest',
    user: DEMO.users.jordan,
    steps: [
      { kind: 'guestCode', text: () => 'why did I get a code?', expect: /code/i },
      { kind: 'guestSync', text: () => 'how do I sync this library?', expect: /sync/i },
      { kind: 'help', text: () => 'help', expect: /Guest onboarding/ },
    ],
  },
};
