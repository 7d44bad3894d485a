//! The `upcast` binary's library: command-line front ends over the core, and (later) the origin server.
pub mod cli;
