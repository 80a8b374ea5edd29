//! Typed model: LVS: virtual servers, groups, real servers, checkers, SSL.

/// Everything in the configuration about this domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LvsConfig {}
