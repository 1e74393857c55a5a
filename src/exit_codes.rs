//! Every exit code daydream can return, in one place.

/// Every selected unit of work is done or skipped.
pub(crate) const OK: u8 = 0;
/// The run finished, but at least one unit of work failed (see `daydream status`).
pub(crate) const UNITS_FAILED: u8 = 1;
/// The command line or the configuration is wrong; nothing was run.
pub(crate) const USAGE: u8 = 2;
/// Another `daydream run` holds the lock of this root.
pub(crate) const LOCKED: u8 = 3;
/// Interrupted by SIGINT (128 + 2); the unit in progress was abandoned and saved as interrupted.
pub(crate) const SIGINT: u8 = 130;
/// Interrupted by SIGTERM (128 + 15); the unit in progress was abandoned and saved as interrupted.
pub(crate) const SIGTERM: u8 = 143;

/// The text `--help` shows after the commands.
pub(crate) const HELP: &str = "\
Exit codes:
  0    every selected unit of work is done or skipped
  1    the run finished with failed units (`daydream status` says which and why)
  2    usage or configuration error; nothing was run
  3    another daydream `run`, `fix` or `watch` holds the lock of this root
  130  interrupted by SIGINT; 143 by SIGTERM (the unit in progress is saved as interrupted)";
