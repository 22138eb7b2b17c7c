import type { DataSource } from 'typeorm';
import type { Snowflake } from '../common/snowflake';
import { makeCloseConversation, makeRequestHandoff } from './conversation-store';
import type { KnowledgeHolder } from './knowledge-holder';
import type { ModelHolder } from './model-holder';
import { PlatformStore } from '../platform/store';
import { makeLookupOrder } from './platform';
import type { ConversationActivities } from './types';
import { makeUnderstand } from './understand';

export interface ActivityDeps {
  ds: DataSource;
  knowledge: KnowledgeHolder;
  models: ModelHolder;
  ids: Snowflake;
}

export function createActivities({ ds, knowledge, models, ids }: ActivityDeps): ConversationActivities {
  return {
    understand: makeUnderstand(knowledge, models),
    lookupOrder: makeLookupOrder(new PlatformStore(ds)),
    requestHandoff: makeRequestHandoff(ds, ids),
    closeConversation: makeCloseConversation(ds, ids),
  };
}
