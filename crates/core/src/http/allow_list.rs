//! `AllowList`: the hosts a sandboxed plugin may reach. Empty allows nothing.
use std::collections::BTreeSet;

/// Host names (exact, case-insensitive) and `*.domain` wildcards a plugin may reach. IP literals
/// and `localhost` match only when listed literally. An empty list allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AllowList {
    hosts: BTreeSet<String>,
}

impl AllowList {
    /// A list of `hosts` (`api.example.com`, `*.example.com`, `127.0.0.1`).
    pub fn new(hosts: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        Self {
            hosts: hosts
                .into_iter()
                .map(|h| normalize(h.as_ref()))
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    /// Whether `host` may be reached.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = normalize(host);
        self.hosts
            .iter()
            .any(|allowed| match allowed.strip_prefix("*.") {
                Some(domain) => {
                    host.len() > domain.len() + 1
                        && host.ends_with(domain)
                        && host[..host.len() - domain.len()].ends_with('.')
                }
                None => *allowed == host,
            })
    }

    /// Whether the host of `uri` may be reached (a URI without a host never may).
    pub fn allows_uri(&self, uri: &str) -> bool {
        host_of(uri).is_some_and(|host| self.allows_host(&host))
    }

    /// The listed hosts.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().map(String::as_str)
    }
}

fn normalize(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// The host part of an absolute `http(s)://` URI.
pub fn host_of(uri: &str) -> Option<String> {
    let uri: http::Uri = uri.parse().ok()?;
    uri.host().map(normalize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_allows_nothing() {
        assert!(!AllowList::default().allows_uri("https://api.openai.com/v1"));
    }

    #[test]
    fn exact_and_wildcard_hosts() {
        let list = AllowList::new(["API.example.com", "*.internal.test", "127.0.0.1", "::1"]);
        assert!(list.allows_uri("https://api.example.com/x"));
        assert!(!list.allows_uri("https://evil.example.com/x"));
        assert!(!list.allows_uri("https://api.example.com.evil.net/x"));
        assert!(list.allows_uri("http://a.b.internal.test:8080/"));
        assert!(!list.allows_uri("http://internal.test/"));
        assert!(!list.allows_uri("http://xinternal.test/"));
        assert!(list.allows_uri("http://127.0.0.1:9999/v1"));
        assert!(!list.allows_uri("http://localhost:9999/v1"));
        assert!(list.allows_uri("http://[::1]:80/"));
        assert!(!list.allows_uri("not a uri"));
    }
}
