//! daydream's own log: `logs/daydream/daydream.log`, and stderr with `-v`.

use std::path::Path;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Sends tracing events to the log file (info and up) and, with `-v`, to stderr. A log file that cannot be
/// opened is said once on stderr and the run goes on without it.
pub(crate) fn to_file(path: &Path, verbose: u8) {
    let file = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        });
    let file_layer = match file {
        Ok(file) => Some(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .with_filter(EnvFilter::new("info")),
        ),
        Err(err) => {
            eprintln!(
                "warning: failed to open `{}`: {err}; continuing without a log file",
                path.display()
            );
            None
        }
    };
    let level = match verbose {
        0 => "off",
        1 => "info",
        _ => "debug",
    };
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(EnvFilter::new(level));
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
}
