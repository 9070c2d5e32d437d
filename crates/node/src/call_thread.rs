//! `CallThread`: one thread per raw Extism plugin that runs its async calls in order.
//!
//! The plugin's calls run one at a time anyway (one instance), so one thread that waits on a
//! channel is all they need; they queue in call order, hold no thread of the async runtime's
//! blocking pool while they wait for the instance, and never run on the libuv thread pool,
//! which Node needs for files and DNS. (Measured against the blocking pool, the round trip costs
//! the same, ~90 µs on a 2-core VM: thread wake-ups, Extism's timer thread included.)
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

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

/// The thread starts with the first job: a plugin only ever called with `callSync` has none.
pub struct CallThread {
    name: &'static str,
    jobs: OnceLock<Sender<Job>>,
}

impl CallThread {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            jobs: OnceLock::new(),
        }
    }

    fn start(&self) -> io::Result<Sender<Job>> {
        let (jobs, queue) = channel::<Job>();
        thread::Builder::new()
            .name(self.name.to_string())
            .spawn(move || {
                // Ends when the `CallThread` is dropped and the queued jobs are done.
                while let Some(job) = next_job(&queue) {
                    // A panic ends that job only (its promise is settled by the deferred's drop).
                    let _ = panic::catch_unwind(AssertUnwindSafe(job));
                }
            })?;
        Ok(jobs)
    }

    /// Queues `job` behind the calls already queued, starting the thread on the first call.
    pub fn run(&self, job: Job) -> io::Result<()> {
        let jobs = match self.jobs.get() {
            Some(jobs) => jobs,
            None => {
                let started = self.start()?;
                self.jobs.get_or_init(|| started)
            }
        };
        jobs.send(job)
            .map_err(|_| io::Error::other("the plugin's call thread has ended"))
    }
}
