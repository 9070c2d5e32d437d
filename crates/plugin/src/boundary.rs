//! What the host calls: object-safe traits whose every method returns [`Guarded`], implemented
//! by guard wrappers around the author's traits. The export macros build these trait objects in
//! the plugin, so their vtables (and the `catch_unwind` inside) are the plugin's own code.
use futures::FutureExt;
use futures::future::BoxFuture;

use crate::audio::{SttRequest, SttResponse, TtsRequest, TtsResponse};
use crate::error::PluginError;
use crate::http_provider::{
    ChatStreamParser, HTTPLLMProvider, HTTPLLMProviderFactory, HttpRequest, HttpResponse,
};
use crate::message::ChatMessage;
use crate::panic_guard::{Guarded, GuardedFuture, guard, guarded_drop};
use crate::provider::{LLMProvider, LLMProviderFactory};
use crate::response::{ChatResponse, CompletionRequest, CompletionResponse};
use crate::stream::StreamChunk;
use crate::tool::Tool;

/// Host view of an [`HTTPLLMProviderFactory`].
pub trait HttpFactoryBoundary: Send + Sync {
    fn name(&self) -> Guarded<String>;
    fn api_key_name(&self) -> Guarded<Option<String>>;
    fn config_schema(&self) -> Guarded<String>;
    fn from_config(
        &self,
        config: &str,
    ) -> Guarded<Result<Box<dyn HttpProviderBoundary>, PluginError>>;
    fn list_models_request(&self, config: &str) -> Guarded<Result<HttpRequest, PluginError>>;
    fn parse_list_models(
        &self,
        response: HttpResponse,
    ) -> Guarded<Result<Vec<String>, PluginError>>;
    fn list_models_static(&self, config: &str) -> Guarded<Option<Vec<String>>>;
    fn supports_custom_models(&self) -> Guarded<bool>;
}

/// Host view of an [`HTTPLLMProvider`].
pub trait HttpProviderBoundary: Send + Sync {
    fn chat_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Guarded<Result<HttpRequest, PluginError>>;
    fn parse_chat(&self, response: HttpResponse) -> Guarded<Result<ChatResponse, PluginError>>;
    fn supports_streaming(&self) -> Guarded<bool>;
    fn chat_stream_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Guarded<Result<HttpRequest, PluginError>>;
    fn chat_stream_parser(&self) -> Guarded<Result<Box<dyn StreamParserBoundary>, PluginError>>;
    fn classify_error(&self, response: &HttpResponse) -> Guarded<Option<PluginError>>;
    fn embed_request(&self, inputs: &[String]) -> Guarded<Result<HttpRequest, PluginError>>;
    fn parse_embed(&self, response: HttpResponse) -> Guarded<Result<Vec<Vec<f32>>, PluginError>>;
    fn complete_request(
        &self,
        request: &CompletionRequest,
    ) -> Guarded<Result<HttpRequest, PluginError>>;
    fn parse_complete(
        &self,
        response: HttpResponse,
    ) -> Guarded<Result<CompletionResponse, PluginError>>;
    fn stt_request(&self, request: &SttRequest) -> Guarded<Result<HttpRequest, PluginError>>;
    fn parse_stt(&self, response: HttpResponse) -> Guarded<Result<SttResponse, PluginError>>;
    fn tts_request(&self, request: &TtsRequest) -> Guarded<Result<HttpRequest, PluginError>>;
    fn parse_tts(&self, response: HttpResponse) -> Guarded<Result<TtsResponse, PluginError>>;
}

/// Host view of a [`ChatStreamParser`].
pub trait StreamParserBoundary: Send {
    fn parse_chunk(&mut self, chunk: &[u8]) -> Guarded<Result<Vec<StreamChunk>, PluginError>>;
    fn finish(&mut self) -> Guarded<Result<Vec<StreamChunk>, PluginError>>;
}

/// Host view of an [`LLMProviderFactory`].
pub trait FactoryBoundary: Send + Sync {
    fn name(&self) -> Guarded<String>;
    fn api_key_name(&self) -> Guarded<Option<String>>;
    fn config_schema(&self) -> Guarded<String>;
    fn from_config(&self, config: &str) -> Guarded<Result<Box<dyn ProviderBoundary>, PluginError>>;
    fn list_models<'a>(
        &'a self,
        config: &'a str,
    ) -> BoxFuture<'a, Guarded<Result<Vec<String>, PluginError>>>;
}

