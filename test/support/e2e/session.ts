/**
 * An end-to-end session: the bot process, the Agents Playground against it, and headless Debian
 * Chromium driving the Playground's chat UI. Helpers speak in user terms (send a message, wait for
 * text, click a card button). Tests must call close() (afterAll) so every child is stopped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { chatSteps, DEFAULT_WAIT_MS } from './chat';
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

/** A button on a rendered Adaptive Card; `url` is set for buttons that open a link. */
export interface CardAction {
  title: string;
  url: string | null;
}

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
  /** Waits for an Adaptive Card showing `text`; returns all the newest such card shows, as rendered. */
  cardText(text: string, options?: { timeoutMs?: number }): Promise<string>;
  /**
   * The actions (buttons) on the newest Adaptive Card showing `text`: their titles, and for a
   * button that opens a link, its address (the Playground shows it as the button's tooltip).
   */
  cardActions(text: string): Promise<CardAction[]>;
  /**
   * Chats as another demo person. The Playground has no user switcher, so this restarts it with
   * that person as the current user (the bot keeps running, with its state) and reloads the page.
   */
  selectUser(name: DemoPersonName): Promise<void>;
  /** Saves a PNG of the page; returns its path. */
  screenshot(file: string): Promise<string>;
  /**
   * Saves a PNG of the conversation only, from the newest message showing `fromText` down to the
   * newest message (or to the one showing `toText`), cropped to the messages: for documentation.
   * The window is made tall enough to show all of it, then restored. Returns the path.
   */
  screenshotConversation(file: string, options: { fromText: string; toText?: string; width?: number }): Promise<string>;
  close(): Promise<void>;
}

/** The little of the browser's DOM that messageRows uses (the project compiles without the DOM library). */
interface PaneNode {
  parentElement: PaneNode | null;
  children: ArrayLike<PaneNode>;
  getBoundingClientRect(): { left: number; top: number; right: number; bottom: number; width: number; height: number };
  querySelectorAll(selector: string): ArrayLike<PaneNode>;
  scrollTop: number;
}
type BrowserWindow = { getComputedStyle(node: PaneNode): { overflowY: string } };

/**
 * The rows of the chat pane from the one holding `start` to the one holding `end` (or the last
 * row): the bounding box of their content, in page coordinates. With `scroll`, the first row is
 * scrolled to the top of the pane first.
 */
async function messageRows(
  start: Locator,
  end: Locator,
  toEnd: boolean,
  scroll = false,
): Promise<{ x: number; y: number; width: number; height: number; above: number }> {
  const endHandle = toEnd ? await end.elementHandle() : null;
  return start.evaluate(
    (startElement, args) => {
      const element = startElement as unknown as PaneNode;
      const endElement = args.endElement as unknown as PaneNode | null;
      const browser = globalThis as unknown as BrowserWindow;
      let pane: PaneNode | null = element.parentElement;
      while (pane && !/(auto|scroll)/.test(browser.getComputedStyle(pane).overflowY)) pane = pane.parentElement;
      if (!pane) throw new Error('the chat pane was not found');
      const rowOf = (node: PaneNode): PaneNode => {
        let row = node;
        while (row.parentElement && row.parentElement !== pane) row = row.parentElement;
        return row;
      };
      const rows = Array.from(pane.children);
      const first = rows.indexOf(rowOf(element));
      const last = endElement ? rows.indexOf(rowOf(endElement)) : rows.length - 1;
      const firstRow = rows[first];
      if (!firstRow || last < first) throw new Error('the messages to capture were not found in the chat pane');
      if (args.scroll) pane.scrollTop += firstRow.getBoundingClientRect().top - pane.getBoundingClientRect().top;
      // A row spans the pane; its content (the bubble or card) is narrower.
      const boxes = rows
        .slice(first, last + 1)
        .flatMap((row) => Array.from(row.querySelectorAll(':scope > * > *')))
        .map((node) => node.getBoundingClientRect())
        .filter((r) => r.width > 0 && r.height > 0);
      const left = Math.min(...boxes.map((r) => r.left));
      const top = Math.min(...boxes.map((r) => r.top));
      const right = Math.max(...boxes.map((r) => r.right));
      const bottom = Math.max(...boxes.map((r) => r.bottom));
      // Where the message before ends, so the margin above does not show a sliver of it.
      const above = rows[first - 1]?.getBoundingClientRect().bottom ?? 0;
      return { x: left, y: top, width: right - left, height: bottom - top, above };
    },
    { endElement: endHandle, scroll },
  );
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
      ...chatSteps(page),
      cardText: async (text, cardOptions = {}) => {
        const card = conversation().locator('.ac-adaptiveCard').filter({ hasText: text }).last();
        await card.waitFor({ state: 'visible', timeout: cardOptions.timeoutMs ?? DEFAULT_WAIT_MS });
        return card.innerText();
      },
      cardActions: async (text) => {
        const card = conversation().locator('.ac-adaptiveCard').filter({ hasText: text }).last();
        const actions: CardAction[] = [];
        for (const button of await card.locator('button').all()) {
          const title = (await button.getAttribute('aria-label')) ?? (await button.innerText()).trim();
          const url = (await button.getAttribute('role')) === 'link' ? await button.getAttribute('title') : null;
          actions.push({ title, url });
        }
        return actions;
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
      screenshotConversation: async (file, shotOptions) => {
        const viewport = page.viewportSize() ?? { width: 1400, height: 900 };
        const start = conversation().getByText(shotOptions.fromText).last();
        await start.waitFor({ state: 'visible', timeout: DEFAULT_WAIT_MS });
        const end = shotOptions.toText ? conversation().getByText(shotOptions.toText).last() : start;
        try {
          if (shotOptions.width) await page.setViewportSize({ width: shotOptions.width, height: viewport.height });
          // The chat scrolls inside its own pane: grow the window until the messages fit in it.
          const needed = await messageRows(start, end, shotOptions.toText !== undefined);
          await page.setViewportSize({ width: shotOptions.width ?? viewport.width, height: viewport.height + Math.ceil(needed.height) });
          const box = await messageRows(start, end, shotOptions.toText !== undefined, true);
          const pad = 12;
          // Card shadows reach a few pixels past their row.
          const top = Math.min(box.y, Math.max(0, box.y - pad, box.above + 6));
          const clip = { x: Math.max(0, box.x - pad), y: top, width: box.width + 2 * pad, height: box.y - top + box.height + pad };
          await page.screenshot({ path: file, clip });
        } finally {
          await page.setViewportSize(viewport);
        }
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
