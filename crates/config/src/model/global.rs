//! Typed model: global_defs and process-wide root settings.

/// Everything in the configuration about this domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GlobalConfig {}
