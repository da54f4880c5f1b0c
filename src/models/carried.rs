//! A model file carried inside a query plan, so that a process that has no copy of the
//! workspace's model folder (an executor of a cluster) scores with exactly the file the client
//! planned with: never a stale copy, never a missing one. The client reads the file when it
//! plans ([`ModelStore::carry`]); the plan's codec writes it beside the function's name
//! ([`Carried::encode`]); a process that decodes the plan parses it once per digest
//! ([`ModelStore::load_carried`]).

use std::any::Any;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use datafusion::common::{DataFusionError, Result};
use serde::de::DeserializeOwned;

use super::store::{Header, ModelStore, parse};

/// What a carried model's encoding starts with (and its format's version).
const MAGIC: &[u8] = b"c360 carried model 1\n";

/// One model file as the client read it when it planned a query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Carried {
    /// The model's name, as the scoring call names it.
    pub name: String,
    /// The file's MD5 (hex): which version of the model this is.
    pub digest: String,
    /// The file's bytes.
    pub file: Arc<[u8]>,
}

impl Carried {
    /// The model `name` whose file holds `file`.
    pub fn new(name: &str, file: Vec<u8>) -> Self {
        Self {
            name: name.to_string(),
            digest: crate::text::md5_hex(&file),
            file: file.into(),
        }
    }

    /// Append the encoding (magic, name length, name, file) to `buf`.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&(self.name.len() as u32).to_le_bytes());
        buf.extend_from_slice(self.name.as_bytes());
        buf.extend_from_slice(&self.file);
    }

    /// The carried model a call naming model `name` scores with: `carried` itself, or `None`
    /// when nothing was carried; an error when the plan carried another model.
    pub fn for_call<'a>(carried: Option<&'a Arc<Self>>, name: &str) -> Result<Option<&'a Self>> {
        match carried {
            Some(carried) if carried.name != name => Err(DataFusionError::Execution(format!(
                "the plan carried model '{}' for a call that names '{name}'",
                carried.name
            ))),
            carried => Ok(carried.map(Arc::as_ref)),
        }
    }

    /// The model an [`encode`](Self::encode) wrote; `None` when `buf` is not one.
    pub fn decode(buf: &[u8]) -> Option<Self> {
        let rest = buf.strip_prefix(MAGIC)?;
        let (length, rest) = rest.split_first_chunk::<4>()?;
        let length = u32::from_le_bytes(*length) as usize;
        if rest.len() < length {
            return None;
        }
        let (name, file) = rest.split_at(length);
        let name = std::str::from_utf8(name).ok()?;
        Some(Self::new(name, file.to_vec()))
    }
}

impl ModelStore {
    /// Model `name`'s file as this process would score with it now (the run's staged file
    /// when the run trained it), to carry in a plan; `None` when there is no such file.
    pub fn carry(&self, name: &str) -> Option<Carried> {
        self.carry_file(&self.path(name).ok()?, name)
    }

    /// Whether [`carry`](Self::carry) would find model `name`'s file.
    pub fn carries(&self, name: &str) -> bool {
        self.path(name).is_ok_and(|path| self.exists(&path))
    }

    /// The model file at `path` (a model kept outside the folder, such as a
    /// `[matching.NAME]`'s) as this process would read it now, carrying the name `name`.
    pub fn carry_file(&self, path: &Path, name: &str) -> Option<Carried> {
        let file = std::fs::read(self.current(path)).ok()?;
        Some(Carried::new(name, file))
    }

    /// The model of `kind` a plan carried with its header, parsed once per digest (a newer
    /// version of the same model replaces the older one in the cache); `retrain` is for the
    /// errors.
    pub fn load_carried<T>(
        &self,
        carried: &Carried,
        kind: &str,
        retrain: &str,
    ) -> Result<(Header, Arc<T>)>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let key = format!("{kind}/carried/{}", carried.name);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, stored)) = cache.get(&key)
            && let Some((digest, header, model)) = stored.downcast_ref::<(String, Header, Arc<T>)>()
            && *digest == carried.digest
        {
            return Ok((header.clone(), Arc::clone(model)));
        }
        let text = std::str::from_utf8(&carried.file).map_err(|e| {
            DataFusionError::Execution(format!(
                "the model '{}' carried in the plan is not text ({e}); {retrain}",
                carried.name
            ))
        })?;
        let shown = format!("{} (carried in the plan)", carried.name);
        let (header, model) = parse::<T>(Path::new(&shown), text, kind, retrain)?;
        let model = Arc::new(model);
        let stored: Arc<dyn Any + Send + Sync> =
            Arc::new((carried.digest.clone(), header.clone(), Arc::clone(&model)));
        cache.insert(key, (SystemTime::UNIX_EPOCH, stored));
        Ok((header, model))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Toy {
        weight: f64,
    }

    #[test]
    fn a_carried_model_round_trips_and_a_new_version_is_read_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ModelStore::in_dir(dir.path().join("models"));
        assert!(store.carry("toy").is_none(), "nothing to carry yet");
        let save = |weight| {
            store
                .save("toy", "toy", "t", vec![], &Toy { weight })
                .expect("saves");
        };
        save(1.0);
        let first = store.carry("toy").expect("carried");
        let mut buf = Vec::new();
        first.encode(&mut buf);
        let decoded = Carried::decode(&buf).expect("decodes");
        assert_eq!(decoded, first);
        assert!(Carried::decode(b"other bytes").is_none());
        assert!(Carried::decode(&buf[..MAGIC.len() + 2]).is_none());
        // Another process (an executor) has no file at all, only what the plan carried.
        let elsewhere = ModelStore::in_dir(dir.path().join("empty"));
        let (_, model) = elsewhere
            .load_carried::<Toy>(&decoded, "toy", "retrain")
            .expect("parses");
        assert_eq!(model.weight, 1.0);
        let e = elsewhere
            .load_carried::<Toy>(&decoded, "churn", "retrain it")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a 'churn' model"), "{e}");
        save(2.0);
        let second = store.carry("toy").expect("carried");
        assert_ne!(second.digest, first.digest);
        let (_, model) = elsewhere
            .load_carried::<Toy>(&second, "toy", "retrain")
            .expect("parses");
        assert_eq!(
            model.weight, 2.0,
            "a retrained model is never scored from the cache"
        );
    }
}
