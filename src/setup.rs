//! Where every command starts: the root (`--root`, `DAYDREAM_ROOT`, or the current directory), its `.env`
//! over the process environment, the clock, and the path of `config/projects.json`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::UsageError;
use crate::clock::Clock;
use crate::config::{self, Config};
use crate::env::Env;
use crate::paths::Paths;

/// The root, its environment, clock and configuration: what every command starts from.
pub(crate) struct Setup {
    pub(crate) paths: Paths,
    pub(crate) env: Env,
    pub(crate) clock: Clock,
    pub(crate) config_path: PathBuf,
}

impl Setup {
    pub(crate) fn new(root: Option<&Path>, config: Option<&Path>) -> Result<Setup> {
        let root = match root {
            Some(r) => r.to_owned(),
            None => std::env::current_dir().context("failed to read the current directory")?,
        };
        let root = if root.is_absolute() {
            root
        } else {
            std::env::current_dir()?.join(root)
        };
        if !root.is_dir() {
            return Err(UsageError(format!(
                "the root `{}` is not a directory\n  fix: pass `--root DIR` (or set `DAYDREAM_ROOT`) to the directory that holds `config/projects.json`",
                root.display()
            ))
            .into());
        }
        let env = Env::load(&root).map_err(|err| UsageError(format!("{err:#}")))?;
        let clock = Clock::from_env(&env).map_err(|err| UsageError(format!("{err:#}")))?;
        let config_path =
            config.map_or_else(|| root.join("config").join("projects.json"), env_path);
        Ok(Setup {
            paths: Paths::new(root),
            env,
            clock,
            config_path,
        })
    }

    pub(crate) fn load_config(&self) -> Result<Config, config::ConfigError> {
        config::load(&self.config_path, &self.paths.root, &self.env)
    }
}

fn env_path(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        std::env::current_dir().map_or_else(|_| p.to_owned(), |d| d.join(p))
    }
}
