//! An SDK plugin of type `vector-backend` behind the core's [`VectorBackend`] (the interface the
//! shipped store has): calls block, and a cancelled token stops the plugin's call.
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::Either;
use modelport_plugin::sdk_plugin::VectorBackendInfo;
use tokio_util::sync::CancellationToken;

use super::SdkPlugin;
use crate::error::{ModelportError, Result};
use crate::provider::Health;
use crate::vectors::{Metadata, VectorBackend, VectorItem, VectorQueryResult};

pub struct SdkVectorBackend {
    plugin: SdkPlugin,
    info: VectorBackendInfo,
    closed: AtomicBool,
}

impl SdkVectorBackend {
    /// `plugin` as a vector backend; its `info()` is read once, now.
    pub fn new(plugin: SdkPlugin) -> Result<Self> {
        let info = plugin.vector_info()?;
        Ok(Self {
            plugin,
            info,
            closed: AtomicBool::new(false),
        })
    }

    fn block<T>(
        &self,
        what: &str,
        cancel: &CancellationToken,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(ModelportError::aborted("the vector backend is closed")
                .with_plugin(self.plugin.plugin()));
        }
        let cancelled = std::pin::pin!(cancel.cancelled());
        let work = std::pin::pin!(work);
        match futures::executor::block_on(futures::future::select(cancelled, work)) {
            // Dropping the call stops the plugin's.
            Either::Left(((), _)) => {
                Err(ModelportError::aborted(format!("the {what} was aborted"))
                    .with_plugin(self.plugin.plugin()))
            }
            Either::Right((done, _)) => done,
        }
    }
}

impl VectorBackend for SdkVectorBackend {
    fn upsert(&self, repo: &str, items: Vec<VectorItem>, cancel: &CancellationToken) -> Result<()> {
        self.block("upsert", cancel, self.plugin.upsert(repo, items))
    }

    fn query(
        &self,
        repo: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<&Metadata>,
        cancel: &CancellationToken,
    ) -> Result<Vec<VectorQueryResult>> {
        self.block(
            "query",
            cancel,
            self.plugin.query(repo, vector, top_k, filter),
        )
    }

    /// The seed's `deleteByIds` tells no count: 0.
    fn delete_by_ids(
        &self,
        repo: &str,
        ids: &[String],
        cancel: &CancellationToken,
    ) -> Result<usize> {
        self.block("delete", cancel, self.plugin.delete_by_ids(repo, ids))
            .map(|()| 0)
    }

    fn wipe_repo(&self, repo: &str) -> Result<usize> {
        self.block(
            "wipe",
            &CancellationToken::new(),
            self.plugin.wipe_repo(repo),
        )
        .map(|()| 0)
    }

    fn info(&self) -> VectorBackendInfo {
        self.info.clone()
    }

    fn health(&self) -> Health {
        match self.block(
            "health check",
            &CancellationToken::new(),
            self.plugin.health_check(),
        ) {
            Ok(result) => Health {
                healthy: result.healthy,
                message: result.message.unwrap_or_default(),
                code: None,
            },
            Err(err) => Health {
                healthy: false,
                message: err.message.clone(),
                code: Some(err.code),
            },
        }
    }

    fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        futures::executor::block_on(self.plugin.shutdown())
    }
}
