import { Client } from 'pg';

/**
 * Push of new conversation messages: one PostgreSQL connection LISTENs on `cs_messages` (notified by a
 * trigger on every insert into `messages`, payload = conversation id) and wakes the SSE streams of that
 * conversation, which then read the new rows. After a lost connection it reconnects and wakes every
 * stream once, so nothing written meanwhile is missed.
 */
export class MessageFeed {
  private client: Client | null = null;
  private readonly subscribers = new Map<string, Set<() => void>>();
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly reconnectMs = 1000,
  ) {}

  async start(): Promise<void> {
    await this.connect().catch(() => this.reconnectLater());
  }

  /** Call `wake` whenever a message is written to the conversation; returns the unsubscribe function. */
  subscribe(conversationId: string, wake: () => void): () => void {
    let set = this.subscribers.get(conversationId);
    if (!set) this.subscribers.set(conversationId, (set = new Set()));
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.subscribers.delete(conversationId);
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl });
    client.on('notification', (n) => {
      for (const wake of this.subscribers.get(n.payload ?? '') ?? []) wake();
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query('LISTEN cs_messages');
    this.client = client;
    for (const set of this.subscribers.values()) for (const wake of set) wake(); // catch up after a reconnect
  }

  private lost(client: Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.stopped) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.connect().catch(() => this.reconnectLater()), this.reconnectMs);
    this.retry.unref();
  }
}
