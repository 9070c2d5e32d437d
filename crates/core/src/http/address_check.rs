//! `AddressCheckingResolver`: DNS resolution for a sandboxed plugin's HTTP client that keeps a
//! host the plugin proposed itself (see [`AllowList::public_only`]) off non-public addresses, so
//! a DNS name cannot lead a plugin to loopback, the private network or a metadata service.
use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::allow_list::{AllowList, is_public_address};

/// Resolves with the system resolver, then drops the non-public addresses of public-only hosts.
pub(super) struct AddressCheckingResolver {
    pub(super) allowed: AllowList,
}

/// A public-only host that resolved to no public address, raised from the resolver.
#[derive(Debug)]
pub(super) struct NonPublicAddress(pub(super) String);

impl std::fmt::Display for NonPublicAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "request to {} refused: the plugin proposed this host itself, and it resolves to no public address (list it in allowed_hosts to reach it)",
            self.0
        )
    }
}

impl std::error::Error for NonPublicAddress {}

impl Resolve for AddressCheckingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let public_only = self.allowed.public_only(&host);
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = if public_only {
                found
                    .into_iter()
                    .filter(|addr| is_public_address(addr.ip()))
                    .collect()
            } else {
                found
            };
            if kept.is_empty() && public_only {
                return Err(
                    Box::new(NonPublicAddress(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn resolve(
        allowed: AllowList,
        host: &str,
    ) -> std::result::Result<Vec<SocketAddr>, String> {
        let resolver = AddressCheckingResolver { allowed };
        match resolver.resolve(host.parse().unwrap()).await {
            Ok(addrs) => Ok(addrs.collect()),
            Err(err) => Err(err.to_string()),
        }
    }

    #[tokio::test]
    async fn a_public_only_host_never_resolves_to_a_local_address() {
        let err = resolve(AllowList::public_only_for_test("localhost"), "localhost")
            .await
            .unwrap_err();
        assert!(err.contains("resolves to no public address"), "{err}");
        // Listed by the entry: local addresses are fine.
        let addrs = resolve(AllowList::new(["localhost"]), "localhost")
            .await
            .unwrap();
        assert!(addrs.iter().all(|addr| addr.ip().is_loopback()) && !addrs.is_empty());
    }
}
