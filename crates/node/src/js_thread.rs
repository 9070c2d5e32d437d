//! Calls polled on the JS thread end to end: those of providers whose code is JavaScript
//! (TypeScript SDK plugins), each of whose waits — the call into the plugin, its promise — starts
//! and ends on the JS thread, so handing the call to the async runtime would only add wake-ups of
//! parked threads (about four per attempt, ~11 context switches), and each hop through a
//! threadsafe function costs a turn of the event loop; and calls whose work runs on threads of
//! their own (a raw Extism plugin's `call`, a Wasm provider's calls on its instances' threads),
//! which only need to be woken and settled here.
//!
//! Here a call's future is polled on the JS thread only: first inside the binding call, then
//! whenever it is woken. A wake-up inside a callback marked with [`in_callback`] (JS handing the
//! call the outcome it waits for) polls the call right there; one from elsewhere (a timer of
//! the call's timeout or retry backoff, on a runtime thread) queues a poll through one weak
//! threadsafe function per thread. While calls are pending that function is referenced, so Node
//! stays alive for them; the call's promise is settled directly when its future ends.
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::task::{Context, Poll, Wake, Waker};

use napi::bindgen_prelude::{Either, Function, PromiseRaw, ToNapiValue};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Error, Result, Status, check_status, sys};

use crate::inline_poll::Answer;

type Poller = ThreadsafeFunction<JsJob, (), (), Status, false, true>;

/// What the thread's poller does on the JS thread, in the order it was asked.
enum JsJob {
    Poll(Arc<LocalTask>),
    Run(Box<dyn FnOnce(&Env) + Send>),
}
/// Turns a call's value into its JS value, on the JS thread.
type Settle = Box<dyn FnOnce(sys::napi_env) -> Result<sys::napi_value> + Send>;
type Work = Pin<Box<dyn Future<Output = Result<Settle>> + Send>>;

/// A call's promise, settled on the thread that made it.
struct Deferred(sys::napi_deferred);
// SAFETY: a task's deferred is only touched by `poll`, which runs on the task's JS thread.
unsafe impl Send for Deferred {}

#[derive(Default)]
struct TaskState {
    work: Option<Work>,
    deferred: Option<Deferred>,
}

/// A call being polled on the JS thread.
struct LocalTask {
    state: Mutex<TaskState>,
    poller: Arc<Poller>,
}

