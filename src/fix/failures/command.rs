//! The project's test command: which runner it invokes, and the command that reruns one failing test alone.
//! The command is a shell string (`cd api && python -m pytest -q tests 2>&1`); it is split into words only to
//! find the runner's invocation and its arguments. Everything else, and every word kept, stays as written, so
//! that `$VAR`, quoting and redirections mean what they meant.

use super::parse::Failure;
use super::shell::{Word, quote, simple_commands};

/// The test runner a command uses.
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

/// Where a runner's invocation is in a simple command: its runner and the index of its first argument
/// (after `pytest`, `cargo test`, `cargo nextest run`, `node ... --test`, `jest`, `vitest [run]`, `go test`).
struct Invocation {
    runner: Runner,
    args: usize,
}

/// The runner a test command uses, from its words: `pytest`, `python -m pytest`, `py.test`, `uv run pytest`,
/// `poetry run pytest`, `cargo test`, `cargo nextest run`, `node --test`, `jest`/`npx jest`, `vitest`,
/// `go test`. A command that hides its runner (`npm test`, `make test`) is [`Runner::Unknown`].
pub(crate) fn runner(command: &str) -> Runner {
    simple_commands(command)
        .iter()
        .find_map(|words| invocation(words))
        .map_or(Runner::Unknown, |invocation| invocation.runner)
}

/// The shell command that runs only `failure`'s test.
///
/// With a `template` (`pytest -q {test}`), `{test}` and `{file}` are replaced by the shell-quoted id and file
/// (a placeholder already inside quotes, `'{test}'`, is replaced whole). Otherwise it is built from `command`:
/// the runner's invocation is found (the last simple command that has it) and its arguments rewritten, the
/// rest of the command kept as written; a command without the invocation (`make test` with an explicit
/// runner) gets the runner's usual one (`python -m pytest`, `npx jest`, ...). None for [`Runner::Unknown`]
/// without a template.
pub(crate) fn single_command(
    command: &str,
    template: Option<&str>,
    runner: Runner,
    failure: &Failure,
) -> Option<String> {
    if let Some(template) = template {
        return Some(fill(template, failure));
    }
    let default = default_invocation(runner)?;
    build(command, runner, failure).or_else(|| build(default, runner, failure))
}

/// The template with its placeholders replaced.
fn fill(template: &str, failure: &Failure) -> String {
    let mut filled = template.to_owned();
    for (placeholder, value) in [("{test}", &failure.test), ("{file}", &failure.file)] {
        let quoted = quote(value);
        for wrapped in [
            format!("'{placeholder}'"),
            format!("\"{placeholder}\""),
            placeholder.to_owned(),
        ] {
            filled = filled.replace(&wrapped, &quoted);
        }
    }
    filled
}

/// The invocation used when the command does not show the runner's own.
fn default_invocation(runner: Runner) -> Option<&'static str> {
    match runner {
        Runner::Pytest => Some("python -m pytest"),
        Runner::Cargo => Some("cargo test"),
        Runner::Nextest => Some("cargo nextest run"),
        Runner::NodeTest => Some("node --test"),
        Runner::Jest => Some("npx jest"),
        Runner::Vitest => Some("npx vitest run"),
        Runner::Go => Some("go test"),
        Runner::Unknown => None,
    }
}

/// `command` with the arguments of its (last) invocation of `runner` rewritten to run `failure` alone.
fn build(command: &str, runner: Runner, failure: &Failure) -> Option<String> {
    let commands = simple_commands(command);
    let (words, found) = commands.iter().rev().find_map(|words| {
        let found = invocation(words).filter(|found| found.runner == runner)?;
        Some((words, found))
    })?;
    let args = &words[found.args.min(words.len())..];
    let rewritten = match runner {
        Runner::Pytest => pytest_args(args, failure),
        Runner::Cargo => cargo_args(args, failure),
        Runner::Nextest => nextest_args(args, failure),
        Runner::NodeTest => node_args(args, failure),
        Runner::Jest => js_args(args, failure, JEST_VALUE_OPTIONS, true),
        Runner::Vitest => js_args(args, failure, VITEST_VALUE_OPTIONS, false),
        Runner::Go => go_args(args, failure),
        Runner::Unknown => return None,
    };
    let head = words[..found.args.min(words.len())]
        .iter()
        .map(|word| word.raw.to_owned());
    let invocation: Vec<String> = head.chain(rewritten).collect();
    let (start, end) = (words.first()?.start, words.last()?.end);
    Some(format!(
        "{}{}{}",
        &command[..start],
        invocation.join(" "),
        &command[end..]
    ))
}

