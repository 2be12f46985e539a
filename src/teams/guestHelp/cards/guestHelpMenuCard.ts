import { expandCard, type AdaptiveCard } from '../../cards';

/** The data of cards/guestHelpMenu.json: each question is a button that asks it. */
export interface GuestHelpMenuCardData {
  title: string;
  intro: string;
  questions: Array<{ title: string; example: string }>;
}

/** The menu, for a guest question none of the topics matched. */
export function guestHelpMenuCard(): AdaptiveCard {
  const data: GuestHelpMenuCardData = {
    title: 'Guest help',
    intro: "I'm not sure what you're asking. Here is what I can answer:",
    questions: [
      { title: 'Why do I get a code?', example: 'why did I get a code?' },
      { title: 'My code expired', example: 'my code expired' },
      { title: 'How do I sync files?', example: 'how do I sync?' },
      { title: 'I lost access', example: 'I lost access' },
      { title: 'What sign-in will someone get?', example: 'what sign-in will they get?' },
    ],
  };
  return expandCard('guestHelpMenu', data);
}
