//! Typed model: VRRP: instances, sync groups, trackers, static addresses/routes/rules.

/// Everything in the configuration about this domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VrrpConfig {}
