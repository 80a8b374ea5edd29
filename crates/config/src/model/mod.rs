//! The typed configuration model. Every other crate consumes this, never text.

pub mod bfd;
pub mod global;
pub mod lvs;
pub mod vrrp;

pub use bfd::BfdConfig;
pub use global::GlobalConfig;
pub use lvs::LvsConfig;
pub use vrrp::VrrpConfig;

/// A whole keepalived configuration after parsing and validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub global: GlobalConfig,
    pub vrrp: VrrpConfig,
    pub lvs: LvsConfig,
    pub bfd: BfdConfig,
}
