//! Log lines: timestamps, levels and templates. The `logs` step masks messages through [`mask::Miner`];
//! [`miner::TemplateMiner`] learns templates from a stream (with [`header::HeaderDetector`] to find the message in
//! a raw line) and backs `daydream mine` ([`mine_cmd`]).

pub(crate) mod header;
pub(crate) mod history;
pub(crate) mod level;
#[cfg(test)]
mod loghub_test;
pub(crate) mod mask;
pub(crate) mod mine_cmd;
pub(crate) mod miner;
#[cfg(test)]
mod robustness_test;
pub(crate) mod timestamp;
pub(crate) mod tokens;
