//! The one HTTP engine every plugin's requests go through.
mod allow_list;
mod engine;
mod status;

pub use allow_list::{AllowList, host_of};
pub use engine::{HttpEngine, HttpOptions, HttpStream};
pub use status::{classify_status, retry_after};
