//! What the step stores: the candidates and where each fix stands.

use serde::{Deserialize, Serialize};

use crate::fix::Diff;

/// The unit's data in the state, and its checkpoint while it runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct FixData {
    pub(crate) candidates: Vec<Candidate>,
    /// Dry run: the most the fixes it would attempt could spend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) most_usd: Option<f64>,
    /// The Sentry fixes of earlier nights and whether their errors stopped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) followups: Vec<Followup>,
}

/// A `fix/sentry-<shortId>` PR of an earlier night, and what the error did since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Followup {
    pub(crate) short_id: String,
    pub(crate) number: u64,
    pub(crate) pr_url: String,
    pub(crate) merged_at: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) verdict: Verdict,
    /// Events since the merge, within the last 24 hours Sentry's stats cover.
    pub(crate) events_since: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// Not merged yet.
    Open,
    /// Closed without merging: a human's no.
    Closed,
    /// Merged, and no event since.
    Stopped,
    /// Merged, and the error goes on.
    StillHappening,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Candidate {
    pub(crate) fingerprint: String,
    pub(crate) summary: String,
    pub(crate) pattern: String,
    pub(crate) prevention: String,
    #[serde(default)]
    pub(crate) evidence: Vec<String>,
    pub(crate) confidence: f64,
    pub(crate) status: FixStatus,
    /// The gate that decided, or what happened.
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) cost_usd: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pr_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) diff: Option<Diff>,
    /// The end of the passing test run's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tests: Option<String>,
    /// The sandbox the tests ran in (`None`: unconfined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sandbox: Option<String>,
    /// Claude's last words about the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
    #[serde(default)]
    pub(crate) duration_secs: u64,
    #[serde(default)]
    pub(crate) notified: bool,
    /// The Sentry issue, for a candidate made of one (fingerprint `sentry-<shortId>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sentry: Option<SentryIssue>,
}

/// The Sentry issue a candidate heals, and what its reproduction found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SentryIssue {
    pub(crate) id: String,
    pub(crate) short_id: String,
    pub(crate) title: String,
    pub(crate) culprit: String,
    pub(crate) severity: String,
    pub(crate) events_24h: u64,
    pub(crate) users: u64,
    pub(crate) first_seen: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) last_seen: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) permalink: Option<String>,
    /// In-app frames in the project, innermost first: `path:line in function`.
    pub(crate) frames: Vec<String>,
    /// The latest event's request and tags (redacted, personal data masked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) context: Vec<String>,
    /// The reproducing test file, once written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) test: Option<String>,
    /// Whether the test failed with the issue's error on the default branch every time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reproduced: Option<bool>,
}

impl Candidate {
    /// A candidate not decided yet (`Skipped` with an empty reason).
    pub(crate) fn undecided(
        fingerprint: String,
        summary: String,
        pattern: String,
        prevention: String,
        evidence: Vec<String>,
        confidence: f64,
    ) -> Candidate {
        Candidate {
            fingerprint,
            summary,
            pattern,
            prevention,
            evidence,
            confidence,
            status: FixStatus::Skipped,
            reason: String::new(),
            cost_usd: 0.0,
            pr_url: None,
            base: None,
            commit: None,
            diff: None,
            tests: None,
            sandbox: None,
            note: None,
            duration_secs: 0,
            notified: false,
            sentry: None,
        }
    }
}

/// Where a candidate stands. The order of a fix: `fixing`, `committed`, `pushing`, `pushed`, `pr_opened`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FixStatus {
    /// The reflection does not qualify (category, confidence, pattern, prevention).
    NotCandidate,
    /// A gate said no.
    Skipped,
    /// Dry run: every gate passed.
    WouldFix,
    /// The worktree and the model call (recorded before either starts).
    Fixing,
    Committed,
    /// Recorded before the push: the next run asks `origin` whether it happened.
    Pushing,
    /// On `origin`; the PR is next.
    Pushed,
    PrOpened,
    /// The diff broke a rule.
    Rejected,
    /// The test written to reproduce a Sentry error did not fail with it on the default branch: no fix call.
    NotReproduced,
    TestsFailed,
    BudgetStop,
    TimedOut,
    Failed,
}

impl FixStatus {
    /// A fix was started for it (counts toward the limit per run).
    pub(super) fn attempted(self) -> bool {
        !matches!(
            self,
            FixStatus::NotCandidate | FixStatus::Skipped | FixStatus::WouldFix
        )
    }

    /// A failure that keeps the candidate away for [`RETRY_AFTER_HOURS`].
    pub(super) fn failed(self) -> bool {
        matches!(
            self,
            FixStatus::Rejected
                | FixStatus::NotReproduced
                | FixStatus::TestsFailed
                | FixStatus::BudgetStop
                | FixStatus::TimedOut
                | FixStatus::Failed
        )
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            FixStatus::NotCandidate => "not a candidate",
            FixStatus::Skipped => "skipped",
            FixStatus::WouldFix => "would fix",
            FixStatus::Fixing => "fixing",
            FixStatus::Committed => "committed",
            FixStatus::Pushing => "pushing",
            FixStatus::Pushed => "pushed",
            FixStatus::PrOpened => "draft PR",
            FixStatus::Rejected => "rejected",
            FixStatus::NotReproduced => "not reproduced",
            FixStatus::TestsFailed => "tests failed",
            FixStatus::BudgetStop => "budget stop",
            FixStatus::TimedOut => "timed out",
            FixStatus::Failed => "failed",
        }
    }
}
