//! Log lines: timestamps, levels and templates. The template miner sits behind [`mask::Miner`] so a better one
//! can replace the masking miner without touching the `logs` step.

pub(crate) mod header;
pub(crate) mod level;
pub(crate) mod mask;
pub(crate) mod mine_cmd;
pub(crate) mod miner;
pub(crate) mod timestamp;
