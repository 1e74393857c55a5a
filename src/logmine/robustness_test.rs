//! Every parser of log lines against arbitrary bytes: random lines and mutated real ones (brackets, pipes, quotes,
//! wildcards, invalid UTF-8), and lines up to the 64 KiB cut of `daydream mine`. None may panic, and each takes
//! bounded time per line. Seeded, so a failure repeats; the case counts stay small so the suite stays fast.

use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::header::{HeaderDetector, LEARN_LINES};
use super::level::detect;
use super::mask::{MaskMiner, Miner as _};
use super::mine_cmd::MAX_LINE;
use super::miner::TemplateMiner;
use super::timestamp::TimestampParser;
use super::tokens::{MAX_MESSAGE, Masked, mask_message, skeleton};

/// Lines in the shapes real logs have, to mutate.
const SEEDS: &[&str] = &[
    "2026-12-01 10:00:00,123 INFO [main] org.apache.Foo: started job 12 on host-7",
    "Dec  1 10:00:00 web1 sshd[123]: Accepted password for bob from 10.0.0.1 port 22 ssh2",
    "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
    "20261201-10:00:00:606|Step_LSC|30002312|onStandStepChanged 3579",
    "svc.log 2026-12-01 00:00:00.008 25746 INFO svc.api.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae - - -] 10.0.0.1,10.0.0.2 \"GET /v2/x HTTP/1.1\" status: 200",
    "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: Component \"alt0\" is unavailable",
    "2026-12-01T10:00:00Z status installed libfoo:amd64 1.2-3",
    "[12.01 16:49:06] chrome.exe - proxy.example.edu:443 open through proxy proxy.example.org:5070 HTTPS",
    "{\"time\":\"2026-12-01T10:00:00Z\",\"level\":\"error\",\"msg\":\"payment <*> failed\"}",
    "ts=2026-12-01T10:00:00Z level=warn msg=\"slow query\" took=12ms user=bob",
    "Block rdd_2_0 stored as bytes in memory (estimated size 16.0 KB, free 317.5 MB)",
    "<*> <*>:<*> <*>,<*> /<*> ...... Jan Feb Mon user user user KB KB",
];

/// Bytes that mean something to the parsers.
const SPECIAL: &[u8] = b"[]()<>{}|:=,;./\\\"'*#@- \t0123456789aZ\xff\xc3\xe2";

/// xorshift64*: a small seeded generator, so the cases are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("below n")
    }

    fn byte(&mut self) -> u8 {
        if self.below(2) == 0 {
            SPECIAL[self.below(SPECIAL.len())]
        } else {
            self.next().to_le_bytes()[0]
        }
    }
}

/// A random line: random bytes, a mutated seed line, or a line near the 64 KiB cut.
fn line(rng: &mut Rng) -> Vec<u8> {
    match rng.below(20) {
        0..=5 => (0..rng.below(300)).map(|_| rng.byte()).collect(),
        6 => {
            // Long: a repeated seed, a run of one special byte, or random bytes, up to the cut.
            let len = MAX_LINE - rng.below(64);
            match rng.below(3) {
                0 => SEEDS[rng.below(SEEDS.len())]
                    .bytes()
                    .cycle()
                    .take(len)
                    .collect(),
                1 => vec![SPECIAL[rng.below(SPECIAL.len())]; len],
                _ => (0..len).map(|_| rng.byte()).collect(),
            }
        }
        _ => {
            let mut line = SEEDS[rng.below(SEEDS.len())].as_bytes().to_vec();
            for _ in 0..=rng.below(6) {
                let at = rng.below(line.len() + 1);
                match rng.below(5) {
                    0 => line.insert(at, rng.byte()),
                    1 if at < line.len() => {
                        let end = (at + rng.below(8)).min(line.len());
                        line.drain(at..end);
                    }
                    2 if at < line.len() => line[at] = rng.byte(),
                    3 => {
                        let end = (at + rng.below(16)).min(line.len());
                        let copy = line[at..end].to_vec();
                        line.splice(at..at, copy);
                    }
                    _ => line.truncate(at),
                }
            }
            line
        }
    }
}

fn lines(seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    (0..n).map(|_| line(&mut rng)).collect()
}

