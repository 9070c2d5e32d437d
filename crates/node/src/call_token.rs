//! Abort tokens for provider calls, by number: the facade takes a number before a call, wires
//! its `AbortSignal` to `cancelCall(n)`, passes `n` with the call and ends it with `endCall(n)`.
// Under `cargo test` napi-derive registers nothing, so the exported functions look unused.
#![cfg_attr(test, allow(dead_code))]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex};

use napi_derive::napi;
use tokio_util::sync::CancellationToken;

static NEXT_ID: AtomicU32 = AtomicU32::new(1);
static TOKENS: LazyLock<Mutex<HashMap<u32, CancellationToken>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn tokens() -> std::sync::MutexGuard<'static, HashMap<u32, CancellationToken>> {
    TOKENS.lock().unwrap_or_else(|p| p.into_inner())
}

/// A new abort token; returns its number.
#[napi]
pub fn new_call() -> u32 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    tokens().insert(id, CancellationToken::new());
    id
}

/// Aborts the call holding token `id` (nothing if it has ended).
#[napi]
pub fn cancel_call(id: u32) {
    if let Some(token) = tokens().get(&id) {
        token.cancel();
    }
}

/// Forgets token `id`: its call has ended.
#[napi]
pub fn end_call(id: u32) {
    tokens().remove(&id);
}

/// The token numbered `id`, if it is still live.
pub fn token(id: Option<u32>) -> Option<CancellationToken> {
    id.and_then(|id| tokens().get(&id).cloned())
}
