//! A test suite's output turned into failing tests, and the command that reruns one of them: the parsing half
//! of the test-driven fix loop (run the project's tests, rerun each failure alone to spot flaky ones, group the
//! failures by their innermost project frame, compare the failing ids before and after a fix).
//!
//! Every runner prints differently, so each has its own parser; they share [`Failure`], the clipping of its text
//! and the dispatch in [`parse`]. The fixtures in `tests/fixtures/test-output/` are real captures of each runner.

mod command;
mod frames;
mod go;
mod jest;
mod junit;
mod node;
mod parse;
mod pytest;
mod rust;
mod shell;

pub(crate) use self::command::{Runner, runner, single_command};
pub(crate) use self::frames::{Frame, frames};
pub(crate) use self::junit::parse_junit;
pub(crate) use self::parse::{Failure, parse};

/// What the parsers' tests share.
#[cfg(test)]
pub(super) mod testing {
    use super::Failure;

    /// The failure whose id is `id`; the test fails naming it when there is none.
    pub(crate) fn by_id<'a>(failures: &'a [Failure], id: &str) -> &'a Failure {
        failures
            .iter()
            .find(|failure| failure.test == id)
            .unwrap_or_else(|| panic!("no failure {id}"))
    }

    /// Each `(id, message)`: the failure of that id has that message.
    pub(crate) fn assert_messages(failures: &[Failure], expected: &[(&str, &str)]) {
        for (id, message) in expected {
            assert_eq!(by_id(failures, id).message, *message, "the message of {id}");
        }
    }

    /// Each failure as (test, error type, message), for comparing a whole parse at once.
    pub(crate) fn ids_types_messages(failures: &[Failure]) -> Vec<(&str, &str, &str)> {
        failures
            .iter()
            .map(|failure| {
                (
                    failure.test.as_str(),
                    failure.error_type.as_str(),
                    failure.message.as_str(),
                )
            })
            .collect()
    }
}
