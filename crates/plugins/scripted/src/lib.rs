//! The `scripted` provider plugin: answers from rules in its config, with no network. Useful for
//! tests of code built on modelport, demos, and offline development.
//!
//! It is a non-HTTP plugin (`plugin_factory`): it does its work itself, asynchronously. Its
//! simulated latency uses `futures-timer` (its own timer thread), never the host's runtime.
mod config;
mod embedding;

use std::time::Duration;

use modelport_plugin::{
    CallParams, ChatCall, ChatMessage, ChatResponse, ChatRole, CompletionRequest,
    CompletionResponse, Content, FinishReason, FunctionCall, LLMProvider, LLMProviderFactory,
    PluginError, StreamChunk, StreamSender, Tool, ToolCall, Usage, async_trait, export_plugin,
};

use config::{Rule, ScriptedConfig};

/// The plugin's factory.
#[derive(Default)]
pub struct ScriptedFactory;

#[async_trait]
impl LLMProviderFactory for ScriptedFactory {
    fn name(&self) -> String {
        "scripted".into()
    }

    fn api_key_name(&self) -> Option<String> {
        Some("SCRIPTED_API_KEY".into())
    }

    fn config_schema(&self) -> String {
        config::schema().to_string()
    }

    fn from_config(&self, config: &str) -> Result<Box<dyn LLMProvider>, PluginError> {
        Ok(Box::new(Scripted {
            raw_config: config.to_string(),
            config: ScriptedConfig::parse(config)?,
        }))
    }

    async fn list_models(&self, config: &str) -> Result<Vec<String>, PluginError> {
        let config = ScriptedConfig::parse(config)?;
        config.delay().await;
        Ok(config.models.clone())
    }
}

/// A configured scripted provider.
pub struct Scripted {
    raw_config: String,
    config: ScriptedConfig,
}

fn words(text: &str) -> u32 {
    text.split_whitespace().count() as u32
}

impl Scripted {
    fn check_key(&self) -> Result<(), PluginError> {
        match &self.config.require_api_key {
            Some(expected) if self.config.api_key.as_ref() != Some(expected) => {
                Err(PluginError::new(
                    modelport_plugin::PluginErrorKind::AuthError,
                    "api_key missing or wrong",
                )
                .with_status(401))
            }
            _ => Ok(()),
        }
    }

    /// Fills `{{input}}`, `{{config}}`, `{{system}}` and `{{message_count}}` in a reply template.
    fn render(&self, template: &str, input: &str, message_count: usize) -> String {
        template
            .replace("{{input}}", input)
            .replace("{{config}}", &self.raw_config)
            .replace("{{system}}", &self.config.system_prompts().join("\n"))
            .replace("{{message_count}}", &message_count.to_string())
    }

    fn rule_for(&self, input: &str) -> Option<&Rule> {
        self.config.rules.iter().find(|rule| rule.matches(input))
    }
}

