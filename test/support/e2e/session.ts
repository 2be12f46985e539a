/**
 * An end-to-end session: the bot process, the Agents Playground against it, and headless Debian
 * Chromium driving the Playground's chat UI. Helpers speak in user terms (send a message, wait for
 * text, click a card button). Tests must call close() (afterAll) so every child is stopped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { DemoPersonName } from './playgroundConfig';
import { startBotProcess, startPlayground, type BotProcess, type PlaygroundProcess } from './processes';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];
const DEFAULT_WAIT_MS = 15_000;

export interface E2eSession {
  bot: BotProcess;
  playground: PlaygroundProcess;
  page: Page;
  /** Types `text` in the compose box of the open chat and sends it. */
  sendMessage(text: string): Promise<void>;
  /** Waits until `text` is visible in the conversation (not the log panel). */
  waitForText(text: string, options?: { timeoutMs?: number; exact?: boolean }): Promise<void>;
  /** How many times `text` is shown in the conversation now. */
  countText(text: string, options?: { exact?: boolean }): Promise<number>;
  /** Waits until `text` is shown at least `count` times (e.g. a second copy of a card). */
  waitForTextCount(text: string, count: number, options?: { timeoutMs?: number; exact?: boolean }): Promise<void>;
  /** Clicks the last button (e.g. an Adaptive Card action) titled `title`. */
  clickButton(title: string, options?: { timeoutMs?: number }): Promise<void>;
  /**
   * Chats as another demo person. The Playground has no user switcher, so this restarts it with
   * that person as the current user (the bot keeps running, with its state) and reloads the page.
   */
  selectUser(name: DemoPersonName): Promise<void>;
  /** Saves a PNG of the page; returns its path. */
  screenshot(file: string): Promise<string>;
  close(): Promise<void>;
}

export async function startE2eSession(
  options: { env?: Record<string, string>; user?: DemoPersonName } = {},
): Promise<E2eSession> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const bot = await startBotProcess({ env: options.env });
    cleanups.push(() => bot.stop());
    let playground = await startPlayground(bot.url, options.user);
    cleanups.push(() => playground.stop());

    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gob-e2e-chromium-'));
    // No fallback and no skip: a browser that cannot start is a failed test.
    const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
    });
    cleanups.push(async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    });
    const page = context.pages()[0] ?? (await context.newPage());

    // The log panel (closed by openChat) echoes what was sent; with it closed the page is the chat.
    const conversation = (): ReturnType<Page['locator']> => page.locator('body');

    const openChat = async (): Promise<void> => {
      await page.goto(playground.url, { waitUntil: 'load' });
      await page.locator('[data-lexical-editor="true"]').waitFor({ timeout: 30_000 });
      const logToggle = page.locator('[title="Toggle Log Panel"]');
      if (await page.getByText('Log Panel', { exact: true }).isVisible()) await logToggle.click();
    };
    await openChat();

    const session: E2eSession = {
      bot,
      get playground() {
        return playground;
      },
      page,
      sendMessage: async (text) => {
        const box = page.locator('[data-lexical-editor="true"]');
        await box.click();
        await page.keyboard.type(text);
        await page.keyboard.press('Enter');
      },
      waitForText: async (text, waitOptions = {}) => {
        await conversation()
          .getByText(text, { exact: waitOptions.exact ?? false })
          .first()
          .waitFor({ state: 'visible', timeout: waitOptions.timeoutMs ?? DEFAULT_WAIT_MS });
      },
      countText: async (text, countOptions = {}) =>
        conversation()
          .getByText(text, { exact: countOptions.exact ?? false })
          .count(),
      waitForTextCount: async (text, count, countOptions = {}) => {
        await conversation()
          .getByText(text, { exact: countOptions.exact ?? false })
          .nth(count - 1)
          .waitFor({ state: 'visible', timeout: countOptions.timeoutMs ?? DEFAULT_WAIT_MS });
      },
      clickButton: async (title, clickOptions = {}) => {
        const button = page.getByRole('button', { name: title, exact: true }).last();
        await button.waitFor({ state: 'visible', timeout: clickOptions.timeoutMs ?? DEFAULT_WAIT_MS });
        await button.click();
      },
      selectUser: async (name) => {
        await playground.stop();
        playground = await startPlayground(bot.url, name);
        cleanups.push(() => playground.stop());
        await openChat();
      },
      screenshot: async (file) => {
        await page.screenshot({ path: file, fullPage: true });
        return file;
      },
      close,
    };
    return session;
  } catch (error) {
    await close();
    throw error;
  }
}
