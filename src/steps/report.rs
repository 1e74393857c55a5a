//! The `report` step (being written).

use anyhow::Result;

use crate::step::{Outcome, Scope, Step, UnitCx};

pub(crate) struct Report;

impl Step for Report {
    fn name(&self) -> &'static str {
        "report"
    }
    fn title(&self) -> &'static str {
        "Report"
    }
    fn scope(&self) -> Scope {
        Scope::Run
    }
    fn follows_state(&self) -> bool {
        true
    }
    fn run(&self, _cx: &mut UnitCx<'_>) -> Result<Outcome> {
        anyhow::bail!("report is being written")
    }
}
