//! The `cleanup` step (being written).

use anyhow::Result;

use crate::step::{Outcome, Step, UnitCx};

pub(crate) struct Cleanup;

impl Step for Cleanup {
    fn name(&self) -> &'static str {
        "cleanup"
    }
    fn title(&self) -> &'static str {
        "Cleanup"
    }
    fn run(&self, _cx: &mut UnitCx<'_>) -> Result<Outcome> {
        anyhow::bail!("cleanup is being written")
    }
}
