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
    /// Which processes have work, from the root keywords present.
    pub present: Present,
    /// Every file read, indexed by [`crate::span::FileId`]: what a running daemon needs
    /// to name the `file:line` of a configuration item long after the text is gone.
    pub source_files: Vec<std::path::PathBuf>,
}

/// keepalived's `have_vrrp_config`, `have_checker_config` and `have_bfd_config`: set
/// when the global pass meets one of those root keywords (their blocks are not read
/// there), so the parent knows which children to start from that pass alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Present {
    /// `vrrp_instance`, `static_ipaddress`, `static_routes` or `static_rules`.
    pub vrrp: bool,
    /// `virtual_server`.
    pub checker: bool,
    /// `bfd_instance`.
    pub bfd: bool,
}

impl Present {
    /// Notes a root keyword met in the global pass.
    pub fn note_root(&mut self, keyword: &str) {
        match keyword {
            "vrrp_instance" | "static_ipaddress" | "static_routes" | "static_rules" => {
                self.vrrp = true;
            }
            "virtual_server" => self.checker = true,
            "bfd_instance" => self.bfd = true,
            _ => {}
        }
    }
}

impl Config {
    /// `file:line` of a configuration item, for runtime messages about it.
    pub fn locate(&self, span: Option<crate::span::Span>) -> Option<String> {
        let span = span?;
        let path = self.source_files.get(usize::try_from(span.file.0).ok()?)?;
        Some(format!("{}:{}", path.display(), span.line))
    }
}
