//! Conversions between the facade's JS shapes and the core's types, one concept per file.
pub mod call_options;
pub mod chat_response;
pub mod message;
pub mod options;
pub mod stream_event;
pub mod wasm_options;