/// Host view of an [`LLMProvider`].
pub trait ProviderBoundary: Send + Sync {
    fn chat<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        tools: Option<&'a [Tool]>,
    ) -> BoxFuture<'a, Guarded<Result<ChatResponse, PluginError>>>;
    fn embed<'a>(
        &'a self,
        inputs: &'a [String],
    ) -> BoxFuture<'a, Guarded<Result<Vec<Vec<f32>>, PluginError>>>;
    fn complete<'a>(
        &'a self,
        request: &'a CompletionRequest,
    ) -> BoxFuture<'a, Guarded<Result<CompletionResponse, PluginError>>>;
    fn transcribe<'a>(
        &'a self,
        request: &'a SttRequest,
    ) -> BoxFuture<'a, Guarded<Result<SttResponse, PluginError>>>;
    fn speech<'a>(
        &'a self,
        request: &'a TtsRequest,
    ) -> BoxFuture<'a, Guarded<Result<TtsResponse, PluginError>>>;
}

/// Declares a guard wrapper owning an author trait object, dropping it with panics contained.
macro_rules! guard_wrapper {
    ($name:ident, $inner:ty) => {
        pub(crate) struct $name(Option<Box<$inner>>);

        impl $name {
            pub(crate) fn new(inner: Box<$inner>) -> Self {
                Self(Some(inner))
            }

            fn inner(&self) -> &$inner {
                self.0.as_deref().expect("present until dropped")
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                guarded_drop(self.0.take());
            }
        }
    };
}

guard_wrapper!(HttpFactoryGuard, dyn HTTPLLMProviderFactory);
guard_wrapper!(HttpProviderGuard, dyn HTTPLLMProvider);
guard_wrapper!(FactoryGuard, dyn LLMProviderFactory);
guard_wrapper!(ProviderGuard, dyn LLMProvider);

pub(crate) struct StreamParserGuard(Option<Box<dyn ChatStreamParser>>);

impl Drop for StreamParserGuard {
    fn drop(&mut self) {
        guarded_drop(self.0.take());
    }
}

impl HttpFactoryBoundary for HttpFactoryGuard {
    fn name(&self) -> Guarded<String> {
        guard(|| self.inner().name())
    }
    fn api_key_name(&self) -> Guarded<Option<String>> {
        guard(|| self.inner().api_key_name())
    }
    fn config_schema(&self) -> Guarded<String> {
        guard(|| self.inner().config_schema())
    }
    fn from_config(
        &self,
        config: &str,
    ) -> Guarded<Result<Box<dyn HttpProviderBoundary>, PluginError>> {
        guard(|| {
            self.inner().from_config(config).map(|provider| {
                Box::new(HttpProviderGuard::new(provider)) as Box<dyn HttpProviderBoundary>
            })
        })
    }
    fn list_models_request(&self, config: &str) -> Guarded<Result<HttpRequest, PluginError>> {
        guard(|| self.inner().list_models_request(config))
    }
    fn parse_list_models(
        &self,
        response: HttpResponse,
    ) -> Guarded<Result<Vec<String>, PluginError>> {
        guard(|| self.inner().parse_list_models(response))
    }
    fn list_models_static(&self, config: &str) -> Guarded<Option<Vec<String>>> {
        guard(|| self.inner().list_models_static(config))
    }
    fn supports_custom_models(&self) -> Guarded<bool> {
        guard(|| self.inner().supports_custom_models())
    }
}

