//! Integration tests: the real `daydream` binary in a temporary root, with a fixed clock and time zone.

mod harness;

mod config;
mod crash;
mod demo;
mod run;
mod state;
