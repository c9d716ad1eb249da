/**
 * A worker thread that answers each request in the order the requests came:
 * the hashing thread (lib/backup/hash_thread.ts) and the sealing thread
 * (lib/age/seal_worker.ts) keep state that runs through a stream, so they
 * take one request at a time, and each reply settles the oldest request.
 */
export class OrderedWorker<Request, Reply> {
  readonly #worker: Worker;
  /** Waiting for replies, oldest first. */
  readonly #waiting: { resolve: (reply: Reply) => void; reject: (e: Error) => void }[] = [];
  /** Set once the worker fails or is closed: later requests fail at once instead of waiting forever. */
  #failure: Error | undefined;

  /**
   * @param url the worker module
   * @param setup posted first, with no reply: what every request needs (shared memory is shared, not copied)
   * @param what names the thread in errors, e.g. "hashing"
   */
  constructor(url: URL, setup: unknown, private readonly what: string) {
    this.#worker = new Worker(url.href, { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<Reply>) =>
      this.#waiting.shift()?.resolve(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`${what} worker failed: ${event.message}`));
    };
    this.#worker.postMessage(setup);
  }

  request(request: Request): Promise<Reply> {
    if (this.#failure) return Promise.reject(this.#failure);
    const reply = new Promise<Reply>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#worker.postMessage(request);
    return reply;
  }

  close(): void {
    this.#worker.terminate();
    this.#fail(new Error(`${this.what} stopped`));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }
}
