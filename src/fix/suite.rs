//! The project's tests, run confined in a worktree.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::cancel::Cancel;
use crate::exec::ExecError;
use crate::sandbox::Jail;

/// The project's test command, confined by `jail` in the worktree `dir` (whose git directory `git_dir` it may
/// read). `Ok(Err(output))` when the tests fail; the output is the end of what they printed.
pub(crate) fn run_tests(
    jail: &Jail,
    dir: &Path,
    git_dir: &Path,
    command: &str,
    timeout: Duration,
    cancel: &Cancel,
) -> Result<Result<String, String>> {
    let confined = jail.shell(dir, &[git_dir.to_owned()], command)?;
    let cmd = confined.cmd.clone().timeout(timeout).cancel(cancel);
    match cmd.run_any() {
        Ok(done) => {
            let mut output = String::from_utf8_lossy(&done.stdout).into_owned();
            output.push_str(&String::from_utf8_lossy(&done.stderr));
            let output = tail(&output, 1500);
            match done.code {
                Some(0) => Ok(Ok(output)),
                Some(code) => Ok(Err(format!("`{command}` exited with {code}: {output}"))),
                None => Ok(Err(format!("`{command}` was killed by a signal: {output}"))),
            }
        }
        Err(ExecError::TimedOut { after, .. }) => Ok(Err(format!(
            "`{command}` ran past its {} s timeout and was stopped",
            after.as_secs()
        ))),
        Err(err @ ExecError::Interrupted { .. }) => Err(err.into_anyhow()),
        Err(err) => Ok(Err(format!("`{command}` could not run: {err}"))),
    }
}

/// The last `max` bytes of `text` (at a char boundary), trimmed.
pub(crate) fn tail(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut cut = text.len() - max;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    format!("...{}", &text[cut..])
}
