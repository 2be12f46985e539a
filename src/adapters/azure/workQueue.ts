/**
 * The work queue on Azure Queue storage (rules in src/usecases/ports/workQueue.ts): each named
 * queue is the storage queue `<prefix>-<name>` of the account, created on first use.
 *
 * One transaction per call: send = Put Message, receive = Get Messages (up to 32 at once),
 * extend = Update Message (visibility only, the text is kept), delete = Delete Message.
 * The service keeps the lease rules itself: a received message is invisible for the visibility
 * timeout, its pop receipt changes on every receive and update, and an update or delete with an
 * old pop receipt answers 404 (https://learn.microsoft.com/rest/api/storageservices/delete-message2,
 * .../update-message). Visibility and delays are whole seconds, so they are rounded up here.
 * Messages are sent with a time-to-live of -1 (never expire; API version 2017-07-29 and later,
 * https://learn.microsoft.com/rest/api/storageservices/put-message): a message is never dropped
 * because the work it names waited for a week.
 */
import type { QueueClient } from '@azure/storage-queue';
import { checkReceive, checkSend, type HeldMessage, type QueueMessage, type WorkQueue } from '../../usecases/ports/workQueue';
import type { AzureStorageAccount } from './account';

const QUEUE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

/** The lease was lost: the message is gone, or someone received it since (its receipt changed). */
function leaseLost(e: unknown): boolean {
  const status = (e as { statusCode?: number }).statusCode;
  const code = (e as { code?: string }).code;
  return status === 404 || code === 'PopReceiptMismatch' || code === 'MessageNotFound';
}

export class AzureWorkQueue implements WorkQueue {
  constructor(private readonly account: AzureStorageAccount) {}

  private client(queue: string): Promise<QueueClient> {
    if (!QUEUE_NAME.test(queue)) throw new Error(`bad work queue name ${queue}`);
    return this.account.queue(queue);
  }

  async send(queue: string, body: string, options: { delayMs?: number } = {}): Promise<void> {
    const delayMs = options.delayMs ?? 0;
    checkSend(body, delayMs);
    const client = await this.client(queue);
    await client.sendMessage(body, { visibilityTimeout: seconds(delayMs), messageTimeToLive: -1 });
  }

  async receive(queue: string, max: number, visibilityMs: number): Promise<QueueMessage[]> {
    checkReceive(max, visibilityMs);
    const client = await this.client(queue);
    const response = await client.receiveMessages({ numberOfMessages: max, visibilityTimeout: seconds(visibilityMs) });
    return response.receivedMessageItems.map((m) => ({ id: m.messageId, receipt: m.popReceipt, body: m.messageText, dequeueCount: m.dequeueCount }));
  }

  async extend(queue: string, message: HeldMessage, visibilityMs: number): Promise<string | null> {
    const client = await this.client(queue);
    try {
      const updated = await client.updateMessage(message.id, message.receipt, undefined, seconds(visibilityMs));
      return updated.popReceipt ?? null;
    } catch (e) {
      if (leaseLost(e)) return null;
      throw e;
    }
  }

  async delete(queue: string, message: HeldMessage): Promise<boolean> {
    const client = await this.client(queue);
    try {
      await client.deleteMessage(message.id, message.receipt);
      return true;
    } catch (e) {
      if (leaseLost(e)) return false;
      throw e;
    }
  }
}
