//! Reading OpenAI HTTP responses into modelport's shared types.
use modelport_plugin::{
    ChatResponse, CompletionResponse, FinishReason, FunctionCall, HttpResponse, PluginError,
    PluginErrorKind, ToolCall, Usage,
};
use serde::Deserialize;
use serde_json::Value;

fn body<'a, T: Deserialize<'a>>(response: &'a HttpResponse, what: &str) -> Result<T, PluginError> {
    serde_json::from_slice(response.body())
        .map_err(|err| PluginError::parse(format!("unexpected {what} response: {err}")))
}

/// OpenAI's `finish_reason` strings.
pub fn finish_reason(reason: Option<&str>) -> Option<FinishReason> {
    reason.map(|reason| match reason {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "content_filter" => FinishReason::ContentFilter,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        _ => FinishReason::Other,
    })
}

#[derive(Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
    completion_tokens_details: Option<Value>,
    prompt_tokens_details: Option<Value>,
}

fn detail(details: &Option<Value>, key: &str) -> Option<u32> {
    details.as_ref()?.get(key)?.as_u64().map(|n| n as u32)
}

impl From<WireUsage> for Usage {
    fn from(usage: WireUsage) -> Self {
        Usage {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
            reasoning_tokens: detail(&usage.completion_tokens_details, "reasoning_tokens"),
            cache_read: detail(&usage.prompt_tokens_details, "cached_tokens"),
            cache_write: None,
        }
    }
}

#[derive(Deserialize)]
struct ChatCompletion {
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: WireMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireMessage {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireToolCall>,
    reasoning_content: Option<String>,
}

#[derive(Deserialize)]
struct WireToolCall {
    id: String,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    #[serde(default)]
    arguments: String,
}

/// A `chat.completion` object.
pub fn chat(response: &HttpResponse) -> Result<ChatResponse, PluginError> {
    let completion: ChatCompletion = body(response, "chat")?;
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| PluginError::parse("chat response has no choices"))?;
    let tool_calls: Vec<ToolCall> = choice
        .message
        .tool_calls
        .into_iter()
        .map(|call| ToolCall {
            id: call.id,
            call_type: "function".into(),
            function: FunctionCall {
                name: call.function.name,
                arguments: call.function.arguments,
            },
        })
        .collect();
    Ok(ChatResponse {
        text: choice.message.content,
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        thinking: choice.message.reasoning_content,
        usage: completion.usage.map(Usage::from),
        finish_reason: finish_reason(choice.finish_reason.as_deref()),
    })
}

#[derive(Deserialize)]
struct EmbeddingList {
    data: Vec<Embedding>,
}

#[derive(Deserialize)]
struct Embedding {
    index: usize,
    embedding: Vec<f32>,
}

/// An embedding list, ordered by `index`.
pub fn embeddings(response: &HttpResponse) -> Result<Vec<Vec<f32>>, PluginError> {
    let mut list: EmbeddingList = body(response, "embeddings")?;
    list.data.sort_by_key(|e| e.index);
    Ok(list.data.into_iter().map(|e| e.embedding).collect())
}

#[derive(Deserialize)]
struct TextCompletion {
    choices: Vec<TextChoice>,
}

#[derive(Deserialize)]
struct TextChoice {
    text: String,
}

/// A `text_completion` object.
pub fn completion(response: &HttpResponse) -> Result<CompletionResponse, PluginError> {
    let completion: TextCompletion = body(response, "completion")?;
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| PluginError::parse("completion response has no choices"))?;
    Ok(CompletionResponse { text: choice.text })
}

#[derive(Deserialize)]
struct ModelList {
    data: Vec<Model>,
}

#[derive(Deserialize)]
struct Model {
    id: String,
}

/// A model list.
pub fn models(response: &HttpResponse) -> Result<Vec<String>, PluginError> {
    let list: ModelList = body(response, "model list")?;
    Ok(list.data.into_iter().map(|m| m.id).collect())
}

/// A non-2xx answer: OpenAI's `{"error":{message,type,code}}` read into a classified provider
/// failure; a body without that envelope (a proxy's page, say) by its status alone. Either way
/// with the wait the server asked for.
pub fn error(response: &HttpResponse) -> PluginError {
    #[derive(Deserialize)]
    struct Body {
        error: crate::failure::Envelope,
    }
    let status = response.status().as_u16();
    let mut err = match serde_json::from_slice::<Body>(response.body()) {
        Ok(body) => crate::failure::failure(&body.error, Some(status), "the provider failed"),
        Err(_) => {
            let kind = match status {
                401 | 403 => PluginErrorKind::AuthError,
                429 => PluginErrorKind::RateLimited,
                400 | 404 | 422 => PluginErrorKind::InvalidRequest,
                _ => PluginErrorKind::HttpError,
            };
            let excerpt: String = String::from_utf8_lossy(response.body())
                .chars()
                .take(500)
                .collect();
            PluginError::new(kind, excerpt.trim()).with_status(status)
        }
    };
    err.message = format!("HTTP {status}: {}", err.message);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    err.retry_after_ms = header("retry-after-ms")
        .or_else(|| header("retry-after").map(|s| s * 1000.0))
        .map(|ms| ms.max(0.0) as u64);
    err.request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    err
}

#[cfg(test)]
mod tests {
    use modelport_plugin::ProviderErrorKind;

    use super::*;

    fn response(status: u16, body: &str) -> HttpResponse {
        modelport_plugin::http::Response::builder()
            .status(status)
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn parses_text_tool_calls_usage_and_finish() {
        let r = chat(&response(200, r#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"c","type":"function",
            "function":{"name":"f","arguments":"{\"x\":1}"}}]},"finish_reason":"tool_calls"}],
            "usage":{"prompt_tokens":3,"completion_tokens":4,"completion_tokens_details":{"reasoning_tokens":1}}}"#)).unwrap();
        assert_eq!(r.text, None);
        assert_eq!(r.tool_calls.unwrap()[0].function.arguments, "{\"x\":1}");
        assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.usage.unwrap().reasoning_tokens, Some(1));
    }

    #[test]
    fn garbage_is_a_parse_error() {
        assert_eq!(
            chat(&response(200, "<html>")).unwrap_err().kind,
            PluginErrorKind::ParseError
        );
        assert_eq!(
            chat(&response(200, r#"{"choices":[]}"#)).unwrap_err().kind,
            PluginErrorKind::ParseError
        );
    }

    #[test]
    fn errors_are_classified() {
        let err = error(&response(
            401,
            r#"{"error":{"message":"bad key","type":"invalid_request_error"}}"#,
        ));
        assert_eq!(err.provider_kind, Some(ProviderErrorKind::Authentication));
        assert!(err.message.contains("bad key"));
        assert_eq!(error(&response(429, "")).kind, PluginErrorKind::RateLimited);
        let proxy = error(&response(503, "<html>bad gateway</html>"));
        assert_eq!(
            (proxy.kind, proxy.status),
            (PluginErrorKind::HttpError, Some(503))
        );
    }
}