/// Runs `f` on every line and fails if one line takes longer than a generous bound (debug builds are slow; a
/// quadratic pass over a 64 KiB line takes seconds).
fn bounded(lines: &[Vec<u8>], mut f: impl FnMut(&[u8])) {
    for line in lines {
        let start = Instant::now();
        f(line);
        let took = start.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "{took:?} on a line of {} bytes: {:?}",
            line.len(),
            String::from_utf8_lossy(&line[..line.len().min(200)])
        );
    }
}

#[test]
fn the_header_detector_cuts_any_line_to_a_suffix_of_itself() {
    for seed in 1..=3 {
        let lines = lines(seed, 600);
        let texts: Vec<String> = lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let mut header = HeaderDetector::new();
        for text in texts.iter().take(LEARN_LINES) {
            header.learn(text);
        }
        // And a detector that learned a header ending in a separator (`[time] prog.exe - `), which also cuts
        // lines whose names before the separator differ.
        let mut separated = HeaderDetector::new();
        for k in 0..LEARN_LINES {
            separated.learn(&format!(
                "[12.01 16:49:{:02}] chrome.exe - host-{k}.example.com:443 open",
                k % 60
            ));
        }
        bounded(&lines, |l| {
            let text = String::from_utf8_lossy(l);
            for detector in [&mut header, &mut separated] {
                let message = detector.message(&text);
                assert!(text.ends_with(message), "{text:?} -> {message:?}");
            }
        });
    }
}

#[test]
fn the_miner_places_any_line_in_a_bounded_template() {
    for seed in 4..=6 {
        let lines = lines(seed, 1500);
        let mut miner = TemplateMiner::new();
        let mut ids = Vec::new();
        bounded(&lines, |l| {
            let id = miner.add(&String::from_utf8_lossy(l));
            // A template is the masked head of a message: never longer than the head plus its wildcards.
            assert!(miner.template(id).len() <= 3 * MAX_MESSAGE);
            ids.push(id);
        });
        for id in ids {
            assert!(
                miner.resolve(id).is_some(),
                "nothing is evicted from so few lines"
            );
        }
    }
}

#[test]
fn timestamps_levels_and_masks_take_any_bytes() {
    let lines = lines(7, 1500);
    let mut parser = TimestampParser::new(NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date"));
    let mut mask = MaskMiner::default();
    let mut out = String::new();
    bounded(&lines, |l| {
        if let Some(stamp) = parser.parse(l) {
            assert!(
                stamp.start <= stamp.end && stamp.end <= l.len(),
                "{stamp:?}"
            );
        }
        assert!(detect(l).body <= l.len());
        mask.template(l, &mut out);
        assert!(out.len() <= 4096, "{}", out.len());
    });
}

#[test]
fn lines_with_one_skeleton_mask_alike() {
    // The miner remembers masked forms by skeleton: other values of the digits it folds must not matter.
    let mut rng = Rng(8);
    let (mut a, mut b) = (Masked::default(), Masked::default());
    let (mut ka, mut kb) = (Vec::new(), Vec::new());
    for line in lines(8, 1500) {
        let text = String::from_utf8_lossy(&line[..line.len().min(MAX_MESSAGE / 2)]).into_owned();
        let mut other = text.clone().into_bytes();
        let mut k = 0;
        while k < other.len() {
            let run = other[k..].iter().take_while(|b| b.is_ascii_digit()).count();
            let kept = k > 0
                && (other[k - 1].is_ascii_alphabetic() || matches!(other[k - 1], b'/' | b'.'));
            if run > 1 || (run == 1 && !kept) {
                // Another run of its kind; a single digit the skeleton keeps stays.
                let len = if run == 1 { 1 } else { 2 + rng.below(5) };
                let digits: Vec<u8> = (0..len)
                    .map(|_| b'0' + u8::try_from(rng.below(10)).expect("a digit"))
                    .collect();
                other.splice(k..k + run, digits.iter().copied());
                k += len;
            } else {
                k += 1;
            }
        }
        let other = String::from_utf8(other).expect("digits for digits keep UTF-8");
        skeleton(&text, &mut ka);
        skeleton(&other, &mut kb);
        assert_eq!(ka, kb);
        mask_message(&text, &mut a);
        mask_message(&other, &mut b);
        assert_eq!(a.text, b.text, "{text:?} / {other:?}");
    }
}
