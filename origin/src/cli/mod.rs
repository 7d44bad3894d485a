//! One module per subcommand.
pub mod segment;
