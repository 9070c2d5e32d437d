//! `CallThread`: one thread per raw Extism plugin that runs its async calls in order.
//!
//! The plugin's calls run one at a time anyway (one instance), so one thread that waits on a
//! channel is all they need; they queue in call order, hold no thread of the async runtime's
//! blocking pool while they wait for the instance, and never run on the libuv thread pool,
//! which Node needs for files and DNS. (Measured against the blocking pool, the round trip costs
//! the same, ~90 µs on a 2-core VM: thread wake-ups, Extism's timer thread included.)
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{Sender, channel};
use std::thread;

type Job = Box<dyn FnOnce() + Send>;

pub struct CallThread {
    jobs: Sender<Job>,
}

impl CallThread {
    /// Starts the thread; it ends when the `CallThread` is dropped and its queue is done.
    pub fn spawn(name: &str) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                for job in queue {
                    // A panic ends that job only (its promise is settled by the deferred's drop).
                    let _ = panic::catch_unwind(AssertUnwindSafe(job));
                }
            })?;
        Ok(Self { jobs })
    }

    /// Queues `job` behind the calls already queued. The thread outlives every `CallThread`
    /// handle's jobs, so a send fails only if it died, in which case `job` is given back.
    pub fn run(&self, job: Job) -> Result<(), Job> {
        self.jobs.send(job).map_err(|failed| failed.0)
    }
}
