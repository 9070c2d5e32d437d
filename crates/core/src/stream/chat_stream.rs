//! `ChatStream`: a streamed chat answer, pulled by the consumer in batches.
//!
//! A producer task reads the upstream (HTTP body → plugin parser, or a Wasm plugin's yielded
//! chunks) into a bounded channel: it runs at most [`CHANNEL_CAPACITY`] batches ahead of the
//! consumer, then waits, and the unread HTTP body stays in the socket (TCP flow control reaches
//! the server). Dropping the stream aborts the producer, which closes the HTTP exchange and
//! interrupts a running Wasm call.
//!
//! An answer has exactly one `done`, its last event. Some plugins send more than one (QueryMT's
//! OpenAI parser ends at `finish_reason` and again at `data: [DONE]`, with usage possibly in
//! between): the first `done` is held back, later ones are dropped, and the held one is sent
//! when the producer ends — so usage that follows the finish reason is not lost. A failure after
//! the answer said it was done is logged, not reported: the answer is whole.
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use modelport_plugin::StreamChunk;
use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;

use crate::call::CallScope;
use crate::error::{ErrorCode, ModelportError, Result};

/// Batches of events the producer may hold ready before it waits for the consumer.
pub const CHANNEL_CAPACITY: usize = 16;

type Batch = Result<Vec<StreamChunk>>;

/// The producer's end: sends parsed events, waiting while the consumer is behind.
#[derive(Clone)]
pub struct ChunkSender {
    tx: mpsc::Sender<Batch>,
    delivered: Arc<AtomicBool>,
    /// The answer's first `done`, sent when the producer ends.
    done: Arc<Mutex<Option<StreamChunk>>>,
}

impl ChunkSender {
    /// Sends `events` (nothing if empty) but for `done` events, which are held back (the first)
    /// or dropped (the rest); fails once the consumer has gone.
    pub async fn send(&self, mut events: Vec<StreamChunk>) -> Result<()> {
        if events.iter().any(|e| matches!(e, StreamChunk::Done { .. })) {
            let mut held = self.done.lock().unwrap_or_else(|e| e.into_inner());
            events.retain(|event| {
                if matches!(event, StreamChunk::Done { .. }) {
                    held.get_or_insert_with(|| event.clone());
                    false
                } else {
                    true
                }
            });
        }
        if events.is_empty() {
            return Ok(());
        }
        self.delivered.store(true, Ordering::Relaxed);
        self.tx
            .send(Ok(events))
            .await
            .map_err(|_| ModelportError::aborted("the stream was closed by its consumer"))
    }

    /// Whether any event was sent: after that, a failed attempt cannot be retried.
    pub fn delivered(&self) -> bool {
        self.delivered.load(Ordering::Relaxed)
    }

