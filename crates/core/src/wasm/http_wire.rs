//! QueryMT's HTTP wire format (http-serde-ext): `{"head":{…},"body":[bytes as numbers]}`, always
//! wrapped as QueryMT's `SerializableHttpRequest { req }` / `SerializableHttpResponse { resp }`:
//! a request crosses as `{"req":{"head","body"}}`, a response as `{"resp":{"head","body"}}`, both
//! from export outputs and through the host functions.
use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ModelportError, Result};

/// A header value: one string, or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeaderValues {
    One(String),
    Many(Vec<String>),
}

/// A request as a plugin writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireRequest {
    pub head: WireRequestHead,
    #[serde(default)]
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireRequestHead {
    pub method: String,
    pub uri: String,
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderValues>,
    #[serde(default)]
    pub version: Option<String>,
}

/// QueryMT's `SerializableHttpRequest`: `{"req": …}`, what `*_request` exports return and what
/// `qmt_http_request` / `qmt_http_stream_open` receive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SerializableRequest {
    pub req: WireRequest,
}

/// QueryMT's `SerializableHttpResponse`: `{"resp": …}`, what parse exports receive and what
/// `qmt_http_request` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SerializableResponse<'a> {
    pub resp: WireResponse<'a>,
}

impl<'a> SerializableResponse<'a> {
    /// The wrapped wire form of a response the host read, borrowing its body.
    pub fn from_http(response: &'a http::Response<Vec<u8>>) -> Self {
        Self {
            resp: WireResponse::from_http(response),
        }
    }
}

/// A response as the host hands it to a plugin. It borrows the body it describes: serialized
/// straight from the bytes, a body is never copied into an intermediate form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WireResponse<'a> {
    pub head: WireResponseHead,
    pub body: Cow<'a, [u8]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireResponseHead {
    pub status: u16,
    pub headers: BTreeMap<String, HeaderValues>,
    pub version: String,
}

fn version_name(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "HTTP/0.9",
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

impl WireRequest {
    /// The `http::Request` it describes; the version is left to the engine.
    pub fn into_http(self) -> Result<http::Request<Vec<u8>>> {
        let invalid = |err: &dyn std::fmt::Display| {
            ModelportError::new(
                ErrorCode::InvalidRequest,
                format!("the plugin built an invalid HTTP request: {err}"),
            )
        };
        let mut builder = http::Request::builder()
            .method(self.head.method.as_str())
            .uri(self.head.uri.as_str());
        for (name, values) in &self.head.headers {
            match values {
                HeaderValues::One(value) => builder = builder.header(name.as_str(), value.as_str()),
                HeaderValues::Many(values) => {
                    for value in values {
                        builder = builder.header(name.as_str(), value.as_str());
                    }
                }
            }
        }
        builder.body(self.body).map_err(|err| invalid(&err))
    }

    /// Reads a request from the JSON text of its `{"req": …}` wrapper.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice::<SerializableRequest>(bytes)
            .map(|wrapped| wrapped.req)
            .map_err(|err| {
                ModelportError::new(
                    ErrorCode::ParseError,
                    format!("the plugin's HTTP request is not in the wire format {{\"req\":{{\"head\",\"body\"}}}}: {err}"),
                )
            })
    }
}

pub(crate) fn wire_headers(headers: &http::HeaderMap) -> BTreeMap<String, HeaderValues> {
    let mut out: BTreeMap<String, HeaderValues> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match out.remove(name.as_str()) {
            None => out.insert(name.as_str().to_string(), HeaderValues::One(value)),
            Some(HeaderValues::One(first)) => out.insert(
                name.as_str().to_string(),
                HeaderValues::Many(vec![first, value]),
            ),
            Some(HeaderValues::Many(mut all)) => {
                all.push(value);
                out.insert(name.as_str().to_string(), HeaderValues::Many(all))
            }
        };
    }
    out
}

impl<'a> WireResponse<'a> {
    /// The wire form of a response the host read, borrowing its body.
    pub fn from_http(response: &'a http::Response<Vec<u8>>) -> Self {
        Self {
            head: WireResponseHead {
                status: response.status().as_u16(),
                headers: wire_headers(response.headers()),
                version: version_name(response.version()).into(),
            },
            body: Cow::Borrowed(response.body()),
        }
    }

    /// A response the host makes up (403 for a denied host, 499 cancelled, 500 transport error).
    pub fn synthetic(status: u16, body: &str) -> SerializableResponse<'static> {
        let mut headers = BTreeMap::new();
        headers.insert(
            "content-type".into(),
            HeaderValues::One("text/plain; charset=utf-8".into()),
        );
        SerializableResponse {
            resp: WireResponse {
                head: WireResponseHead {
                    status,
                    headers,
                    version: "HTTP/1.1".into(),
                },
                body: Cow::Owned(body.as_bytes().to_vec()),
            },
        }
    }
}

/// Counts the bytes written through it.
#[derive(Default)]
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `input` as the JSON a guest function receives, if it is at most `limit` bytes long: measured
/// first without allocating, so an input too large is refused (`RESPONSE_TOO_LARGE`) before any
/// copy of it is made. Byte arrays (response bodies, stream lines) take up to 4 bytes a byte.
pub fn guest_json(input: &impl Serialize, limit: u64, function: &str) -> Result<Vec<u8>> {
    let unserializable = |err: serde_json::Error| {
        ModelportError::new(
            ErrorCode::InvalidRequest,
            format!("cannot encode the input of {function}"),
        )
        .with_cause(err)
    };
    let mut counter = ByteCounter::default();
    serde_json::to_writer(&mut counter, input).map_err(unserializable)?;
    if counter.0 as u64 > limit {
        return Err(ModelportError::new(
            ErrorCode::ResponseTooLarge,
            format!(
                "the input of {function} would be {} bytes of JSON, more than the plugin's memory cap of {limit} bytes (max_memory_pages) could hold",
                counter.0
            ),
        ));
    }
    let mut json = Vec::with_capacity(counter.0);
    serde_json::to_writer(&mut json, input).map_err(unserializable)?;
    Ok(json)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn requests_read_the_documented_shape() {
        let wire = WireRequest::from_json(
            json!({"req": {
                "head": {"method": "POST", "uri": "https://api.example.com/v1/chat",
                         "headers": {"content-type": "application/json", "x": ["a", "b"]}, "version": "HTTP/1.1"},
                "body": [123, 125]
            }})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let request = wire.into_http().unwrap();
        assert_eq!(request.method(), "POST");
        assert_eq!(request.headers().get_all("x").iter().count(), 2);
        assert_eq!(request.body(), b"{}");
    }

    #[test]
    fn responses_write_the_documented_shape() {
        let response = http::Response::builder()
            .status(201)
            .header("a", "1")
            .header("b", "2")
            .header("b", "3")
            .body(b"ok".to_vec())
            .unwrap();
        assert_eq!(
            serde_json::to_value(SerializableResponse::from_http(&response)).unwrap(),
            json!({"resp": {"head": {"status": 201, "headers": {"a": "1", "b": ["2", "3"]}, "version": "HTTP/1.1"}, "body": [111, 107]}})
        );
    }

    #[test]
    fn guest_inputs_are_measured_before_they_are_made() {
        let body = vec![200u8; 1000];
        let json = guest_json(&json!({"body": body}), 4010, "f").unwrap();
        assert_eq!(json.len(), 4010);
        let err = guest_json(&json!({"body": body}), 4009, "parse_chat_response").unwrap_err();
        assert_eq!(err.code, ErrorCode::ResponseTooLarge);
        assert!(err.message.contains("parse_chat_response"), "{err}");
    }
}
