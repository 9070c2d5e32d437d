//! Streamed chat answers: the pull-based stream, body line splitting, and whole answers told
//! as events.
mod chat_stream;
mod lines;
mod synthesized;

pub use chat_stream::{CHANNEL_CAPACITY, ChatStream, ChunkSender};
pub use lines::{LineSplitter, lines_of};
pub use synthesized::events_of;
