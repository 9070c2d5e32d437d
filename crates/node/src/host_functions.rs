//! A raw plugin's host functions in JavaScript (the core's `UserFunctionHost`): one dispatch
//! function of the facade runs them, `(callId, index, args) => value | Promise<value>`.
//!
//! A call made on the JS thread (`callSync`, inside `js_thread::in_callback`) calls it inline; a
//! call on the plugin's call thread hands it to the JS thread and waits (bounded by the call's
//! timeout and cancellation) for its value or its promise's. While it runs, the plugin's
//! [`HostCallSlot`] gives the facade's `CallContext` the call's `HostCall`: inline, directly; from
//! the JS thread while the call thread waits, by sending each access to the call thread, which runs
//! it and answers. The plugin's memory is only ever entered from the thread that runs its call:
//! its kernel's functions are Wasm, and wasmtime bounds a Wasm stack by the entering thread's
//! stack, so entering from another thread fails whenever that thread's stack lies below it (a Node
//! worker thread can be anywhere).
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};

use modelport_core::wasm::{HostCall, UserFunctionHost, Val, ValType};
use modelport_core::{ErrorCode, ModelportError, Result};
use napi::bindgen_prelude::{
    Array, CallbackContext, FnArgs, FromNapiValue, Function, FunctionRef, JsValue, PromiseRaw,
    Unknown, i64n,
};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status, ValueType, sys};

use crate::js_thread;

/// `(callId, index, args) => value | Promise<value>`.
pub type DispatchFn = FunctionRef<FnArgs<(f64, u32, Array<'static>)>, Unknown<'static>>;
type Runner = ThreadsafeFunction<HostJob, (), (), Status, false, true>;

/// Work for a call thread waiting on its host function: one access to its `HostCall`.
type Access = Box<dyn for<'call> FnOnce(&mut HostCall<'call>) + Send>;

/// What a call thread waiting on its host function receives.
enum Message {
    /// The function's values (or its failure): the wait ends.
    Answer(Result<Vec<Val>>),
    /// The function's `CallContext` reaching the plugin: run it, keep waiting.
    Access(Access),
}

/// The `HostCall` of the host function running now, for its `CallContext`.
#[derive(Default)]
pub struct HostCallSlot {
    current: Mutex<Option<Lent>>,
}

enum Lent {
    /// The call runs on this (the JS) thread, inside the function.
    Here(*mut HostCall<'static>),
    /// The call's thread waits for the function; accesses are sent to it.
    Waiting(Sender<Message>),
}
// SAFETY: `Here`'s pointer is only dereferenced under the slot's lock, on the thread that lent it,
// which takes it back (under the same lock) before the `HostCall` it points to ends.
unsafe impl Send for Lent {}

fn outside_its_function() -> ModelportError {
    ModelportError::new(
        ErrorCode::Unsupported,
        "this CallContext is used outside its host function (after it returned or its promise settled)",
    )
}

impl HostCallSlot {
    /// Runs `f` with the running call, on the thread that runs the call, or fails if no host
    /// function is running.
    pub fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut HostCall<'_>) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let waiting = {
            let mut current = self.lock();
            match current.as_mut() {
                // SAFETY: see `Lent`: valid while it is in the slot, and the lock is held.
                Some(Lent::Here(call)) => return f(unsafe { &mut **call }),
                Some(Lent::Waiting(sender)) => sender.clone(),
                None => return Err(outside_its_function()),
            }
        };
        // Not under the lock: the call thread takes it to end the function.
        let (reply, answer) = sync_channel(1);
        let access: Access = Box::new(move |call| {
            let _ = reply.send(f(call));
        });
        waiting
            .send(Message::Access(access))
            .map_err(|_| outside_its_function())?;
        // A call thread that stops waiting drops the access unrun, and with it `reply`.
        answer
            .recv()
            .unwrap_or_else(|_| Err(outside_its_function()))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Lent>> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lends `lent` for as long as `f` runs.
    fn lend<R>(&self, lent: Lent, f: impl FnOnce() -> R) -> R {
        struct TakeBack<'a>(&'a HostCallSlot);
        impl Drop for TakeBack<'_> {
            fn drop(&mut self) {
                *self.0.lock() = None;
            }
        }
        *self.lock() = Some(lent);
        let _take_back = TakeBack(self);
        f()
    }
}

/// One host function call handed to the JS thread.
struct HostJob {
    call_id: u64,
    index: usize,
    args: Vec<Val>,
    results: Vec<ValType>,
    reply: Sender<Message>,
}

