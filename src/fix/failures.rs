//! TEMPORARY STUB until the parsers land.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Failure {
    pub(crate) file: String,
    pub(crate) test: String,
    pub(crate) error_type: String,
    pub(crate) message: String,
    pub(crate) trace: String,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runner {
    Pytest,
    Cargo,
    Nextest,
    NodeTest,
    Jest,
    Vitest,
    Go,
    Unknown,
}
pub(crate) fn runner(_command: &str) -> Runner {
    Runner::Unknown
}
pub(crate) fn parse(_runner: Runner, _output: &str) -> Vec<Failure> {
    Vec::new()
}
pub(crate) fn parse_junit(_xml: &str) -> Result<Vec<Failure>, String> {
    Ok(Vec::new())
}
pub(crate) fn single_command(
    _command: &str,
    _template: Option<&str>,
    _runner: Runner,
    _failure: &Failure,
) -> Option<String> {
    None
}
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) file: String,
    pub(crate) line: u32,
}
pub(crate) fn frames(_runner: Runner, _trace: &str) -> Vec<Frame> {
    Vec::new()
}
