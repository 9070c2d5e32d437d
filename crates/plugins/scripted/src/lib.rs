//! The `scripted` provider plugin: answers from rules in its config, with no network. Useful for
//! tests of code built on modelport, demos, and offline development.
//!
//! It is a non-HTTP plugin (`plugin_factory`): it does its work itself, asynchronously. Its
//! simulated latency uses `futures-timer` (its own timer thread), never the host's runtime.
mod config;
mod embedding;

use std::time::Duration;

use modelport_plugin::{
    ChatMessage, ChatResponse, ChatRole, CompletionRequest, CompletionResponse, Content,
    FinishReason, FunctionCall, LLMProvider, LLMProviderFactory, PluginError, Tool, ToolCall,
    Usage, async_trait, export_plugin,
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

#[async_trait]
impl LLMProvider for Scripted {
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
