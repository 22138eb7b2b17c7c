import type { DataSource } from 'typeorm';
import type { Snowflake } from '../common/snowflake';
import { makeCloseConversation, makeRequestHandoff } from './conversation-store';
import type { KnowledgeHolder } from './knowledge-holder';
import type { ConversationActivities } from './types';
import { makeUnderstand } from './understand';

export interface ActivityDeps {
  ds: DataSource;
  knowledge: KnowledgeHolder;
  ids: Snowflake;
}

export function createActivities({ ds, knowledge, ids }: ActivityDeps): ConversationActivities {
  return {
    understand: makeUnderstand(knowledge),
    requestHandoff: makeRequestHandoff(ds, ids),
    closeConversation: makeCloseConversation(ds, ids),
  };
}
