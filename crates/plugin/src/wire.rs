//! The JSON shapes that cross the native ABI beside the SDK's data types: HTTP heads (the body
//! travels as raw bytes beside them) and the inputs of chat and embedding calls. Written by one
//! side, read by the other; nothing here depends on either side's memory layout.
use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::call_params::CallParams;
use crate::error::PluginError;
use crate::http_provider::{HttpRequest, HttpResponse};
use crate::message::ChatMessage;
use crate::tool::Tool;

/// An HTTP request's head: `{"method":"POST","url":"https://…","headers":[["name","value"],…]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestHead {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

/// An HTTP response's head: `{"status":200,"headers":[["name","value"],…]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseHead {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect()
}

/// A request's head as JSON, and its body.
pub fn request_parts(request: HttpRequest) -> (Vec<u8>, Vec<u8>) {
    let (parts, body) = request.into_parts();
    let head = RequestHead {
        method: parts.method.as_str().to_string(),
        url: parts.uri.to_string(),
        headers: header_pairs(&parts.headers),
    };
    let head = serde_json::to_vec(&head).expect("a head serializes");
    (head, body)
}

/// The request a head (JSON) and a body make.
pub fn request_from_parts(head: &[u8], body: Vec<u8>) -> Result<HttpRequest, PluginError> {
    let head: RequestHead = serde_json::from_slice(head)
        .map_err(|err| PluginError::parse(format!("the request head is not valid: {err}")))?;
    let mut builder = http::Request::builder()
        .method(head.method.as_str())
        .uri(head.url.as_str());
    for (name, value) in &head.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(body)
        .map_err(|err| PluginError::invalid_request(format!("the request is not valid: {err}")))
}

/// A response's head as JSON (its body crosses as it is).
pub fn response_head(response: &HttpResponse) -> Vec<u8> {
    let head = ResponseHead {
        status: response.status().as_u16(),
        headers: header_pairs(response.headers()),
    };
    serde_json::to_vec(&head).expect("a head serializes")
}

/// The response a head (JSON) and a body make.
pub fn response_from_parts(head: &[u8], body: Vec<u8>) -> Result<HttpResponse, PluginError> {
    let head: ResponseHead = serde_json::from_slice(head)
        .map_err(|err| PluginError::parse(format!("the response head is not valid: {err}")))?;
    let mut builder = http::Response::builder().status(head.status);
    for (name, value) in &head.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(body)
        .map_err(|err| PluginError::parse(format!("the response is not valid: {err}")))
}

/// A chat call's input: `{"messages":[…],"tools":[…]|null,"params":{…},"stream":false}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatInput<'a> {
    pub messages: Cow<'a, [ChatMessage]>,
    #[serde(default)]
    pub tools: Option<Cow<'a, [Tool]>>,
    #[serde(default)]
    pub params: Cow<'a, CallParams>,
    /// For `MP_OP_CHAT_REQUEST`: whether the request is for a streamed answer.
    #[serde(default)]
    pub stream: bool,
}

/// An embedding call's input: `{"inputs":["…",…]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbedInput<'a> {
    pub inputs: Cow<'a, [String]>,
}

/// A factory's description (`MP_OP_INFO`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FactoryInfo {
    /// The provider's name, e.g. `"openai"`.
    pub name: String,
    /// The environment variable holding its API key, if it uses one.
    #[serde(default)]
    pub api_key_name: Option<String>,
    /// JSON Schema of the config it accepts (an object).
    pub config_schema: serde_json::Value,
    /// Whether model names outside its list are accepted (HTTP factories; default true).
    #[serde(default = "yes")]
    pub supports_custom_models: bool,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_round_trips_through_its_parts() {
        let request = http::Request::post("https://api.example.com/v1/chat")
            .header("content-type", "application/json")
            .header("x-many", "a")
            .header("x-many", "b")
            .body(b"{\"a\":1}".to_vec())
            .unwrap();
        let (head, body) = request_parts(request);
        assert_eq!(
            String::from_utf8(head.clone()).unwrap(),
            r#"{"method":"POST","url":"https://api.example.com/v1/chat","headers":[["content-type","application/json"],["x-many","a"],["x-many","b"]]}"#
        );
        let back = request_from_parts(&head, body).unwrap();
        assert_eq!(back.headers().get_all("x-many").iter().count(), 2);
        assert_eq!(back.body(), b"{\"a\":1}");
    }

    #[test]
    fn a_bad_head_is_an_error_not_a_panic() {
        assert!(request_from_parts(b"{\"method\":\"GET\"}", Vec::new()).is_err());
        assert!(request_from_parts(br#"{"method":"G T","url":"x"}"#, Vec::new()).is_err());
        assert!(response_from_parts(br#"{"status":99999}"#, Vec::new()).is_err());
    }
}
