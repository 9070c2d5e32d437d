//! `AllowList`: where a sandboxed plugin may send requests. Empty allows nothing.
use std::collections::BTreeSet;
use std::net::IpAddr;

/// One allowed destination: a host (exact, or `*.domain`), optionally with a scheme and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Destination {
    scheme: Option<String>,
    host: String,
    port: Option<u16>,
    /// Reachable only at public addresses: the host must not resolve to a loopback, private,
    /// link-local (cloud metadata) or otherwise non-public address.
    public_only: bool,
}

impl Destination {
    /// Reads `https://api.example.com:443`, `api.example.com:8080`, `api.example.com`,
    /// `*.example.com`, `127.0.0.1`, `[::1]:8080`.
    fn parse(text: &str, public_only: bool) -> Option<Self> {
        let text = text.trim();
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
            None => (None, text),
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = split_port(authority)?;
        let host = normalize(host);
        if host.is_empty() {
            return None;
        }
        let port = port.or_else(|| scheme.as_deref().and_then(default_port));
        Some(Self {
            scheme,
            host,
            port,
            public_only,
        })
    }

    fn matches_host(&self, host: &str) -> bool {
        match self.host.strip_prefix("*.") {
            Some(domain) => {
                host.len() > domain.len() + 1
                    && host.ends_with(domain)
                    && host[..host.len() - domain.len()].ends_with('.')
            }
            None => self.host == host,
        }
    }

    fn matches(&self, target: &Target) -> bool {
        self.matches_host(&target.host)
            && self.scheme.as_ref().is_none_or(|s| *s == target.scheme)
            && self.port.is_none_or(|p| p == target.port)
    }
}

/// Where a request goes: scheme, host and effective port of its URI.
struct Target {
    scheme: String,
    host: String,
    port: u16,
}

impl Target {
    fn of(uri: &str) -> Option<Self> {
        let uri: http::Uri = uri.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let port = uri.port_u16().or_else(|| default_port(&scheme))?;
        Some(Self {
            host: normalize(uri.host()?),
            scheme,
            port,
        })
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// Splits `host:port` (`[v6]:port` for IPv6); `None` for a port that is not a number.
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match authority.rsplit_once(':') {
        // More than one colon: a bare IPv6 address.
        Some((host, _)) if host.contains(':') => Some((authority, None)),
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((authority, None)),
    }
}

/// Destinations a plugin may reach. A destination names a host (exact, case-insensitive, or
/// `*.domain`) and optionally a scheme and a port (`https://api.example.com:443`; a scheme alone
/// implies its default port). IP literals and `localhost` match only when listed literally.
/// An empty list allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AllowList {
    destinations: BTreeSet<Destination>,
}

impl AllowList {
    /// A list of `destinations` (`api.example.com`, `*.example.com`, `127.0.0.1`,
    /// `https://api.example.com:443`); entries that are not a destination are ignored.
    pub fn new(destinations: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let mut list = Self::default();
        for destination in destinations {
            list.add(destination.as_ref(), false);
        }
        list
    }

    /// Whether `text` is a destination an allow-list can hold (`api.example.com`, `*.example.com`,
    /// `host:8080`, `https://host[:port]`, an IP literal).
    pub fn is_destination(text: &str) -> bool {
        Destination::parse(text, false).is_some_and(|d| {
            d.scheme
                .as_deref()
                .is_none_or(|s| default_port(s).is_some())
                && !d.host.contains(['@', '?', '#', ' '])
        })
    }

