//! Tools offered to the model and the tool calls it makes.
use serde::{Deserialize, Serialize};

/// A tool the model may call: `{"type":"function","function":{name,description,parameters}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Always `"function"` today.
    #[serde(rename = "type")]
    pub tool_type: String,
    /// The function's name, description and JSON Schema parameters.
    pub function: FunctionTool,
}

impl Tool {
    /// A function tool.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: serde_json::Value,
    ) -> Self {
        Self {
            tool_type: "function".into(),
            function: FunctionTool {
                name: name.into(),
                description: description.into(),
                parameters,
            },
        }
    }
}

/// The function part of a [`Tool`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
    /// Name the model uses to call it.
    pub name: String,
    /// What it does, for the model.
    #[serde(default)]
    pub description: String,
    /// JSON Schema of its arguments.
    pub parameters: serde_json::Value,
}

/// A call the model made: `{id,"type":"function","function":{name,arguments}}`; `arguments` is
/// the JSON text exactly as the model produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-assigned id, echoed back in the tool result.
    pub id: String,
    /// Always `"function"` today.
    #[serde(rename = "type", default = "function_type")]
    pub call_type: String,
    /// Which function and with which arguments.
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".into()
}

/// The function part of a [`ToolCall`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// The called function's name.
    pub name: String,
    /// The arguments as JSON text.
    pub arguments: String,
}
