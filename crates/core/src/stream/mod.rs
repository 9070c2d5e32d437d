//! Streamed chat answers: the pull-based stream and body line splitting (a whole answer told as
//! events is `ChatResponse::into_events`, in the SDK).
mod chat_stream;
mod lines;

pub use chat_stream::{CHANNEL_CAPACITY, ChatStream, ChunkSender};
pub use lines::{LineSplitter, lines_of};
