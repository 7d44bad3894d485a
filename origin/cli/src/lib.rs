//! One module per subcommand.
pub mod segment;
pub mod serve;
pub mod upload;
pub mod validate;