impl HttpProviderBoundary for HttpProviderGuard {
    fn chat_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Guarded<Result<HttpRequest, PluginError>> {
        guard(|| self.inner().chat_request(messages, tools))
    }
    fn parse_chat(&self, response: HttpResponse) -> Guarded<Result<ChatResponse, PluginError>> {
        guard(|| self.inner().parse_chat(response))
    }
    fn supports_streaming(&self) -> Guarded<bool> {
        guard(|| self.inner().supports_streaming())
    }
    fn chat_stream_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Guarded<Result<HttpRequest, PluginError>> {
        guard(|| self.inner().chat_stream_request(messages, tools))
    }
    fn chat_stream_parser(&self) -> Guarded<Result<Box<dyn StreamParserBoundary>, PluginError>> {
        guard(|| {
            self.inner().chat_stream_parser().map(|parser| {
                Box::new(StreamParserGuard(Some(parser))) as Box<dyn StreamParserBoundary>
            })
        })
    }
    fn classify_error(&self, response: &HttpResponse) -> Guarded<Option<PluginError>> {
        guard(|| self.inner().classify_error(response))
    }
    fn embed_request(&self, inputs: &[String]) -> Guarded<Result<HttpRequest, PluginError>> {
        guard(|| self.inner().embed_request(inputs))
    }
    fn parse_embed(&self, response: HttpResponse) -> Guarded<Result<Vec<Vec<f32>>, PluginError>> {
        guard(|| self.inner().parse_embed(response))
    }
    fn complete_request(
        &self,
        request: &CompletionRequest,
    ) -> Guarded<Result<HttpRequest, PluginError>> {
        guard(|| self.inner().complete_request(request))
    }
    fn parse_complete(
        &self,
        response: HttpResponse,
    ) -> Guarded<Result<CompletionResponse, PluginError>> {
        guard(|| self.inner().parse_complete(response))
    }
    fn stt_request(&self, request: &SttRequest) -> Guarded<Result<HttpRequest, PluginError>> {
        guard(|| self.inner().stt_request(request))
    }
    fn parse_stt(&self, response: HttpResponse) -> Guarded<Result<SttResponse, PluginError>> {
        guard(|| self.inner().parse_stt(response))
    }
    fn tts_request(&self, request: &TtsRequest) -> Guarded<Result<HttpRequest, PluginError>> {
        guard(|| self.inner().tts_request(request))
    }
    fn parse_tts(&self, response: HttpResponse) -> Guarded<Result<TtsResponse, PluginError>> {
        guard(|| self.inner().parse_tts(response))
    }
}

impl StreamParserBoundary for StreamParserGuard {
    fn parse_chunk(&mut self, chunk: &[u8]) -> Guarded<Result<Vec<StreamChunk>, PluginError>> {
        let parser = self.0.as_mut().expect("present until dropped");
        guard(|| parser.parse_chunk(chunk))
    }
    fn finish(&mut self) -> Guarded<Result<Vec<StreamChunk>, PluginError>> {
        let parser = self.0.as_mut().expect("present until dropped");
        guard(|| parser.finish())
    }
}

/// Calls an async author method under [`guard`]: both creating and polling the future.
fn guarded_async<'a, T: Send + 'a>(
    make: impl FnOnce() -> BoxFuture<'a, T>,
) -> BoxFuture<'a, Guarded<T>> {
    match guard(make) {
        Ok(future) => GuardedFuture::new(future).boxed(),
        Err(panic) => futures::future::ready(Err(panic)).boxed(),
    }
}

impl FactoryBoundary for FactoryGuard {
    fn name(&self) -> Guarded<String> {
        guard(|| self.inner().name())
    }
    fn api_key_name(&self) -> Guarded<Option<String>> {
        guard(|| self.inner().api_key_name())
    }
    fn config_schema(&self) -> Guarded<String> {
        guard(|| self.inner().config_schema())
    }
    fn from_config(&self, config: &str) -> Guarded<Result<Box<dyn ProviderBoundary>, PluginError>> {
        guard(|| {
            self.inner()
                .from_config(config)
                .map(|provider| Box::new(ProviderGuard::new(provider)) as Box<dyn ProviderBoundary>)
        })
    }
    fn list_models<'a>(
        &'a self,
        config: &'a str,
    ) -> BoxFuture<'a, Guarded<Result<Vec<String>, PluginError>>> {
        guarded_async(|| self.inner().list_models(config))
    }
}

impl ProviderBoundary for ProviderGuard {
    fn chat<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        tools: Option<&'a [Tool]>,
    ) -> BoxFuture<'a, Guarded<Result<ChatResponse, PluginError>>> {
        guarded_async(|| self.inner().chat(messages, tools))
    }
    fn embed<'a>(
        &'a self,
        inputs: &'a [String],
    ) -> BoxFuture<'a, Guarded<Result<Vec<Vec<f32>>, PluginError>>> {
        guarded_async(|| self.inner().embed(inputs))
    }
    fn complete<'a>(
        &'a self,
        request: &'a CompletionRequest,
    ) -> BoxFuture<'a, Guarded<Result<CompletionResponse, PluginError>>> {
        guarded_async(|| self.inner().complete(request))
    }
    fn transcribe<'a>(
        &'a self,
        request: &'a SttRequest,
    ) -> BoxFuture<'a, Guarded<Result<SttResponse, PluginError>>> {
        guarded_async(|| self.inner().transcribe(request))
    }
    fn speech<'a>(
        &'a self,
        request: &'a TtsRequest,
    ) -> BoxFuture<'a, Guarded<Result<TtsResponse, PluginError>>> {
        guarded_async(|| self.inner().speech(request))
    }
}