    /// The held `done`, if the answer sent one.
    fn take_done(&self) -> Option<StreamChunk> {
        self.done.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// A streamed chat answer.
pub struct ChatStream {
    rx: mpsc::Receiver<Batch>,
    scope: CallScope,
    plugin: String,
    /// An error met while gathering a batch, reported after that batch.
    pending_error: Option<ModelportError>,
    saw_done: bool,
    finished: bool,
    _producer: AbortOnDropHandle<()>,
}

impl ChatStream {
    /// Starts `produce` on the runtime under `scope`.
    pub(crate) fn spawn<F, Fut>(plugin: &str, scope: CallScope, produce: F) -> Self
    where
        F: FnOnce(ChunkSender) -> Fut,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let sender = ChunkSender {
            tx: tx.clone(),
            delivered: Arc::new(AtomicBool::new(false)),
            done: Arc::new(Mutex::new(None)),
        };
        let work = produce(sender.clone());
        let producer_scope = scope.clone();
        let name = plugin.to_string();
        let task = tokio::spawn(async move {
            let outcome = producer_scope.run(work).await;
            let last = match (sender.take_done(), outcome) {
                (Some(done), outcome) => {
                    if let Err(err) = outcome {
                        log::debug!("[{name}] the stream failed after its answer was done: {err}");
                    }
                    Ok(vec![done])
                }
                (None, Ok(())) => return,
                (None, Err(err)) => Err(err),
            };
            let _ = tx.send(last).await;
        });
        Self {
            rx,
            scope,
            plugin: plugin.to_string(),
            pending_error: None,
            saw_done: false,
            finished: false,
            _producer: AbortOnDropHandle::new(task),
        }
    }

    /// The next events: waits for at least one, then takes what else is ready, up to about
    /// `max_events`. `None` once the stream has ended with its `done` event.
    pub async fn next_batch(&mut self, max_events: usize) -> Result<Option<Vec<StreamChunk>>> {
        if let Some(err) = self.pending_error.take() {
            self.finished = true;
            return Err(err);
        }
        if self.finished {
            return Ok(None);
        }
        let rx = &mut self.rx;
        let first = match self.scope.run(async move { Ok(rx.recv().await) }).await {
            Ok(first) => first,
            Err(err) => return self.fail(err),
        };
        let mut events = match first {
            None => return self.end(),
            Some(Err(err)) => return self.fail(err),
            Some(Ok(events)) => events,
        };
        while events.len() < max_events {
            match self.rx.try_recv() {
                Ok(Ok(more)) => events.extend(more),
                Ok(Err(err)) => {
                    self.pending_error = Some(err);
                    break;
                }
                Err(_) => break,
            }
        }
        self.saw_done |= events.iter().any(|e| matches!(e, StreamChunk::Done { .. }));
        Ok(Some(events))
    }

    fn fail(&mut self, err: ModelportError) -> Result<Option<Vec<StreamChunk>>> {
        self.finished = true;
        Err(err)
    }

    /// The producer is gone: a clean end only if the answer said it was done.
    fn end(&mut self) -> Result<Option<Vec<StreamChunk>>> {
        self.finished = true;
        if self.saw_done {
            Ok(None)
        } else {
            Err(ModelportError::new(
                ErrorCode::ParseError,
                "the stream ended without a finish (no `done` event): the answer is incomplete",
            )
            .with_plugin(&self.plugin))
        }
    }
}

#[cfg(test)]
mod tests {
    use modelport_plugin::{FinishReason, StreamChunk, Usage};

    use super::*;
    use tokio_util::sync::CancellationToken;

    use crate::call::CallOptions;

    fn done(reason: FinishReason) -> StreamChunk {
        StreamChunk::Done {
            finish_reason: reason,
        }
    }

    async fn read_all(mut stream: ChatStream) -> Result<Vec<StreamChunk>> {
        let mut events = Vec::new();
        while let Some(batch) = stream.next_batch(64).await? {
            events.extend(batch);
        }
        Ok(events)
    }

    fn spawn<F, Fut>(produce: F) -> ChatStream
    where
        F: FnOnce(ChunkSender) -> Fut,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let scope = CallScope::new("p", &CallOptions::default(), &CancellationToken::new());
        ChatStream::spawn("p", scope, produce)
    }

    #[tokio::test]
    async fn the_first_done_ends_the_answer_and_what_came_between_is_kept() {
        let stream = spawn(|sender| async move {
            sender
                .send(vec![
                    StreamChunk::Text("hi".into()),
                    done(FinishReason::ToolCalls),
                ])
                .await?;
            sender
                .send(vec![StreamChunk::Usage(Usage::default())])
                .await?;
            sender.send(vec![done(FinishReason::Stop)]).await
        });
        assert_eq!(
            read_all(stream).await.unwrap(),
            vec![
                StreamChunk::Text("hi".into()),
                StreamChunk::Usage(Usage::default()),
                done(FinishReason::ToolCalls),
            ]
        );
    }

    #[tokio::test]
    async fn a_failure_after_done_leaves_the_answer_whole_and_one_before_it_is_reported() {
        let after = spawn(|sender| async move {
            sender.send(vec![done(FinishReason::Stop)]).await?;
            Err(ModelportError::new(ErrorCode::Transport, "reset"))
        });
        assert_eq!(
            read_all(after).await.unwrap(),
            vec![done(FinishReason::Stop)]
        );
        let before = spawn(|sender| async move {
            sender.send(vec![StreamChunk::Text("a".into())]).await?;
            Err(ModelportError::new(ErrorCode::Transport, "reset"))
        });
        assert_eq!(
            read_all(before).await.unwrap_err().code,
            ErrorCode::Transport
        );
    }
}
