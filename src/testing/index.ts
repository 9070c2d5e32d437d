/** Test helpers for applications built on modelport: an embedded OpenAI-compatible server. */
export { mockEmbedding, startMockOpenAI } from './mock-openai'
export type {
  MockChatRequest,
  MockOpenAI,
  MockOpenAIOptions,
  MockUpload,
  RecordedRequest,
  WireMessage,
} from './mock-openai'