    /// Adds the scheme, host and port of `base_url` (what a configured `base_url` allows).
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        if let Some(target) = Target::of(base_url) {
            self.add(
                &format!(
                    "{}://{}:{}",
                    target.scheme,
                    bracketed(&target.host),
                    target.port
                ),
                false,
            );
        }
        self
    }

    /// Adds a `base_url` the plugin itself proposed, if it may be trusted that far: an `https://`
    /// URL whose host is a DNS name with a dot (no IP literal, no `localhost`, no single label),
    /// reachable only at public addresses. Returns whether it was added.
    pub fn add_public_base_url(&mut self, base_url: &str) -> bool {
        let Some(target) = Target::of(base_url) else {
            return false;
        };
        let host = &target.host;
        let public_name = target.scheme == "https"
            && host.parse::<IpAddr>().is_err()
            && host.contains('.')
            && host != "localhost"
            && !host.ends_with(".localhost");
        if public_name {
            self.add(&format!("https://{host}:{}", target.port), true);
        }
        public_name
    }

    /// A list allowing `host` at public addresses only, as if a plugin had proposed it (tests of
    /// the address check use names that resolve locally, which a proposal may never name).
    #[cfg(test)]
    pub(crate) fn public_only_for_test(host: &str) -> Self {
        let mut list = Self::default();
        list.add(host, true);
        list
    }

    fn add(&mut self, destination: &str, public_only: bool) {
        if let Some(destination) = Destination::parse(destination, public_only) {
            self.destinations.insert(destination);
        }
    }

    /// Whether `uri` may be reached (a URI without a scheme and host never may).
    pub fn allows_uri(&self, uri: &str) -> bool {
        Target::of(uri).is_some_and(|target| self.destinations.iter().any(|d| d.matches(&target)))
    }

    /// Whether `host` may be reached only at public addresses: every destination it matches
    /// came from a plugin's own proposal, none from the entry.
    pub fn public_only(&self, host: &str) -> bool {
        let host = normalize(host);
        let mut matching = self
            .destinations
            .iter()
            .filter(|d| d.matches_host(&host))
            .peekable();
        matching.peek().is_some() && matching.all(|d| d.public_only)
    }

    /// The listed destinations, as text.
    pub fn destinations(&self) -> impl Iterator<Item = String> + '_ {
        self.destinations.iter().map(|d| {
            let host = bracketed(&d.host);
            match (&d.scheme, d.port) {
                (Some(scheme), Some(port)) => format!("{scheme}://{host}:{port}"),
                (Some(scheme), None) => format!("{scheme}://{host}"),
                (None, Some(port)) => format!("{host}:{port}"),
                (None, None) => host,
            }
        })
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn normalize(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Where `uri` goes, as `scheme://host:port` (no user information, path or query), for messages.
pub fn origin_of(uri: &str) -> Option<String> {
    Target::of(uri).map(|t| format!("{}://{}:{}", t.scheme, bracketed(&t.host), t.port))
}

/// Whether `ip` is an address on the public internet: not loopback, private, link-local (where
/// cloud metadata services live), carrier-grade NAT, unspecified, multicast, broadcast or
/// reserved for documentation; IPv4-mapped IPv6 addresses are judged as IPv4.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || first == 0x0064 && v6.segments()[1] == 0xff9b)
        }
    }
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

    #[test]
    fn destinations_are_recognized() {
        for good in [
            "api.example.com",
            "*.example.com",
            "127.0.0.1",
            "::1",
            "[::1]:80",
            "h:8080",
            "https://h",
            "http://h:1",
        ] {
            assert!(AllowList::is_destination(good), "{good}");
        }
        for bad in ["", "h:port", "ftp://h", "https://", "user@h", "h:99999"] {
            assert!(!AllowList::is_destination(bad), "{bad}");
        }
    }

    #[test]
    fn schemes_and_ports_narrow_a_destination() {
        let list = AllowList::new(["https://api.example.com", "models.test:8080", "[::1]:9000"]);
        assert!(list.allows_uri("https://api.example.com/v1"));
        assert!(list.allows_uri("https://api.example.com:443/v1"));
        assert!(
            !list.allows_uri("http://api.example.com/v1"),
            "another scheme"
        );
        assert!(
            !list.allows_uri("https://api.example.com:8443/v1"),
            "another port"
        );
        assert!(list.allows_uri("http://models.test:8080/"));
        assert!(list.allows_uri("https://models.test:8080/"));
        assert!(!list.allows_uri("http://models.test/"));
        assert!(list.allows_uri("http://[::1]:9000/"));
        assert!(!list.allows_uri("http://[::1]:9001/"));
    }

    #[test]
    fn a_base_url_allows_its_own_scheme_host_and_port() {
        let list = AllowList::default().with_base_url("http://127.0.0.1:4000/v1");
        assert!(list.allows_uri("http://127.0.0.1:4000/v1/chat/completions"));
        assert!(!list.allows_uri("http://127.0.0.1:4001/v1"));
        assert!(!list.allows_uri("https://127.0.0.1:4000/v1"));
        let list = AllowList::default().with_base_url("https://api.openai.com/v1");
        assert!(list.allows_uri("https://api.openai.com:443/v1/models"));
        assert!(!list.allows_uri("http://api.openai.com/v1/models"));
        assert_eq!(
            list.destinations().collect::<Vec<_>>(),
            ["https://api.openai.com:443"]
        );
    }

    #[test]
    fn a_plugins_own_base_url_must_be_a_public_https_name() {
        for refused in [
            "http://api.example.com/v1",
            "https://127.0.0.2:9/v1",
            "https://[::1]/v1",
            "https://169.254.169.254/latest",
            "https://localhost/v1",
            "https://api.localhost/v1",
            "https://intranet/v1",
            "not a url",
        ] {
            let mut list = AllowList::default();
            assert!(!list.add_public_base_url(refused), "{refused}");
            assert!(!list.allows_uri(refused), "{refused}");
        }
        let mut list = AllowList::new(["127.0.0.1"]);
        assert!(list.add_public_base_url("https://api.example.com/v1"));
        assert!(list.allows_uri("https://api.example.com/v1/chat"));
        assert!(!list.allows_uri("http://api.example.com/v1/chat"));
        assert!(list.public_only("api.example.com"));
        assert!(!list.public_only("127.0.0.1"));
        // Listed by the entry too: trusted at any address.
        let mut list = AllowList::new(["api.example.com"]);
        list.add_public_base_url("https://api.example.com/v1");
        assert!(!list.public_only("api.example.com"));
    }

    #[test]
    fn public_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public_address(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public_address(public.parse().unwrap()), "{public}");
        }
    }
}
