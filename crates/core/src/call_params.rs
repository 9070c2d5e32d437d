//! A chat call's own settings — system prompts, tool choice, generation parameters, extra
//! headers — and how they reach plugins whose protocol carries such settings only in their
//! config (QueryMT's): laid over the provider's config under the keys QueryMT's builder uses,
//! each refused (`UNSUPPORTED`, naming it) if the plugin's config schema has no such key.
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::config::ConfigSchema;
use crate::error::{ErrorCode, ModelportError, Result};

/// The shape of answer a call asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    /// Free text (the default).
    Text,
    /// Any JSON object.
    Json,
    /// JSON that follows `schema`.
    JsonSchema {
        name: String,
        description: Option<String>,
        schema: Value,
        strict: Option<bool>,
    },
}

/// A chat call's own settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallParams {
    /// System prompts for this call, appended to the config's `system`.
    pub system: Vec<String>,
    /// Tool choice (the wire shape plugins take: OpenAI's).
    pub tool_choice: Option<Value>,
    pub temperature: Option<f64>,
    pub max_output_tokens: Option<u32>,
    pub top_p: Option<f64>,
    pub top_k: Option<u32>,
    pub stop_sequences: Option<Vec<String>>,
    pub seed: Option<i64>,
    pub response_format: Option<ResponseFormat>,
    /// Extra HTTP headers for the upstream request.
    pub headers: BTreeMap<String, String>,
    /// Any other config key the plugin's schema accepts, for this call.
    pub parameters: Map<String, Value>,
}

impl CallParams {
    /// Whether the call sets anything (else the provider's own config serves as is).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `config` with this call's settings laid over it, under the keys QueryMT's builder uses;
    /// a setting whose key the plugin's `schema` lacks is `UNSUPPORTED`.
    pub(crate) fn overlay(
        &self,
        config: Map<String, Value>,
        schema: &ConfigSchema,
        plugin: &str,
    ) -> Result<Map<String, Value>> {
        let mut overlay = Overlay {
            config,
            schema,
            plugin,
        };
        if !self.system.is_empty() {
            let mut prompts: Vec<Value> = match overlay.config.get("system") {
                Some(Value::Array(items)) => items.clone(),
                Some(Value::String(text)) => vec![Value::String(text.clone())],
                _ => Vec::new(),
            };
            prompts.extend(self.system.iter().cloned().map(Value::String));
            overlay.set("system messages", "system", Value::Array(prompts))?;
        }
        if let Some(choice) = &self.tool_choice {
            overlay.set("toolChoice", "tool_choice", choice.clone())?;
        }
        if let Some(value) = self.temperature {
            overlay.set("temperature", "temperature", json!(value))?;
        }
        if let Some(value) = self.max_output_tokens {
            overlay.set("maxOutputTokens", "max_tokens", json!(value))?;
        }
        if let Some(value) = self.top_p {
            overlay.set("topP", "top_p", json!(value))?;
        }
        if let Some(value) = self.top_k {
            overlay.set("topK", "top_k", json!(value))?;
        }
        if let Some(value) = &self.stop_sequences {
            overlay.set("stopSequences", "stop", json!(value))?;
        }
        if let Some(value) = self.seed {
            overlay.set("seed", "seed", json!(value))?;
        }
        match &self.response_format {
            None | Some(ResponseFormat::Text) => {}
            Some(ResponseFormat::Json) => overlay.set(
                "responseFormat 'json'",
                "response_format",
                json!({"type": "json_object"}),
            )?,
            Some(ResponseFormat::JsonSchema {
                name,
                description,
                schema,
                strict,
            }) => {
                let format = json!({
                    "name": name, "description": description, "schema": schema, "strict": strict,
                });
                // QueryMT's providers take a `json_schema`; OpenAI-shaped ones a `response_format`.
                if overlay.schema.has_property("json_schema") {
                    overlay.set("responseFormat", "json_schema", format)?;
                } else {
                    let wire = json!({"type": "json_schema", "json_schema": format});
                    overlay.set("responseFormat", "response_format", wire)?;
                }
            }
        }
        if !self.headers.is_empty() {
            let mut headers = match overlay.config.get("extra_headers") {
                Some(Value::Object(existing)) => existing.clone(),
                _ => Map::new(),
            };
            for (name, value) in &self.headers {
                headers.insert(name.clone(), Value::String(value.clone()));
            }
            overlay.set("headers", "extra_headers", Value::Object(headers))?;
        }
        for (key, value) in &self.parameters {
            overlay.set(&format!("the parameter `{key}`"), key, value.clone())?;
        }
        Ok(overlay.config)
    }
}

/// A config being overlaid, with the schema that says which keys it may have.
struct Overlay<'a> {
    config: Map<String, Value>,
    schema: &'a ConfigSchema,
    plugin: &'a str,
}

impl Overlay<'_> {
    fn set(&mut self, what: &str, key: &str, value: Value) -> Result<()> {
        if !self.schema.has_property(key) {
            return Err(ModelportError::new(
                ErrorCode::Unsupported,
                format!(
                    "this plugin cannot take {what} per call: its config has no `{key}` property"
                ),
            )
            .with_plugin(self.plugin));
        }
        self.config.insert(key.into(), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(keys: &[&str]) -> ConfigSchema {
        let properties: Map<String, Value> =
            keys.iter().map(|k| (k.to_string(), json!({}))).collect();
        ConfigSchema::compile(&json!({"type": "object", "properties": properties}).to_string())
            .unwrap()
    }

    #[test]
    fn settings_land_under_querymts_keys() {
        let params = CallParams {
            system: vec!["be brief".into()],
            temperature: Some(0.5),
            max_output_tokens: Some(64),
            stop_sequences: Some(vec!["END".into()]),
            headers: [("x-trace".to_string(), "1".to_string())].into(),
            ..CallParams::default()
        };
        let mut config = Map::new();
        config.insert("system".into(), json!("you are a bot"));
        let keys = [
            "system",
            "temperature",
            "max_tokens",
            "stop",
            "extra_headers",
        ];
        let merged = params.overlay(config, &schema(&keys), "p").unwrap();
        assert_eq!(merged["system"], json!(["you are a bot", "be brief"]));
        assert_eq!(merged["temperature"], json!(0.5));
        assert_eq!(merged["max_tokens"], json!(64));
        assert_eq!(merged["stop"], json!(["END"]));
        assert_eq!(merged["extra_headers"], json!({"x-trace": "1"}));
    }

    #[test]
    fn a_setting_without_a_key_is_unsupported_and_named() {
        let params = CallParams {
            top_k: Some(5),
            ..CallParams::default()
        };
        let err = params
            .overlay(Map::new(), &schema(&["temperature"]), "p")
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Unsupported);
        assert!(
            err.message.contains("topK") && err.message.contains("top_k"),
            "{err}"
        );
    }

    #[test]
    fn a_json_schema_goes_where_the_plugin_takes_it() {
        let params = CallParams {
            response_format: Some(ResponseFormat::JsonSchema {
                name: "answer".into(),
                description: None,
                schema: json!({"type": "object"}),
                strict: Some(true),
            }),
            ..CallParams::default()
        };
        let querymt = params
            .overlay(Map::new(), &schema(&["json_schema"]), "p")
            .unwrap();
        assert_eq!(querymt["json_schema"]["name"], "answer");
        let openai = params
            .overlay(Map::new(), &schema(&["response_format"]), "p")
            .unwrap();
        assert_eq!(openai["response_format"]["type"], "json_schema");
    }
}
