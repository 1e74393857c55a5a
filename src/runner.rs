//! The step x project loop.

use crate::cli::{Global, RunArgs};

pub(crate) fn run(_global: &Global, _args: &RunArgs) -> anyhow::Result<u8> {
    Ok(0)
}
