//! Object stores created on first use from a URL, configured from the environment the way the
//! `object_store` builders do (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`,
//! `GOOGLE_SERVICE_ACCOUNT`, `AZURE_STORAGE_ACCOUNT_NAME`, ...).
//!
//! The same registry serves sources declared in `c360.toml`, `CREATE EXTERNAL TABLE` in SQL and
//! the pipeline's published outputs, so every URL a user can type works everywhere.

use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use url::Url;

/// URL schemes c360 can read and write besides `file://`.
pub const REMOTE_SCHEMES: &[&str] = &[
    "s3", "s3a", "gs", "az", "adl", "azure", "abfs", "abfss", "http", "https",
];

/// An [`ObjectStoreRegistry`] that builds a store for an `s3://`, `gs://`, `az://`, `abfs://`
/// or `http(s)://` URL the first time it is asked for one.
#[derive(Debug, Default)]
pub struct EnvObjectStoreRegistry {
    inner: DefaultObjectStoreRegistry,
}

impl EnvObjectStoreRegistry {
    /// A registry with the local file system registered.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ObjectStoreRegistry for EnvObjectStoreRegistry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.inner.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        self.inner.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.inner.get_store(url) {
            return Ok(store);
        }
        let store = build_store(url)?;
        self.inner.register_store(url, Arc::clone(&store));
        Ok(store)
    }
}

/// Build a store for the bucket or host of `url` from the environment.
fn build_store(url: &Url) -> Result<Arc<dyn ObjectStore>> {
    let scheme = url.scheme();
    let Some(host) = url.host_str() else {
        return Err(DataFusionError::Plan(format!(
            "'{url}' has no bucket or host; expected e.g. s3://bucket/path/"
        )));
    };
    let built = match scheme {
        "s3" | "s3a" => AmazonS3Builder::from_env()
            .with_url(url.as_str())
            .build()
            .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
        "gs" => GoogleCloudStorageBuilder::from_env()
            .with_url(url.as_str())
            .build()
            .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
        "az" | "adl" | "azure" | "abfs" | "abfss" => MicrosoftAzureBuilder::from_env()
            .with_url(url.as_str())
            .build()
            .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
        "http" | "https" => {
            let origin = match url.port() {
                Some(port) => format!("{scheme}://{host}:{port}"),
                None => format!("{scheme}://{host}"),
            };
            HttpBuilder::new()
                .with_url(origin)
                .with_client_options(
                    object_store::ClientOptions::new().with_allow_http(scheme == "http"),
                )
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        }
        other => {
            return Err(DataFusionError::Plan(format!(
                "no object store for '{url}': scheme '{other}' is not supported; use a local \
                 path or one of file, {}",
                REMOTE_SCHEMES.join(", ")
            )));
        }
    };
    built.map_err(|e| {
        DataFusionError::Plan(format!(
            "cannot open object store for '{scheme}://{host}': {e}; {}",
            credentials_hint(scheme)
        ))
    })
}

/// Which environment variables configure a scheme's store.
pub fn credentials_hint(scheme: &str) -> &'static str {
    match scheme {
        "s3" | "s3a" => {
            "set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (and AWS_ENDPOINT, \
             AWS_ALLOW_HTTP=true for a local S3-compatible server)"
        }
        "gs" => "set GOOGLE_SERVICE_ACCOUNT (a key file path) or GOOGLE_SERVICE_ACCOUNT_KEY",
        "az" | "adl" | "azure" | "abfs" | "abfss" => {
            "set AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY (or a SAS/token)"
        }
        _ => "check the URL",
    }
}
