//! A raw plugin's log records into the facade's logger function, `(level, message) => void`:
//! called directly from a call on the JS thread (`callSync`), queued to the JS thread otherwise,
//! on the queue that settles the call (so its records arrive in order, before its answer).
use std::sync::Arc;

use modelport_core::wasm::{LogLevel, LogSink};
use napi::Env;
use napi::bindgen_prelude::{FnArgs, Function, FunctionRef};

use crate::js_thread::{self, JsQueue};

type Args = FnArgs<(String, String)>;
/// `(level, message) => void`.
pub type LoggerArg<'a> = Function<'a, Args, ()>;

pub struct JsLogger {
    logger: Arc<FunctionRef<Args, ()>>,
    queue: JsQueue,
}

impl JsLogger {
    pub fn new(env: &Env, logger: LoggerArg<'_>) -> napi::Result<Self> {
        Ok(Self {
            logger: Arc::new(logger.create_ref()?),
            queue: JsQueue::of(env)?,
        })
    }
}

/// Calls the logger; one that throws loses that record, not the call.
fn deliver(env: &Env, logger: &FunctionRef<Args, ()>, level: LogLevel, message: String) {
    if let Ok(logger) = logger.borrow_back(env) {
        let _ = logger.call(FnArgs::from((level.name().to_string(), message)));
    }
}

impl LogSink for JsLogger {
    fn log(&self, level: LogLevel, message: &str) {
        if let Some(env) = js_thread::env_here() {
            deliver(&env, &self.logger, level, message.to_string());
            return;
        }
        let logger = self.logger.clone();
        let message = message.to_string();
        self.queue
            .run(move |env| deliver(env, &logger, level, message));
    }
}
