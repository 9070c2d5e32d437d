//! `CallThread`: a thread of one Wasm instance that runs its blocking calls in order.
//!
//! An instance runs one call at a time, so one thread that waits on a channel is all its calls
//! need: they queue in call order, hold no thread of the async runtime's blocking pool (whose
//! idle threads sleep on a condition variable), and never run on the libuv thread pool, which
//! Node needs for files and DNS. After each call the thread keeps looking for the next one for
//! a moment before it sleeps (see [`SPIN`]).
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::error::{ErrorCode, ModelportError, Result};

/// One blocking call to run on the thread.
pub type Job = Box<dyn FnOnce() + Send>;

/// How long the thread looks for the next job (yielding its core) before it sleeps: a loop of
/// awaited calls then skips a sleep and a wake-up per call (measured on a 2-core VM: 150 → 35 µs
/// over `callSync` in a debug build; 50 µs of looking caught too few). The cost: up to this much
/// CPU after each call, only while the thread has nothing to do.
const SPIN: Duration = Duration::from_micros(100);

fn next_job(queue: &Receiver<Job>) -> Option<Job> {
    let start = Instant::now();
    loop {
        match queue.try_recv() {
            Ok(job) => return Some(job),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if start.elapsed() < SPIN => thread::yield_now(),
            Err(TryRecvError::Empty) => return queue.recv().ok(),
        }
    }
}

/// The thread starts with the first job: an instance only ever called on the JS thread (raw
/// `callSync`) has none. It ends once the `CallThread` is dropped and its queued jobs are done.
pub struct CallThread {
    jobs: OnceLock<Sender<Job>>,
}

impl Default for CallThread {
    fn default() -> Self {
        Self::new()
    }
}

impl CallThread {
    pub fn new() -> Self {
        Self {
            jobs: OnceLock::new(),
        }
    }

    fn start() -> io::Result<Sender<Job>> {
        let (jobs, queue) = channel::<Job>();
        thread::Builder::new()
            .name("modelport-wasm-call".into())
            .spawn(move || {
                while let Some(job) = next_job(&queue) {
                    // A panic ends that job only (whoever waits for it sees its sender dropped).
                    let _ = panic::catch_unwind(AssertUnwindSafe(job));
                }
            })?;
        Ok(jobs)
    }

    /// Where to queue jobs behind the calls already queued; starts the thread on first use.
    pub fn queue(&self) -> io::Result<Sender<Job>> {
        if let Some(jobs) = self.jobs.get() {
            return Ok(jobs.clone());
        }
        let started = Self::start()?;
        Ok(self.jobs.get_or_init(|| started).clone())
    }
}

/// Runs `f` on the thread behind `queue` (from [`CallThread::queue`]), behind the jobs queued
/// before it: it is queued now, not when the future is first polled. The future answers `f`'s
/// value, or `PLUGIN_ERROR` if the thread could not take the job or `f` panicked.
pub(crate) fn run_on<T: Send + 'static>(
    queue: io::Result<Sender<Job>>,
    f: impl FnOnce() -> T + Send + 'static,
) -> impl Future<Output = Result<T>> + Send + 'static {
    let (answer, output) = oneshot::channel();
    let queued = queue.and_then(|queue| {
        queue
            .send(Box::new(move || {
                let _ = answer.send(f());
            }))
            .map_err(|_| io::Error::other("the plugin's call thread has ended"))
    });
    let failed = || ModelportError::new(ErrorCode::PluginError, "the plugin call's thread failed");
    async move {
        queued.map_err(|err| failed().with_cause(err))?;
        // A job that panicked dropped its sender.
        output.await.map_err(|_| failed())
    }
}
