//! A QueryMT v2 plugin's stream parser: its state lives in one guest instance, so every call of
//! one stream goes to the same (pinned) instance.
use modelport_plugin::StreamChunk;
use serde::{Deserialize, Serialize};

use super::pool::Lease;
use super::provider::WasmProvider;
use crate::error::{ErrorCode, ModelportError, Result};

/// The most bytes of lines one `chat_stream_parser_parse` call is given (a longer line goes
/// alone): a read's worth of events per Wasm call, without building large guest inputs.
const BATCH_BYTES: usize = 64 * 1024;

/// `lines` (complete lines, each with its `\n`) cut into runs of whole lines of at most `max`
/// bytes each (a longer line is a run of its own). QueryMT's host feeds its parser one line per
/// call; its parsers (`parse_chunk`) go through every line of what they are given, and so do
/// this repo's fixtures: a run of lines per call gives the same events for a fraction of the
/// calls.
fn line_batches(lines: &[u8], max: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = lines;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = 0;
        for line in crate::stream::lines_of(rest) {
            if end > 0 && end + line.len() > max {
                break;
            }
            end += line.len();
        }
        let (batch, after) = rest.split_at(end);
        rest = after;
        Some(batch)
    })
}

/// What `chat_stream_parser_parse` receives: whole lines, serialized straight from their bytes.
#[derive(Serialize)]
struct ChunkInput<'a> {
    parser_id: i64,
    chunk: &'a [u8],
}

/// One element of what `chat_stream_parser_parse` / `_finish` return (QueryMT's
/// `ExtismChatChunk`). `usage` repeats the numbers of a usage chunk: the chunk is the event.
#[derive(Deserialize)]
struct ParsedItem {
    chunk: StreamChunk,
}

/// A parser started in a pinned instance. Unless it is finished cleanly, its instance is
/// discarded when it drops (the guest would otherwise keep the parser's state).
pub(crate) struct GuestStreamParser {
    lease: Option<Lease>,
    id: i64,
    closed: bool,
}

fn unexpected(
    provider: &WasmProvider,
    function: &str,
    err: impl std::fmt::Display,
) -> ModelportError {
    ModelportError::new(
        ErrorCode::ParseError,
        format!("{function} returned unexpected output: {err}"),
    )
    .with_plugin(&provider.host().plugin)
}

fn events_of(
    provider: &WasmProvider,
    function: &str,
    output: &[u8],
    events: &mut Vec<StreamChunk>,
) -> Result<()> {
    if output.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let items: Vec<ParsedItem> =
        serde_json::from_slice(output).map_err(|err| unexpected(provider, function, err))?;
    events.extend(items.into_iter().map(|item| item.chunk));
    Ok(())
}

impl GuestStreamParser {
    /// Leases an instance and starts a parser in it (`chat_stream_parser_start(cfg)`).
    pub(crate) async fn start(provider: &WasmProvider) -> Result<Self> {
        let lease = provider.pool().lease().await?;
        let cfg = serde_json::to_vec(provider.cfg())
            .map_err(|err| ModelportError::new(ErrorCode::InvalidRequest, err.to_string()))?;
        let (lease, output) = provider
            .on_instance(lease, move |lease, cancel| {
                lease.call("chat_stream_parser_start", &cfg, cancel)
            })
            .await?;
        let mut parser = Self {
            lease: Some(lease),
            id: 0,
            closed: false,
        };
        let output = output?;
        let text = String::from_utf8_lossy(&output);
        parser.id = text
            .trim()
            .parse()
            .map_err(|err| unexpected(provider, "chat_stream_parser_start", err))?;
        Ok(parser)
    }

    fn take_lease(&mut self) -> Result<Lease> {
        self.lease
            .take()
            .ok_or_else(|| ModelportError::aborted("the stream parser's instance is gone"))
    }

    /// Feeds `lines` to `chat_stream_parser_parse` in batches of whole lines (see
    /// [`line_batches`]), all on the instance's thread in one hand-off; returns their events.
    pub(crate) async fn parse(
        &mut self,
        provider: &WasmProvider,
        lines: &[u8],
    ) -> Result<Vec<StreamChunk>> {
        let id = self.id;
        let inputs = line_batches(lines, BATCH_BYTES)
            .map(|batch| {
                let input = ChunkInput {
                    parser_id: id,
                    chunk: batch,
                };
                provider.guest_input("chat_stream_parser_parse", &input)
            })
            .collect::<Result<Vec<Vec<u8>>>>()?;
        let lease = self.take_lease()?;
        let (lease, outputs) = provider
            .on_instance(lease, move |lease, cancel| {
                let mut outputs = Vec::with_capacity(inputs.len());
                for input in inputs {
                    outputs.push(lease.call("chat_stream_parser_parse", &input, cancel)?);
                }
                Ok::<_, ModelportError>(outputs)
            })
            .await?;
        self.lease = Some(lease);
        let mut events = Vec::new();
        for output in outputs? {
            events_of(provider, "chat_stream_parser_parse", &output, &mut events)?;
        }
        Ok(events)
    }

    /// Ends the stream (`chat_stream_parser_finish`) and frees the parser
    /// (`chat_stream_parser_close`).
    pub(crate) async fn finish(&mut self, provider: &WasmProvider) -> Result<Vec<StreamChunk>> {
        let id = self.id.to_string().into_bytes();
        let lease = self.take_lease()?;
        let (lease, (finished, closed)) = provider
            .on_instance(lease, move |lease, cancel| {
                let finished = lease.call("chat_stream_parser_finish", &id, cancel);
                let closed = lease.call("chat_stream_parser_close", &id, cancel);
                (finished, closed)
            })
            .await?;
        self.lease = Some(lease);
        let mut events = Vec::new();
        events_of(
            provider,
            "chat_stream_parser_finish",
            &finished?,
            &mut events,
        )?;
        closed?;
        self.closed = true;
        Ok(events)
    }
}

impl Drop for GuestStreamParser {
    fn drop(&mut self) {
        if let Some(lease) = &self.lease
            && !self.closed
        {
            lease.discard();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::line_batches;

    #[test]
    fn batches_hold_whole_lines_up_to_the_limit_and_a_longer_line_alone() {
        let lines = b"aaa\nbb\ncccccccc\nd\n";
        let batches: Vec<&[u8]> = line_batches(lines, 7).collect();
        assert_eq!(
            batches,
            vec![&b"aaa\nbb\n"[..], &b"cccccccc\n"[..], &b"d\n"[..]]
        );
        let all: Vec<&[u8]> = line_batches(lines, 1 << 16).collect();
        assert_eq!(all, vec![&lines[..]]);
        assert_eq!(line_batches(b"", 8).count(), 0);
    }
}
