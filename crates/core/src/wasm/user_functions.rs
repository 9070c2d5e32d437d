//! Host functions a raw plugin's user provides (`ExtismPlugin.load(…, { functions })`), the
//! Extism way: by namespace and name, called with the import's values, reaching the plugin
//! through a [`HostCall`] (its memory, vars and error) while they run.
//!
//! The module's imports are read before anything is compiled: a function the module imports
//! from a user namespace that nobody provides, or one whose declared parameters differ from the
//! import's, fails the load naming the import. Their code runs in a [`UserFunctionHost`] (the
//! binding's JavaScript functions); a failure fails the call with its typed error.
use std::sync::Arc;
use std::time::{Duration, Instant};

use extism::{CurrentPlugin, Function, UserData, Val, ValType};
use tokio_util::sync::CancellationToken;
use wasmparser::{Parser, Payload, TypeRef};

use crate::error::{ErrorCode, ModelportError, Result};

/// Namespace of Extism's own functions (the kernel's and the standard host functions).
const EXTISM_ENV: &str = "extism:host/env";
/// Namespaces of WASI imports, which the sandbox's WASI setting serves.
const WASI_NAMESPACES: [&str; 2] = ["wasi_snapshot_preview1", "wasi_unstable"];

/// One host function the user offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFunction {
    pub namespace: String,
    pub name: String,
    /// How many values its code declares it takes, when it declares a fixed number (a
    /// JavaScript function's `length` after the context); `None` = any.
    pub declared_params: Option<usize>,
}

impl UserFunction {
    fn label(&self) -> String {
        format!("{}::{}", self.namespace, self.name)
    }
}

/// Runs the user's host functions.
pub trait UserFunctionHost: Send + Sync {
    /// Runs function `index` (of the list given at load) with `args`; answers one value per
    /// result type of the import (`results`).
    fn call(
        &self,
        index: usize,
        call: &mut HostCall<'_>,
        args: &[Val],
        results: &[ValType],
    ) -> Result<Vec<Val>>;
}

/// The host functions of one raw plugin: what was offered, and who runs them.
#[derive(Clone)]
pub struct UserFunctions {
    pub functions: Vec<UserFunction>,
    pub host: Arc<dyn UserFunctionHost>,
}

/// What the running call of a plugin tells its host functions: which call it is, when it must
/// end, and whether it was cancelled.
#[derive(Default)]
pub struct CallBoard {
    state: std::sync::Mutex<BoardState>,
}

#[derive(Default, Clone)]
struct BoardState {
    call_id: u64,
    cancel: CancellationToken,
    deadline: Option<Instant>,
}

impl CallBoard {
    /// Starts call `call_id`, which may last `timeout` from now.
    pub fn begin(&self, call_id: u64, timeout: Option<Duration>) {
        *self.lock() = BoardState {
            call_id,
            cancel: CancellationToken::new(),
            deadline: timeout.map(|timeout| Instant::now() + timeout),
        };
    }

    /// Stops the waits of call `call_id`'s host functions, if it is the running call.
    pub fn cancel(&self, call_id: u64) {
        let state = self.lock();
        if state.call_id == call_id {
            state.cancel.cancel();
        }
    }

    /// The running call's bounds.
    pub fn limits(&self) -> CallLimits {
        let state = self.lock();
        CallLimits::new(state.cancel.clone(), state.deadline)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BoardState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A host function's access to the plugin that called it, for as long as it runs.
pub struct HostCall<'a> {
    plugin: &'a mut CurrentPlugin,
    call_id: u64,
    function: &'a UserFunction,
    cancel: CancellationToken,
    deadline: Option<Instant>,
}

/// Why a wait of a host function ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEnd {
    Cancelled,
    TimedOut,
}

/// Bounds a host function's wait by its call's cancellation and deadline.
#[derive(Clone)]
pub struct CallLimits {
    cancel: CancellationToken,
    deadline: Option<Instant>,
}

impl CallLimits {
    /// Bounds by `cancel` and `deadline`.
    pub fn new(cancel: CancellationToken, deadline: Option<Instant>) -> Self {
        Self { cancel, deadline }
    }

