/**
 * User-level steps shared by the approvals and bulk end-to-end tests, built on the harness in
 * session.ts / processes.ts (which they only use, never change).
 *
 * Why a second client: one Playground shows exactly one person (its currentUser) and knows only
 * that person's personal chat; a proactive message to anyone else's chat is answered 404, and
 * after a restart (selectUser) the previous Playground's service URL is gone. So, as in Teams
 * where every person has their own client, each extra person gets their own Playground process
 * and browser tab, running at the same time against the same bot.
 */
import type { Page } from 'playwright-core';
import { chatSteps, DEFAULT_WAIT_MS, EDITOR, type ChatSteps } from './chat';
import type { E2eSession } from './session';
import { DEMO_PEOPLE, DEMO_TENANT_ID, type DemoPersonName } from './playgroundConfig';
import { startPlayground, type PlaygroundProcess } from './processes';


/** What a person can do in their own chat window. */
export interface ChatClient extends ChatSteps {
  readonly who: DemoPersonName;
  readonly page: Page;
  screenshot(file: string): Promise<string>;
}

/** Chat steps for a Playground page (the same steps as the session's own). */
export function chatOn(page: Page, who: DemoPersonName): ChatClient {
  return {
    who,
    page,
    ...chatSteps(page),
    screenshot: async (file) => {
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
  };
}

/** The session's own window, as a ChatClient (for `who`, pass the person the session chats as). */
export function sessionClient(session: E2eSession, who: DemoPersonName): ChatClient {
  return chatOn(session.page, who);
}

export interface SecondClient extends ChatClient {
  playground: PlaygroundProcess;
  close(): Promise<void>;
}

/**
 * Opens another person's Teams client: their own Playground against the session's bot, in a new
 * tab of the session's browser. Opening it installs the app for them (the bot welcomes them and
 * stores their chat), just as when they open Teams. Call close() (afterAll) before session.close().
 */
export async function openClientFor(session: E2eSession, who: DemoPersonName): Promise<SecondClient> {
  const playground = await startPlayground(session.bot.url, who);
  let page: Page | undefined;
  try {
    page = await session.page.context().newPage();
    await page.goto(playground.url, { waitUntil: 'load' });
    await page.locator(EDITOR).waitFor({ timeout: 30_000 });
    if (await page.getByText('Log Panel', { exact: true }).isVisible()) await page.locator('[title="Toggle Log Panel"]').click();
  } catch (error) {
    await page?.close().catch(() => undefined);
    await playground.stop();
    throw error;
  }
  const opened = page;
  return {
    ...chatOn(opened, who),
    playground,
    close: async () => {
      await opened.close().catch(() => undefined);
      await playground.stop();
    },
  };
}

/** Saves a PNG of the newest rendered Adaptive Card showing `text` (scrolled into view). */
export async function screenshotCard(client: ChatClient, text: string, file: string): Promise<string> {
  const card = client.page.locator('.ac-adaptiveCard', { has: client.page.getByText(text) }).last();
  await card.waitFor({ state: 'visible', timeout: DEFAULT_WAIT_MS });
  await card.screenshot({ path: file });
  return file;
}

/**
 * Sends a message whose text has line breaks, as a tester does in the Playground: "Mock an
 * Activity" > "Custom activity", the activity JSON typed into its editor, "Send activity".
 * The compose box cannot do it: the Playground builds the message text from the editor's text
 * nodes only, so Shift+Enter line breaks are dropped ("Name,EmailAnn,ann@…" arrives as one line),
 * whereas Teams keeps them (as <p>/<br> in the message).
 */
export async function sendMultilineMessage(client: ChatClient, playground: { port: number }, text: string): Promise<void> {
  const person = DEMO_PEOPLE[client.who];
  const activity = {
    type: 'message',
    channelId: 'msteams',
    serviceUrl: `http://localhost:${playground.port}/_connector`,
    recipient: { id: '28:guest-onboarding-bot', name: 'Guest onboarding' },
    conversation: { id: `a:personal-chat-${person.id.slice(3)}`, conversationType: 'personal', tenantId: DEMO_TENANT_ID },
    from: { id: person.id, name: person.name, aadObjectId: person.aadObjectId },
    text,
    textFormat: 'plain',
  };
  const { page } = client;
  await page.getByText('Mock an Activity', { exact: true }).click();
  await page.getByRole('menuitem', { name: 'Custom activity' }).click();
  const dialog = page.getByRole('dialog');
  const editor = dialog.locator('.monaco-editor');
  await editor.waitFor({ state: 'visible', timeout: DEFAULT_WAIT_MS });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // One insertion (like a paste): typing would trigger the editor's auto-closing of quotes and brackets.
  await page.keyboard.insertText(JSON.stringify(activity));
  await dialog.getByRole('button', { name: 'Send activity' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: DEFAULT_WAIT_MS });
}

/** The facts (FactSet title → value) of the newest rendered card showing `text`, as a person reads them. */
export async function cardFacts(client: ChatClient, text: string): Promise<Record<string, string>> {
  const card = client.page.locator('.ac-adaptiveCard', { has: client.page.getByText(text) }).last();
  await card.waitFor({ state: 'visible', timeout: DEFAULT_WAIT_MS });
  // The Playground's FactSet is a grid of alternating title and value cells.
  const titles = await card.locator('.ac-fact-title').allInnerTexts();
  const values = await card.locator('.ac-fact-value').allInnerTexts();
  const facts: Record<string, string> = {};
  titles.forEach((title, i) => {
    facts[title.trim()] = (values[i] ?? '').trim();
  });
  return facts;
}

/** All the text of the newest rendered card showing `text`. */
export async function cardText(client: ChatClient, text: string): Promise<string> {
  const card = client.page.locator('.ac-adaptiveCard', { has: client.page.getByText(text) }).last();
  await card.waitFor({ state: 'visible', timeout: DEFAULT_WAIT_MS });
  return card.innerText();
}
