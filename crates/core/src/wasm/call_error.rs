//! Reading Extism/wasmtime failures into `ModelportError` codes.
use crate::error::{ErrorCode, ModelportError};

/// The causes of `err`, outermost first, as text.
fn causes(err: &extism::Error) -> Vec<String> {
    err.chain().map(ToString::to_string).collect()
}

fn trap_of(err: &extism::Error) -> Option<wasmtime::Trap> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<wasmtime::Trap>().copied())
}

/// Extism reports an epoch interrupt (its timeout or a cancel) as the bare message `timeout`.
fn is_interrupt(err: &extism::Error) -> bool {
    matches!(trap_of(err), Some(wasmtime::Trap::Interrupt))
        || err.chain().any(|cause| cause.to_string() == "timeout")
}

fn is_out_of_memory(err: &extism::Error) -> bool {
    err.chain().any(|cause| cause.to_string() == "oom")
}

/// A guest error in QueryMT's form, `{"payload":{"type":…,"message":…}}`, as its typed error.
fn reported_error(err: &extism::Error) -> Option<ModelportError> {
    #[derive(serde::Deserialize)]
    struct Reported {
        payload: modelport_plugin::PluginError,
    }
    let reported: Reported = serde_json::from_str(err.root_cause().to_string().trim()).ok()?;
    let mut error = ModelportError::from_plugin_error("", reported.payload);
    error.plugin = None;
    Some(error)
}

/// A failure while compiling or instantiating a module.
pub(crate) fn load_error(err: extism::Error) -> ModelportError {
    let code = if is_out_of_memory(&err) {
        ErrorCode::PluginOutOfMemory
    } else if trap_of(&err).is_some() {
        ErrorCode::PluginTrapped
    } else {
        ErrorCode::PluginLoadFailed
    };
    let mut error = ModelportError::new(code, "the Wasm module could not be loaded");
    for cause in causes(&err) {
        error = error.with_cause(cause);
    }
    error
}

/// A failure of a module's start-up code (its start function or initializer export), which
/// runs as a call on each new instance.
pub(crate) fn startup_error(err: extism::Error) -> ModelportError {
    call_error(err, "the module's start-up code", false)
}

/// The typed error a host function failed the call with, if one did.
fn host_error(err: &extism::Error) -> Option<ModelportError> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<ModelportError>().cloned())
}

/// A failed call of `function`. `cancelled` says whether the host interrupted it on purpose.
pub(crate) fn call_error(err: extism::Error, function: &str, cancelled: bool) -> ModelportError {
    if let Some(error) = host_error(&err) {
        return error;
    }
    let (code, message) = if is_out_of_memory(&err) {
        (
            ErrorCode::PluginOutOfMemory,
            format!("{function} exceeded the plugin's memory limit"),
        )
    } else if is_interrupt(&err) {
        if cancelled {
            (ErrorCode::Aborted, format!("{function} was cancelled"))
        } else {
            (
                ErrorCode::PluginTimeout,
                format!("{function} exceeded the plugin's timeout"),
            )
        }
    } else {
        match trap_of(&err) {
            Some(trap) => (
                ErrorCode::PluginTrapped,
                format!("{function} trapped: {trap}"),
            ),
            None if err.to_string().starts_with("Function not found") => (
                ErrorCode::Unsupported,
                format!("the plugin exports no function {function}"),
            ),
            None => {
                if let Some(reported) = reported_error(&err) {
                    return reported;
                }
                (ErrorCode::PluginError, format!("{function} failed: {err}"))
            }
        }
    };
    let mut error = ModelportError::new(code, message);
    for cause in causes(&err).into_iter().skip(1) {
        error = error.with_cause(cause);
    }
    error
}

/// Whether the instance that produced `error` must be discarded.
pub(crate) fn poisons_instance(error: &ModelportError) -> bool {
    matches!(
        error.code,
        ErrorCode::PluginTrapped
            | ErrorCode::PluginTimeout
            | ErrorCode::PluginOutOfMemory
            | ErrorCode::Aborted
    )
}
