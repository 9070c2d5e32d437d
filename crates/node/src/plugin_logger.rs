//! A raw plugin's log records into the facade's logger function, `(level, message) => void`:
//! called directly from a call on the JS thread (`callSync`), queued to the JS thread otherwise
//! (records arrive in order, before the call's own answer).
use modelport_core::wasm::{LogLevel, LogSink};
use napi::Status;
use napi::bindgen_prelude::{FnArgs, Function, FunctionRef};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

use crate::js_thread;

type Args = FnArgs<(String, String)>;
/// `(level, message) => void`.
pub type LoggerArg<'a> = Function<'a, Args, ()>;

pub struct JsLogger {
    here: FunctionRef<Args, ()>,
    queued: ThreadsafeFunction<Args, (), Args, Status, false, true>,
}

impl JsLogger {
    pub fn new(logger: LoggerArg<'_>) -> napi::Result<Self> {
        Ok(Self {
            here: logger.create_ref()?,
            queued: logger.build_threadsafe_function().weak::<true>().build()?,
        })
    }
}

impl LogSink for JsLogger {
    fn log(&self, level: LogLevel, message: &str) {
        let args = FnArgs::from((level.name().to_string(), message.to_string()));
        if let Some(env) = js_thread::env_here() {
            // A logger that throws loses that record, not the call.
            if let Ok(logger) = self.here.borrow_back(&env) {
                let _ = logger.call(args);
            }
            return;
        }
        self.queued
            .call(args, ThreadsafeFunctionCallMode::NonBlocking);
    }
}
