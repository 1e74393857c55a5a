//! The environment daydream reads its knobs and secrets from: the process environment over the root's `.env`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};

/// Variables from `.env` in the root, overridden by the real environment.
#[derive(Clone, Debug, Default)]
pub(crate) struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// Reads `<root>/.env` if present, then the process environment on top of it.
    pub(crate) fn load(root: &Path) -> Result<Env> {
        let mut vars = BTreeMap::new();
        let dotenv = root.join(".env");
        if dotenv.is_file() {
            let items = dotenvy::from_path_iter(&dotenv)
                .with_context(|| format!("failed to read `{}`", dotenv.display()))?;
            for item in items {
                let (key, value) = item.map_err(|err| {
                    anyhow::anyhow!(
                        "failed to parse `{}`: {err}\n  fix: each line must be `NAME=value` (quotes allowed, `#` starts a comment)",
                        dotenv.display()
                    )
                })?;
                vars.insert(key, value);
            }
        }
        for (key, value) in std::env::vars_os() {
            if let (Ok(key), Ok(value)) = (key.into_string(), value.into_string()) {
                vars.insert(key, value);
            }
        }
        Ok(Env { vars })
    }

    #[cfg(test)]
    pub(crate) fn from_pairs<const N: usize>(pairs: [(&str, &str); N]) -> Env {
        Env {
            vars: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[cfg(test)]
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_owned(), value.to_owned());
    }

    /// The value of `name`, if set and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The variables of `names` that are set, with their values, in the order of `names`.
    pub(crate) fn pick(&self, names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .filter_map(|&name| Some((name.to_owned(), self.get(name)?.to_owned())))
            .collect()
    }

    /// Every variable with a non-empty value, in name order.
    pub(crate) fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `name` parsed as `T`, or `default` when unset; a value that does not parse is an error naming it.
    pub(crate) fn parse_or<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|err| anyhow::anyhow!("failed to read `{name}={raw}`: {err}")),
        }
    }
}