    /// Runs `work` on `runtime` from this (blocking) thread until it ends, the call is
    /// cancelled or its deadline passes.
    pub fn block_on<T>(
        &self,
        runtime: &tokio::runtime::Handle,
        work: impl std::future::Future<Output = T>,
    ) -> std::result::Result<T, WaitEnd> {
        let deadline = self.deadline;
        runtime.block_on(async {
            let deadline = async {
                match deadline {
                    Some(deadline) => {
                        tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => Err(WaitEnd::Cancelled),
                _ = deadline => Err(WaitEnd::TimedOut),
                result = work => Ok(result),
            }
        })
    }

    /// Waits on `receiver` until it answers, the call is cancelled or its deadline passes. It
    /// looks for the answer for a moment (yielding its core) before it sleeps: a host function
    /// that answers at once then costs no sleep and wake-up of this thread.
    pub fn wait<T>(
        &self,
        receiver: &std::sync::mpsc::Receiver<T>,
    ) -> std::result::Result<T, WaitEnd> {
        // Short slices: the channel has no way to wake on the cancel token.
        const SLICE: Duration = Duration::from_millis(5);
        const SPIN: Duration = Duration::from_micros(100);
        let spin_start = Instant::now();
        while spin_start.elapsed() < SPIN {
            match receiver.try_recv() {
                Ok(value) => return Ok(value),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    return Err(WaitEnd::Cancelled);
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => std::thread::yield_now(),
            }
        }
        loop {
            if self.cancel.is_cancelled() {
                return Err(WaitEnd::Cancelled);
            }
            let slice = match self.deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(WaitEnd::TimedOut);
                    }
                    left.min(SLICE)
                }
                None => SLICE,
            };
            match receiver.recv_timeout(slice) {
                Ok(value) => return Ok(value),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(WaitEnd::Cancelled);
                }
            }
        }
    }
}

impl HostCall<'_> {
    /// The id of the plugin call this host function serves.
    pub fn call_id(&self) -> u64 {
        self.call_id
    }

    /// How the function's waits are bounded.
    pub fn limits(&self) -> CallLimits {
        CallLimits {
            cancel: self.cancel.clone(),
            deadline: self.deadline,
        }
    }

    /// The error a wait that ended early fails the call with.
    pub fn wait_error(&self, end: WaitEnd) -> ModelportError {
        let label = self.function.label();
        match end {
            WaitEnd::Cancelled => {
                ModelportError::aborted(format!("the call was cancelled while {label} ran"))
            }
            WaitEnd::TimedOut => ModelportError::new(
                ErrorCode::PluginTimeout,
                format!("the plugin's timeout passed while host function {label} ran"),
            ),
        }
    }

    /// The bytes of the plugin memory block at `offset`, if one starts there.
    pub fn read(&mut self, offset: u64) -> Option<&[u8]> {
        let handle = self.plugin.memory_handle(offset)?;
        self.plugin.memory_bytes(handle).ok()
    }

    /// The length of the block at `offset` (0 if none starts there).
    pub fn length(&mut self, offset: u64) -> u64 {
        self.plugin.memory_length(offset).unwrap_or(0)
    }

    /// Copies `bytes` into a new block; answers its offset.
    pub fn store(&mut self, bytes: &[u8]) -> Result<u64> {
        let handle = self
            .plugin
            .memory_new(bytes)
            .map_err(|err| memory_error("store", err))?;
        Ok(handle.offset())
    }

    /// A new zeroed block of `length` bytes; answers its offset.
    pub fn alloc(&mut self, length: u64) -> Result<u64> {
        let handle = self
            .plugin
            .memory_alloc(length)
            .map_err(|err| memory_error("alloc", err))?;
        Ok(handle.offset())
    }

    /// The plugin's var `name`.
    pub fn var(&self, name: &str) -> Option<&[u8]> {
        self.plugin.vars().get(name).map(Vec::as_slice)
    }

    /// Sets var `name`, within the plugin's var budget (`max_var_bytes`).
    pub fn set_var(&mut self, name: &str, value: &[u8]) -> Result<()> {
        let budget = self
            .plugin
            .manifest()
            .memory
            .max_var_bytes
            .unwrap_or(1024 * 1024);
        let vars = self.plugin.vars_mut();
        let others: usize = vars
            .iter()
            .filter(|(key, _)| key.as_str() != name)
            .map(|(_, value)| value.len())
            .sum();
        if (others + value.len()) as u64 > budget {
            return Err(ModelportError::new(
                ErrorCode::PluginLimitExceeded,
                format!(
                    "setting var {name} ({} bytes) exceeds the plugin's var budget of {budget} bytes",
                    value.len()
                ),
            ));
        }
        vars.insert(name.to_string(), value.to_vec());
        Ok(())
    }

    /// Removes var `name`.
    pub fn delete_var(&mut self, name: &str) {
        self.plugin.vars_mut().remove(name);
    }

    /// Sets the call's error: when the plugin's function returns, the call fails with it.
    pub fn set_error(&mut self, message: &str) -> Result<()> {
        self.plugin
            .set_error(message)
            .map(|_| ())
            .map_err(|err| memory_error("setError", err))
    }
}

