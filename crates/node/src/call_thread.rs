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
use std::sync::mpsc::{Sender, channel};
use std::thread;

type Job = Box<dyn FnOnce() + Send>;

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
                for job in queue {
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
