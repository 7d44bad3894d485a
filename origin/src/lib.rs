//! The `upcast` binary's library: command-line front ends over the core, and the origin server.
pub mod cli;
pub mod server;
