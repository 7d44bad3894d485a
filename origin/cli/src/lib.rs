//! The `upcast` binary's commands, one module per subcommand: `segment` and `validate` over the core
//! (upcast-core), `upload` (a client of the origin's API, typed by `upcast_origin::api_types`), and `serve`
//! (runs upcast-origin).
#![forbid(unsafe_code)]

pub mod segment;
pub mod serve;
pub mod text_args;
pub mod upload;
pub mod validate;
pub mod validate_live;
mod validate_live_fetch;
