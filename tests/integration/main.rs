//! Integration tests: the real `daydream` binary in a temporary root, with a fixed clock and time zone.

#[path = "../support/fake_anthropic.rs"]
mod fake_anthropic;
#[path = "../support/fake_github.rs"]
mod fake_github;
#[path = "../support/fake_http.rs"]
mod fake_http;
mod harness;

mod autofix;
mod build;
mod config;
mod confine;
mod crash;
mod demo;
mod fix;
mod github;
mod heal;
mod layout;
mod mine;
mod ops;
mod parallel;
mod reflect;
mod run;
mod sessions;
mod state;
