//! The steps, in the order they run (DESIGN.md, "Steps, in order"). Adding a step is one file and one line here.

pub(crate) mod autofix;
mod cleanup;
mod docs;
mod logs;
pub(crate) mod reflect;
mod report;
mod sentry;
pub(crate) mod sessions;
pub(crate) mod tasks;
pub(crate) mod tests;

use crate::step::AnyStep;

pub(crate) static ORDER: &[&dyn AnyStep] = &[
    &cleanup::Cleanup,
    &logs::Logs,
    &sessions::Sessions,
    &sentry::Sentry,
    &tasks::Tasks,
    &docs::Docs,
    &tests::Tests,
    &reflect::Reflect,
    &autofix::Autofix,
    &report::Report,
];

/// The step called `name`.
pub(crate) fn find(name: &str) -> Option<&'static dyn AnyStep> {
    ORDER.iter().copied().find(|s| s.name() == name)
}

/// The names of all steps, in order, for messages.
pub(crate) fn names() -> Vec<&'static str> {
    ORDER.iter().map(|s| s.name()).collect()
}
