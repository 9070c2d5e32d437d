//! A last word when a native plugin takes the process down.
//!
//! Native plugins run in-process: an `abort()` or a segfault in one ends Node, and nothing can
//! contain that. What the host can do is say so. Once a native plugin is loaded, fatal signals
//! (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) get a handler that first hands the signal to the
//! handler installed before it (wasmtime's and V8's, which turn faults in Wasm code into traps by
//! resuming elsewhere). If that handler did not take the fault — the program counter is where the
//! fault happened — it writes one line to stderr naming the signal and the native plugins loaded,
//! then lets the default action end the process.
//!
//! Linux on x86-64 and aarch64 only (where the program counter can be read from the signal
//! context); elsewhere the process ends as it would without modelport.
use std::path::Path;

/// Adds a loaded native plugin to the report (once per name and path), installing the handlers
/// with the first one.
pub fn register(plugin: &str, path: &Path) {
    imp::register(plugin, path);
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod imp {
    use std::mem::MaybeUninit;
    use std::path::Path;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SIGNALS: [libc::c_int; 5] = [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGABRT,
    ];
    const CAPACITY: usize = 4096;

    /// The tail of the report ("… native plugins loaded: …"), written whole before it is
    /// published through `REPORT_LEN`, so the handler never reads a half-written one.
    static mut REPORT: [u8; CAPACITY] = [0; CAPACITY];
    static REPORT_LEN: AtomicUsize = AtomicUsize::new(0);
    /// The loaded plugins, and whether the handlers are in (writers only; never the handler).
    static STATE: Mutex<(Vec<String>, bool)> = Mutex::new((Vec::new(), false));
    /// The handler each signal had before ours, by signal number.
    static mut PREVIOUS: [MaybeUninit<libc::sigaction>; 32] = [const { MaybeUninit::zeroed() }; 32];

    pub fn register(plugin: &str, path: &Path) {
        let mut state = STATE.lock().unwrap_or_else(|p| p.into_inner());
        let entry = format!("{plugin} ({})", path.display());
        // A plugin loaded again (a new registry, say) is named once.
        if state.0.contains(&entry) {
            return;
        }
        state.0.push(entry);
        let mut text = format!(
            " in a process running native plugins: {}. Native plugins run inside the process and \
             cannot be contained (README: Security model).\n",
            state.0.join(", ")
        );
        if text.len() > CAPACITY {
            text.truncate(CAPACITY - 4);
            text.push_str("…\n");
        }
        REPORT_LEN.store(0, Ordering::SeqCst);
        // SAFETY: writers hold STATE; the handler reads only the first REPORT_LEN bytes, which
        // is 0 while the buffer is rewritten.
        unsafe {
            let report = &mut *std::ptr::addr_of_mut!(REPORT);
            report[..text.len()].copy_from_slice(text.as_bytes());
        }
        REPORT_LEN.store(text.len(), Ordering::SeqCst);
        if !state.1 {
            state.1 = true;
            install();
        }
    }

    fn install() {
        for signal in SIGNALS {
            // SAFETY: plain sigaction calls; PREVIOUS is written before our handler can run
            // (it is installed by this very call, which fills PREVIOUS first).
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                // No SA_NODEFER: the signal stays blocked while the handler runs (see below).
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let previous = (*std::ptr::addr_of_mut!(PREVIOUS))[signal as usize].as_mut_ptr();
                libc::sigaction(signal, &action, previous);
            }
        }
    }

    fn program_counter(context: *mut libc::c_void) -> usize {
        if context.is_null() {
            return 0;
        }
        // SAFETY: the kernel passes a ucontext_t to SA_SIGINFO handlers.
        let context = unsafe { &*(context as *const libc::ucontext_t) };
        #[cfg(target_arch = "x86_64")]
        {
            context.uc_mcontext.gregs[libc::REG_RIP as usize] as usize
        }
        #[cfg(target_arch = "aarch64")]
        {
            context.uc_mcontext.pc as usize
        }
    }

    fn signal_name(signal: libc::c_int) -> &'static [u8] {
        match signal {
            libc::SIGSEGV => b"SIGSEGV (invalid memory access)",
            libc::SIGBUS => b"SIGBUS (bus error)",
            libc::SIGILL => b"SIGILL (illegal instruction)",
            libc::SIGFPE => b"SIGFPE (arithmetic fault)",
            libc::SIGABRT => b"SIGABRT (abort)",
            _ => b"a fatal signal",
        }
    }

    fn write_stderr(bytes: &[u8]) {
        // SAFETY: write(2) is async-signal-safe.
        unsafe {
            libc::write(2, bytes.as_ptr().cast(), bytes.len());
        }
    }

    extern "C" fn handler(
        signal: libc::c_int,
        info: *mut libc::siginfo_t,
        context: *mut libc::c_void,
    ) {
        // SAFETY: PREVIOUS[signal] was filled when this handler was installed.
        let previous = unsafe { (*std::ptr::addr_of!(PREVIOUS))[signal as usize].assume_init() };
        let before = program_counter(context);
        let chained = previous.sa_sigaction;
        if chained != libc::SIG_DFL && chained != libc::SIG_IGN {
            // SAFETY: sigprocmask is async-signal-safe. Block the signal, as the kernel does for
            // a handler without SA_NODEFER, also when another handler (wasmtime's) called this
            // one: a chained handler that gives up by raising the signal again (Node's does)
            // leaves it pending until the report is written. The mask is restored when the
            // kernel's handler frame returns.
            unsafe {
                let mut blocked: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut blocked);
                libc::sigaddset(&mut blocked, signal);
                libc::pthread_sigmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut());
            }
            // SAFETY: calling the handler the process had before, with the same arguments.
            unsafe {
                if previous.sa_flags & libc::SA_SIGINFO != 0 {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                        std::mem::transmute(chained);
                    f(signal, info, context);
                } else {
                    let f: extern "C" fn(libc::c_int) = std::mem::transmute(chained);
                    f(signal);
                }
            }
            // It resumed the program elsewhere (a Wasm trap, say): not a crash.
            if program_counter(context) != before {
                return;
            }
        }
        write_stderr(b"modelport: fatal signal ");
        write_stderr(signal_name(signal));
        let length = REPORT_LEN.load(Ordering::SeqCst).min(CAPACITY);
        // SAFETY: the first `length` bytes were written before `length` was published.
        write_stderr(unsafe { &(&*std::ptr::addr_of!(REPORT))[..length] });
        // The default action ends the process once the handler returns: by the signal raised
        // again (pending until then), or by the faulting instruction running again.
        // SAFETY: async-signal-safe calls.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            if signal == libc::SIGABRT {
                libc::raise(signal);
            }
        }
    }
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod imp {
    pub fn register(_plugin: &str, _path: &std::path::Path) {}
}
