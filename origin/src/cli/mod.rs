//! One module per subcommand.
pub mod segment;
pub mod validate;
