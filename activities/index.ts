import type { DataSource } from 'typeorm';
import type { Snowflake } from '../common/snowflake';
import { ConversationStore } from '../db/conversation-store';
import { PlatformStore } from '../platform/store';
import { makeLoadChart } from './chart-loader';
import { makeCloseConversation, makeIssueCoupon, makeRecordTurn, makeRequestHandoff } from './conversation-store';
import type { KnowledgeHolder } from './knowledge-holder';
import type { ModelHolder } from './model-holder';
import type { EncoderHolder } from './encoder-holder';
import { makeFindOrders, makeLookupAccount, makeLookupCustomer, makeLookupOrder, makePerformAction, makeVerifyIdentity } from './platform';
import { IdentityStore } from '../db/identity-store';
import { CouponStore } from '../db/coupon-store';
import { config } from '../common/config';
import { makeComputeRfmTiers } from './rfm';
import type { ConversationActivities } from './types';
import { makeUnderstand } from './understand';

export interface ActivityDeps {
  ds: DataSource;
  knowledge: KnowledgeHolder;
  models: ModelHolder;
  encoder: EncoderHolder;
  ids: Snowflake;
}

export function createActivities({ ds, knowledge, models, encoder, ids }: ActivityDeps): ConversationActivities {
  const store = new ConversationStore(ds, ids);
  const platform = new PlatformStore(ds);
  return {
    loadChart: makeLoadChart(ds),
    lookupCustomer: makeLookupCustomer(platform),
    understand: makeUnderstand(knowledge, models, encoder),
    lookupOrder: makeLookupOrder(platform),
    findOrders: makeFindOrders(platform),
    lookupAccount: makeLookupAccount(platform),
    verifyIdentity: makeVerifyIdentity(platform, new IdentityStore(ds), store),
    performAction: makePerformAction(platform),
    issueCoupon: makeIssueCoupon(new CouponStore(ds, config.couponBudgets)),
    requestHandoff: makeRequestHandoff(ds, ids),
    recordTurn: makeRecordTurn(store),
    closeConversation: makeCloseConversation(store),
    computeRfmTiers: makeComputeRfmTiers(platform),
  };
}