/// The runner invoked in a simple command and where its arguments start.
fn invocation(words: &[Word]) -> Option<Invocation> {
    let value = |index: usize| words.get(index).map(|word| word.value.as_str());
    for (index, word) in words.iter().enumerate() {
        let name = word.value.rsplit('/').next().unwrap_or(&word.value);
        let found = match name {
            "pytest" | "py.test" => Some((Runner::Pytest, index + 1)),
            "-m" if matches!(value(index + 1), Some("pytest" | "py.test")) => {
                Some((Runner::Pytest, index + 2))
            }
            "cargo" | "cargo-nextest" => cargo_invocation(words, index + 1),
            "go" if value(index + 1) == Some("test") => Some((Runner::Go, index + 2)),
            "node" | "nodejs" => words[index + 1..]
                .iter()
                .position(|word| word.value == "--test")
                .map(|at| (Runner::NodeTest, index + at + 2)),
            "jest" | "jest.js" => Some((Runner::Jest, index + 1)),
            "vitest" | "vitest.mjs" => Some((
                Runner::Vitest,
                index + 1 + usize::from(value(index + 1) == Some("run")),
            )),
            _ => None,
        };
        if let Some((runner, args)) = found {
            return Some(Invocation { runner, args });
        }
    }
    None
}

/// `cargo [+toolchain] test` or `cargo [+toolchain] nextest run` from the word after `cargo`.
fn cargo_invocation(words: &[Word], mut index: usize) -> Option<(Runner, usize)> {
    while words
        .get(index)
        .is_some_and(|word| word.value.starts_with('+'))
    {
        index += 1;
    }
    match words.get(index)?.value.as_str() {
        "test" | "t" => Some((Runner::Cargo, index + 1)),
        "nextest"
            if matches!(
                words.get(index + 1).map(|word| word.value.as_str()),
                Some("run" | "r")
            ) =>
        {
            Some((Runner::Nextest, index + 2))
        }
        _ => None,
    }
}

/// An argument of the runner: an option with its value (`-k expr`, `--tb=short`), or a positional word.
struct Arg<'a> {
    /// The option's name without dashes and value; None for a positional word.
    name: Option<String>,
    raw: Vec<&'a str>,
}

/// The arguments classified; the options named in `takes_value` (names without dashes, separated by
/// spaces) take the next word as their value.
fn arguments<'a>(args: &'a [Word], takes_value: &str) -> Vec<Arg<'a>> {
    let mut classified = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let value = word.value.as_str();
        if !value.starts_with('-') || value == "-" {
            classified.push(Arg {
                name: None,
                raw: vec![word.raw],
            });
            continue;
        }
        let name = value
            .split('=')
            .next()
            .unwrap_or(value)
            .trim_start_matches('-')
            .to_owned();
        let mut raw = vec![word.raw];
        if !value.contains('=')
            && takes_value.split_whitespace().any(|option| option == name)
            && let Some(next) = words.next()
        {
            raw.push(next.raw);
        }
        classified.push(Arg {
            name: Some(name),
            raw,
        });
    }
    classified
}

/// The options among the arguments, in order, less those named in `drop`: positional words (test paths
/// and name filters) are what a single test's command replaces.
fn options(args: &[Word], takes_value: &str, drop: &[&str]) -> Vec<String> {
    kept(arguments(args, takes_value), drop, false)
}

/// The arguments' words, less the options named in `drop` and, unless `positional`, the positional words.
fn kept(args: Vec<Arg>, drop: &[&str], positional: bool) -> Vec<String> {
    args.into_iter()
        .filter(|arg| {
            arg.name
                .as_deref()
                .map_or(positional, |name| !drop.contains(&name))
        })
        .flat_map(|arg| arg.raw)
        .map(str::to_owned)
        .collect()
}

