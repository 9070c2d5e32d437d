//! The one HTTP engine every plugin's requests go through.
mod address_check;
mod allow_list;
mod engine;
mod redact;
mod status;

pub use allow_list::AllowList;
pub use engine::{HttpEngine, HttpOptions, HttpStream};
pub use redact::redacted_uri;
pub use status::{classify_status, retry_after};
