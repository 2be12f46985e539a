/**
 * What a person does in one Agents Playground chat window: type and send, wait for and count
 * text in the conversation, click a card's button. Shared by the session (the first person)
 * and by every further person's own client (flows.ts).
 */
import type { Page } from 'playwright-core';

export const DEFAULT_WAIT_MS = 15_000;
/** The Playground's compose box. */
export const EDITOR = '[data-lexical-editor="true"]';

export interface ChatSteps {
  /** Types `text` in the compose box of the open chat and sends it. */
  sendMessage(text: string): Promise<void>;
  /** Types several lines as one message (Shift+Enter between lines, as a person pasting would get). */
  sendLines(lines: readonly string[]): Promise<void>;
  /** Waits until `text` is visible in the conversation. */
  waitForText(text: string, options?: { timeoutMs?: number; exact?: boolean }): Promise<void>;
  /** How many times `text` is shown in the conversation now. */
  countText(text: string, options?: { exact?: boolean }): Promise<number>;
  /** Waits until `text` is shown at least `count` times (e.g. a second copy of a card). */
  waitForTextCount(text: string, count: number, options?: { timeoutMs?: number; exact?: boolean }): Promise<void>;
  /** Clicks the last visible button titled `title` (the newest card's). */
  clickButton(title: string, options?: { timeoutMs?: number }): Promise<void>;
}

export function chatSteps(page: Page): ChatSteps {
  const conversation = (): ReturnType<Page['locator']> => page.locator('body');
  return {
    sendMessage: async (text) => {
      await page.locator(EDITOR).click();
      await page.keyboard.type(text);
      await page.keyboard.press('Enter');
    },
    sendLines: async (lines) => {
      await page.locator(EDITOR).click();
      // insertText puts a whole line in at once (fast); Shift+Enter is a line break, Enter sends.
      for (const [i, line] of lines.entries()) {
        if (i > 0) await page.keyboard.press('Shift+Enter');
        await page.keyboard.insertText(line);
      }
      await page.keyboard.press('Enter');
    },
    waitForText: async (text, options = {}) => {
      await conversation()
        .getByText(text, { exact: options.exact ?? false })
        .first()
        .waitFor({ state: 'visible', timeout: options.timeoutMs ?? DEFAULT_WAIT_MS });
    },
    countText: async (text, options = {}) =>
      conversation()
        .getByText(text, { exact: options.exact ?? false })
        .count(),
    waitForTextCount: async (text, count, options = {}) => {
      await conversation()
        .getByText(text, { exact: options.exact ?? false })
        .nth(count - 1)
        .waitFor({ state: 'visible', timeout: options.timeoutMs ?? DEFAULT_WAIT_MS });
    },
    clickButton: async (title, options = {}) => {
      const button = page.getByRole('button', { name: title, exact: true }).last();
      await button.waitFor({ state: 'visible', timeout: options.timeoutMs ?? DEFAULT_WAIT_MS });
      await button.click();
    },
  };
}

/** What a person would call a broken card: template syntax or JSON showing instead of text. */
export function expectRenderedCleanly(cardText: string): void {
  expect(cardText).not.toContain('${');
  expect(cardText).not.toMatch(/"type"\s*:/);
  expect(cardText).not.toContain('undefined');
}
