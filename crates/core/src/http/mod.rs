//! The one HTTP engine every plugin's requests go through.
mod engine;
mod status;

pub use engine::{HttpEngine, HttpOptions};
pub use status::classify_status;
