/**
 * Runs tasks with the same key one after another, in the order they were asked for (tasks with
 * different keys run side by side). An Azure repository uses it so that two writes of one record
 * from this process reach the service in the order they were made; across instances the ETags
 * decide.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