impl Wake for LocalTask {
    fn wake(self: Arc<Self>) {
        if let Some(env) = CALLBACK_ENV.get()
            && self.is_of_this_thread()
            && poll(&self, env)
        {
            return;
        }
        let poller = self.poller.clone();
        poller.call(JsJob::Poll(self), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

impl LocalTask {
    fn is_of_this_thread(&self) -> bool {
        POLLER.with_borrow(|poller| {
            poller
                .as_ref()
                .is_some_and(|p| Arc::ptr_eq(p, &self.poller))
        })
    }
}

thread_local! {
    static POLLER: RefCell<Option<Arc<Poller>>> = const { RefCell::new(None) };
    /// Set while this module's code runs inside a Node-API callback: JS may be called.
    static CALLBACK_ENV: Cell<Option<sys::napi_env>> = const { Cell::new(None) };
    /// Calls of this thread waiting to be settled.
    static PENDING: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f` as code of a Node-API callback of `env`'s thread (restoring what was before): a call
/// of this module that `f` wakes is polled right there.
pub fn in_callback<R>(env: sys::napi_env, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<sys::napi_env>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CALLBACK_ENV.set(self.0);
        }
    }
    let _restore = Restore(CALLBACK_ENV.replace(Some(env)));
    napi::bindgen_prelude::within_runtime_if_available(f)
}

/// The env of the JS thread, when the caller is a call being polled there (so it may call JS).
pub fn env_here() -> Option<Env> {
    CALLBACK_ENV.get().map(Env::from_raw)
}

/// Polls `task` on its JS thread; `false` if the task is being polled already (a wake-up from
/// inside its own poll), which the caller then queues.
fn poll(task: &Arc<LocalTask>, env: sys::napi_env) -> bool {
    let mut state = match task.state.try_lock() {
        Ok(state) => state,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => return false,
    };
    let Some(work) = state.work.as_mut() else {
        return true;
    };
    let waker = Waker::from(task.clone());
    let ready = in_callback(env, || work.as_mut().poll(&mut Context::from_waker(&waker)));
    if let Poll::Ready(result) = ready {
        finish(state, env, result);
    }
    true
}

/// Settles a finished call's promise.
fn finish(mut state: MutexGuard<'_, TaskState>, env: sys::napi_env, result: Result<Settle>) {
    state.work = None;
    let Some(Deferred(deferred)) = state.deferred.take() else {
        return;
    };
    drop(state);
    // SAFETY: on the JS thread of `env`, inside a callback, with a deferred not yet settled.
    unsafe {
        match result.and_then(|settle| settle(env)) {
            Ok(value) => sys::napi_resolve_deferred(env, deferred, value),
            Err(error) => match Error::to_napi_value(env, error) {
                Ok(value) => sys::napi_reject_deferred(env, deferred, value),
                Err(_) => sys::napi_reject_deferred(env, deferred, ptr::null_mut()),
            },
        };
    }
    let pending = PENDING.get() - 1;
    PENDING.set(pending);
    if pending == 0
        && let Some(poller) = POLLER.with_borrow(Clone::clone)
    {
        // SAFETY: on the poller's JS thread.
        unsafe { sys::napi_unref_threadsafe_function(env, poller.raw()) };
    }
}

/// This thread's poller, made on first use.
fn poller(env: &Env) -> Result<Arc<Poller>> {
    POLLER.with_borrow_mut(|slot| {
        if let Some(poller) = slot {
            return Ok(poller.clone());
        }
        let noop: Function<(), ()> =
            env.create_function_from_closure("modelportPoll", |_| Ok(()))?;
        let poller: Poller = noop
            .build_threadsafe_function::<JsJob>()
            .weak::<true>()
            .build_callback(|ctx| {
                match ctx.value {
                    JsJob::Poll(task) => {
                        if !poll(&task, ctx.env.raw()) {
                            let poller = task.poller.clone();
                            poller.call(JsJob::Poll(task), ThreadsafeFunctionCallMode::NonBlocking);
                        }
                    }
                    JsJob::Run(job) => in_callback(ctx.env.raw(), || job(&ctx.env)),
                }
                Ok(())
            })?;
        let poller = Arc::new(poller);
        *slot = Some(poller.clone());
        Ok(poller)
    })
}

/// Runs jobs on one JS thread, in order with the wake-ups of the calls this module settles
/// there: what a call queues before it ends arrives before its answer.
#[derive(Clone)]
pub struct JsQueue(Arc<Poller>);

impl JsQueue {
    /// The queue of `env`'s thread.
    pub fn of(env: &Env) -> Result<Self> {
        poller(env).map(Self)
    }

    /// Runs `job` on the queue's JS thread (dropped if Node is shutting down).
    pub fn run(&self, job: impl FnOnce(&Env) + Send + 'static) {
        self.0.call(
            JsJob::Run(Box::new(job)),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }
}

/// Like `inline_poll::answer`, but a call that must wait stays on the JS thread.
pub fn answer_here<'env, T, F>(env: &'env Env, work: F) -> Result<Answer<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let task = Arc::new(LocalTask {
        state: Mutex::default(),
        poller: poller(env)?,
    });
    // Held through the first poll: a wake-up during it queues a poll for later.
    let mut state = task.state.lock().unwrap_or_else(|p| p.into_inner());
    let mut work = Box::pin(work);
    let waker = Waker::from(task.clone());
    let first = in_callback(env.raw(), || {
        work.as_mut().poll(&mut Context::from_waker(&waker))
    });
    if let Poll::Ready(value) = first {
        return value.map(Either::A);
    }
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    // SAFETY: on the JS thread, inside the binding call.
    check_status!(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
    state.work = Some(Box::pin(async move {
        let value = work.await?;
        // SAFETY: `Settle` runs on the JS thread of the call.
        Ok(Box::new(move |env| unsafe { T::to_napi_value(env, value) }) as Settle)
    }));
    state.deferred = Some(Deferred(deferred));
    drop(state);
    if PENDING.replace(PENDING.get() + 1) == 0 {
        // SAFETY: on the poller's JS thread.
        check_status!(unsafe { sys::napi_ref_threadsafe_function(env.raw(), task.poller.raw()) })?;
    }
    Ok(Either::B(PromiseRaw::new(env.raw(), promise)))
}