/// The JavaScript host functions of one plugin.
pub struct JsHostFunctions {
    labels: Vec<String>,
    dispatch: Arc<DispatchFn>,
    runner: Runner,
    slot: Arc<HostCallSlot>,
}

impl JsHostFunctions {
    /// Made on the JS thread, from the facade's dispatch function.
    pub fn new(
        env: &Env,
        labels: Vec<String>,
        dispatch: Function<'_, FnArgs<(f64, u32, Array<'static>)>, Unknown<'static>>,
        slot: Arc<HostCallSlot>,
    ) -> napi::Result<Self> {
        let dispatch = Arc::new(dispatch.create_ref()?);
        let labels_for_jobs = labels.clone();
        let dispatching = dispatch.clone();
        let noop: Function<(), ()> =
            env.create_function_from_closure("modelportHostFunction", |_| Ok(()))?;
        let runner = noop
            .build_threadsafe_function::<HostJob>()
            .weak::<true>()
            .build_callback(move |ctx| {
                let job = ctx.value;
                let label = &labels_for_jobs[job.index];
                match invoke(
                    &ctx.env,
                    &dispatching,
                    label,
                    job.call_id,
                    job.index,
                    &job.args,
                ) {
                    Ok(Answer::Now(value)) => {
                        let _ =
                            job.reply
                                .send(Message::Answer(values_of(value, &job.results, label)));
                    }
                    Ok(Answer::Later(promise)) => await_answer(promise, job, label.clone()),
                    Err(error) => {
                        let _ = job.reply.send(Message::Answer(Err(error)));
                    }
                }
                Ok(())
            })?;
        Ok(Self {
            labels,
            dispatch,
            runner,
            slot,
        })
    }
}

enum Answer<'env> {
    Now(Unknown<'env>),
    Later(PromiseRaw<'env, Unknown<'env>>),
}

fn threw(label: &str, err: napi::Error) -> ModelportError {
    ModelportError::new(
        ErrorCode::HostFunctionError,
        format!("host function {label} threw"),
    )
    .with_cause(err.reason)
}

/// Calls the facade's dispatch on the JS thread.
fn invoke<'env>(
    env: &'env Env,
    dispatch: &DispatchFn,
    label: &str,
    call_id: u64,
    index: usize,
    args: &[Val],
) -> Result<Answer<'env>> {
    let run = || -> napi::Result<Answer<'env>> {
        let mut list = env.create_array(args.len() as u32)?;
        for (i, arg) in args.iter().enumerate() {
            match arg {
                Val::I32(v) => list.set(i as u32, f64::from(*v))?,
                Val::I64(v) => list.set(i as u32, i64n(*v))?,
                Val::F32(bits) => list.set(i as u32, f64::from(f32::from_bits(*bits)))?,
                Val::F64(bits) => list.set(i as u32, f64::from_bits(*bits))?,
                _ => list.set(i as u32, ())?,
            }
        }
        // SAFETY: the array lives in this scope; the 'static only fits the stored function type.
        let list: Array<'static> = unsafe { std::mem::transmute(list) };
        let value: Unknown<'static> =
            dispatch
                .borrow_back(env)?
                .call(FnArgs::from((call_id as f64, index as u32, list)))?;
        let value: Unknown<'env> = value;
        if value.get_type()? == ValueType::Object && value.is_promise()? {
            // SAFETY: a promise, checked above.
            let promise = unsafe { PromiseRaw::from_napi_value(env.raw(), value.raw()) }?;
            return Ok(Answer::Later(promise));
        }
        Ok(Answer::Now(value))
    };
    run().map_err(|err| threw(label, err))
}

/// Sends a promise's outcome to the waiting call when it settles.
fn await_answer(promise: PromiseRaw<'_, Unknown<'_>>, job: HostJob, label: String) {
    let reply = job.reply.clone();
    let unattached = job.reply.clone();
    let unattached_label = label.clone();
    let failed_label = label.clone();
    let results = job.results;
    let attached = promise
        .then(move |ctx: CallbackContext<Unknown>| {
            let _ = job
                .reply
                .send(Message::Answer(values_of(ctx.value, &results, &label)));
            Ok(())
        })
        .and_then(|next| {
            next.catch(move |ctx: CallbackContext<Unknown>| {
                let error = napi::Error::from_unknown_without_coercion(ctx.value);
                let _ = reply.send(Message::Answer(Err(threw(&failed_label, error))));
                Ok(())
            })
        });
    if let Err(err) = attached {
        let _ = unattached.send(Message::Answer(Err(ModelportError::new(
            ErrorCode::HostFunctionError,
            format!("host function {unattached_label} answered a promise that cannot be awaited"),
        )
        .with_cause(err.reason))));
    }
}