/// The arguments before and after a `--`.
fn split_at_dashes<'a>(args: &'a [Word<'a>]) -> (&'a [Word<'a>], &'a [Word<'a>]) {
    match args.iter().position(|word| word.value == "--") {
        Some(at) => (&args[..at], &args[at + 1..]),
        None => (args, &[]),
    }
}

const PYTEST_VALUE_OPTIONS: &str = "\
    k m p c o W r n junitxml junit-xml rootdir basetemp tb maxfail deselect ignore ignore-glob \
    confcutdir durations durations-min log-level log-cli-level log-file log-format cov \
    cov-report cov-config cov-fail-under timeout dist import-mode capture color override-ini \
    config-file numprocesses maxprocesses reruns reruns-delay only-rerun random-order-seed";

/// pytest: the options kept, the node id instead of any test paths.
fn pytest_args(args: &[Word], failure: &Failure) -> Vec<String> {
    let mut rewritten = options(args, PYTEST_VALUE_OPTIONS, &[]);
    rewritten.push(quote(&failure.test));
    rewritten
}

const CARGO_VALUE_OPTIONS: &str = "\
    p package test bench bin example features F target target-dir manifest-path j jobs profile \
    exclude color message-format Z config lockfile-path";
const LIBTEST_VALUE_OPTIONS: &str = "skip test-threads format logfile color Z shuffle-seed";

/// cargo test: cargo's options, the test's name instead of any filter, libtest's options and `--exact`.
fn cargo_args(args: &[Word], failure: &Failure) -> Vec<String> {
    let (cargo, libtest) = split_at_dashes(args);
    let mut rewritten = options(cargo, CARGO_VALUE_OPTIONS, &[]);
    rewritten.push(quote(&failure.test));
    rewritten.push("--".to_owned());
    rewritten.extend(options(libtest, LIBTEST_VALUE_OPTIONS, &["exact"]));
    rewritten.push("--exact".to_owned());
    rewritten
}

const NEXTEST_VALUE_OPTIONS: &str = "\
    p package E filterset filter-expr profile P features F target target-dir manifest-path j \
    jobs test-threads retries partition run-ignored cargo-profile bin test bench example exclude \
    color message-format message-format-version status-level final-status-level failure-output \
    success-output config tool-config-file build-jobs max-fail archive-file workspace-remap \
    cargo-metadata binaries-metadata target-dir-remap no-tests Z user-config-file stress-count \
    stress-duration show-progress";

/// cargo nextest run: the options kept, the filterset `test(=name)` (nextest's exact match) instead of any
/// filter or filterset, the emulated libtest options after `--` less `--exact` and filters.
fn nextest_args(args: &[Word], failure: &Failure) -> Vec<String> {
    let (nextest, libtest) = split_at_dashes(args);
    let mut rewritten = options(
        nextest,
        NEXTEST_VALUE_OPTIONS,
        &["E", "filterset", "filter-expr"],
    );
    rewritten.push("-E".to_owned());
    rewritten.push(quote(&format!("test(={})", failure.test)));
    let libtest = options(libtest, LIBTEST_VALUE_OPTIONS, &["exact"]);
    if !libtest.is_empty() {
        rewritten.push("--".to_owned());
        rewritten.extend(libtest);
    }
    rewritten
}

/// node --test: `--test-name-pattern` right after `--test` (node reads no option after its first file). node
/// 20 matches the pattern against the test's own name, node 22 against the names of its suites and itself
/// joined with spaces: the optional group takes either.
fn node_args(args: &[Word], failure: &Failure) -> Vec<String> {
    let names: Vec<&str> = failure.test.split(" > ").collect();
    let (test, suites) = names.split_last().unwrap_or((&"", &[]));
    let pattern = if suites.is_empty() {
        format!("^{}$", escape_regex(test))
    } else {
        format!(
            "^(?:{} )?{}$",
            escape_regex(&suites.join(" ")),
            escape_regex(test)
        )
    };
    let mut rewritten = vec!["--test-name-pattern".to_owned(), quote(&pattern)];
    rewritten.extend(kept(
        arguments(args, "test-name-pattern"),
        &["test-name-pattern"],
        true,
    ));
    rewritten
}

const JEST_VALUE_OPTIONS: &str = "\
    t testNamePattern c config selectProjects shard reporters maxWorkers w testTimeout \
    coverageDirectory outputFile rootDir roots testEnvironment";
const VITEST_VALUE_OPTIONS: &str = "\
    t testNamePattern c config r root dir project shard reporter outputFile environment pool \
    maxWorkers minWorkers testTimeout mode bail retry";

/// jest and vitest: the test's file instead of any path filter (a regex for jest, a substring for vitest), and
/// `-t` with its describe names and name joined with spaces, which is what both match the pattern against.
fn js_args(
    args: &[Word],
    failure: &Failure,
    takes_value: &str,
    file_is_regex: bool,
) -> Vec<String> {
    let names = failure
        .test
        .strip_prefix(failure.file.as_str())
        .filter(|_| !failure.file.is_empty())
        .map_or(failure.test.as_str(), |rest| {
            rest.strip_prefix(" > ").unwrap_or(rest)
        });
    let mut rewritten = kept(
        arguments(args, takes_value),
        &["t", "testNamePattern"],
        failure.file.is_empty(),
    );
    if !failure.file.is_empty() {
        let file = if file_is_regex {
            escape_regex(&failure.file)
        } else {
            failure.file.clone()
        };
        rewritten.push(quote(&file));
    }
    if !names.is_empty() {
        rewritten.push("-t".to_owned());
        rewritten.push(quote(&format!(
            "^{}$",
            escape_regex(&names.replace(" > ", " "))
        )));
    }
    rewritten
}

const GO_VALUE_FLAGS: &str = "\
    run count timeout tags p parallel cpu bench benchtime coverprofile covermode coverpkg o exec \
    skip shuffle vet ldflags gcflags asmflags mod modfile C blockprofile cpuprofile memprofile \
    mutexprofile outputdir trace fuzz fuzztime list overlay pkgdir toolexec compiler \
    installsuffix buildvcs";

/// go test: the flags kept, `-count=1` so that the cache cannot answer for the test, `-run` with one
/// anchored pattern per level of the test's name, and the test's package instead of the package patterns
/// when the id has one (a package that failed to build reruns whole). `-args` and what follows stay last.
fn go_args(args: &[Word], failure: &Failure) -> Vec<String> {
    let at = args
        .iter()
        .position(|word| word.value == "-args" || word.value == "--args")
        .unwrap_or(args.len());
    let (package, test) = split_go_id(&failure.test);
    let classified = arguments(&args[..at], GO_VALUE_FLAGS);
    let has_count = classified
        .iter()
        .any(|arg| arg.name.as_deref() == Some("count"));
    let patterns: Vec<String> = classified
        .iter()
        .filter(|arg| arg.name.is_none())
        .flat_map(|arg| arg.raw.iter().map(|raw| (*raw).to_owned()))
        .collect();
    let mut rewritten = kept(classified, &["run"], false);
    if !has_count {
        rewritten.push("-count=1".to_owned());
    }
    if !test.is_empty() {
        let levels: Vec<String> = test
            .split('/')
            .map(|level| format!("^{}$", escape_regex(level)))
            .collect();
        rewritten.push("-run".to_owned());
        rewritten.push(quote(&levels.join("/")));
    }
    match package {
        Some(package) => rewritten.push(quote(package)),
        None => rewritten.extend(patterns),
    }
    rewritten.extend(args[at..].iter().map(|word| word.raw.to_owned()));
    rewritten
}

/// A go id's package and test: `example.com/x/cart.TestTotal/sub` is both, `TestTotal` the test alone,
/// `example.com/x/rates` (a build failure) the package alone.
fn split_go_id(id: &str) -> (Option<&str>, &str) {
    const PREFIXES: [&str; 4] = ["Test", "Benchmark", "Example", "Fuzz"];
    let top = id.split('/').next().unwrap_or(id);
    if PREFIXES.iter().any(|prefix| top.starts_with(prefix)) && !top.contains('.') {
        return (None, id);
    }
    let split = id.match_indices('.').map(|(at, _)| at).find(|&at| {
        let rest = &id[at + 1..];
        let top = rest.split('/').next().unwrap_or(rest);
        PREFIXES.iter().any(|prefix| top.starts_with(prefix)) && !top.contains('.')
    });
    match split {
        Some(at) => (Some(&id[..at]), &id[at + 1..]),
        None => (Some(id), ""),
    }
}

/// `text` as a literal in a JavaScript or Go (RE2) regular expression.
fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\^$.*+?()[]{}|".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(file: &str, test: &str) -> Failure {
        Failure::new(file, test, "", "", "")
    }

    fn single(command: &str, runner: Runner, file: &str, test: &str) -> Option<String> {
        single_command(command, None, runner, &failure(file, test))
    }

    #[test]
    fn runner_reads_the_invocation_from_the_words() {
        let cases = [
            ("pytest -q", Runner::Pytest),
            ("python -m pytest tests", Runner::Pytest),
            ("python3 -m pytest", Runner::Pytest),
            ("py.test", Runner::Pytest),
            ("uv run pytest -x", Runner::Pytest),
            ("poetry run pytest", Runner::Pytest),
            (".venv/bin/pytest", Runner::Pytest),
            ("cd api && PYTHONPATH=. pytest -q", Runner::Pytest),
            ("cargo test", Runner::Cargo),
            ("cargo +nightly test --workspace", Runner::Cargo),
            ("cargo nextest run", Runner::Nextest),
            ("node --test", Runner::NodeTest),
            (
                "node --experimental-vm-modules --test test/",
                Runner::NodeTest,
            ),
            ("jest", Runner::Jest),
            ("npx jest --ci", Runner::Jest),
            ("node node_modules/.bin/jest", Runner::Jest),
            ("vitest", Runner::Vitest),
            ("npx vitest run", Runner::Vitest),
            ("go test ./...", Runner::Go),
            ("npm test", Runner::Unknown),
            ("make test", Runner::Unknown),
            ("node index.js", Runner::Unknown),
            ("cargo build", Runner::Unknown),
            ("echo 'pytest is great'", Runner::Unknown),
            ("", Runner::Unknown),
        ];
        for (command, expected) in cases {
            assert_eq!(runner(command), expected, "{command}");
        }
    }

    #[test]
    fn pytest_appends_the_node_id_in_place_of_paths() {
        let id = "tests/test_cart.py::test_sum[prices1-5]";
        assert_eq!(
            single("pytest -q", Runner::Pytest, "tests/test_cart.py", id),
            Some(format!("pytest -q '{id}'"))
        );
        assert_eq!(
            single(
                "cd api && python -m pytest -q -k 'not slow' tests --tb=short 2>&1",
                Runner::Pytest,
                "",
                id
            ),
            Some(format!(
                "cd api && python -m pytest -q -k 'not slow' --tb=short '{id}' 2>&1"
            ))
        );
        assert_eq!(
            single("make test", Runner::Pytest, "", "tests/a.py::test_b"),
            Some("python -m pytest tests/a.py::test_b".to_owned())
        );
    }

    #[test]
    fn cargo_runs_the_exact_name_keeping_its_options() {
        assert_eq!(
            single(
                "cargo test",
                Runner::Cargo,
                "src/lib.rs",
                "tests::total_of_nothing"
            ),
            Some("cargo test tests::total_of_nothing -- --exact".to_owned())
        );
        assert_eq!(
            single(
                "cargo test --workspace -p core some_filter -- --test-threads 1 --exact other",
                Runner::Cargo,
                "",
                "a::b"
            ),
            Some("cargo test --workspace -p core a::b -- --test-threads 1 --exact".to_owned())
        );
    }

    #[test]
    fn nextest_runs_an_exact_filterset() {
        assert_eq!(
            single(
                "cargo nextest run --workspace -E 'test(slow)' filter",
                Runner::Nextest,
                "",
                "tests::x"
            ),
            Some("cargo nextest run --workspace -E 'test(=tests::x)'".to_owned())
        );
        assert_eq!(
            single(
                "cargo nextest run -- --ignored",
                Runner::Nextest,
                "",
                "tests::x"
            ),
            Some("cargo nextest run -E 'test(=tests::x)' -- --ignored".to_owned())
        );
    }

    #[test]
    fn jest_and_vitest_run_the_file_and_the_full_name() {
        let id = "test/cart.test.js > cart taxes > reduced > applies the rate, doesn't round (5%)";
        assert_eq!(
            single("npx jest --ci", Runner::Jest, "test/cart.test.js", id),
            Some(r"npx jest --ci 'test/cart\.test\.js' -t '^cart taxes reduced applies the rate, doesn'\''t round \(5%\)$'".to_owned())
        );
        assert_eq!(
            single("npx vitest run test/", Runner::Vitest, "test/cart.test.js", id),
            Some(r"npx vitest run test/cart.test.js -t '^cart taxes reduced applies the rate, doesn'\''t round \(5%\)$'".to_owned())
        );
        assert_eq!(
            single(
                "npx vitest run",
                Runner::Vitest,
                "test/broken.test.js",
                "test/broken.test.js"
            ),
            Some("npx vitest run test/broken.test.js".to_owned())
        );
    }

    #[test]
    fn go_runs_the_anchored_levels_in_the_package() {
        assert_eq!(
            single(
                "go test -race ./...",
                Runner::Go,
                "",
                "example.com/shop/cart.TestSum/[2_2]"
            ),
            Some(
                r"go test -race -count=1 -run '^TestSum$/^\[2_2\]$' example.com/shop/cart"
                    .to_owned()
            )
        );
        assert_eq!(
            single("go test -count 2 ./cart", Runner::Go, "", "TestTotal"),
            Some("go test -count 2 -run '^TestTotal$' ./cart".to_owned())
        );
        assert_eq!(
            single("go test ./...", Runner::Go, "", "example.com/shop/rates"),
            Some("go test -count=1 example.com/shop/rates".to_owned())
        );
    }

    #[test]
    fn node_pattern_goes_right_after_test() {
        assert_eq!(
            single(
                "node --test --test-name-pattern=old test/",
                Runner::NodeTest,
                "",
                "cart taxes > applies the rate"
            ),
            Some(
                "node --test --test-name-pattern '^(?:cart taxes )?applies the rate$' test/"
                    .to_owned()
            )
        );
        assert_eq!(
            single("node --test", Runner::NodeTest, "", "sum of [2,2] is 5"),
            Some(r"node --test --test-name-pattern '^sum of \[2,2\] is 5$'".to_owned())
        );
    }

    #[test]
    fn template_quotes_the_id_and_file() {
        let tricky = failure("tests/it's here.py", "tests/it's here.py::test_a b");
        assert_eq!(
            single_command("", Some("pytest -q {test}"), Runner::Unknown, &tricky),
            Some(r"pytest -q 'tests/it'\''s here.py::test_a b'".to_owned())
        );
        assert_eq!(
            single_command("", Some("run '{file}' \"{test}\""), Runner::Pytest, &tricky),
            Some(r"run 'tests/it'\''s here.py' 'tests/it'\''s here.py::test_a b'".to_owned())
        );
    }

    #[test]
    fn unknown_runner_without_template_has_no_command() {
        assert_eq!(single("npm test", Runner::Unknown, "", "a"), None);
    }

    #[test]
    fn go_ids_split_into_package_and_test() {
        assert_eq!(
            split_go_id("example.com/shop/cart.TestSum/[2_2]"),
            (Some("example.com/shop/cart"), "TestSum/[2_2]")
        );
        assert_eq!(split_go_id("TestSum/1.5"), (None, "TestSum/1.5"));
        assert_eq!(
            split_go_id("example.com/shop/rates"),
            (Some("example.com/shop/rates"), "")
        );
    }
}
