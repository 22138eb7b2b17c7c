/** Runs tasks one at a time in arrival order, whatever the number of concurrent updates. */
export class TurnQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** A task after the ones queued so far; its failure does not stop the queue. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** A task every later one depends on (loading the chart): if it fails, they fail with it. */
  gate(fn: () => Promise<void>): void {
    this.tail = this.run(fn);
  }
}
