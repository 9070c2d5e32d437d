//! Calls polled on the JS thread end to end, for providers whose code is JavaScript (TypeScript
//! SDK plugins): each of their waits — the call into the plugin, its promise — starts and ends on
//! the JS thread, so handing the call to the async runtime would only add wake-ups of parked
//! threads (about four per attempt, ~11 context switches). Here a pending call is re-polled on the
//! JS thread whenever it is woken, through one weak threadsafe function per thread (the call's
//! promise keeps Node alive meanwhile). Waits that end elsewhere (a timer of the call's timeout or
//! retry backoff) still work: their wake-up queues a poll here.
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use napi::bindgen_prelude::{Either, Function, JsValue, PromiseRaw, ToNapiValue};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, JsDeferred, Result, Status};

use crate::inline_poll::Answer;

type Poller = ThreadsafeFunction<Arc<LocalTask>, (), (), Status, false, true>;
type Work = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A call being polled on the JS thread.
struct LocalTask {
    work: Mutex<Option<Work>>,
    poller: Arc<Poller>,
}

impl Wake for LocalTask {
    fn wake(self: Arc<Self>) {
        let poller = self.poller.clone();
        poller.call(self, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

thread_local! {
    static POLLER: RefCell<Option<Arc<Poller>>> = const { RefCell::new(None) };
}

/// Polls `task` on the JS thread.
fn poll(task: Arc<LocalTask>) {
    let mut slot = task.work.lock().unwrap_or_else(|p| p.into_inner());
    let Some(work) = slot.as_mut() else { return };
    let waker = Waker::from(task.clone());
    let done = napi::bindgen_prelude::within_runtime_if_available(|| {
        work.as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
    });
    if done {
        *slot = None;
    }
}

/// This thread's poller, made on first use. It is weak: what keeps Node alive while a call is
/// pending is the call's promise (its deferred holds a strong threadsafe function until settled).
fn poller(env: &Env) -> Result<Arc<Poller>> {
    POLLER.with_borrow_mut(|slot| {
        if let Some(poller) = slot {
            return Ok(poller.clone());
        }
        let noop: Function<(), ()> =
            env.create_function_from_closure("modelportPoll", |_| Ok(()))?;
        let poller: Poller = noop
            .build_threadsafe_function::<Arc<LocalTask>>()
            .weak::<true>()
            .build_callback(|ctx| {
                poll(ctx.value);
                Ok(())
            })?;
        let poller = Arc::new(poller);
        *slot = Some(poller.clone());
        Ok(poller)
    })
}

/// Like `inline_poll::answer`, but a call that must wait stays on the JS thread.
pub fn answer_here<'env, T, F>(env: &'env Env, work: F) -> Result<Answer<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let mut work = Box::pin(work);
    let first = napi::bindgen_prelude::within_runtime_if_available(|| {
        work.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    });
    let value = match first {
        Poll::Ready(value) => return value.map(Either::A),
        Poll::Pending => work,
    };
    let (deferred, promise): (JsDeferred<T, _>, _) = env.create_deferred()?;
    let settle = async move {
        match value.await {
            Ok(value) => deferred.resolve(move |_| Ok(value)),
            Err(err) => deferred.reject(err),
        }
    };
    let task = Arc::new(LocalTask {
        work: Mutex::new(Some(Box::pin(settle))),
        poller: poller(env)?,
    });
    // Its first real poll registers the task's waker (the one above had none).
    task.poller
        .call(task.clone(), ThreadsafeFunctionCallMode::NonBlocking);
    Ok(Either::B(PromiseRaw::new(env.raw(), promise.raw())))
}
