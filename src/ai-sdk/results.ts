// modelport's finish reasons and usage in the AI SDK's (v3) shapes.
import type { LanguageModelV3FinishReason, LanguageModelV3Usage } from '@ai-sdk/provider'

import type { FinishReason, Usage } from '../types'

const UNIFIED: Record<FinishReason, LanguageModelV3FinishReason['unified']> = {
  stop: 'stop',
  length: 'length',
  contentFilter: 'content-filter',
  toolCalls: 'tool-calls',
  error: 'error',
  other: 'other',
  unknown: 'other',
}

/** A finish reason: the AI SDK's unified one, and modelport's as the raw one. */
export function finishReasonOf(reason: FinishReason | null): LanguageModelV3FinishReason {
  return { unified: reason ? UNIFIED[reason] : 'other', raw: reason ?? undefined }
}

/** Usage in v3's nested shape (undefined where the provider told nothing). */
export function usageOf(usage: Usage | null): LanguageModelV3Usage {
  if (!usage)
    return {
      inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: undefined, text: undefined, reasoning: undefined },
    }
  const cacheRead = usage.cacheRead ?? undefined
  const reasoning = usage.reasoningTokens ?? undefined
  return {
    inputTokens: {
      total: usage.inputTokens,
      noCache: cacheRead === undefined ? undefined : usage.inputTokens - cacheRead,
      cacheRead,
      cacheWrite: usage.cacheWrite ?? undefined,
    },
    outputTokens: {
      total: usage.outputTokens,
      text: reasoning === undefined ? undefined : usage.outputTokens - reasoning,
      reasoning,
    },
  }
}
