//! What a flow is checked against without Kafka: the repository's topic contracts and
//! schema files (`topics/`, `schemas/`), handed in by the caller.

use std::collections::BTreeMap;

/// The declared topics and the schema files, by name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Topic name → the full name of its value schema, if the topic file names one.
    pub topics: BTreeMap<String, Option<String>>,
    /// Schema full name → its `.avsc` text.
    pub schemas: BTreeMap<String, String>,
}

impl Catalog {
    /// Whether `topic` is declared (a catalog without topics declares every topic: nothing to
    /// check against).
    pub fn knows_topic(&self, topic: &str) -> bool {
        self.topics.is_empty() || self.topics.contains_key(topic)
    }

    /// The value schema the topic file binds to `topic`.
    pub fn value_schema(&self, topic: &str) -> Option<&str> {
        self.topics.get(topic).and_then(|s| s.as_deref())
    }
}

/// Where a string value of a TOML file starts: the 1-based line and column of its first
/// character of content (after the opening quotes, and after the newline a multi-line string
/// may begin with).
pub fn content_start(file_text: &str, span_start: usize) -> (usize, usize) {
    let rest = file_text.get(span_start..).unwrap_or_default();
    let mut start = span_start;
    if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
        start += 3;
        let after = &file_text[start.min(file_text.len())..];
        if after.starts_with("\r\n") {
            start += 2;
        } else if after.starts_with('\n') {
            start += 1;
        }
    } else if rest.starts_with('"') || rest.starts_with('\'') {
        start += 1;
    }
    line_col(file_text, start)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A position inside an embedded program, moved to the file: `base` is where the program's
/// content starts.
pub fn shift((base_line, base_col): (usize, usize), line: usize, col: usize) -> (usize, usize) {
    if line <= 1 {
        (base_line, base_col + col.saturating_sub(1))
    } else {
        (base_line + line - 1, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_embedded_strings() {
        let text = "a = 1\nprogram = '''\n.x = 1\n.y = 2'''\nwhen = '.a == 1'\n";
        let p = text.find("'''").unwrap_or_default();
        assert_eq!(content_start(text, p), (3, 1));
        assert_eq!(shift((3, 1), 2, 6), (4, 6));
        let w = text.find("'.a").unwrap_or_default();
        assert_eq!(content_start(text, w), (5, 9));
        assert_eq!(shift((5, 9), 1, 4), (5, 12));
    }
}