/// The text of the last user message, or of the last tool result when that came last.
fn last_input(messages: &[ChatMessage]) -> String {
    let Some(last) = messages.iter().rev().find(|m| m.role == ChatRole::User) else {
        return String::new();
    };
    let text = last.text();
    if !text.is_empty() {
        return text;
    }
    last.content
        .iter()
        .filter_map(|part| match part {
            Content::ToolResult { content, .. } => Some(
                content
                    .iter()
                    .filter_map(|c| match c {
                        Content::Text { text } => Some(text.as_str()),
                        _ => None,
                    })
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Scripted {
    /// This provider with a call's own settings laid over its config (those its schema takes).
    fn for_call(&self, params: &CallParams) -> Result<Option<Scripted>, PluginError> {
        if params.is_empty() {
            return Ok(None);
        }
        let schema = config::schema();
        let accepts = |key: &str| schema["properties"].get(key).is_some();
        let base = serde_json::from_str(&self.raw_config)?;
        let merged = serde_json::Value::Object(params.overlay(base, accepts)?).to_string();
        Ok(Some(Scripted {
            config: ScriptedConfig::parse(&merged)?,
            raw_config: merged,
        }))
    }
}

#[async_trait]
impl LLMProvider for Scripted {
    async fn chat_call(&self, call: &ChatCall<'_>) -> Result<ChatResponse, PluginError> {
        match self.for_call(call.params)? {
            Some(derived) => derived.chat(call.messages, call.tools).await,
            None => self.chat(call.messages, call.tools).await,
        }
    }

    fn supports_streaming(&self) -> bool {
        true
    }

    /// The reply as events, as they are ready: word by word `stream_interval_ms` apart when set.
    async fn chat_stream(
        &self,
        call: &ChatCall<'_>,
        events: &StreamSender,
    ) -> Result<(), PluginError> {
        let derived = self.for_call(call.params)?;
        let this = derived.as_ref().unwrap_or(self);
        let mut response = this.chat(call.messages, call.tools).await?;
        // Word by word when asked; the rest (tool calls, usage, done) as any answer's events.
        if let (Some(interval), Some(text)) = (this.config.stream_interval_ms, &response.text) {
            for (i, word) in text.split_inclusive(' ').enumerate() {
                if i > 0 && interval > 0 {
                    futures_timer::Delay::new(Duration::from_millis(interval)).await;
                }
                if !events.send(StreamChunk::Text(word.to_string())) {
                    return Ok(());
                }
            }
            response.text = None;
        }
        for event in response.into_events() {
            events.send(event);
        }
        Ok(())
    }

    async fn chat(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Result<ChatResponse, PluginError> {
        self.config.delay().await;
        self.check_key()?;
        let input = last_input(messages);
        let rule = self.rule_for(&input);
        if let Some(error) = rule.and_then(|r| r.error.clone()) {
            return Err(error);
        }
        let offered = |name: &str| {
            tools
                .unwrap_or_default()
                .iter()
                .any(|t| t.function.name == name)
        };
        let tool_calls: Vec<ToolCall> = rule
            .map(|r| r.tool_calls.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|call| offered(&call.name))
            .enumerate()
            .map(|(i, call)| ToolCall {
                id: format!("call_{}_{i}", messages.len()),
                call_type: "function".into(),
                function: FunctionCall {
                    name: call.name.clone(),
                    arguments: call.arguments.to_string(),
                },
            })
            .collect();
        let template = rule
            .and_then(|r| r.reply.as_deref())
            .unwrap_or(&self.config.default_reply);
        let mut text = self.render(template, &input, messages.len());
        if let Some(max) = self.config.max_tokens {
            text = text
                .split_whitespace()
                .take(max as usize)
                .collect::<Vec<_>>()
                .join(" ");
        }
        let input_tokens = messages.iter().map(|m| words(&m.text())).sum();
        let finish = if tool_calls.is_empty() {
            FinishReason::Stop
        } else {
            FinishReason::ToolCalls
        };
        Ok(ChatResponse {
            usage: Some(Usage {
                input_tokens,
                output_tokens: words(&text),
                ..Usage::default()
            }),
            text: (tool_calls.is_empty() || !text.is_empty()).then_some(text),
            tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
            thinking: None,
            finish_reason: Some(finish),
        })
    }

    async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, PluginError> {
        self.config.delay().await;
        self.check_key()?;
        Ok(inputs
            .iter()
            .map(|text| embedding::vector(text, self.config.embedding_dimensions))
            .collect())
    }

    async fn complete(
        &self,
        request: &CompletionRequest,
    ) -> Result<CompletionResponse, PluginError> {
        self.config.delay().await;
        self.check_key()?;
        let rule = self.rule_for(&request.prompt);
        if let Some(error) = rule.and_then(|r| r.error.clone()) {
            return Err(error);
        }
        let template = rule
            .and_then(|r| r.reply.as_deref())
            .unwrap_or(&self.config.default_reply);
        let mut text = self.render(template, &request.prompt, 1);
        if let Some(max) = request.max_tokens {
            text = text
                .split_whitespace()
                .take(max as usize)
                .collect::<Vec<_>>()
                .join(" ");
        }
        Ok(CompletionResponse { text })
    }
}

impl ScriptedConfig {
    async fn delay(&self) {
        if self.latency_ms > 0 {
            futures_timer::Delay::new(Duration::from_millis(self.latency_ms)).await;
        }
    }
}

export_plugin!(ScriptedFactory);
