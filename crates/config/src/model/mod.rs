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
    /// Every file read, indexed by [`crate::span::FileId`]: what a running daemon needs
    /// to name the `file:line` of a configuration item long after the text is gone.
    pub source_files: Vec<std::path::PathBuf>,
}

impl Config {
    /// `file:line` of a configuration item, for runtime messages about it.
    pub fn locate(&self, span: Option<crate::span::Span>) -> Option<String> {
        let span = span?;
        let path = self.source_files.get(usize::try_from(span.file.0).ok()?)?;
        Some(format!("{}:{}", path.display(), span.line))
    }
}
