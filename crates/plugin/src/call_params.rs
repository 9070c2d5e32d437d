//! A chat call's own settings — system prompts, tool choice, generation parameters, extra
//! headers — as they cross the native ABI (`"params"` of a chat input), and how a plugin whose
//! settings live in its config honours them: [`CallParams::overlay`] lays them over a config under
//! the keys QueryMT's builder uses, refusing (`UNSUPPORTED`, naming it) any whose key the plugin
//! does not take.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{PluginError, PluginErrorKind};
use crate::message::ChatMessage;
use crate::tool::Tool;

/// One chat call as a plugin receives it: the conversation, the tools on offer and the call's
/// own settings.
#[derive(Debug, Clone, Copy)]
pub struct ChatCall<'a> {
    pub messages: &'a [ChatMessage],
    pub tools: Option<&'a [Tool]>,
    pub params: &'a CallParams,
}

/// The shape of answer a call asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text (the default).
    Text,
    /// Any JSON object.
    Json,
    /// JSON that follows `schema`.
    JsonSchema {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        schema: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    },
}

/// A chat call's own settings. On the wire: an object with only the fields that are set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallParams {
    /// System prompts for this call, after the config's own `system`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<String>,
    /// Tool choice, in OpenAI's shape (`"auto"`, `"none"`, `"required"`, `{"type":"function",…}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Extra HTTP headers for the upstream request.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Any other config key the plugin accepts, for this call.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub parameters: Map<String, Value>,
}

impl CallParams {
    /// Whether the call sets anything.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `UNSUPPORTED` naming the first setting, if any is set: what a plugin that honours none of
    /// them answers.
    pub fn refuse_all(&self) -> Result<(), PluginError> {
        self.overlay(Map::new(), |_| false).map(|_| ())
    }

    /// `config` with this call's settings laid over it, under the keys QueryMT's builder uses; a
    /// setting whose key `accepts` refuses is `UNSUPPORTED`, naming the setting and the key.
    pub fn overlay(
        &self,
        config: Map<String, Value>,
        accepts: impl Fn(&str) -> bool,
    ) -> Result<Map<String, Value>, PluginError> {
        let mut overlay = Overlay {
            config,
            accepts: &accepts,
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
                if (overlay.accepts)("json_schema") {
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

/// A config being overlaid, with what says which keys it may have.
struct Overlay<'a> {
    config: Map<String, Value>,
    accepts: &'a dyn Fn(&str) -> bool,
}

impl Overlay<'_> {
    fn set(&mut self, what: &str, key: &str, value: Value) -> Result<(), PluginError> {
        if !(self.accepts)(key) {
            return Err(PluginError::new(
                PluginErrorKind::Unsupported,
                format!(
                    "this plugin cannot take {what} per call: its config has no `{key}` property"
                ),
            ));
        }
        self.config.insert(key.into(), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys<'a>(keys: &'a [&'a str]) -> impl Fn(&str) -> bool + 'a {
        move |key| keys.contains(&key)
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
        let accepted = [
            "system",
            "temperature",
            "max_tokens",
            "stop",
            "extra_headers",
        ];
        let merged = params.overlay(config, keys(&accepted)).unwrap();
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
            .overlay(Map::new(), keys(&["temperature"]))
            .unwrap_err();
        assert_eq!(err.kind, PluginErrorKind::Unsupported);
        assert!(
            err.message.contains("topK") && err.message.contains("top_k"),
            "{err}"
        );
        assert!(params.refuse_all().is_err());
        assert!(CallParams::default().refuse_all().is_ok());
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
        let querymt = params.overlay(Map::new(), keys(&["json_schema"])).unwrap();
        assert_eq!(querymt["json_schema"]["name"], "answer");
        let openai = params
            .overlay(Map::new(), keys(&["response_format"]))
            .unwrap();
        assert_eq!(openai["response_format"]["type"], "json_schema");
    }

    #[test]
    fn only_set_fields_cross_the_wire_and_round_trip() {
        assert_eq!(serde_json::to_string(&CallParams::default()).unwrap(), "{}");
        let params = CallParams {
            seed: Some(7),
            response_format: Some(ResponseFormat::Json),
            ..CallParams::default()
        };
        let text = serde_json::to_string(&params).unwrap();
        assert_eq!(text, r#"{"seed":7,"response_format":{"type":"json"}}"#);
        assert_eq!(serde_json::from_str::<CallParams>(&text).unwrap(), params);
    }
}
