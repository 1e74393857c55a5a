//! What every fix loop shares: a git worktree of the default branch in a temp directory ([`worktree`]), the
//! checks on the diff a model left there ([`guard`]), the project's tests run confined ([`suite`]) and read as
//! failing tests ([`failures`]), the loop of attempts ([`engine`]) and its record ([`metrics`]), and the record of
//! `daydream build` ([`builds`]).
//!
//! The user's working tree is never touched: every git command that writes runs in the worktree, and the only
//! changes to the user's repository are the fetch of the default branch, the worktree's own metadata and the
//! local branch of the fix, removed when the fix ends (or by the next run after a kill), or kept as the result
//! of `daydream fix`.

pub(crate) mod builds;
pub(crate) mod engine;
pub(crate) mod failures;
pub(crate) mod guard;
pub(crate) mod healing;
pub(crate) mod metrics;
pub(crate) mod suite;
pub(crate) mod worktree;

pub(crate) use guard::{Diff, PathRules};
pub(crate) use suite::{run_tests, tail};
pub(crate) use worktree::{
    AUTHOR_NAME, Worktree, branch, discard, local_has, origin, push, remote_has,
};