/// A JavaScript value as the import's results.
fn values_of(value: Unknown<'_>, results: &[ValType], label: &str) -> Result<Vec<Val>> {
    let wrong = |what: String| {
        ModelportError::new(
            ErrorCode::HostFunctionError,
            format!("host function {label} answered {what}"),
        )
    };
    let Some(ty) = results.first() else {
        return Ok(Vec::new());
    };
    if results.len() > 1 {
        return Err(wrong(format!(
            "for an import with {} results (multi-value host functions are not supported)",
            results.len()
        )));
    }
    let kind = value.get_type().map_err(|e| wrong(e.reason))?;
    let env = value.value().env;
    let raw = value.raw();
    let number = || -> Option<f64> {
        let mut out = 0.0;
        // SAFETY: a number, checked by the callers.
        (unsafe { sys::napi_get_value_double(env, raw, &mut out) } == sys::Status::napi_ok)
            .then_some(out)
    };
    let bigint = || -> Option<i64> {
        let mut out = 0;
        let mut lossless = false;
        // SAFETY: a bigint, checked by the callers.
        (unsafe { sys::napi_get_value_bigint_int64(env, raw, &mut out, &mut lossless) }
            == sys::Status::napi_ok)
            .then_some(out)
    };
    let integer = match kind {
        ValueType::Number => number().filter(|n| n.fract() == 0.0).map(|n| n as i64),
        ValueType::BigInt => bigint(),
        ValueType::Boolean => {
            let mut out = false;
            // SAFETY: a boolean.
            unsafe { sys::napi_get_value_bool(env, raw, &mut out) };
            Some(i64::from(out))
        }
        _ => None,
    };
    let val = match ty {
        ValType::I32 => integer.map(|n| Val::I32(n as i32)),
        ValType::I64 => integer.map(Val::I64),
        ValType::F32 => match kind {
            ValueType::Number => number().map(|n| Val::F32((n as f32).to_bits())),
            _ => None,
        },
        ValType::F64 => match kind {
            ValueType::Number => number().map(|n| Val::F64(n.to_bits())),
            _ => None,
        },
        _ => None,
    };
    val.map(|v| vec![v]).ok_or_else(|| {
        wrong(format!(
            "a {kind:?} where the module expects an {}",
            format!("{ty:?}").to_lowercase()
        ))
    })
}

impl UserFunctionHost for JsHostFunctions {
    fn call(
        &self,
        index: usize,
        call: &mut HostCall<'_>,
        args: &[Val],
        results: &[ValType],
    ) -> Result<Vec<Val>> {
        let label = &self.labels[index];
        // On the JS thread (`callSync`): run it here, synchronously.
        if let Some(env) = js_thread::env_here() {
            let call_id = call.call_id();
            let here = Lent::Here((call as *mut HostCall<'_>).cast::<HostCall<'static>>());
            return self.slot.lend(here, || {
                match invoke(&env, &self.dispatch, label, call_id, index, args)? {
                    Answer::Now(value) => values_of(value, results, label),
                    Answer::Later(promise) => {
                        // Its rejection is not left unhandled.
                        let _ = promise.catch(|_: CallbackContext<Unknown>| Ok(()));
                        Err(ModelportError::new(
                            ErrorCode::Unsupported,
                            format!(
                                "host function {label} answered a promise: async host functions work with call(), not callSync()"
                            ),
                        ))
                    }
                }
            });
        }
        let (reply, messages) = channel();
        let job = HostJob {
            call_id: call.call_id(),
            index,
            args: args.to_vec(),
            results: results.to_vec(),
            reply: reply.clone(),
        };
        self.slot.lend(Lent::Waiting(reply), || {
            match self
                .runner
                .call(job, ThreadsafeFunctionCallMode::NonBlocking)
            {
                Status::Ok => serve_until_answered(call, &messages),
                status => Err(ModelportError::new(
                    ErrorCode::Aborted,
                    format!("host function {label} cannot run: Node is shutting down ({status})"),
                )),
            }
        })
    }
}

/// Waits (on the call's thread) for the host function's answer, running the accesses its
/// `CallContext` sends meanwhile.
fn serve_until_answered(call: &mut HostCall<'_>, messages: &Receiver<Message>) -> Result<Vec<Val>> {
    let limits = call.limits();
    loop {
        match limits.wait(messages) {
            Ok(Message::Answer(values)) => return values,
            Ok(Message::Access(access)) => access(call),
            Err(end) => return Err(call.wait_error(end)),
        }
    }
}
