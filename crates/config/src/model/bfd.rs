//! Typed model: BFD instances.

/// Everything in the configuration about this domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BfdConfig {}
