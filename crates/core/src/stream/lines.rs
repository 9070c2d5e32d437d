//! Splitting a response body into lines as it arrives, the way QueryMT feeds stream parsers:
//! each line with its `\n`, whatever the network chunking. The complete lines of a network chunk
//! stay one contiguous slice (borrowed from the chunk when no line straddles chunks), so a parser
//! that takes many lines at once gets them without a copy per line.
use std::borrow::Cow;

/// Collects body bytes and hands out the complete lines.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

/// The lines of `bytes`, each with its `\n` (a last piece without one is a line too).
pub fn lines_of(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |at| at + 1);
        let (line, after) = rest.split_at(end);
        rest = after;
        Some(line)
    })
}

impl LineSplitter {
    /// Adds `chunk`; returns the lines it completes (each ending in `\n`) as one slice, empty if
    /// it completes none.
    pub fn push<'a>(&mut self, chunk: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(last) = memchr::memrchr(b'\n', chunk) else {
            self.partial.extend_from_slice(chunk);
            return Cow::Borrowed(&[]);
        };
        let (whole, rest) = chunk.split_at(last + 1);
        let lines = if self.partial.is_empty() {
            Cow::Borrowed(whole)
        } else {
            let mut joined = std::mem::take(&mut self.partial);
            joined.extend_from_slice(whole);
            Cow::Owned(joined)
        };
        self.partial.extend_from_slice(rest);
        lines
    }

    /// The end of the body: the unterminated last line (if any), then the final `"\n"` the
    /// protocol feeds before `finish()`.
    pub fn finish(&mut self) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        if !self.partial.is_empty() {
            lines.push(std::mem::take(&mut self.partial));
        }
        lines.push(b"\n".to_vec());
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_whole_whatever_the_chunking() {
        let body = b"data: {\"a\":1}\r\n\r\ndata: [DONE]\n\n";
        let mut expected: Vec<Vec<u8>> = lines_of(&LineSplitter::default().push(body))
            .map(<[u8]>::to_vec)
            .collect();
        expected.extend(LineSplitter::default().finish());
        for size in 1..body.len() {
            let mut splitter = LineSplitter::default();
            let mut lines: Vec<Vec<u8>> = body
                .chunks(size)
                .flat_map(|c| {
                    lines_of(&splitter.push(c))
                        .map(<[u8]>::to_vec)
                        .collect::<Vec<_>>()
                })
                .collect();
            lines.extend(splitter.finish());
            assert_eq!(lines, expected, "chunk size {size}");
        }
        assert_eq!(expected[0], b"data: {\"a\":1}\r\n");
    }

    #[test]
    fn an_unterminated_last_line_is_fed_before_the_final_newline() {
        let mut splitter = LineSplitter::default();
        assert!(splitter.push(b"data: {\"trunc").is_empty());
        assert_eq!(
            splitter.finish(),
            vec![b"data: {\"trunc".to_vec(), b"\n".to_vec()]
        );
    }
}
