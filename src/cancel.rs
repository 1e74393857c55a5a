//! Cooperative cancellation: SIGINT/SIGTERM set a flag that long work checks between small pieces.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Holds the number of the signal that asked us to stop, or 0; cloned into everything that can take a while.
#[derive(Clone, Default, Debug)]
pub(crate) struct Cancel(Arc<AtomicUsize>);

impl Cancel {
    /// Routes SIGINT and SIGTERM into this flag. A second signal of either kind ends the process at once.
    pub(crate) fn install(&self) -> anyhow::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        for signal in [SIGINT, SIGTERM] {
            // A second signal while the first is being handled terminates immediately (exit 128 + n).
            let armed = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register_conditional_shutdown(
                signal,
                128 + signal,
                Arc::clone(&armed),
            )?;
            signal_hook::flag::register(signal, armed)?;
            let number = usize::try_from(signal).expect("signal numbers are positive");
            signal_hook::flag::register_usize(signal, Arc::clone(&self.0), number)?;
        }
        Ok(())
    }

    /// The signal that asked us to stop, if any.
    pub(crate) fn signal(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            n => i32::try_from(n).ok(),
        }
    }

    /// `Err(Interrupted)` once a signal arrived: call it between pieces of work and propagate with `?`.
    pub(crate) fn check(&self) -> Result<(), Interrupted> {
        self.signal().map_or(Ok(()), |n| Err(Interrupted(n)))
    }

    #[cfg(test)]
    pub(crate) fn trigger(&self, signal: i32) {
        self.0
            .store(usize::try_from(signal).unwrap(), Ordering::SeqCst);
    }
}

/// The error a unit returns when it stopped because of a signal; the runner saves the unit as interrupted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Interrupted(pub(crate) i32);

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            2 => "SIGINT",
            15 => "SIGTERM",
            _ => "a signal",
        };
        write!(f, "interrupted by {name}")
    }
}

impl std::error::Error for Interrupted {}
