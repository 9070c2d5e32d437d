//! Speech-to-text and text-to-speech, in QueryMT's shapes (`stt::SttRequest`, `tts::TtsRequest`).
use serde::{Deserialize, Serialize};

/// Audio to transcribe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SttRequest {
    /// The audio file's bytes.
    pub audio: Vec<u8>,
    /// The file name to send with it (providers guess the format from it), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Its MIME type (`audio/wav`, `audio/mpeg`, …), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The model, when not the configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The spoken language (ISO-639-1), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Text that guides the transcription (spelling, style). A modelport extension: QueryMT's
    /// request has no such field, so plugins built with QueryMT's macros ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

/// A transcription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SttResponse {
    /// What was said.
    pub text: String,
}

/// Which voice speaks (QueryMT's `VoiceConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VoiceConfig {
    /// A voice the provider offers, by name.
    Preset { name: String },
    /// A voice cloned from reference audio.
    Clone {
        reference_audio: Vec<u8>,
        reference_text: String,
    },
    /// A voice described in words.
    Design { description: String },
}

/// Text to speak.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TtsRequest {
    /// What to say.
    pub text: String,
    /// The model, when not the configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The voice, when not the provider's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_config: Option<VoiceConfig>,
    /// The audio format (`mp3`, `wav`, `opus`, …), when not the provider's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Speaking speed (1.0 normal), where supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f32>,
    /// The language to speak, where supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// Spoken audio.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TtsResponse {
    /// The audio file's bytes.
    pub audio: Vec<u8>,
    /// Its MIME type, when the provider said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}
