// `modelport/langchain`: modelport's providers as LangChain.js models (`@langchain/core` is a peer
// dependency, loaded only through this entry point).
export { ChatModelport, type ChatModelportCallOptions, type ChatModelportInput } from './chat-model'
export { ModelportEmbeddings, type ModelportEmbeddingsInput } from './embeddings'
