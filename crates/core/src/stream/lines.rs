//! Splitting a response body into lines as it arrives, the way QueryMT feeds stream parsers:
//! each line with its `\n`, whatever the network chunking.

/// Collects body bytes and hands out the complete lines.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Adds `chunk`; returns every line it completes, each ending in `\n`.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let (line, after) = rest.split_at(end + 1);
            if self.partial.is_empty() {
                lines.push(line.to_vec());
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                lines.push(whole);
            }
            rest = after;
        }
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
        let mut expected = LineSplitter::default().push(body);
        expected.extend(LineSplitter::default().finish());
        for size in 1..body.len() {
            let mut splitter = LineSplitter::default();
            let mut lines: Vec<Vec<u8>> =
                body.chunks(size).flat_map(|c| splitter.push(c)).collect();
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
