//! Provider calls that finish without waiting, finished on the JS thread.
//!
//! Handing a call to the async runtime and its answer back costs two thread wake-ups (tens of µs
//! on a VM, more than a scripted provider's whole call). So a call's future is polled once on
//! the JS thread first, inside the runtime's context: work that completes without waiting (a
//! native provider answering from memory, a cancelled or invalid call) returns its value
//! directly; a future that has to wait (HTTP, a Wasm call on a blocking thread, a timer) returns
//! `Pending` having only started that wait, and the runtime takes it over as a promise.
//!
//! The first poll runs plugin code on the JS thread up to its first wait. A native plugin that
//! blocks there (sleeps, spins) would block the event loop, as it would block a runtime thread
//! otherwise: in-process native code is trusted code (see the README's security model).
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use napi::bindgen_prelude::{Either, PromiseRaw, ToNapiValue};
use napi::{Env, Result};

/// The value now, or the promise of it.
pub type Answer<'env, T> = Either<T, PromiseRaw<'env, T>>;

/// Polls `work` once on this thread; spawns it on the runtime if it is not done.
pub fn answer<'env, T, F>(env: &'env Env, work: F) -> Result<Answer<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let mut work = Box::pin(work);
    let first = napi::bindgen_prelude::within_runtime_if_available(|| poll_once(work.as_mut()));
    match first {
        Poll::Ready(value) => value.map(Either::A),
        // A waker registered by this poll is replaced: the runtime polls the task as it spawns it.
        Poll::Pending => env.spawn_future(work).map(Either::B),
    }
}

fn poll_once<F: Future>(work: Pin<&mut F>) -> Poll<F::Output> {
    work.poll(&mut Context::from_waker(Waker::noop()))
}
