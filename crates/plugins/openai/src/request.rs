//! Building OpenAI HTTP requests from modelport's shared types.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use modelport_plugin::http::{Method, Request};
use modelport_plugin::{
    ChatMessage, ChatRole, CompletionRequest, Content, HttpRequest, PluginError, Tool,
};
use serde_json::{Map, Value, json};

use crate::config::OpenAIConfig;

pub(crate) fn build(
    config: &OpenAIConfig,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<HttpRequest, PluginError> {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("{}/{path}", config.base_url()));
    if let Some(key) = config.api_key.as_deref().filter(|k| !k.is_empty()) {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    if let Some(org) = &config.organization {
        request = request.header("openai-organization", org);
    }
    for (name, value) in &config.extra_headers {
        if let Some(value) = value.as_str() {
            request = request.header(name.as_str(), value);
        }
    }
    let body = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            serde_json::to_vec(&body)?
        }
        None => Vec::new(),
    };
    Ok(request.body(body)?)
}

/// `GET /models`.
pub fn list_models(config: &OpenAIConfig) -> Result<HttpRequest, PluginError> {
    build(config, Method::GET, "models", None)
}

/// Text of content parts; images become `image_url` parts when any are present.
fn user_content(parts: &[&Content]) -> Value {
    let only_text = parts.iter().all(|p| matches!(p, Content::Text { .. }));
    if only_text {
        let text: String = parts
            .iter()
            .filter_map(|p| {
                if let Content::Text { text } = p {
                    Some(text.as_str())
                } else {
                    None
                }
            })
            .collect();
        return Value::String(text);
    }
    let items: Vec<Value> = parts
        .iter()
        .filter_map(|part| match part {
            Content::Text { text } => Some(json!({"type": "text", "text": text})),
            Content::Image { mime_type, data } => {
                let data = BASE64.encode(data);
                Some(json!({"type": "image_url", "image_url": {"url": format!("data:{mime_type};base64,{data}")}}))
            }
            Content::ImageUrl { url } => Some(json!({"type": "image_url", "image_url": {"url": url}})),
            Content::Audio { mime_type, data } => {
                let format = mime_type.rsplit('/').next().unwrap_or("wav");
                Some(json!({"type": "input_audio", "input_audio": {"data": BASE64.encode(data), "format": format}}))
            }
            Content::Pdf { data } => {
                let data = BASE64.encode(data);
                Some(json!({"type": "file", "file": {"file_data": format!("data:application/pdf;base64,{data}")}}))
            }
            _ => None,
        })
        .collect();
    Value::Array(items)
}

fn tool_result_text(content: &[Content]) -> String {
    content
        .iter()
        .filter_map(|part| match part {
            Content::Text { text } => Some(text.clone()),
            other => serde_json::to_string(other).ok(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// modelport messages → OpenAI `messages` (tool results become `role: "tool"` messages).
fn messages(config: &OpenAIConfig, messages: &[ChatMessage]) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(system) = &config.system {
        for prompt in system.prompts() {
            out.push(json!({"role": "system", "content": prompt}));
        }
    }
    for message in messages {
        match message.role {
            ChatRole::User => {
                let mut pending: Vec<&Content> = Vec::new();
                for part in &message.content {
                    if let Content::ToolResult { id, content, .. } = part {
                        if !pending.is_empty() {
                            out.push(json!({"role": "user", "content": user_content(&pending)}));
                            pending.clear();
                        }
                        out.push(json!({"role": "tool", "tool_call_id": id, "content": tool_result_text(content)}));
                    } else {
                        pending.push(part);
                    }
                }
                if !pending.is_empty() {
                    out.push(json!({"role": "user", "content": user_content(&pending)}));
                }
            }
            ChatRole::Assistant => {
                let text: String = message.text();
                let calls: Vec<Value> = message
                    .content
                    .iter()
                    .filter_map(|part| match part {
                        Content::ToolUse {
                            id,
                            name,
                            arguments,
                        } => Some(json!({
                            "id": id, "type": "function",
                            "function": {"name": name, "arguments": arguments.to_string()}
                        })),
                        _ => None,
                    })
                    .collect();
                let mut entry = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::String(text) }});
                if !calls.is_empty() {
                    entry["tool_calls"] = Value::Array(calls);
                }
                out.push(entry);
            }
        }
    }
    out
}

/// An `f32` (the SDK's completion temperature, QueryMT's type) as the decimal it was written as:
/// `0.3f32 as f64` would be 0.30000001192092896.
fn decimal(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

fn put(body: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        body.insert(key.into(), value);
    }
}

