import type { GroupInfo } from '../../../domain/tenant';
import { expandCard, type AdaptiveCard } from '../../cards';

/** Up to this many sites get a button each; more get a drop-down (Teams shows few buttons per card). */
const MAX_SITE_BUTTONS = 5;

interface SiteRow {
  /** 1-based, as typed answers may use it. */
  number: string;
  name: string;
  /** The group id the card sends back. */
  id: string;
}

/** The data of cards/siteQuestion.json. */
export interface SiteQuestionCardData {
  sites: SiteRow[];
  /** The same rows as buttons, when there are few enough; empty when the list is used. */
  buttons: SiteRow[];
  useList: boolean;
}

/** "Which site?": a card, not text (plain-text line breaks are lost in some clients). Site names are data only. */
export function siteQuestionCard(sites: readonly GroupInfo[]): AdaptiveCard {
  const rows = sites.map((s, i) => ({ number: String(i + 1), name: s.displayName, id: s.id }));
  const useList = rows.length > MAX_SITE_BUTTONS;
  const data: SiteQuestionCardData = { sites: rows, buttons: useList ? [] : rows, useList };
  return expandCard('siteQuestion', data);
}
