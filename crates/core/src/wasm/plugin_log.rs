//! Extism's logging host functions (`extism:host/env` `log_trace` … `log_error` and
//! `get_log_level`, what every PDK's `log!`/`Host.log` calls) for raw plugins: records at or
//! above the plugin's level go to its [`LogSink`] — the user's logger, or the `log` crate (which
//! `MODELPORT_LOG` sends to stderr). They shadow Extism's own, which write to `tracing`.
use std::sync::Arc;

use extism::{CurrentPlugin, Function, PTR, UserData, Val, ValType};

/// Extism's log levels, in its order (`get_log_level` answers these numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}

impl LogLevel {
    /// `trace`, `debug`, `info`, `warn` or `error`.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }

    /// The level named `name` (as [`Self::name`] gives).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Trace,
            Self::Debug,
            Self::Info,
            Self::Warn,
            Self::Error,
        ]
        .into_iter()
        .find(|level| level.name() == name)
    }

    /// The lowest level the `log` crate lets through (`MODELPORT_LOG`), if any.
    pub fn of_log_crate() -> Option<Self> {
        Some(match log::max_level() {
            log::LevelFilter::Off => return None,
            log::LevelFilter::Error => Self::Error,
            log::LevelFilter::Warn => Self::Warn,
            log::LevelFilter::Info => Self::Info,
            log::LevelFilter::Debug => Self::Debug,
            log::LevelFilter::Trace => Self::Trace,
        })
    }

    fn log_crate_level(self) -> log::Level {
        match self {
            LogLevel::Trace => log::Level::Trace,
            LogLevel::Debug => log::Level::Debug,
            LogLevel::Info => log::Level::Info,
            LogLevel::Warn => log::Level::Warn,
            LogLevel::Error => log::Level::Error,
        }
    }
}

/// Where a plugin's log records go.
pub trait LogSink: Send + Sync {
    fn log(&self, level: LogLevel, message: &str);
}

/// The `log` crate, target `modelport::wasm`.
pub struct LogCrate;

impl LogSink for LogCrate {
    fn log(&self, level: LogLevel, message: &str) {
        log::log!(target: "modelport::wasm", level.log_crate_level(), "{message}");
    }
}

/// A raw plugin's logging: where records go, and the lowest level that goes (`None`: none).
#[derive(Clone)]
pub struct PluginLog {
    pub sink: Arc<dyn LogSink>,
    pub level: Option<LogLevel>,
}

impl Default for PluginLog {
    /// The `log` crate at `MODELPORT_LOG`'s level.
    fn default() -> Self {
        Self {
            sink: Arc::new(LogCrate),
            level: LogLevel::of_log_crate(),
        }
    }
}

impl PluginLog {
    /// Logging into `sink` (or the `log` crate) at the level named `level` (`trace` … `error`,
    /// `silent` for none). Without a name: `MODELPORT_LOG`'s level, or `info` for a given sink.
    pub fn new(sink: Option<Arc<dyn LogSink>>, level: Option<&str>) -> crate::Result<Self> {
        let default = Self::default();
        let level = match level {
            Some("silent") => None,
            Some(name) => Some(LogLevel::from_name(name).ok_or_else(|| {
                crate::ModelportError::new(
                    crate::ErrorCode::ConfigInvalid,
                    format!(
                        "logLevel must be trace, debug, info, warn, error or silent, not {name:?}"
                    ),
                )
            })?),
            None if sink.is_some() => default.level.or(Some(LogLevel::Info)),
            None => default.level,
        };
        Ok(Self {
            sink: sink.unwrap_or(default.sink),
            level,
        })
    }
}

type HostResult = Result<(), extism::Error>;

fn record(
    level: LogLevel,
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    data: &UserData<PluginLog>,
) -> HostResult {
    let offset = inputs[0].unwrap_i64() as u64;
    let Some(handle) = plugin.memory_handle(offset) else {
        return Ok(());
    };
    let settings = data.get()?;
    let settings = settings
        .lock()
        .map_err(|_| extism::Error::msg("log settings poisoned"))?
        .clone();
    if settings.level.is_some_and(|lowest| level >= lowest) {
        let message = String::from_utf8_lossy(plugin.memory_bytes(handle)?).into_owned();
        settings.sink.log(level, &message);
    }
    // Extism's own functions take ownership of the message.
    plugin.memory_free(handle)?;
    Ok(())
}

macro_rules! level_fn {
    ($name:ident, $level:expr) => {
        fn $name(
            plugin: &mut CurrentPlugin,
            inputs: &[Val],
            _: &mut [Val],
            data: UserData<PluginLog>,
        ) -> HostResult {
            record($level, plugin, inputs, &data)
        }
    };
}

level_fn!(log_trace, LogLevel::Trace);
level_fn!(log_debug, LogLevel::Debug);
level_fn!(log_info, LogLevel::Info);
level_fn!(log_warn, LogLevel::Warn);
level_fn!(log_error, LogLevel::Error);

fn get_log_level(
    _: &mut CurrentPlugin,
    _: &[Val],
    outputs: &mut [Val],
    data: UserData<PluginLog>,
) -> HostResult {
    let level = data
        .get()?
        .lock()
        .map_err(|_| extism::Error::msg("log settings poisoned"))?
        .level;
    // Extism's answer when logging is off.
    outputs[0] = Val::I32(level.map_or(i32::MAX, |level| level as i32));
    Ok(())
}

/// The six functions, in `extism:host/env`.
pub fn functions(log: PluginLog) -> Vec<Function> {
    let data = UserData::new(log);
    type Serve = fn(&mut CurrentPlugin, &[Val], &mut [Val], UserData<PluginLog>) -> HostResult;
    let function = |name: &str, params: &[ValType], results: &[ValType], f: Serve| {
        Function::new(name, params.to_vec(), results.to_vec(), data.clone(), f)
            .with_namespace("extism:host/env")
    };
    vec![
        function("log_trace", &[PTR], &[], log_trace),
        function("log_debug", &[PTR], &[], log_debug),
        function("log_info", &[PTR], &[], log_info),
        function("log_warn", &[PTR], &[], log_warn),
        function("log_error", &[PTR], &[], log_error),
        function("get_log_level", &[], &[ValType::I32], get_log_level),
    ]
}
