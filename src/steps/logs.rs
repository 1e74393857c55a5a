//! The `logs` step (being written).

use anyhow::Result;

use crate::step::{Outcome, Step, UnitCx};

pub(crate) struct Logs;

impl Step for Logs {
    fn name(&self) -> &'static str {
        "logs"
    }
    fn title(&self) -> &'static str {
        "Log Review"
    }
    fn run(&self, _cx: &mut UnitCx<'_>) -> Result<Outcome> {
        anyhow::bail!("logs is being written")
    }
}
