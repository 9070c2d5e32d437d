//! `redacted_uri`: a URI as error messages may show it, without the secrets URIs often carry.
use std::fmt::Write;

/// Query parameter names whose values are secrets (`key`, `api_key`, `access_token`, `sig`…).
fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "key",
        "token",
        "secret",
        "password",
        "passwd",
        "auth",
        "sig",
        "credential",
    ]
    .iter()
    .any(|word| lower.contains(word))
}

/// `uri` with its user information (`user:password@`) and the values of secret-looking query
/// parameters replaced by `***`; text that is not a URI comes back as `<invalid URI>`.
pub fn redacted_uri(uri: &str) -> String {
    let Ok(parsed) = uri.parse::<http::Uri>() else {
        return "<invalid URI>".to_string();
    };
    let mut out = String::new();
    if let Some(scheme) = parsed.scheme_str() {
        let _ = write!(out, "{scheme}://");
    }
    if let Some(authority) = parsed.authority() {
        match authority.as_str().rsplit_once('@') {
            Some((_, host)) => {
                let _ = write!(out, "***@{host}");
            }
            None => out.push_str(authority.as_str()),
        }
    }
    out.push_str(parsed.path());
    if let Some(query) = parsed.query() {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if is_secret_name(name) => format!("{name}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_and_secret_query_values_are_hidden() {
        assert_eq!(
            redacted_uri(
                "https://user:sk-123@api.example.com:8443/v1/chat?key=sk-456&model=m&access_token=t"
            ),
            "https://***@api.example.com:8443/v1/chat?key=***&model=m&access_token=***"
        );
        assert_eq!(
            redacted_uri("http://127.0.0.1:9/v1"),
            "http://127.0.0.1:9/v1"
        );
        assert_eq!(redacted_uri("not a uri at all"), "<invalid URI>");
    }
}
