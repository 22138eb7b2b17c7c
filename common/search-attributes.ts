import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes that make conversations findable in the Temporal Web UI,
// e.g. `CsState = "handoff.queued" AND CsChannel = "phone"`, `CsChartVersion = 3`.
export const CsChannel = defineSearchAttributeKey('CsChannel', SearchAttributeType.KEYWORD);
export const CsUserTier = defineSearchAttributeKey('CsUserTier', SearchAttributeType.KEYWORD);
export const CsState = defineSearchAttributeKey('CsState', SearchAttributeType.KEYWORD);
export const CsLastIntent = defineSearchAttributeKey('CsLastIntent', SearchAttributeType.KEYWORD);
export const CsHandoffStatus = defineSearchAttributeKey('CsHandoffStatus', SearchAttributeType.KEYWORD);
/** The chart registry version the conversation runs on (pinned at its start). */
export const CsChartVersion = defineSearchAttributeKey('CsChartVersion', SearchAttributeType.INT);

export const searchAttributeKeys = [CsChannel, CsUserTier, CsState, CsLastIntent, CsHandoffStatus, CsChartVersion];

const cliTypeName: Partial<Record<SearchAttributeType, string>> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
};

/** `--search-attribute` flags for `temporal server start-dev`. */
export const searchAttributeFlags = searchAttributeKeys.flatMap((k) => ['--search-attribute', `${k.name}=${cliTypeName[k.type]}`]);
