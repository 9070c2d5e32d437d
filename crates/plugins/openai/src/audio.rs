//! OpenAI's audio endpoints: `POST /audio/transcriptions` (a multipart form with the file) and
//! `POST /audio/speech` (JSON in, the audio file's bytes out).
use std::hash::{Hash, Hasher};

use modelport_plugin::http::Method;
use modelport_plugin::{
    HttpRequest, HttpResponse, PluginError, SttRequest, SttResponse, TtsRequest, TtsResponse,
    VoiceConfig,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::OpenAIConfig;
use crate::request::build;

/// OpenAI's transcription model, when neither the call nor the config names one.
pub const DEFAULT_TRANSCRIPTION_MODEL: &str = "whisper-1";
/// OpenAI's speech model, when neither the call nor the config names one.
pub const DEFAULT_SPEECH_MODEL: &str = "tts-1";
/// OpenAI's speech needs a voice; this one when neither the call nor the config names one.
pub const DEFAULT_VOICE: &str = "alloy";

/// A `multipart/form-data` body. Its boundary is chosen so that it occurs nowhere in the parts.
struct MultipartForm {
    parts: Vec<(String, Vec<u8>)>,
}

impl MultipartForm {
    fn new() -> Self {
        Self { parts: Vec::new() }
    }

    fn text(&mut self, name: &str, value: &str) -> Result<(), PluginError> {
        let head = format!(
            "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
            field(name)?
        );
        self.parts.push((head, value.as_bytes().to_vec()));
        Ok(())
    }

    fn file(
        &mut self,
        name: &str,
        filename: &str,
        mime_type: &str,
        bytes: &[u8],
    ) -> Result<(), PluginError> {
        let head = format!(
            "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            field(name)?,
            field(filename)?,
            field(mime_type)?
        );
        self.parts.push((head, bytes.to_vec()));
        Ok(())
    }

    /// The boundary and the body.
    fn finish(self) -> (String, Vec<u8>) {
        let mut nonce: u64 = 0;
        let boundary = loop {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            (nonce, self.parts.len()).hash(&mut hasher);
            let candidate = format!("modelport-{:016x}", hasher.finish());
            let needle = candidate.as_bytes();
            let clash = self
                .parts
                .iter()
                .any(|(head, bytes)| contains(head.as_bytes(), needle) || contains(bytes, needle));
            if !clash {
                break candidate;
            }
            nonce += 1;
        };
        let mut body = Vec::new();
        for (head, bytes) in &self.parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            body.extend_from_slice(head.as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (boundary, body)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A form field's name, file name or type, refused if it would break the part's header.
fn field(value: &str) -> Result<&str, PluginError> {
    if value.chars().any(|c| c == '"' || c == '\r' || c == '\n') {
        return Err(PluginError::invalid_request(format!(
            "{value:?} cannot go in a multipart header"
        )));
    }
    Ok(value)
}

/// The file extension OpenAI guesses the format from, for a MIME type.
fn extension_of(mime_type: &str) -> &str {
    match mime_type {
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" => "m4a",
        "audio/ogg" | "audio/opus" => "ogg",
        "audio/webm" => "webm",
        "audio/flac" => "flac",
        _ => "wav",
    }
}

/// `POST /audio/transcriptions`.
pub fn transcription(
    config: &OpenAIConfig,
    request: &SttRequest,
) -> Result<HttpRequest, PluginError> {
    let model = request
        .model
        .as_deref()
        .or(config.transcription_model.as_deref())
        .unwrap_or(DEFAULT_TRANSCRIPTION_MODEL);
    let mime_type = request.mime_type.as_deref().unwrap_or("audio/wav");
    let filename = match &request.filename {
        Some(name) => name.clone(),
        None => format!("audio.{}", extension_of(mime_type)),
    };
    let mut form = MultipartForm::new();
    form.text("model", model)?;
    form.text("response_format", "json")?;
    if let Some(language) = &request.language {
        form.text("language", language)?;
    }
    if let Some(prompt) = &request.prompt {
        form.text("prompt", prompt)?;
    }
    form.file("file", &filename, mime_type, &request.audio)?;
    let (boundary, body) = form.finish();
    let mut http = build(config, Method::POST, "audio/transcriptions", None)?;
    http.headers_mut().insert(
        "content-type",
        format!("multipart/form-data; boundary={boundary}")
            .parse()
            .map_err(|_| PluginError::invalid_request("bad multipart boundary"))?,
    );
    *http.body_mut() = body;
    Ok(http)
}

/// A transcription: `{"text": …}`.
pub fn transcript(response: &HttpResponse) -> Result<SttResponse, PluginError> {
    #[derive(Deserialize)]
    struct Transcript {
        text: String,
    }
    let parsed: Transcript = serde_json::from_slice(response.body())
        .map_err(|err| PluginError::parse(format!("unexpected transcription response: {err}")))?;
    Ok(SttResponse { text: parsed.text })
}

/// `POST /audio/speech`.
pub fn speech(config: &OpenAIConfig, request: &TtsRequest) -> Result<HttpRequest, PluginError> {
    let voice = match &request.voice_config {
        Some(VoiceConfig::Preset { name }) => name.as_str(),
        Some(VoiceConfig::Clone { .. } | VoiceConfig::Design { .. }) => {
            return Err(PluginError::unsupported(
                "cloned or designed voices (OpenAI's speech has preset voices only)",
            ));
        }
        None => config.voice.as_deref().unwrap_or(DEFAULT_VOICE),
    };
    let model = request
        .model
        .as_deref()
        .or(config.speech_model.as_deref())
        .unwrap_or(DEFAULT_SPEECH_MODEL);
    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert("input".into(), request.text.clone().into());
    body.insert("voice".into(), voice.into());
    if let Some(format) = &request.format {
        body.insert("response_format".into(), format.clone().into());
    }
    if let Some(speed) = request.speed {
        body.insert("speed".into(), json!(speed));
    }
    build(
        config,
        Method::POST,
        "audio/speech",
        Some(Value::Object(body)),
    )
}

/// Spoken audio: the body's bytes, typed by the response's `content-type`.
pub fn spoken(response: HttpResponse) -> Result<TtsResponse, PluginError> {
    let mime_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
    if mime_type.as_deref() == Some("application/json") {
        return Err(PluginError::parse(
            "the speech endpoint answered JSON, not audio",
        ));
    }
    Ok(TtsResponse {
        audio: response.into_body(),
        mime_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_never_occurs_in_the_parts() {
        let mut form = MultipartForm::new();
        form.text("model", "m").unwrap();
        let (boundary, _) = MultipartForm {
            parts: form.parts.clone(),
        }
        .finish();
        // A file that contains the boundary the form would have picked.
        form.file("file", "a.wav", "audio/wav", boundary.as_bytes())
            .unwrap();
        let (chosen, body) = form.finish();
        assert_ne!(chosen, boundary);
        let text = String::from_utf8_lossy(&body);
        assert_eq!(text.matches(&format!("--{chosen}\r\n")).count(), 2);
        assert!(text.ends_with(&format!("--{chosen}--\r\n")));
    }

    #[test]
    fn header_breaking_names_are_refused() {
        let mut form = MultipartForm::new();
        assert!(form.file("file", "a\".wav", "audio/wav", b"").is_err());
    }
}