fn chat_body(
    config: &OpenAIConfig,
    history: &[ChatMessage],
    tools: Option<&[Tool]>,
) -> Result<Map<String, Value>, PluginError> {
    let mut body = Map::new();
    body.insert("model".into(), config.model()?.into());
    body.insert("messages".into(), Value::Array(messages(config, history)));
    if let Some(tools) = tools.filter(|t| !t.is_empty()) {
        body.insert("tools".into(), serde_json::to_value(tools)?);
        put(&mut body, "tool_choice", config.tool_choice.clone());
    }
    put(&mut body, "max_tokens", config.max_tokens.map(Value::from));
    put(
        &mut body,
        "temperature",
        config.temperature.map(|t| json!(t)),
    );
    put(&mut body, "top_p", config.top_p.map(|t| json!(t)));
    put(&mut body, "stop", config.stop.clone().map(Value::from));
    put(&mut body, "seed", config.seed.map(Value::from));
    put(&mut body, "response_format", config.response_format.clone());
    put(
        &mut body,
        "reasoning_effort",
        config.reasoning_effort.clone().map(Value::from),
    );
    if let Some(extra) = &config.extra_body {
        body.extend(extra.clone());
    }
    Ok(body)
}

/// `POST /chat/completions`.
pub fn chat(
    config: &OpenAIConfig,
    history: &[ChatMessage],
    tools: Option<&[Tool]>,
) -> Result<HttpRequest, PluginError> {
    let body = chat_body(config, history, tools)?;
    build(
        config,
        Method::POST,
        "chat/completions",
        Some(Value::Object(body)),
    )
}

/// `POST /chat/completions` with `stream: true`, asking for usage in the stream
/// (`stream_options.include_usage`) unless the config's `stream_usage` is false.
pub fn chat_stream(
    config: &OpenAIConfig,
    history: &[ChatMessage],
    tools: Option<&[Tool]>,
) -> Result<HttpRequest, PluginError> {
    let mut body = chat_body(config, history, tools)?;
    body.insert("stream".into(), Value::Bool(true));
    if config.stream_usage != Some(false) {
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    build(
        config,
        Method::POST,
        "chat/completions",
        Some(Value::Object(body)),
    )
}

/// `POST /embeddings`.
pub fn embed(config: &OpenAIConfig, inputs: &[String]) -> Result<HttpRequest, PluginError> {
    let model = match &config.embedding_model {
        Some(model) => model.as_str(),
        None => config.model()?,
    };
    build(
        config,
        Method::POST,
        "embeddings",
        Some(json!({"model": model, "input": inputs, "encoding_format": "float"})),
    )
}

/// `POST /completions`.
pub fn complete(
    config: &OpenAIConfig,
    request: &CompletionRequest,
) -> Result<HttpRequest, PluginError> {
    let mut body = Map::new();
    body.insert("model".into(), config.model()?.into());
    body.insert("prompt".into(), request.prompt.clone().into());
    put(&mut body, "suffix", request.suffix.clone().map(Value::from));
    put(
        &mut body,
        "max_tokens",
        request.max_tokens.or(config.max_tokens).map(Value::from),
    );
    put(
        &mut body,
        "temperature",
        request
            .temperature
            .map(decimal)
            .or(config.temperature)
            .map(|t| json!(t)),
    );
    build(
        config,
        Method::POST,
        "completions",
        Some(Value::Object(body)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OpenAIConfig {
        OpenAIConfig {
            api_key: Some("sk-test".into()),
            base_url: Some("http://127.0.0.1:9/v1/".into()),
            model: Some("m".into()),
            system: Some(crate::config::SystemPrompt::One("be brief".into())),
            ..Default::default()
        }
    }

    #[test]
    fn chat_request_shape() {
        let history = vec![
            ChatMessage::user("hi"),
            ChatMessage {
                role: ChatRole::Assistant,
                content: vec![Content::ToolUse {
                    id: "c1".into(),
                    name: "f".into(),
                    arguments: json!({"a": 1}),
                }],
            },
            ChatMessage {
                role: ChatRole::User,
                content: vec![Content::ToolResult {
                    id: "c1".into(),
                    name: None,
                    is_error: false,
                    content: vec![Content::Text { text: "42".into() }],
                }],
            },
        ];
        let request = chat(&config(), &history, None).unwrap();
        assert_eq!(request.uri(), "http://127.0.0.1:9/v1/chat/completions");
        assert_eq!(request.headers()["authorization"], "Bearer sk-test");
        let body: Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "be brief"})
        );
        assert_eq!(
            body["messages"][1],
            json!({"role": "user", "content": "hi"})
        );
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["arguments"],
            "{\"a\":1}"
        );
        assert_eq!(
            body["messages"][3],
            json!({"role": "tool", "tool_call_id": "c1", "content": "42"})
        );
    }

    #[test]
    fn missing_model_is_an_invalid_request() {
        let config = OpenAIConfig {
            model: None,
            ..config()
        };
        assert_eq!(
            chat(&config, &[], None).unwrap_err().kind,
            modelport_plugin::PluginErrorKind::InvalidRequest
        );
    }
}
