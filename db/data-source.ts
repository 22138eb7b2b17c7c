import { DataSource } from 'typeorm';
import { config } from '../common/config';
import { entities } from './entities';
import { Initial1767225600001 } from './migrations/0001-initial';
import { MessageFunctions1767225600002 } from './migrations/0002-message-functions';
import { Platform1767225600003 } from './migrations/0003-platform';
import { ModelRegistry1767225600004 } from './migrations/0004-model-registry';
import { ConversationOwner1767225600005 } from './migrations/0005-conversation-owner';
import { PlatformFacts1767225600006 } from './migrations/0006-platform-facts';
import { Identities1767225600007 } from './migrations/0007-identities';
import { OrderActions1767225600008 } from './migrations/0008-order-actions';
import { OffersEvents1767225600009 } from './migrations/0009-offers-events';
import { RfmTiers1767225600010 } from './migrations/0010-rfm-tiers';
import { Coupons1767225600011 } from './migrations/0011-coupons';
import { ShippingAddress1767225600012 } from './migrations/0012-shipping-address';
import { WorkerStatus1767225600013 } from './migrations/0013-worker-status';

export const migrations = [
  Initial1767225600001,
  MessageFunctions1767225600002,
  Platform1767225600003,
  ModelRegistry1767225600004,
  ConversationOwner1767225600005,
  PlatformFacts1767225600006,
  Identities1767225600007,
  OrderActions1767225600008,
  OffersEvents1767225600009,
  RfmTiers1767225600010,
  Coupons1767225600011,
  ShippingAddress1767225600012,
  WorkerStatus1767225600013,
];

function createDataSource(url = config.databaseUrl): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    synchronize: false,
    logging: false, // errors reach the callers, which decide what to report
    extra: { max: config.dbPoolSize },
  });
}

/** Create the database named in the URL if it does not exist yet (dev and test convenience). */
export async function ensureDatabase(url = config.databaseUrl): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const ds = new DataSource({ type: 'postgres', url: admin.toString() });
  await ds.initialize();
  try {
    const found = await ds.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.length === 0) {
      await ds.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by another process
      });
    }
  } finally {
    await ds.destroy();
  }
}

/** Connect and bring the schema up to date. */
export async function openDatabase(url = config.databaseUrl): Promise<DataSource> {
  await ensureDatabase(url);
  const ds = createDataSource(url);
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}
