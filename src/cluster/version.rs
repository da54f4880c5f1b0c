//! One c360 version on every process of a cluster. A client's session settings travel with each
//! of its jobs to the scheduler and with each task to the executors; c360 adds its version to
//! them (`c360.version`), and the scheduler and every executor refuse work from another
//! version, whose functions may have other names, arguments or results.

use ballista_core::extension::SessionConfigExt;
use datafusion::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
use datafusion::prelude::SessionConfig;

/// This build's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// c360's session settings that travel with a cluster job (`c360.version`). Written out
/// rather than by DataFusion's `extensions_options!`, whose entries leave out the prefix, so
/// that a receiving process could not tell them from another extension's.
#[derive(Debug, Clone, Default)]
pub struct C360Options {
    /// The version of the c360 that planned the job.
    pub version: String,
}

impl ConfigExtension for C360Options {
    const PREFIX: &'static str = "c360";
}

const VERSION_KEY: &str = "c360.version";

impl ExtensionOptions for C360Options {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> datafusion::common::Result<()> {
        match key {
            "version" => {
                self.version = value.to_string();
                Ok(())
            }
            _ => datafusion::common::config_err!(
                "c360 has no setting '{key}'; its one setting is {VERSION_KEY}"
            ),
        }
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        vec![ConfigEntry {
            key: VERSION_KEY.to_string(),
            value: Some(self.version.clone()),
            description: "The c360 version that planned the job; a cluster runs one version",
        }]
    }
}

/// `config` as a client sends it: with this build's version.
pub fn stamped(config: SessionConfig) -> SessionConfig {
    config.with_option_extension(C360Options {
        version: VERSION.to_string(),
    })
}

/// The settings a scheduler or executor decodes a job's settings into: `c360.version` is
/// known (and empty until the job's settings set it).
pub fn receiving() -> SessionConfig {
    SessionConfig::new_with_ballista().with_option_extension(C360Options::default())
}

/// `Err` naming both versions when the job's settings (`config`) come from another c360 than
/// this `process` (`c360 scheduler`, `c360 executor`).
pub fn check(config: &SessionConfig, process: &str) -> Result<(), String> {
    let theirs = config
        .options()
        .extensions
        .get::<C360Options>()
        .map(|options| options.version.as_str())
        .unwrap_or_default();
    if theirs == VERSION {
        return Ok(());
    }
    let theirs = if theirs.is_empty() {
        "a client that sends no c360 version (another program or an older c360)".to_string()
    } else {
        format!("c360 {theirs}")
    };
    Err(format!(
        "{process} {VERSION} refuses a job from {theirs}: run one c360 version on the \
         scheduler, every executor and every client"
    ))
}

#[cfg(test)]
mod tests {
    use super::{C360Options, VERSION, check, receiving, stamped};
    use datafusion::prelude::SessionConfig;

    #[test]
    fn a_job_of_another_version_is_refused_with_both_versions() {
        assert!(check(&stamped(SessionConfig::new()), "c360 executor").is_ok());
        let mut other = receiving();
        other
            .options_mut()
            .set(super::VERSION_KEY, "0.0.1-old")
            .expect("c360.version is a setting");
        let message = check(&other, "c360 executor").unwrap_err();
        assert!(
            message.starts_with(&format!(
                "c360 executor {VERSION} refuses a job from c360 0.0.1-old"
            )),
            "{message}"
        );
        let message = check(&receiving(), "c360 scheduler").unwrap_err();
        assert!(message.contains("no c360 version"), "{message}");
        assert!(
            receiving()
                .options()
                .extensions
                .get::<C360Options>()
                .is_some()
        );
    }
}