fn memory_error(what: &str, err: extism::Error) -> ModelportError {
    ModelportError::new(
        ErrorCode::PluginOutOfMemory,
        format!("{what}: the plugin's memory has no room"),
    )
    .with_cause(err)
}

/// A function import of the module, with its type (`None` for a type a host function cannot
/// take: a reference or vector).
struct Import {
    namespace: String,
    name: String,
    ty: Option<(Vec<ValType>, Vec<ValType>)>,
}

fn val_type(ty: wasmparser::ValType) -> Option<ValType> {
    Some(match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        _ => return None,
    })
}

/// The module's function imports, with their types (`None` for a type a host function cannot
/// take: a reference or vector).
fn function_imports(
    bytes: &[u8],
) -> std::result::Result<Vec<Import>, wasmparser::BinaryReaderError> {
    let mut types = Vec::new();
    let mut imports = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(section) => {
                for ty in section.into_iter_err_on_gc_types() {
                    let ty = ty?;
                    let convert = |list: &[wasmparser::ValType]| {
                        list.iter()
                            .map(|t| val_type(*t))
                            .collect::<Option<Vec<_>>>()
                    };
                    types.push(convert(ty.params()).zip(convert(ty.results())));
                }
            }
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import?;
                    if let TypeRef::Func(index) = import.ty {
                        let ty = types.get(index as usize).cloned().flatten();
                        imports.push(Import {
                            namespace: import.module.to_string(),
                            name: import.name.to_string(),
                            ty,
                        });
                    }
                }
            }
            Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    Ok(imports)
}

fn describe(params: &[ValType], results: &[ValType]) -> String {
    let list = |types: &[ValType]| {
        types
            .iter()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(params), list(results))
}

/// The host of no functions: nothing calls it, since nothing is linked to it.
struct NoFunctions;

impl UserFunctionHost for NoFunctions {
    fn call(&self, _: usize, _: &mut HostCall<'_>, _: &[Val], _: &[ValType]) -> Result<Vec<Val>> {
        Err(ModelportError::new(
            ErrorCode::HostFunctionError,
            "no host functions were given",
        ))
    }
}

impl UserFunctions {
    /// No host functions: a module importing one fails to load, naming it.
    pub fn none() -> Self {
        Self {
            functions: Vec::new(),
            host: Arc::new(NoFunctions),
        }
    }

    /// Checks the imports of `bytes` (a binary module) against the functions offered and makes
    /// the Extism functions that serve them (those the module does not import are left out). A
    /// module whose imports cannot be read links nothing: compiling it tells what is wrong.
    pub fn link(&self, bytes: &[u8], board: &Arc<CallBoard>) -> Result<Vec<Function>> {
        let Ok(imports) = function_imports(bytes) else {
            return Ok(Vec::new());
        };
        let mut linked = Vec::new();
        for Import {
            namespace,
            name,
            ty,
        } in imports
        {
            if namespace == EXTISM_ENV || WASI_NAMESPACES.contains(&namespace.as_str()) {
                continue;
            }
            let label = format!("{namespace}::{name}");
            let Some(index) = self
                .functions
                .iter()
                .position(|f| f.namespace == namespace && f.name == name)
            else {
                return Err(ModelportError::new(
                    ErrorCode::PluginLoadFailed,
                    format!(
                        "the module imports host function {label}, which no `functions` entry provides"
                    ),
                ));
            };
            let Some((params, results)) = ty else {
                return Err(ModelportError::new(
                    ErrorCode::PluginLoadFailed,
                    format!(
                        "the module's import {label} takes or returns a type host functions cannot (only i32, i64, f32, f64)"
                    ),
                ));
            };
            let function = &self.functions[index];
            if let Some(declared) = function.declared_params
                && declared != params.len()
            {
                return Err(ModelportError::new(
                    ErrorCode::PluginLoadFailed,
                    format!(
                        "host function {label} takes {declared} value(s) after the context, but the module imports it as {}",
                        describe(&params, &results)
                    ),
                ));
            }
            linked.push(self.extism_function(index, params, results, board.clone()));
        }
        Ok(linked)
    }

    fn extism_function(
        &self,
        index: usize,
        params: Vec<ValType>,
        results: Vec<ValType>,
        board: Arc<CallBoard>,
    ) -> Function {
        let function = self.functions[index].clone();
        let host = self.host.clone();
        let result_types = results.clone();
        let serve = move |plugin: &mut CurrentPlugin,
                          inputs: &[Val],
                          outputs: &mut [Val],
                          _: UserData<()>|
              -> std::result::Result<(), extism::Error> {
            let state = board.lock().clone();
            let mut call = HostCall {
                plugin,
                call_id: state.call_id,
                function: &function,
                cancel: state.cancel,
                deadline: state.deadline,
            };
            let values = host
                .call(index, &mut call, inputs, &result_types)
                .map_err(extism::Error::new)?;
            if values.len() != outputs.len() {
                return Err(extism::Error::new(ModelportError::new(
                    ErrorCode::HostFunctionError,
                    format!(
                        "host function {} answered {} value(s) where the module expects {}",
                        function.label(),
                        values.len(),
                        outputs.len()
                    ),
                )));
            }
            for (slot, value) in outputs.iter_mut().zip(values) {
                *slot = value;
            }
            Ok(())
        };
        let function = &self.functions[index];
        Function::new(&function.name, params, results, UserData::new(()), serve)
            .with_namespace(&function.namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bounds are only checked to be reached: these run on loaded 2-core machines.
    const SLACK: Duration = Duration::from_secs(10);

    #[test]
    fn a_wait_ends_with_the_answer_the_cancellation_or_the_deadline() {
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        answer.send(7).unwrap();
        let open = CallLimits::new(CancellationToken::new(), None);
        assert_eq!(open.wait(&answered), Ok(7));

        // An answer that comes after the spin, from another thread.
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            answer.send(8).unwrap();
        });
        assert_eq!(open.wait(&answered), Ok(8));
        late.join().unwrap();

        let cancel = CancellationToken::new();
        let cancelled = CallLimits::new(cancel.clone(), None);
        let (_keep, never) = std::sync::mpsc::sync_channel::<i32>(1);
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            cancel.cancel();
        });
        let start = Instant::now();
        assert_eq!(cancelled.wait(&never), Err(WaitEnd::Cancelled));
        assert!(start.elapsed() < SLACK);
        canceller.join().unwrap();

        let deadline = CallLimits::new(
            CancellationToken::new(),
            Some(Instant::now() + Duration::from_millis(30)),
        );
        assert_eq!(deadline.wait(&never), Err(WaitEnd::TimedOut));

        // A dropped sender (the answering side gone) ends the wait as cancelled.
        let (gone, orphaned) = std::sync::mpsc::sync_channel::<i32>(1);
        drop(gone);
        assert_eq!(open.wait(&orphaned), Err(WaitEnd::Cancelled));
    }

    #[test]
    fn block_on_ends_with_the_work_the_cancellation_or_the_deadline() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let handle = runtime.handle().clone();
        let open = CallLimits::new(CancellationToken::new(), None);
        assert_eq!(open.block_on(&handle, async { 5 }), Ok(5));

        let cancel = CancellationToken::new();
        cancel.cancel();
        let cancelled = CallLimits::new(cancel, None);
        assert_eq!(
            cancelled.block_on(&handle, std::future::pending::<()>()),
            Err(WaitEnd::Cancelled)
        );

        let deadline = CallLimits::new(
            CancellationToken::new(),
            Some(Instant::now() + Duration::from_millis(30)),
        );
        let start = Instant::now();
        assert_eq!(
            deadline.block_on(&handle, std::future::pending::<()>()),
            Err(WaitEnd::TimedOut)
        );
        assert!(start.elapsed() < SLACK);
    }
}
